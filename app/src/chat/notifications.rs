//! The "Notifications" button and list: mentions, direct messages and replies in threads I
//! follow, live from my user scope (the workspace view keeps them). Looking at the list clears
//! its count in every tab. Desktop notifications are offered, never forced: only after the user
//! turns them on, and only while the tab is not in front.

use leptos::prelude::*;
use leptos_router::components::A;
use xietong::chat::{NoticeKind, SeeNotifications};
use xietong::notify::{About, Module, Notification};

use super::ChatState;
use crate::live::Live;
use crate::shell::Modal;

#[component]
pub fn NotificationsButton() -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let live = expect_context::<Live>();
    let open = RwSignal::new(false);
    let t = crate::i18n::t();
    let unseen = move || chat.read(|w| w.notifications_unseen).unwrap_or(0);
    let newest = Memo::new(move |_| chat.read(|w| w.notifications.first().cloned()).flatten());
    desktop::notify_while_away(newest);
    // Opening the list sees everything in it.
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        if let Some(newest) = newest.get_untracked() {
            if unseen() > 0 {
                live.send_command(SeeNotifications { up_to: newest.id });
            }
        }
    });
    view! {
        <button type="button" class="notifications-button" on:click=move |_| open.set(true)>
            {t.notifications}
            {move || (unseen() > 0).then(|| view! { " " <span class="badge mention">{unseen()}</span> })}
        </button>
        <crate::shell::OnDemand open
            load=move || notifications_dialog(Callback::new(move |_| open.set(false))) />
    }
}

/// The list, loaded on demand: its code is not in the first screen's module.
#[lazy]
fn notifications_dialog(on_close: Callback<()>) -> AnyView {
    view! { <NotificationsDialog on_close /> }.into_any()
}

#[component]
fn NotificationsDialog(on_close: Callback<()>) -> impl IntoView {
    let chat = expect_context::<ChatState>();
    let items = move || chat.read(|w| w.notifications.clone()).unwrap_or_default();
    let permission = RwSignal::new(desktop::permission());
    let t = crate::i18n::t();
    view! {
        <Modal title=t.notifications.to_string() on_close>
            <Show when=move || !items().is_empty()
                fallback=move || view! { <p class="empty">{t.no_notifications}</p> }>
                <ul aria-label=t.notifications class="notifications">
                    <For each=items key=|n| n.id let:item>
                        <li on:click=move |_| on_close.run(())>
                            <A href=item.href()>{describe(t, &item)}</A>
                        </li>
                    </For>
                </ul>
            </Show>
            <div class="actions">
                <Show when=move || permission.get() == desktop::Permission::Ask>
                    <button type="button" on:click=move |_| desktop::ask(permission)>
                        {t.enable_desktop_notifications}
                    </button>
                </Show>
                <button type="button" on:click=move |_| on_close.run(())>{t.close}</button>
            </div>
        </Modal>
    }
}

/// "alice mentioned you: …", "alice: …", "alice replied in a thread: …", "Short message from
/// alice: …", "Notice: …".
fn describe(t: &crate::i18n::Texts, n: &Notification) -> String {
    match &n.about {
        About::Message { notice, .. } => {
            let who = &notice.author.username;
            let text = &notice.excerpt;
            match notice.kind {
                NoticeKind::Mention => (t.mentioned_you)(who, text),
                NoticeKind::Direct => format!("{who}: {text}"),
                NoticeKind::Reply => (t.replied_in_thread)(who, text),
            }
        }
        About::Note(note) => {
            let urgent = if note.urgent { t.urgent_mark } else { "" };
            let module = crate::notify::module_name(t, note.module);
            match (&note.from, note.module) {
                (Some(from), Module::ShortMessages) => {
                    format!("{urgent}{module} · {}: {}", from.username, note.text)
                }
                (Some(from), _) => format!("{urgent}{module} · {}: {}", from.username, note.title),
                (None, _) => format!("{urgent}{module}: {}", note.title),
            }
        }
    }
}

/// The browser's Notification API, used only after the user turned it on.
mod desktop {
    use leptos::prelude::*;
    use xietong::notify::Notification;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[cfg_attr(not(all(feature = "hydrate", not(feature = "ssr"))), allow(dead_code))]
    pub enum Permission {
        /// Not asked yet: the button to turn them on shows.
        Ask,
        Granted,
        /// Denied, or the browser has no notifications.
        Off,
    }

    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    pub fn permission() -> Permission {
        use web_sys::NotificationPermission;
        if js_sys::Reflect::has(&window(), &"Notification".into()) != Ok(true) {
            return Permission::Off;
        }
        match web_sys::Notification::permission() {
            NotificationPermission::Granted => Permission::Granted,
            NotificationPermission::Default => Permission::Ask,
            _ => Permission::Off,
        }
    }

    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    pub fn permission() -> Permission {
        Permission::Off
    }

    /// Asks the browser (on the user's click only).
    pub fn ask(state: RwSignal<Permission>) {
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        if let Ok(promise) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                state.set(permission());
            });
        }
        #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
        let _ = state;
    }

    /// Shows a desktop notification for each new entry while the tab is in the background
    /// (not for ones replayed after a reconnect: only those from the last minute).
    pub fn notify_while_away(newest: Memo<Option<Notification>>) {
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        Effect::new(move |previous: Option<Option<xietong::Seq>>| {
            let current = newest.get();
            let id = current.as_ref().map(|n| n.id);
            if let (Some(Some(before)), Some(n)) = (previous, current) {
                let recent = crate::live::now_ms() - (n.at as f64) < 60_000.0;
                let away = document().visibility_state() != web_sys::VisibilityState::Visible
                    || !document().has_focus().unwrap_or(true);
                if n.id > before && recent && away && permission() == Permission::Granted {
                    let options = web_sys::NotificationOptions::new();
                    options.set_body(n.text());
                    options.set_tag(&n.id.0.to_string());
                    let _ = web_sys::Notification::new_with_options(
                        &n.from().map_or_else(
                            || "协同".to_owned(),
                            |u| format!("{} · 协同", u.username),
                        ),
                        &options,
                    );
                }
            }
            id
        });
        #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
        let _ = newest;
    }
}
