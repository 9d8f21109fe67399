use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use xietong::Scope;

use super::people::PeoplePicker;
use super::state::WorkspaceView;
use super::{workspace, ChatState, CreateChannel, StartConversation};
use crate::live::Live;

/// Chat's part of the sidebar: the channels I can see (live from the workspace scope and my
/// own) and the "New channel" button.
#[component]
pub fn ChannelSidebar() -> impl IntoView {
    let live = expect_context::<Live>();
    let chat = expect_context::<ChatState>();
    let snapshot = Resource::new(|| (), |_| workspace());
    let snapshot_refetch = move || snapshot.refetch();
    let t = crate::i18n::t();
    // The document title counts my unread messages: "(3) 协同".
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    Effect::new(move |_| {
        let total = chat.read(|v| v.total_unread()).unwrap_or(0);
        let title = if total > 0 {
            format!("({total}) 协同")
        } else {
            "协同".to_owned()
        };
        document().set_title(&title);
    });
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(snapshot) => {
                        let shared = ArcRwSignal::new(WorkspaceView::from_snapshot(&snapshot));
                        chat.workspace.set(Some(shared.clone()));
                        let view = RwSignal::from(shared);
                        // Public channels come from the workspace scope, private ones and
                        // direct messages from mine.
                        for scope in [Scope::Workspace, Scope::User(snapshot.me.id)] {
                            live.watch(scope, view, snapshot_refetch);
                        }
                        view! {
                            <ChannelNav view />
                            <DirectNav view />
                        }.into_any()
                    }
                    Err(e) => view! { <p role="alert">{e.text(t)}</p> }.into_any(),
                }
            })}
        </Suspense>
        <div class="sidebar-actions">
            <DialogButton label=t.new_channel class="new-channel" load=new_channel_dialog />
            <DialogButton label=t.new_message class="new-message" load=new_message_dialog />
        </div>
    }
}

#[component]
fn ChannelNav(view: RwSignal<WorkspaceView>) -> impl IntoView {
    view! {
        <nav aria-label=crate::i18n::t().channels>
            <ChannelLinks view direct=false />
        </nav>
    }
}

/// Links to my channels of one sort: named ones (`direct: false`, marked # or 🔒) or direct
/// conversations (named by the other people in them).
#[component]
fn ChannelLinks(view: RwSignal<WorkspaceView>, direct: bool) -> impl IntoView {
    let me = StoredValue::new(view.with_untracked(|v| v.me.username.clone()));
    let t = crate::i18n::t();
    let listed = move || {
        view.with(|v| {
            v.channels
                .iter()
                .filter(|c| c.kind.is_direct() == direct)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <ul>
            <For each=listed key=|c| c.id let:channel>
                {
                    let id = channel.id;
                    let unread = Memo::new(move |_| view.with(|v| v.unread_in(id)));
                    let name = me.with_value(|me| channel.display_name(me));
                    let shown = name.clone();
                    // The badge is for the eye; the link's name says it in words.
                    let label = move || {
                        unread.with(|u| format!("{name}{}", unread_label(t, u.unread, u.mentions)))
                    };
                    view! {
                        <li>
                            <A href=format!("/c/{}", channel.id) attr:aria-label=label>
                                {(!direct).then(|| view! {
                                    <span aria-hidden="true" class="hash">
                                        {if channel.kind.members_only() { "🔒 " } else { "# " }}
                                    </span>
                                })}
                                <span class="name" class:unread=move || unread.with(|u| u.unread > 0)>
                                    {shown}
                                </span>
                                {move || unread.with(|u| (u.unread > 0).then(|| {
                                    let mentioned = u.mentions > 0;
                                    let badge = if mentioned { format!("@{}", u.mentions) } else { u.unread.to_string() };
                                    view! {
                                        <span class="badge" class:mention=mentioned aria-hidden="true">{badge}</span>
                                    }
                                }))}
                            </A>
                        </li>
                    }
                }
            </For>
        </ul>
    }
}

/// What a channel link's accessible name ends with: ", 3 unread", ", 3 unread, 1 mention"
/// (nothing when all is read).
fn unread_label(t: &crate::i18n::Texts, unread: u32, mentions: u32) -> String {
    if unread == 0 {
        return String::new();
    }
    let mut label = (t.unread)(unread);
    if mentions > 0 {
        label.push_str(&(t.mentions)(mentions));
    }
    label
}

/// A sidebar button that opens a dialog whose code loads on demand (`load`, a `#[lazy]` fn
/// given the dialog's open state).
#[component]
fn DialogButton<Load, Loading>(
    label: &'static str,
    class: &'static str,
    load: Load,
) -> impl IntoView
where
    Load: Fn(RwSignal<bool>) -> Loading + Clone + Send + Sync + 'static,
    Loading: std::future::Future<Output = AnyView> + Send + 'static,
{
    let open = RwSignal::new(false);
    view! {
        <button type="button" class=class on:click=move |_| open.set(true)>{label}</button>
        <crate::shell::OnDemand open load=move || load(open) />
    }
}

/// Once `made` holds a channel (the dialog's action succeeded), closes the dialog and opens it.
fn open_channel_once_made(
    made: impl Fn() -> Option<Result<xietong::Channel, crate::AppError>> + 'static,
    open: RwSignal<bool>,
) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(channel)) = made() {
            open.set(false);
            navigate(&format!("/c/{}", channel.id), Default::default());
        }
    });
}

/// [`NewChannelDialog`], loaded on demand: its code is not in the first screen's module.
#[lazy]
fn new_channel_dialog(open: RwSignal<bool>) -> AnyView {
    view! { <NewChannelDialog open /> }.into_any()
}

/// The "New channel" form; a channel made is opened.
#[component]
fn NewChannelDialog(open: RwSignal<bool>) -> impl IntoView {
    let action = ServerAction::<CreateChannel>::new();
    open_channel_once_made(move || action.value().get(), open);
    let t = crate::i18n::t();
    let error = move || crate::error::failure_text(t, action.value().get());
    view! {
        <div class="dialog-backdrop">
            <div role="dialog" aria-modal="true" aria-labelledby="new-channel-title" class="dialog">
                <h2 id="new-channel-title">{t.new_channel}</h2>
                <ActionForm action>
                    <label>
                        {t.channel_name}
                        <input type="text" name="name" required autofocus maxlength="64" />
                    </label>
                    <label class="checkbox">
                        <input type="checkbox" name="private" value="on" />
                        {t.private}
                    </label>
                    <Show when=move || error().is_some()>
                        <p role="alert" class="error">{error}</p>
                    </Show>
                    <div class="actions">
                        <button type="button" on:click=move |_| open.set(false)>{t.cancel}</button>
                        <button type="submit" disabled=move || action.pending().get()>{t.create}</button>
                    </div>
                </ActionForm>
            </div>
        </div>
    }
}

/// The direct conversations I am in.
#[component]
fn DirectNav(view: RwSignal<WorkspaceView>) -> impl IntoView {
    let t = crate::i18n::t();
    view! {
        <nav aria-label=t.direct_messages class="direct">
            <h2 class="nav-title">{t.direct_messages}</h2>
            <ChannelLinks view direct=true />
        </nav>
    }
}

/// "New message": pick people, "Start" opens the conversation with them (the existing one if
/// there is one). Loaded on demand: its code is not in the first screen's module.
#[lazy]
fn new_message_dialog(open: RwSignal<bool>) -> AnyView {
    view! { <NewMessageDialog open /> }.into_any()
}

#[component]
fn NewMessageDialog(open: RwSignal<bool>) -> impl IntoView {
    let live = expect_context::<Live>();
    let action = ServerAction::<StartConversation>::new();
    open_channel_once_made(move || action.value().get(), open);
    let t = crate::i18n::t();
    let error = Signal::derive(move || crate::error::failure_text(t, action.value().get()));
    view! {
        <PeoplePicker
            title=t.new_message.to_string()
            confirm=t.start
            exclude=live.me.get_untracked().map(|me| vec![me.id]).unwrap_or_default()
            on_pick=Callback::new(move |with| { action.dispatch(StartConversation { with }); })
            on_close=Callback::new(move |_| open.set(false))
            busy=action.pending()
            error />
    }
}
