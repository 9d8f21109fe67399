use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use xietong::chat::PostMessage;
use xietong::{ChannelId, Command, MessageId, Scope};

use super::channel_history;
use super::message::{thread_panel, MessageItem};
use super::state::ChannelView;
use crate::live::{Live, PendingCommand};

/// One channel: its history (server-rendered), live messages and the composer.
#[component]
pub fn ChannelPage() -> impl IntoView {
    let params = use_params_map();
    let channel_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<ChannelId>().ok())
    };
    let history = Resource::new(channel_id, |id| channel_history(id, None));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(page) => {
                        let scope = Scope::Channel(page.channel.id);
                        let view = RwSignal::new(ChannelView::from_page(page));
                        expect_context::<Live>().watch(scope, view, move || history.refetch());
                        let thread = RwSignal::new(None::<MessageId>);
                        view! {
                            <div class="channel-main">
                                <Channel view thread />
                            </div>
                            <Suspense>
                                {move || thread.get().map(|root| Suspend::new(
                                    thread_panel(root, Callback::new(move |_| thread.set(None)))
                                ))}
                            </Suspense>
                        }.into_any()
                    }
                    Err(e) => view! { <p role="alert" class="error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Channel(view: RwSignal<ChannelView>, thread: RwSignal<Option<MessageId>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let channel = view.with_untracked(|v| v.channel.clone());
    let channel_id = channel.id;
    let log = NodeRef::<html::Div>::new();
    let loading_older = RwSignal::new(false);
    let older_error = RwSignal::new(None::<String>);

    let load_older = move || {
        if loading_older.get_untracked() || !view.with_untracked(|v| v.has_more) {
            return;
        }
        let Some(before) = view.with_untracked(|v| v.oldest()) else {
            return;
        };
        loading_older.set(true);
        leptos::task::spawn_local(async move {
            let height_before = log
                .get_untracked()
                .map(|el| el.scroll_height())
                .unwrap_or(0);
            match channel_history(Some(channel_id), Some(before)).await {
                Ok(page) => {
                    view.update(|v| v.prepend(page));
                    // Keep the message the reader was looking at in place.
                    if let Some(el) = log.get_untracked() {
                        let grown = el.scroll_height() - height_before;
                        el.set_scroll_top(el.scroll_top() + grown);
                    }
                }
                Err(e) => older_error.set(Some(e.to_string())),
            }
            loading_older.set(false);
        });
    };

    // Stay at the newest message while the reader is at the bottom.
    let stick_to_bottom = RwSignal::new(true);
    Effect::new(move |_| {
        view.track();
        live.pending.track();
        if stick_to_bottom.get_untracked() {
            if let Some(el) = log.get() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = log.get_untracked() {
            stick_to_bottom.set(el.scroll_height() - el.scroll_top() - el.client_height() < 40);
            if el.scroll_top() < 80 {
                load_older();
            }
        }
    };

    let pending = move || {
        live.pending
            .get()
            .into_iter()
            .filter(|p| matches!(&p.command, Command::PostMessage(m) if m.channel == channel_id && m.thread.is_none()))
            .collect::<Vec<_>>()
    };

    view! {
        <super::header::ChannelHeader channel=channel.clone() view />
        <div class="log" role="log" aria-label="Messages" node_ref=log on:scroll=on_scroll>
            <Show when=move || view.with(|v| v.has_more)>
                <button type="button" class="older" on:click=move |_| load_older()
                    disabled=move || loading_older.get()>
                    "Load older messages"
                </button>
            </Show>
            <Show when=move || older_error.get().is_some()>
                <p role="alert" class="error">{move || older_error.get()}</p>
            </Show>
            <For each=move || view.with(|v| v.messages.iter().map(|m| m.id).collect::<Vec<_>>())
                key=|id| *id let:id>
                <MessageItem
                    message=Memo::new(move |_| view.with(|v| v.messages.iter().find(|m| m.id == id).cloned()))
                    on_thread=Callback::new(move |root| thread.set(Some(root))) />
            </For>
            <For each=pending key=|p| (p.client_id.clone(), p.error.clone()) let:post>
                <PendingItem post />
            </For>
        </div>
        <TypingLine view />
        <Composer channel=channel_id thread=None label="Message"
            placeholder=format!("Message {}", channel.display_name("")) />
    }
}

#[component]
pub(super) fn PendingItem(post: PendingCommand) -> impl IntoView {
    let live = expect_context::<Live>();
    let client_id = post.client_id.clone();
    let failed = post.error.clone();
    let body = match &post.command {
        Command::PostMessage(m) => m.body.clone(),
        _ => String::new(),
    };
    let sending = failed.is_none();
    view! {
        <article class="message pending" aria-busy=sending.to_string()>
            <header>
                <span class="author">"You"</span>
                " "
                <span class="sending">{if sending { "Sending…" } else { "Not sent" }}</span>
            </header>
            <p class="body">{body}</p>
            {failed.map(|e| view! {
                <p role="alert" class="error">{e}</p>
                <button type="button" on:click=move |_| live.dismiss(&client_id)>"Dismiss"</button>
            })}
        </article>
    }
}

/// "NAME is typing…" under the log, gone a few seconds after the last notice.
#[component]
fn TypingLine(view: RwSignal<ChannelView>) -> impl IntoView {
    let live = expect_context::<Live>();
    let now = RwSignal::new(0.0_f64);
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        now.set(crate::live::now_ms());
        if let Ok(tick) = set_interval_with_handle(
            move || now.set(crate::live::now_ms()),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || tick.clear());
        }
    }
    let text = move || {
        let me = live.me.with(|me| me.as_ref().map(|u| u.id));
        // A notice that just arrived counts from its own time, not the last tick.
        let now = now
            .get()
            .max(view.with(|v| v.typing.iter().map(|(_, at)| *at).fold(0.0, f64::max)));
        view.with(|v| v.typing_text(now, me))
    };
    view! { <p class="typing" aria-live="polite">{text}</p> }
}

/// How often a composer tells the others it is being typed in, at most (ms).
const TYPING_EVERY_MS: f64 = 3000.0;

/// The message box: Enter sends, Shift+Enter is a newline. With `thread`, it replies there.
#[component]
pub(super) fn Composer(
    channel: ChannelId,
    thread: Option<MessageId>,
    /// Its accessible name ("Message", "Reply").
    label: &'static str,
    placeholder: String,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<html::Textarea>::new();
    let typing_sent = StoredValue::new(0.0_f64);
    let typing = move || {
        let now = crate::live::now_ms();
        if now - typing_sent.get_value() > TYPING_EVERY_MS {
            typing_sent.set_value(now);
            live.typing(Scope::Channel(channel));
        }
    };

    let send = move || {
        let body = input
            .get_untracked()
            .map(|el| el.value())
            .unwrap_or_else(|| text.get_untracked());
        match xietong::validate::message_body(&body) {
            Ok(body) => {
                live.send_command(Command::PostMessage(PostMessage {
                    channel,
                    body: body.to_owned(),
                    thread,
                }));
                text.set(String::new());
                typing_sent.set_value(0.0);
                if let Some(el) = input.get_untracked() {
                    el.set_value("");
                }
                error.set(None);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <form class="composer" on:submit=move |ev| { ev.prevent_default(); send(); }>
            <textarea
                node_ref=input
                aria-label=label
                placeholder=placeholder
                rows="2"
                prop:value=move || text.get()
                on:input=move |ev| { text.set(event_target_value(&ev)); error.set(None); typing(); }
                on:keydown=on_keydown
            ></textarea>
            <button type="submit">"Send"</button>
            <Show when=move || error.get().is_some()>
                <p role="alert" class="error">{move || error.get()}</p>
            </Show>
        </form>
    }
}
