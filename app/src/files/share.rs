//! The "Share NAME" dialog of a cabinet entry (its owner's): who it is shared with and as what
//! (the audience picker, "View" or "Edit"), and, for a file, share links with an optional
//! password and expiry.

use leptos::prelude::*;
use xietong::files::{
    CreateShareLink, DeleteShareLink, EntryId, Permission, ShareEntry, ShareLink, Unshare,
};
use xietong::org::AudienceMember;
use xietong::Command;

use super::CabinetView;
use crate::live::Live;
use crate::org::audience::{label, AudiencePicker};
use crate::shell::Modal;
use crate::AppError;

type CommandAction = Action<Command, Result<xietong::CommandOutput, AppError>>;

/// The site's address before `path`, so a link can be handed on as it is.
fn absolute(path: &str) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
        return format!("{origin}{path}");
    }
    path.to_owned()
}

/// `2026-12-31` (a date input's value) → the end of that day where the reader is, in ms.
fn end_of_day(date: &str, offset_minutes: i32) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let end = day.and_hms_opt(23, 59, 59)?.and_utc().timestamp_millis();
    Some(end - i64::from(offset_minutes) * 60_000)
}

#[component]
pub fn ShareDialog(
    view: RwSignal<CabinetView>,
    sharing: RwSignal<Option<EntryId>>,
    action: CommandAction,
) -> impl IntoView {
    let t = crate::i18n::office();
    let entry = Memo::new(move |_| {
        let id = sharing.get()?;
        view.with(|v| v.cabinet.entries.iter().find(|e| e.id == id).cloned())
    });
    let title = entry
        .get_untracked()
        .map(|e| (t.share_named)(&e.name))
        .unwrap_or_default();
    let org = Resource::new(|| (), |_| crate::org::organisation());
    let close = Callback::new(move |_| sharing.set(None));
    let error = move || crate::error::failure_text(t, action.value().get());
    view! {
        <Modal title on_close=close>
            <Show when=move || error().is_some()>
                <p role="alert" class="error">{error}</p>
            </Show>
            <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match org.await {
                        Ok(org) => view! { <ShareForms entry org action /> }.into_any(),
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="dialog-actions">
                <button type="button" on:click=move |_| sharing.set(None)>{t.close}</button>
            </div>
        </Modal>
    }
    .into_any()
}

#[component]
fn ShareForms(
    entry: Memo<Option<xietong::files::Entry>>,
    org: xietong::org::OrgSnapshot,
    action: CommandAction,
) -> impl IntoView {
    let t = crate::i18n::office();
    let live = expect_context::<Live>();
    let org = StoredValue::new(org);
    let chosen = RwSignal::new(Vec::<AudienceMember>::new());
    let permission = RwSignal::new(Permission::View);
    let id = move || entry.with(|e| e.as_ref().map(|e| e.id));
    let share = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = id() else { return };
        let audience = chosen.get_untracked();
        if audience.is_empty() {
            return;
        }
        action.dispatch(Command::ShareEntry(ShareEntry {
            entry: id,
            audience,
            permission: permission.get_untracked(),
        }));
        chosen.set(Vec::new());
    };
    let shares = move || entry.with(|e| e.as_ref().map(|e| e.shares.clone()).unwrap_or_default());
    let is_file = move || entry.with(|e| e.as_ref().is_some_and(|e| !e.is_folder()));
    let links = move || entry.with(|e| e.as_ref().map(|e| e.links.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let create_link = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = id() else { return };
        let expires_at = end_of_day(
            &expires.get_untracked(),
            live.utc_offset_minutes.get_untracked(),
        );
        action.dispatch(Command::CreateShareLink(CreateShareLink {
            entry: id,
            password: password.get_untracked(),
            expires_at,
            password_hash: None,
        }));
        password.set(String::new());
        expires.set(String::new());
    };
    let link_row = move |link: ShareLink| {
        let url = absolute(&link.path());
        let token = link.token.clone();
        let mut notes = Vec::new();
        if link.has_password {
            notes.push(t.with_password.to_owned());
        }
        notes.push(match link.expires_at {
            Some(at) => {
                let (_, long) =
                    crate::chat::format_time(at, live.utc_offset_minutes.get_untracked());
                (t.expires_on)(&long.chars().take(10).collect::<String>())
            }
            None => t.never_expires.to_owned(),
        });
        view! {
            <li>
                <a href=link.path() target="_blank" rel="external noopener" class="share-link">{url.clone()}</a>
                <span class="note">{format!(" ({})", notes.join(", "))}</span>
                " "
                <button type="button" aria-label=(t.delete_link)(&url) on:click=move |_| {
                    if let Some(id) = id() {
                        action.dispatch(Command::DeleteShareLink(DeleteShareLink { entry: id, token: token.clone() }));
                    }
                }>{t.delete}</button>
            </li>
        }
    };
    view! {
        <section aria-label=t.shared_with class="shares">
            <h3>{t.shared_with}</h3>
            <Show when=move || !shares().is_empty() fallback=move || view! { <p class="empty">{t.not_shared}</p> }>
                <ul>
                    <For each=shares key=|s| *s let(share)>
                        {
                            let who = org.with_value(|org| label(t, org, share.member));
                            let kind = match share.permission { Permission::View => t.can_view, Permission::Edit => t.can_edit };
                            view! {
                                <li>
                                    <span>{who.clone()}</span>
                                    <span class="note">{format!(" · {kind} ")}</span>
                                    <button type="button" aria-label=(t.stop_sharing_with)(&who) on:click=move |_| {
                                        if let Some(id) = id() {
                                            action.dispatch(Command::Unshare(Unshare { entry: id, member: share.member }));
                                        }
                                    }>"×"</button>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
            <form class="share-form" on:submit=share>
                {org.with_value(|org| view! { <AudiencePicker org=org.clone() chosen /> })}
                <label>
                    {t.permission}
                    <select on:change=move |ev| permission.set(if event_target_value(&ev) == "edit" { Permission::Edit } else { Permission::View })>
                        <option value="view" selected=move || permission.get() == Permission::View>{t.can_view}</option>
                        <option value="edit" selected=move || permission.get() == Permission::Edit>{t.can_edit}</option>
                    </select>
                </label>
                <button type="submit" disabled=move || chosen.with(Vec::is_empty)>{t.share}</button>
            </form>
        </section>
        <section aria-label=t.share_links class="links">
            <h3>{t.share_links}</h3>
            <Show when=is_file fallback=move || view! { <p class="note">{t.link_folders}</p> }>
                <ul>
                    <For each=links key=|l| l.clone() let(link)>
                        {link_row(link)}
                    </For>
                </ul>
                <form class="inline-form" on:submit=create_link>
                    <label>
                        {t.link_password}
                        <input type="text" autocomplete="off" maxlength="256" prop:value=move || password.get()
                            on:input=move |ev| password.set(event_target_value(&ev)) />
                    </label>
                    <label>
                        {t.link_expires}
                        <input type="date" prop:value=move || expires.get()
                            on:input=move |ev| expires.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit">{t.create_link}</button>
                </form>
            </Show>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_expiry_date_ends_with_the_readers_day() {
        // 2026-12-31 23:59:59 in Beijing (UTC+8) is 15:59:59 UTC.
        let at = super::end_of_day("2026-12-31", 480).unwrap();
        assert_eq!(at, 1_798_761_599_000 - 8 * 3_600_000);
        assert_eq!(super::end_of_day("", 0), None);
    }
}
