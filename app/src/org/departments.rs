//! "Departments" on the admin page: the tree, with add, rename, move and remove. Every change
//! is a command; the page (and every other open one) follows through the workspace events.

use leptos::prelude::*;
use xietong::org::{
    tree_order, CreateDepartment, MoveDepartment, RemoveDepartment, RenameDepartment,
};
use xietong::{Command, CommandOutput, DepartmentId};

use super::OrgView;
use crate::command::{command_action, SentText};
use crate::AppError;

#[component]
pub fn DepartmentsAdmin(view: RwSignal<OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    view! {
        <section class="admin-section" aria-labelledby="departments-title">
            <h2 id="departments-title">{t.departments}</h2>
            <DepartmentTree view />
        </section>
    }
    .into_any()
}

#[component]
fn DepartmentTree(view: RwSignal<OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    let action = command_action();
    let error = move || crate::error::failure_text(t, action.value().get());
    let name = SentText::new();
    let parent = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let command = CreateDepartment {
            name: name.send(),
            parent: parent.get_untracked().parse().ok(),
        };
        action.dispatch(Command::CreateDepartment(command));
    };
    name.clear_on_success(
        action,
        |output| matches!(output, CommandOutput::DepartmentChanged { .. }),
        || (),
    );
    let rows = move || {
        view.with(|v| {
            tree_order(&v.departments)
                .into_iter()
                .map(|(d, depth)| (d.clone(), depth))
                .collect::<Vec<_>>()
        })
    };
    let options = move |except: Option<DepartmentId>| {
        view.with(|v| {
            tree_order(&v.departments)
                .into_iter()
                .filter(|(d, _)| Some(d.id) != except)
                .map(|(d, depth)| (d.id, format!("{}{}", "\u{3000}".repeat(depth), d.name)))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <form class="add-department" on:submit=add>
            <label>
                {t.department_name}
                <input type="text" required maxlength="64" prop:value=move || name.value.get()
                    on:input=move |ev| name.value.set(event_target_value(&ev)) />
            </label>
            <label>
                {t.parent_department}
                <select on:change=move |ev| parent.set(event_target_value(&ev)) prop:value=move || parent.get()>
                    <option value="">{t.top_level}</option>
                    <For each=move || options(None) key=|o| o.clone() let((id, label))>
                        <option value=id.to_string()>{label}</option>
                    </For>
                </select>
            </label>
            <button type="submit" disabled=move || action.pending().get()>{t.add_department}</button>
        </form>
        <Show when=move || error().is_some()>
            <p role="alert" class="error">{error}</p>
        </Show>
        <Show when=move || view.with(|v| v.departments.is_empty())>
            <p class="empty">{t.no_departments}</p>
        </Show>
        <ul class="department-tree" aria-label=t.departments>
            <For each=rows key=|(d, depth)| (d.clone(), *depth) let((department, depth))>
                <DepartmentRow department depth action options />
            </For>
        </ul>
    }
    .into_any()
}

#[component]
fn DepartmentRow(
    department: xietong::org::Department,
    depth: usize,
    action: Action<Command, Result<CommandOutput, AppError>>,
    options: impl Fn(Option<DepartmentId>) -> Vec<(DepartmentId, String)> + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let t = crate::i18n::office();
    let id = department.id;
    let renaming = RwSignal::new(false);
    let new_name = RwSignal::new(department.name.clone());
    let current_parent = department.parent.map(|p| p.to_string()).unwrap_or_default();
    let name = department.name.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Command::RenameDepartment(RenameDepartment {
            department: id,
            name: new_name.get_untracked(),
        }));
        renaming.set(false);
    };
    let move_to = move |ev: leptos::ev::Event| {
        let parent = event_target_value(&ev).parse().ok();
        action.dispatch(Command::MoveDepartment(MoveDepartment {
            department: id,
            parent,
        }));
    };
    view! {
        <li class="department" style:padding-left=format!("{}em", depth as f32 * 1.5)>
            <span class="department-name">{name.clone()}</span>
            <select aria-label=(t.parent_of)(&name) on:change=move_to>
                <option value="" selected=current_parent.is_empty()>{t.top_level}</option>
                {move || options(Some(id)).into_iter().map(|(option, label)| {
                    let value = option.to_string();
                    let selected = value == current_parent;
                    view! { <option value=value selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            <button type="button" aria-label=(t.rename_named)(&name) on:click=move |_| renaming.set(true)>
                {t.rename}
            </button>
            <button type="button" aria-label=(t.remove_named)(&name) on:click=move |_| {
                action.dispatch(Command::RemoveDepartment(RemoveDepartment { department: id }));
            }>{t.remove}</button>
            <Show when=move || renaming.get()>
                <form class="rename" on:submit=save>
                    <label>
                        {t.new_name}
                        <input type="text" required maxlength="64" prop:value=move || new_name.get()
                            on:input=move |ev| new_name.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit">{t.save}</button>
                    <button type="button" on:click=move |_| renaming.set(false)>{t.cancel}</button>
                </form>
            </Show>
        </li>
    }
    .into_any()
}
