//! The address book (通讯录): the department tree beside the people in it, searchable by name,
//! pinyin and pinyin initials, with who is online now. Clicking a person opens their card with
//! "Send message". Read from the organisation snapshot, live from the workspace scope.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::{lazy_route, LazyRoute};
use xietong::org::{tree_order, Department, Person};
use xietong::{DepartmentId, UserId};

use crate::live::Live;
use crate::org::OrgView;

pub mod personal;

/// The address book page (`/contacts`), loaded on demand.
#[derive(Debug)]
pub struct AddressBookRoute;

#[lazy_route]
impl LazyRoute for AddressBookRoute {
    fn data() -> Self {
        AddressBookRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <AddressBook /> }.into_any()
    }
}

#[component]
fn AddressBook() -> impl IntoView {
    let t = crate::i18n::office();
    view! {
        <div class="address-book">
            <h1>{t.address_book}</h1>
            <p class="exports">
                <a href="/contacts/export/csv" download="contacts.csv" rel="external">{t.export_csv}</a>
                <a href="/contacts/export/vcard" download="contacts.vcf" rel="external">{t.export_vcard}</a>
            </p>
            <crate::org::WithOrganisation content=move |view| view! { <Directory view /> } />
            <personal::MyContactsSection />
        </div>
    }
    .into_any()
}

/// `id` and every department below it.
fn with_descendants(departments: &[Department], id: DepartmentId) -> Vec<DepartmentId> {
    let mut found = vec![id];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            departments
                .iter()
                .filter(|d| d.parent == Some(parent))
                .map(|d| d.id),
        );
        i += 1;
    }
    found
}

#[component]
fn Directory(view: RwSignal<OrgView>) -> impl IntoView {
    let t = crate::i18n::office();
    let department = RwSignal::new(None::<DepartmentId>);
    let query = RwSignal::new(String::new());
    let open = RwSignal::new(None::<UserId>);
    let shown = move || {
        let q = query.get();
        view.with(|v| {
            let within = department
                .get()
                .map(|d| with_descendants(&v.departments, d));
            v.people
                .iter()
                .filter(|p| p.active && p.matches(&q))
                .filter(|p| match &within {
                    None => true,
                    Some(ids) => p
                        .main_department
                        .iter()
                        .chain(&p.other_departments)
                        .any(|d| ids.contains(d)),
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let tree = move || {
        view.with(|v| {
            tree_order(&v.departments)
                .into_iter()
                .map(|(d, depth)| (d.id, d.name.clone(), depth))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="directory">
            <nav class="department-pane" aria-label=t.departments>
                <ul>
                    <li>
                        <button type="button" aria-pressed=move || department.get().is_none().to_string()
                            on:click=move |_| department.set(None)>{t.everyone}</button>
                    </li>
                    <For each=tree key=|d| d.clone() let((id, name, depth))>
                        <li style:padding-left=format!("{}em", depth as f32)>
                            <button type="button" aria-pressed=move || (department.get() == Some(id)).to_string()
                                on:click=move |_| department.set(Some(id))>{name}</button>
                        </li>
                    </For>
                </ul>
            </nav>
            <section class="people-pane" aria-label=t.people>
                <input type="search" aria-label=t.search_people placeholder=t.search_people
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
                <Show when=move || shown().is_empty()>
                    <p class="empty">{t.nobody_found}</p>
                </Show>
                <ul class="people-list" aria-label=t.people>
                    <For each=shown key=|p| p.clone() let(person)>
                        <PersonEntry person view open />
                    </For>
                </ul>
            </section>
        </div>
    }
    .into_any()
}

#[component]
fn PersonEntry(
    person: Person,
    view: RwSignal<OrgView>,
    open: RwSignal<Option<UserId>>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let id = person.id;
    let online = move || live.online.with(|o| o.iter().any(|u| u.id == id));
    let name = person.display_name().to_owned();
    let department = view.with_untracked(|v| {
        person
            .main_department
            .map(|d| xietong::org::path(&v.departments, d))
            .unwrap_or_default()
    });
    let card_id = format!("person-card-{id}");
    view! {
        <li class="person-entry">
            <button type="button" class="person-name" aria-expanded=move || (open.get() == Some(id)).to_string()
                aria-controls=card_id.clone()
                on:click=move |_| open.update(|o| *o = if *o == Some(id) { None } else { Some(id) })>
                {name.clone()}
            </button>
            <span class="title">{person.title.clone()}</span>
            <span class="department">{department.clone()}</span>
            <span class="mobile">{person.mobile.clone()}</span>
            <span class="email">{person.email.clone()}</span>
            <span class="presence" class:online=online>{move || if online() { t.online } else { t.offline }}</span>
            <Show when=move || open.get() == Some(id)>
                <PersonCard person=person.clone() department=department.clone() card_id=card_id.clone() view />
            </Show>
        </li>
    }
    .into_any()
}

#[component]
fn PersonCard(
    person: Person,
    department: String,
    card_id: String,
    view: RwSignal<OrgView>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let id = person.id;
    let is_me = move || live.me.with(|me| me.as_ref().map(|m| m.id) == Some(id));
    let navigate = use_navigate();
    let start = Action::new(move |_: &()| crate::chat::start_conversation(vec![id]));
    Effect::new(move |_| {
        if let Some(Ok(channel)) = start.value().get() {
            navigate(&format!("/c/{}", channel.id), Default::default());
        }
    });
    let error = move || crate::error::failure_text(t, start.value().get());
    // The admin's fields this person filled in (and does not hide).
    let extra = view.with_untracked(|v| {
        v.fields
            .iter()
            .filter_map(|f| {
                let value = person.fields.iter().find(|x| x.field == f.id)?;
                Some((f.name.clone(), value.value.clone()))
            })
            .collect::<Vec<_>>()
    });
    let extra = extra
        .into_iter()
        .map(|(name, value)| view! { <dt>{name}</dt><dd>{value}</dd> })
        .collect_view();
    view! {
        <div class="person-card" id=card_id role="region" aria-label=person.display_name().to_owned()>
            <dl>
                <dt>{t.full_name}</dt><dd>{person.full_name.clone()}</dd>
                <dt>{t.username}</dt><dd>{person.username.clone()}</dd>
                <dt>{t.job_title}</dt><dd>{person.title.clone()}</dd>
                <dt>{t.main_department}</dt><dd>{department}</dd>
                <dt>{t.mobile}</dt><dd>{person.mobile.clone()}</dd>
                <dt>{t.email}</dt><dd>{person.email.clone()}</dd>
                {extra}
            </dl>
            <Show when=move || !is_me()>
                <button type="button" on:click=move |_| { start.dispatch(()); }>{t.send_message}</button>
            </Show>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
        </div>
    }
    .into_any()
}
