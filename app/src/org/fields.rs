//! The address book's own fields: "Address book fields" on the admin page (add, remove; may
//! people hide theirs?), and each person's values in their settings ("Hide … from others" for a
//! hideable one). Values show on the person's card in the address book.

use leptos::prelude::*;
use xietong::org::{DefineField, FieldValue, MyFields, RemoveField, SetMyFields};
use xietong::{Command, FieldId};

use super::OrgView;
use crate::command::command_action;
use crate::AppError;

#[server(prefix = "/api", endpoint = "my_fields", output = crate::codec::TextJson)]
pub async fn load_my_fields() -> Result<MyFields, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.my_fields(&user).await
}

#[component]
pub fn FieldsAdmin(view: RwSignal<OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let error = move || crate::error::failure_text(t, action.value().get());
    let name = RwSignal::new(String::new());
    let hideable = RwSignal::new(false);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::DefineField(DefineField {
            name: name.get_untracked(),
            hideable: hideable.get_untracked(),
        }));
        name.set(String::new());
        hideable.set(false);
    };
    let fields = move || view.with(|v| v.fields.clone());
    view! {
        <section class="admin-section" aria-labelledby="fields-title">
            <h2 id="fields-title">{t.address_book_fields}</h2>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
            <ul aria-label=t.address_book_fields>
                <For each=fields key=|f| f.clone() let(field)>
                    <li>
                        <span>{field.name.clone()}</span>
                        {field.hideable.then(|| view! { <span class="note">{format!(" · {}", t.people_may_hide)}</span> })}
                        " "
                        <button type="button" aria-label=(t.remove_field_named)(&field.name) on:click=move |_| {
                            action.dispatch(Command::RemoveField(RemoveField { field: field.id }));
                        }>{t.remove}</button>
                    </li>
                </For>
            </ul>
            <form class="inline-form" on:submit=add>
                <label>
                    {t.field_name}
                    <input type="text" required maxlength="100" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label class="checkbox">
                    <input type="checkbox" prop:checked=move || hideable.get()
                        on:change=move |ev| hideable.set(event_target_checked(&ev)) />
                    {t.people_may_hide}
                </label>
                <button type="submit">{t.add_field}</button>
            </form>
        </section>
    }
    .into_any()
}

/// The signed-in user's values of the fields, in the settings dialog.
#[component]
pub fn MyFieldsForm() -> impl IntoView {
    let t = crate::i18n::office();
    let found = Resource::new(|| (), |_| load_my_fields());
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(mine) if !mine.fields.is_empty() => view! { <FieldsForm mine /> }.into_any(),
                    Ok(_) => ().into_any(),
                    Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn FieldsForm(mine: MyFields) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let error = move || crate::error::failure_text(t, action.value().get());
    let saved = move || matches!(action.value().get(), Some(Ok(_)));
    let values: Vec<(FieldId, RwSignal<String>, RwSignal<bool>)> = mine
        .fields
        .iter()
        .map(|f| {
            let value = mine
                .values
                .iter()
                .find(|v| v.field == f.id)
                .map(|v| v.value.clone())
                .unwrap_or_default();
            (
                f.id,
                RwSignal::new(value),
                RwSignal::new(mine.hidden.contains(&f.id)),
            )
        })
        .collect();
    let inputs = StoredValue::new(values.clone());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (values, hidden) = inputs.with_value(|all| {
            let values: Vec<FieldValue> = all
                .iter()
                .map(|(field, value, _)| FieldValue {
                    field: *field,
                    value: value.get_untracked(),
                })
                .collect();
            let hidden: Vec<FieldId> = all
                .iter()
                .filter(|(_, _, hide)| hide.get_untracked())
                .map(|(field, _, _)| *field)
                .collect();
            (values, hidden)
        });
        action.dispatch(Command::SetMyFields(SetMyFields { values, hidden }));
    };
    let rows = mine
        .fields
        .into_iter()
        .zip(values)
        .map(|(field, (_, value, hide))| {
            view! {
                <label>
                    {field.name.clone()}
                    <input type="text" maxlength="100" prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev)) />
                </label>
                {field.hideable.then(|| view! {
                    <label class="checkbox">
                        <input type="checkbox" prop:checked=move || hide.get()
                            on:change=move |ev| hide.set(event_target_checked(&ev)) />
                        {(t.hide_field_named)(&field.name)}
                    </label>
                })}
            }
        })
        .collect_view();
    view! {
        <form class="my-fields" aria-label=t.address_book_fields on:submit=save>
            <h3>{t.address_book_fields}</h3>
            {rows}
            <button type="submit">{t.save_fields}</button>
            <Show when=saved>
                <p role="status">{t.fields_saved}</p>
            </Show>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </form>
    }
    .into_any()
}
