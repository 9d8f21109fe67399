use leptos::prelude::*;
use xietong::{UserId, UserRef};

use super::people;
use crate::shell::Modal;

/// Picks one or more people: a filter box ("Find people") over a list of checkboxes named by
/// username, and a confirm button named `confirm` ("Start", "Add"). `exclude`: people not
/// offered (me, current members).
#[component]
pub fn PeoplePicker(
    title: String,
    confirm: &'static str,
    exclude: Vec<UserId>,
    on_pick: Callback<Vec<UserId>>,
    on_close: Callback<()>,
    /// Set while the pick is being applied, and to the refusal if it failed.
    #[prop(into)]
    busy: Signal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let everyone = Resource::new(|| (), |_| people());
    let t = crate::i18n::t();
    let filter = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<UserId>::new());
    let toggle = move |id: UserId| {
        chosen.update(|c| match c.iter().position(|x| *x == id) {
            Some(i) => {
                c.remove(i);
            }
            None => c.push(id),
        })
    };
    let exclude = StoredValue::new(exclude);
    let shown = move |all: Vec<UserRef>| {
        let needle = filter.get().to_lowercase();
        all.into_iter()
            .filter(|u| !exclude.with_value(|e| e.contains(&u.id)))
            .filter(|u| needle.is_empty() || u.username.to_lowercase().contains(&needle))
            .collect::<Vec<_>>()
    };
    view! {
        <Modal title on_close>
            <form class="people-picker" on:submit=move |ev| {
                ev.prevent_default();
                on_pick.run(chosen.get_untracked());
            }>
                <label>
                    {t.find_people}
                    <input type="search" autofocus
                        prop:value=move || filter.get()
                        on:input=move |ev| filter.set(event_target_value(&ev)) />
                </label>
                <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                    {move || Suspend::new(async move {
                        match everyone.await {
                            Ok(all) => view! {
                                <ul class="people" aria-label=t.people>
                                    <For each=move || shown(all.clone()) key=|u| u.id let:person>
                                        <li>
                                            <label class="checkbox">
                                                <input type="checkbox"
                                                    prop:checked=move || chosen.with(|c| c.contains(&person.id))
                                                    on:change=move |_| toggle(person.id) />
                                                {person.username.clone()}
                                            </label>
                                        </li>
                                    </For>
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <Show when=move || error.get().is_some()>
                    <p role="alert" class="error">{move || error.get()}</p>
                </Show>
                <div class="actions">
                    <button type="button" on:click=move |_| on_close.run(())>{t.cancel}</button>
                    <button type="submit"
                        disabled=move || busy.get() || chosen.with(|c| c.is_empty())>
                        {confirm}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
