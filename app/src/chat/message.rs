//! One message with everything one can do to it (reply in thread, react, pin, edit, delete),
//! and the thread panel.

use leptos::html;
use leptos::prelude::*;
use xietong::chat::PostMessage;
use xietong::chat::{DeleteMessage, EditMessage, PinMessage, React, Reaction, QUICK_REACTIONS};
use xietong::settings::WorkspaceSettings;
use xietong::{Message, MessageId, Scope, UserId};

use super::channel::{Composer, PendingItem};
use super::state::ThreadView;
use crate::live::Live;
use crate::shell::Modal;

/// "14:05" and "2026-11-26 14:05:09" in the reader's time zone. Written out by hand rather than
/// with chrono's `format`, whose format-string parser is sizeable in the WASM bundle.
pub fn format_time(ms: i64, offset_minutes: i32) -> (String, String) {
    use chrono::{DateTime, Datelike, FixedOffset, Timelike};
    let offset = FixedOffset::east_opt(offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => {
            let t = t.with_timezone(&offset);
            let (hour, minute) = (t.hour(), t.minute());
            (
                format!("{hour:02}:{minute:02}"),
                format!(
                    "{}-{:02}-{:02} {hour:02}:{minute:02}:{:02}",
                    t.year(),
                    t.month(),
                    t.day(),
                    t.second()
                ),
            )
        }
        None => (String::new(), String::new()),
    }
}

/// A message, live: `message` follows the view it comes from. `on_thread`: open its thread
/// (top-level messages only).
#[component]
pub fn MessageItem(
    message: Memo<Option<Message>>,
    #[prop(optional)] on_thread: Option<Callback<MessageId>>,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
    let editing = RwSignal::new(false);
    let picking = RwSignal::new(false);
    let confirming_delete = RwSignal::new(false);
    let highlight = use_context::<super::channel::Highlight>();
    let chat = use_context::<super::ChatState>();
    // Only the admin's time limits, so other changes to my workspace view (unread counts on
    // every message) do not rebuild every message.
    let limits = Memo::new(move |_| {
        chat.and_then(|c| c.read(|w| w.workspace_settings.clone()))
            .unwrap_or_default()
    });
    move || {
        let m = message.get()?;
        let id = m.id;
        let me = live.me.get();
        let mine = me.as_ref().is_some_and(|u| u.id == m.author.id);
        // The admin's time limits (the server enforces them; past them the buttons go).
        let limits = limits.get();
        let now = crate::live::now_ms() as i64;
        let within = |window| WorkspaceSettings::within(window, m.created_at, now);
        let may_edit = mine && within(limits.edit_window_minutes);
        let may_delete = (mine && within(limits.delete_window_minutes))
            || me.as_ref().is_some_and(|u| u.is_admin);
        let me_id = me.as_ref().map(|u| u.id);
        let at = m.created_at;
        // The machine-readable time (UTC): "2026-11-26T14:05:09Z".
        let iso = format!("{}Z", format_time(at, 0).1.replacen(' ', "T", 1));
        let short = move || format_time(at, live.utc_offset_minutes.get()).0;
        let long = move || format_time(at, live.utc_offset_minutes.get()).1;
        let deleted = m.deleted;
        let body = m.body.clone();
        let html = m.html.clone();
        let reactions = m.reactions.clone();
        let any_reactions = !reactions.is_empty();
        let reply_count = m.reply_count;
        let pinned = m.pinned;
        let top_level = m.thread.is_none();
        let mentions_me = me_id.is_some_and(|me| m.mentions_user(me));
        let highlighted = move || highlight.is_some_and(|h| h.0.get() == Some(id));
        Some(view! {
            <article class="message" class:pinned=pinned class:mentions-me=mentions_me
                class:highlight=highlighted aria-current=move || highlighted().then_some("true")
                data-seq=m.seq.0 data-id=id.0>
                <header>
                    <span class="author">{m.author.username.clone()}</span>
                    {mentions_me.then(|| view! { " " <span class="mention-mark">{t.mentions_you}</span> })}
                    " "
                    <time datetime=iso title=long>{short}</time>
                    {m.edited_at.filter(|_| !deleted).map(|_| view! { " " <span class="edited">{t.edited}</span> })}
                    {pinned.then(|| view! { " " <span class="pin-mark">"📌 "{t.pinned}</span> })}
                </header>
                {if deleted {
                    view! { <p class="body deleted">{t.deleted}</p> }.into_any()
                } else if editing.get() {
                    let body = body.clone();
                    view! {
                        <crate::shell::OnDemand open=editing load=move || edit_box(id, body.clone(), editing) />
                    }.into_any()
                } else if html.is_empty() {
                    // Text, never HTML: Leptos escapes it.
                    view! { <p class="body">{body.clone()}</p> }.into_any()
                } else {
                    // Rendered from Markdown and sanitised by the server (ammonia), never
                    // the author's own HTML.
                    view! { <div class="body markdown" inner_html=html.clone()></div> }.into_any()
                }}
                {(!deleted && !m.attachments.is_empty()).then(|| view! {
                    <crate::files::FileCards files=m.attachments.clone() />
                })}
                {m.card.clone().filter(|_| !deleted).map(|card| match card {
                    xietong::chat::Card::Story(card) => view! { <crate::news::StoryCardView card /> },
                })}
                <Show when=move || any_reactions>
                    <div class="reactions">
                        {reactions.iter().map(|r| view! { <ReactionButton message=id reaction=r.clone() me=me_id /> }).collect_view()}
                    </div>
                </Show>
                {(top_level && reply_count > 0).then(|| on_thread.map(|open| view! {
                    <button type="button" class="replies" on:click=move |_| open.run(id)>
                        {(t.replies)(reply_count)}
                    </button>
                }))}
                {(!deleted).then(|| view! {
                    <div class="message-actions">
                        {(top_level).then(|| on_thread.map(|open| view! {
                            <button type="button" on:click=move |_| open.run(id)>{t.reply_in_thread}</button>
                        }))}
                        <button type="button" aria-expanded=move || picking.get().to_string()
                            on:click=move |_| picking.update(|p| *p = !*p)>{t.add_reaction}</button>
                        <button type="button" on:click=move |_| {
                            live.send_command(PinMessage { message: id, pinned: !pinned });
                        }>{if pinned { t.unpin } else { t.pin }}</button>
                        {may_edit.then(|| view! {
                            <button type="button" on:click=move |_| editing.set(true)>{t.edit}</button>
                        })}
                        {may_delete.then(|| view! {
                            <button type="button" on:click=move |_| confirming_delete.set(true)>{t.delete}</button>
                        })}
                    </div>
                })}
                <crate::shell::OnDemand open=picking load=move || reaction_picker(id, picking) />
                <crate::shell::OnDemand open=confirming_delete
                    load=move || delete_confirm(id, confirming_delete) />
            </article>
        })
    }
}

/// "👍 2": pressed when it includes me; a click adds or takes back my reaction.
#[component]
fn ReactionButton(message: MessageId, reaction: Reaction, me: Option<UserId>) -> impl IntoView {
    let live = expect_context::<Live>();
    let mine = me.is_some_and(|me| reaction.users.contains(&me));
    let emoji = reaction.emoji.clone();
    view! {
        <button type="button" class="reaction" aria-pressed=mine.to_string()
            on:click=move |_| {
                live.send_command(React { message, emoji: emoji.clone(), on: !mine });
            }>
            {format!("{} {}", reaction.emoji, reaction.users.len())}
        </button>
    }
}

/// The parts of a message that only its menu opens, loaded on demand: their code is not in
/// the first screen's module.
#[lazy]
fn edit_box(id: MessageId, body: String, editing: RwSignal<bool>) -> AnyView {
    view! { <EditBox id body editing /> }.into_any()
}

#[lazy]
fn reaction_picker(id: MessageId, picking: RwSignal<bool>) -> AnyView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
    view! {
        <div class="emoji-picker" role="group" aria-label=t.reactions>
            {QUICK_REACTIONS.iter().map(|emoji| view! {
                <button type="button" on:click=move |_| {
                    picking.set(false);
                    live.send_command(React { message: id, emoji: (*emoji).to_owned(), on: true });
                }>{*emoji}</button>
            }).collect_view()}
        </div>
    }
    .into_any()
}

#[lazy]
fn delete_confirm(id: MessageId, confirming: RwSignal<bool>) -> AnyView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
    view! {
        <Modal title=t.delete_message.to_string() on_close=Callback::new(move |_| confirming.set(false))>
            <p>{t.delete_confirm}</p>
            <div class="actions">
                <button type="button" on:click=move |_| confirming.set(false)>{t.cancel}</button>
                <button type="button" class="danger" on:click=move |_| {
                    confirming.set(false);
                    live.send_command(DeleteMessage { message: id });
                }>{t.delete}</button>
            </div>
        </Modal>
    }
    .into_any()
}

/// The message becomes a textbox: Enter saves, Escape cancels.
#[component]
fn EditBox(id: MessageId, body: String, editing: RwSignal<bool>) -> impl IntoView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
    let input = NodeRef::<html::Textarea>::new();
    let error = RwSignal::new(None::<String>);
    let save = move || {
        let text = input
            .get_untracked()
            .map(|el| el.value())
            .unwrap_or_default();
        match xietong::validate::message_body(&text) {
            Ok(text) => {
                live.send_command(EditMessage {
                    message: id,
                    body: text.to_owned(),
                });
                editing.set(false);
            }
            Err(e) => error.set(Some((t.invalid)(&e))),
        }
    };
    // On the next frame: the first time, this box is made while its code is still arriving and
    // is put into the page only after this effect has run.
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            request_animation_frame(move || {
                let _ = el.focus();
            });
        }
    });
    view! {
        <div class="edit">
            <textarea node_ref=input aria-label=t.edit_message rows="2" prop:value=body
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        save();
                    } else if ev.key() == "Escape" {
                        ev.prevent_default();
                        editing.set(false);
                    }
                }></textarea>
            <Show when=move || error.get().is_some()>
                <p role="alert" class="error">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// [`ThreadPanel`], loaded on demand: its code is not in the first screen's module.
#[lazy]
pub fn thread_panel(root: MessageId, on_close: Callback<()>) -> AnyView {
    view! { <ThreadPanel root on_close /> }.into_any()
}

/// The open thread beside the channel: its first message, the replies (live), and a reply box.
#[component]
pub fn ThreadPanel(root: MessageId, on_close: Callback<()>) -> impl IntoView {
    let live = expect_context::<Live>();
    let thread_page = Resource::new(move || root, |root| super::thread(root, None));
    let t = crate::i18n::t();
    let loading_older = RwSignal::new(false);
    let older_error = RwSignal::new(None::<String>);
    view! {
        <aside class="thread" aria-label=t.thread>
            <header class="thread-header">
                <h2>{t.thread}</h2>
                <button type="button" aria-label=t.close_thread on:click=move |_| on_close.run(())>"×"</button>
            </header>
            <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match thread_page.await {
                        Ok(page) => {
                            let scope = Scope::Channel(page.channel.id);
                            let channel = page.channel.id;
                            let view = RwSignal::new(ThreadView::from_page(page));
                            live.watch(scope, view, move || thread_page.refetch());
                            let pending = move || {
                                live.pending.get().into_iter()
                                    .filter(|p| p.command.command_as::<PostMessage>().is_some_and(|m| m.thread == Some(root)))
                                    .collect::<Vec<_>>()
                            };
                            let load_older = move |_| {
                                let Some(before) = view.with_untracked(|v| v.oldest()) else { return };
                                loading_older.set(true);
                                leptos::task::spawn_local(async move {
                                    match super::channel::merge_older_page(view, ThreadView::prepend, || super::thread(root, Some(before))).await {
                                        Ok(()) => older_error.set(None),
                                        Err(e) => older_error.set(Some(e.text(t))),
                                    }
                                    loading_older.set(false);
                                });
                            };
                            view! {
                                <MessageItem message=Memo::new(move |_| view.with(|v| Some(v.root.clone()))) />
                                <div class="log" role="log" aria-label=t.thread_messages>
                                    <Show when=move || view.with(|v| v.has_more)>
                                        <button type="button" class="older" on:click=load_older
                                            disabled=move || loading_older.get()>
                                            {t.load_older_replies}
                                        </button>
                                    </Show>
                                    <Show when=move || older_error.get().is_some()>
                                        <p role="alert" class="error">{move || older_error.get()}</p>
                                    </Show>
                                    <For each=move || view.with(|v| v.replies.iter().map(|m| m.id).collect::<Vec<_>>())
                                        key=|id| *id let:id>
                                        <MessageItem message=Memo::new(move |_| view.with(|v| v.replies.iter().find(|m| m.id == id).cloned())) />
                                    </For>
                                    <For each=pending key=|p| (p.client_id.clone(), p.error.clone()) let:post>
                                        <PendingItem post />
                                    </For>
                                </div>
                                <Composer channel thread=Some(root) label=t.reply placeholder=t.reply_placeholder.to_string() />
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </aside>
    }
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times_read_in_the_reader_s_zone() {
        // 2026-11-26 06:05:09.500 UTC
        let ms = 1_795_673_109_500;
        assert_eq!(
            format_time(ms, 0),
            ("06:05".to_owned(), "2026-11-26 06:05:09".to_owned())
        );
        assert_eq!(
            format_time(ms, 8 * 60),
            ("14:05".to_owned(), "2026-11-26 14:05:09".to_owned())
        );
        assert_eq!(format_time(ms, -7 * 60).1, "2026-11-25 23:05:09");
    }
}
