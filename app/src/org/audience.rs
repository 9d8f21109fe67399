//! The audience picker, for every module that says who something is for (file sharing now;
//! notices, news, schedule, approvals next): a combobox named "Audience" that searches people
//! (by name, pinyin, initials), departments (alone or with their sub-departments), roles and
//! everyone; what is chosen shows as removable chips. The server resolves the audience when it
//! decides access, so the picker only names members.

use leptos::prelude::*;
use xietong::org::{AudienceMember, OrgSnapshot};

use crate::i18n::OfficeTexts as Texts;

/// How a member reads in a chip or an option.
pub fn label(t: &Texts, org: &OrgSnapshot, member: AudienceMember) -> String {
    let department = |id| {
        org.departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| xietong::org::path(&org.departments, d.id))
            .unwrap_or_else(|| format!("#{id}"))
    };
    match member {
        AudienceMember::Everyone => t.audience_everyone.to_owned(),
        AudienceMember::Person(id) => org
            .people
            .iter()
            .find(|p| p.id == id)
            .map(|p| {
                if p.full_name.is_empty() {
                    p.username.clone()
                } else {
                    format!("{} ({})", p.full_name, p.username)
                }
            })
            .unwrap_or_else(|| format!("#{id}")),
        AudienceMember::Department(id) => (t.department_only)(&department(id)),
        AudienceMember::DepartmentTree(id) => (t.with_subdepartments)(&department(id)),
        AudienceMember::Role(id) => (t.role_named)(
            org.roles
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.name.as_str())
                .unwrap_or("?"),
        ),
    }
}

/// Options shown at most at once; typing narrows them.
const SHOWN: usize = 30;

#[component]
pub fn AudiencePicker(
    org: OrgSnapshot,
    chosen: RwSignal<Vec<AudienceMember>>,
    /// The field's name ("Audience" unless given: "To", say).
    #[prop(optional)]
    field_name: Option<&'static str>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let field = field_name.unwrap_or(t.audience);
    let org = StoredValue::new(org);
    let query = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let active = RwSignal::new(0usize);
    // Ids unique in the page, for `aria-controls` / `aria-activedescendant`.
    let list_id = format!("audience-{}", crate::live::new_client_id());
    let options = Memo::new(move |_| {
        org.with_value(|org| {
            chosen.with(|chosen| {
                AudienceMember::search(org, &query.get(), t.audience_everyone, chosen, SHOWN)
            })
        })
    });
    let pick = move |member: AudienceMember| {
        chosen.update(|c| {
            if !c.contains(&member) {
                c.push(member);
            }
        });
        query.set(String::new());
        active.set(0);
    };
    let option_id = {
        let list_id = list_id.clone();
        move |i: usize| format!("{list_id}-{i}")
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = options.with(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                open.set(true);
                if count > 0 {
                    active.update(|a| *a = (*a + 1) % count);
                }
            }
            "ArrowUp" => {
                ev.prevent_default();
                if count > 0 {
                    active.update(|a| *a = (*a + count - 1) % count);
                }
            }
            "Enter" => {
                ev.prevent_default();
                let picked = options.with(|o| o.get(active.get_untracked()).copied());
                if let Some(member) = picked {
                    pick(member);
                }
            }
            "Escape" if open.get_untracked() => {
                ev.stop_propagation();
                open.set(false);
            }
            "Backspace" if query.with_untracked(String::is_empty) => {
                chosen.update(|c| {
                    c.pop();
                });
            }
            _ => {}
        }
    };
    let active_id = {
        let option_id = option_id.clone();
        move || (open.get() && options.with(|o| !o.is_empty())).then(|| option_id(active.get()))
    };
    let chips = move || {
        chosen
            .get()
            .into_iter()
            .map(|member| {
                let name = org.with_value(|org| label(t, org, member));
                view! {
                    <li class="chip">
                        <span>{name.clone()}</span>
                        <button type="button" aria-label=(t.remove_named)(&name)
                            on:click=move |_| chosen.update(|c| c.retain(|m| *m != member))>
                            "×"
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let option_list = {
        let option_id = option_id.clone();
        move || {
            options
                .get()
                .into_iter()
                .enumerate()
                .map(|(i, member)| {
                    let name = org.with_value(|org| label(t, org, member));
                    view! {
                        <li role="option" id=option_id(i)
                            aria-selected=move || (active.get() == i).to_string()
                            class:active=move || active.get() == i
                            // Picked before the input loses focus.
                            on:mousedown=move |ev| {
                                ev.prevent_default();
                                pick(member);
                            }>
                            {name}
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let controls = list_id.clone();
    view! {
        <div class="audience-picker">
            <ul class="chips" aria-label=field>{chips}</ul>
            <input type="text" role="combobox" aria-label=field aria-autocomplete="list"
                aria-controls=controls aria-expanded=move || open.get().to_string()
                aria-activedescendant=active_id autocomplete="off"
                prop:value=move || query.get()
                on:input=move |ev| {
                    query.set(event_target_value(&ev));
                    active.set(0);
                    open.set(true);
                }
                on:focus=move |_| open.set(true)
                on:blur=move |_| open.set(false)
                on:keydown=on_keydown />
            <Show when=move || open.get()>
                <ul role="listbox" id=list_id.clone() aria-label=field class="options">
                    {option_list.clone()}
                </ul>
                <Show when=move || options.with(Vec::is_empty)>
                    <p class="empty">{t.no_matches}</p>
                </Show>
            </Show>
        </div>
    }
    .into_any()
}
