//! "Roles" and "People" on the admin page: roles an admin defines, and each person's name,
//! title, departments and roles, deactivation and reactivation. Every change is a command;
//! every open page follows through the workspace events.

use leptos::prelude::*;
use xietong::org::{tree_order, CreateRole, Person, RemoveRole, SetPersonActive, UpdatePerson};
use xietong::{Command, CommandOutput, DepartmentId, RoleId};

use super::OrgView;
use crate::command::{command_action, SentText};
use crate::AppError;

/// Gives `user` a new random password (admins only) and ends every session of theirs; the
/// answer is the password, shown once for the admin to hand over.
#[server(prefix = "/api", endpoint = "reset_password", input = leptos::server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn reset_password(user: xietong::UserId) -> Result<String, AppError> {
    let admin = crate::backend::require_user()?;
    crate::backend::backend()?
        .reset_password(&admin, user)
        .await
}

#[component]
pub fn RolesAdmin(view: RwSignal<OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let error = move || crate::error::failure_text(t, action.value().get());
    let name = SentText::new();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::CreateRole(CreateRole { name: name.send() }));
    };
    name.clear_on_success(
        action,
        |output| matches!(output, CommandOutput::RoleChanged { .. }),
        || (),
    );
    view! {
        <section class="admin-section" aria-labelledby="roles-title">
            <h2 id="roles-title">{t.roles}</h2>
            <form on:submit=add>
                <label>
                    {t.role_name}
                    <input type="text" required maxlength="64" prop:value=move || name.value.get()
                        on:input=move |ev| name.value.set(event_target_value(&ev)) />
                </label>
                <button type="submit" disabled=move || action.pending().get()>{t.add_role}</button>
            </form>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
            <ul class="role-list" aria-label=t.roles>
                <For each=move || view.with(|v| v.roles.clone()) key=|r| r.clone() let(role)>
                    <li>
                        <span>{role.name.clone()}</span>
                        <button type="button" aria-label=(t.remove_role_named)(&role.name) on:click=move |_| {
                            action.dispatch(Command::RemoveRole(RemoveRole { role: role.id }));
                        }>{t.remove}</button>
                    </li>
                </For>
            </ul>
        </section>
    }
    .into_any()
}

#[component]
pub fn PeopleAdmin(view: RwSignal<OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let error = move || crate::error::failure_text(t, action.value().get());
    let editing = RwSignal::new(None::<xietong::UserId>);
    view! {
        <section class="admin-section" aria-labelledby="people-title">
            <h2 id="people-title">{t.people}</h2>
            <crate::admin::InvitePeople />
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
            <table class="people-table" aria-label=t.people>
                {view! {
                <thead>
                    <tr>
                        <th scope="col">{t.username}</th>
                        <th scope="col">{t.full_name}</th>
                        <th scope="col">{t.job_title}</th>
                        <th scope="col">{t.main_department}</th>
                        <th scope="col">{t.roles}</th>
                        <th scope="col">{t.status}</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                }.into_any()}
                <tbody>
                    <For each=move || view.with(|v| v.people.clone()) key=|p| p.clone() let(person)>
                        <PersonRow person view action editing />
                    </For>
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn PersonRow(
    person: Person,
    view: RwSignal<OrgView>,
    action: Action<Command, Result<CommandOutput, crate::AppError>>,
    editing: RwSignal<Option<xietong::UserId>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let id = person.id;
    let name = person.username.clone();
    // Names of departments and roles follow renames while the row stays.
    let main_department = person.main_department;
    let department = move || {
        main_department
            .map(|d| view.with(|v| xietong::org::path(&v.departments, d)))
            .unwrap_or_default()
    };
    let role_ids = person.roles.clone();
    let roles = move || {
        view.with(|v| {
            role_ids
                .iter()
                .filter_map(|r| v.role_name(*r).map(str::to_owned))
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let live = expect_context::<crate::live::Live>();
    let is_me = move || live.me.with(|me| me.as_ref().map(|m| m.id) == Some(id));
    let active = person.active;
    let toggle = move |_| {
        action.dispatch(Command::SetPersonActive(SetPersonActive {
            person: id,
            active: !active,
        }));
    };
    let reset = Action::new(move |_: &()| reset_password(id));
    let reset_name = StoredValue::new(name.clone());
    let toggle_label = if active {
        (t.deactivate_named)(&name)
    } else {
        (t.reactivate_named)(&name)
    };
    view! {
        <tr class:deactivated=!active>
            {view! {
                <td>{person.username.clone()}</td>
                <td>{person.full_name.clone()}</td>
                <td>{person.title.clone()}</td>
                <td>{department}</td>
                <td>{roles}</td>
                <td>{if active { t.active } else { t.deactivated }}</td>
            }.into_any()}
            <td class="row-actions">
                <button type="button" aria-label=(t.edit_named)(&name) on:click=move |_| editing.set(Some(id))>
                    {t.edit}
                </button>
                <Show when=move || !is_me()>
                    <button type="button" aria-label=toggle_label.clone() on:click=toggle>
                        {if active { t.deactivate } else { t.reactivate }}
                    </button>
                </Show>
                <button type="button" aria-label=(t.reset_password_named)(&name)
                    on:click=move |_| { reset.dispatch(()); }>
                    {t.reset_password}
                </button>
            </td>
        </tr>
        <Show when=move || reset.value().get().is_some()>
            <crate::shell::Modal title=t.new_password.to_owned() on_close=Callback::new(move |_| reset.value().set(None))>
                {move || match reset.value().get() {
                    Some(Ok(password)) => view! {
                        <p>{(t.new_password_hint)(&reset_name.get_value())}</p>
                        <label>
                            {t.temporary_password}
                            <input type="text" readonly prop:value=password />
                        </label>
                    }.into_any(),
                    Some(Err(e)) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    None => ().into_any(),
                }}
                <div class="actions">
                    <button type="button" on:click=move |_| reset.value().set(None)>{t.close}</button>
                </div>
            </crate::shell::Modal>
        </Show>
        <Show when=move || editing.get() == Some(id)>
            <tr class="edit-row">
                <td colspan="7">
                    <PersonForm person=person.clone() view action editing />
                </td>
            </tr>
        </Show>
    }
    .into_any()
}

#[component]
fn PersonForm(
    person: Person,
    view: RwSignal<OrgView>,
    action: Action<Command, Result<CommandOutput, crate::AppError>>,
    editing: RwSignal<Option<xietong::UserId>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let full_name = RwSignal::new(person.full_name.clone());
    let title = RwSignal::new(person.title.clone());
    // Sent only when edited: a number its owner hides is not shown here, and must not be wiped.
    let mobile = RwSignal::new(None::<String>);
    let shown_mobile = person.mobile.clone();
    let email = RwSignal::new(person.email.clone());
    let main = RwSignal::new(person.main_department);
    let others = RwSignal::new(person.other_departments.clone());
    let roles = RwSignal::new(person.roles.clone());
    let id = person.id;
    let departments = move || {
        view.with(|v| {
            tree_order(&v.departments)
                .into_iter()
                .map(|(d, _)| (d.id, xietong::org::path(&v.departments, d.id)))
                .collect::<Vec<_>>()
        })
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::UpdatePerson(UpdatePerson {
            person: id,
            full_name: full_name.get_untracked(),
            title: title.get_untracked(),
            mobile: mobile.get_untracked(),
            email: Some(email.get_untracked()),
            main_department: main.get_untracked(),
            other_departments: others.get_untracked(),
            roles: roles.get_untracked(),
        }));
        editing.set(None);
    };
    let pick_others = move |ev: leptos::ev::Event| {
        others.set(selected_ids::<DepartmentId>(&ev));
    };
    view! {
        <form class="person-form" aria-label=(t.edit_named)(&person.username) on:submit=save>
            {view! {
            <label>
                {t.full_name}
                <input type="text" maxlength="64" prop:value=move || full_name.get()
                    on:input=move |ev| full_name.set(event_target_value(&ev)) />
            </label>
            <label>
                {t.job_title}
                <input type="text" maxlength="64" prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev)) />
            </label>
            <label>
                {t.mobile}
                <input type="tel" maxlength="32"
                    prop:value=move || mobile.get().unwrap_or_else(|| shown_mobile.clone())
                    on:input=move |ev| mobile.set(Some(event_target_value(&ev))) />
            </label>
            <label>
                {t.email}
                <input type="email" maxlength="254" prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev)) />
            </label>
            }.into_any()}
            {view! {
            <label>
                {t.main_department}
                <select on:change=move |ev| main.set(event_target_value(&ev).parse().ok())>
                    <option value="" selected=person.main_department.is_none()>{t.no_department}</option>
                    {move || departments().into_iter().map(|(d, label)| {
                        let selected = main.get_untracked() == Some(d);
                        view! { <option value=d.to_string() selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                {t.other_departments}
                <select multiple on:change=pick_others>
                    {move || departments().into_iter().map(|(d, label)| {
                        let selected = others.with_untracked(|o| o.contains(&d));
                        view! { <option value=d.to_string() selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            }.into_any()}
            <fieldset>
                <legend>{t.roles}</legend>
                <For each=move || view.with(|v| v.roles.clone()) key=|r| r.clone() let(role)>
                    <RoleCheckbox role roles />
                </For>
            </fieldset>
            <div class="actions">
                <button type="button" on:click=move |_| editing.set(None)>{t.cancel}</button>
                <button type="submit">{t.save}</button>
            </div>
        </form>
    }
    .into_any()
}

#[component]
fn RoleCheckbox(role: xietong::org::Role, roles: RwSignal<Vec<RoleId>>) -> impl IntoView {
    let id = role.id;
    view! {
        <label class="checkbox">
            <input type="checkbox" prop:checked=move || roles.with(|r| r.contains(&id))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    roles.update(|r| {
                        r.retain(|x| *x != id);
                        if on {
                            r.push(id);
                        }
                    });
                } />
            {role.name}
        </label>
    }
    .into_any()
}

/// The values of a `<select multiple>`'s chosen options, parsed (what does not parse is left
/// out), from its change event.
pub fn selected_ids<T: std::str::FromStr>(ev: &leptos::ev::Event) -> Vec<T> {
    use leptos::wasm_bindgen::JsCast;
    let Some(select) = ev
        .target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlSelectElement>().ok())
    else {
        return Vec::new();
    };
    let options = select.selected_options();
    (0..options.length())
        .filter_map(|i| options.item(i))
        .filter_map(|o| o.get_attribute("value"))
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// A labelled `<select multiple>` of everyone, for picking people by name (a column's editors,
/// a section's moderators).
#[component]
pub fn PeopleSelect(
    org: StoredValue<xietong::org::OrgSnapshot>,
    label: &'static str,
    chosen: RwSignal<Vec<xietong::UserId>>,
) -> impl IntoView {
    let people = org.with_value(|o| {
        o.people
            .iter()
            .map(|p| (p.id, p.username.clone()))
            .collect::<Vec<_>>()
    });
    view! {
        <label>{label}
            <select multiple on:change=move |ev| chosen.set(selected_ids::<xietong::UserId>(&ev))>
                {people.into_iter().map(|(id, username)| view! {
                    <option value=id.0.to_string() selected=move || chosen.with(|c| c.contains(&id))>{username}</option>
                }).collect_view()}
            </select>
        </label>
    }
}
