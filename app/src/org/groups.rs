//! An admin's list of groups that have people in charge and an audience — news columns (their
//! editors), forum sections (their moderators) — with one form to add or change one.

use leptos::prelude::*;
use xietong::org::{AudienceMember, OrgSnapshot};
use xietong::{UserId, UserRef};

/// One group as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    /// `None`: this kind of group has no description.
    pub description: Option<String>,
    pub in_charge: Vec<UserRef>,
    pub audience: Vec<AudienceMember>,
}

/// What the form saves (`id`: `None` for a new group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDraft {
    pub id: Option<i64>,
    pub name: String,
    pub description: String,
    pub in_charge: Vec<UserId>,
    pub audience: Vec<AudienceMember>,
}

/// The words of one kind of group.
#[derive(Debug, Clone, Copy)]
pub struct GroupWords {
    /// The heading's element id.
    pub id: &'static str,
    pub heading: &'static str,
    pub list: &'static str,
    pub add: &'static str,
    pub name: &'static str,
    pub in_charge: &'static str,
    pub save: &'static str,
    pub with_description: bool,
}

#[component]
pub fn GroupsAdmin(
    rows: Signal<Vec<GroupRow>>,
    org: StoredValue<OrgSnapshot>,
    words: GroupWords,
    save: Callback<GroupDraft>,
    /// The group the last save answered with: editing goes on with it.
    saved: Signal<Option<i64>>,
    error: Signal<Option<String>>,
    close: Callback<()>,
) -> impl IntoView {
    let t = crate::i18n::office();
    let editing = RwSignal::new(None::<i64>);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let in_charge = RwSignal::new(Vec::<UserId>::new());
    let audience = RwSignal::new(vec![AudienceMember::Everyone]);
    let pick = move |row: Option<GroupRow>| {
        editing.set(row.as_ref().map(|r| r.id));
        name.set(row.as_ref().map(|r| r.name.clone()).unwrap_or_default());
        description.set(
            row.as_ref()
                .and_then(|r| r.description.clone())
                .unwrap_or_default(),
        );
        in_charge.set(
            row.as_ref()
                .map(|r| r.in_charge.iter().map(|u| u.id).collect())
                .unwrap_or_default(),
        );
        audience.set(
            row.map(|r| r.audience)
                .unwrap_or_else(|| vec![AudienceMember::Everyone]),
        );
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(GroupDraft {
            id: editing.get_untracked(),
            name: name.get_untracked(),
            description: description.get_untracked(),
            in_charge: in_charge.get_untracked(),
            audience: audience.get_untracked(),
        });
    };
    Effect::new(move |_| {
        if let Some(id) = saved.get() {
            editing.set(Some(id));
        }
    });
    view! {
        <section class="news-columns" aria-labelledby=words.id>
            <h2 id=words.id>{words.heading}</h2>
            <ul aria-label=words.list>
                <For each=move || rows.get() key=|r| r.clone() let(r)>
                    <li>
                        <span>{r.name.clone()}</span>
                        <span class="note">{format!(" · {}", r.in_charge.iter().map(|u| u.username.as_str()).collect::<Vec<_>>().join(", "))}</span>
                        <button type="button" aria-label=(t.edit_column)(&r.name) on:click={
                            let r = r.clone();
                            move |_| pick(Some(r.clone()))
                        }>{t.edit}</button>
                    </li>
                </For>
            </ul>
            <button type="button" on:click=move |_| pick(None)>{words.add}</button>
            <form class="column-form" on:submit=submit>
                <label>{words.name}
                    <input type="text" required maxlength="64" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                {words.with_description.then(|| view! {
                    <label>{t.description}
                        <input type="text" maxlength="500" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) />
                    </label>
                })}
                <super::PeopleSelect org label=words.in_charge chosen=in_charge />
                {org.with_value(|org| view! { <super::AudiencePicker org=org.clone() chosen=audience /> })}
                <div class="actions">
                    <button type="submit">{words.save}</button>
                    <button type="button" on:click=move |_| close.run(())>{t.close}</button>
                </div>
                <Show when=move || error.get().is_some()>
                    <p role="alert" class="error">{move || error.get()}</p>
                </Show>
            </form>
        </section>
    }
    .into_any()
}
