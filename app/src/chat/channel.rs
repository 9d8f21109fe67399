use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use xietong::chat::{MarkRead, PostMessage};
use xietong::{ChannelId, MessageId, Scope, Seq};

use super::channel_history;
use super::message::{thread_panel, MessageItem};
use super::state::ChannelView;
use super::ChatState;
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
    let t = crate::i18n::t();
    view! {
        <div class="channel-page">
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
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
                            // Only while a thread is open: see `shell::OnDemand` for why no
                            // `<Suspense>` waits closed in the server's page.
                            {move || thread.get().map(|root| view! {
                                <Suspense>
                                    {Suspend::new(thread_panel(root, Callback::new(move |_| thread.set(None))))}
                                </Suspense>
                            })}
                        }.into_any()
                    }
                    Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                }
            })}
        </Suspense>
        </div>
    }
}

#[component]
fn Channel(view: RwSignal<ChannelView>, thread: RwSignal<Option<MessageId>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
    let channel = view.with_untracked(|v| v.channel.clone());
    let channel_id = channel.id;
    let log = NodeRef::<html::Div>::new();
    let loading_older = RwSignal::new(false);
    let older_error = RwSignal::new(None::<String>);

    let load_older = move || {
        if loading_older.get_untracked() || !view.with_untracked(|v| v.has_more) {
            return;
        }
        loading_older.set(true);
        leptos::task::spawn_local(async move {
            let height_before = log
                .get_untracked()
                .map(|el| el.scroll_height())
                .unwrap_or(0);
            match load_older_page(view).await {
                Ok(_) => {
                    // Keep the message the reader was looking at in place.
                    if let Some(el) = log.get_untracked() {
                        let grown = el.scroll_height() - height_before;
                        el.set_scroll_top(el.scroll_top() + grown);
                    }
                }
                Err(e) => older_error.set(Some(e.text(t))),
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

    let first_unread = first_unread_message(view);
    mark_read_while_shown(view);
    let highlight = RwSignal::new(None::<MessageId>);
    provide_context(Highlight(highlight));
    jump_to_linked_message(view, highlight, stick_to_bottom);

    let pending = move || {
        live.pending
            .get()
            .into_iter()
            .filter(|p| {
                p.command
                    .command_as::<PostMessage>()
                    .is_some_and(|m| m.channel == channel_id && m.thread.is_none())
            })
            .collect::<Vec<_>>()
    };

    view! {
        <super::header::ChannelHeader channel=channel.clone() view />
        <div class="log" role="log" aria-label=t.messages node_ref=log on:scroll=on_scroll>
            <Show when=move || view.with(|v| v.has_more)>
                <button type="button" class="older" on:click=move |_| load_older()
                    disabled=move || loading_older.get()>
                    {t.load_older}
                </button>
            </Show>
            <Show when=move || older_error.get().is_some()>
                <p role="alert" class="error">{move || older_error.get()}</p>
            </Show>
            <For each=move || view.with(|v| v.messages.iter().map(|m| m.id).collect::<Vec<_>>())
                key=|id| *id let:id>
                <Show when=move || first_unread.get() == Some(id)>
                    <div class="new-line" role="separator" aria-label=t.new_line>{t.new_line}</div>
                </Show>
                <MessageItem
                    message=Memo::new(move |_| view.with(|v| v.messages.iter().find(|m| m.id == id).cloned()))
                    on_thread=Callback::new(move |root| thread.set(Some(root))) />
            </For>
            <p class="seen">{move || view.with(|v| v.seen_text(t, live.me.with(|me| me.as_ref().map(|u| u.id))))}</p>
            // Rarely more than one or two: rebuilt in place on a change, without `For`'s keyed
            // diffing (whose code, per list type, the first screen would carry).
            {move || pending().into_iter().map(|post| view! { <PendingItem post /> }).collect_view()}
        </div>
        <TypingLine view />
        <Composer channel=channel_id thread=None label=t.message
            placeholder=(t.message_to)(&channel.display_name("")) />
    }
}

/// The message a link pointed at (`?m=ID`, from a search result), highlighted.
#[derive(Clone, Copy)]
pub(super) struct Highlight(pub RwSignal<Option<MessageId>>);

/// Earlier pages a link to an old message loads at most, looking for it.
const MAX_JUMP_PAGES: usize = 40;

/// Loads the page of history before the oldest loaded message; false when there is none.
async fn load_older_page(view: RwSignal<ChannelView>) -> Result<bool, crate::AppError> {
    let channel = view.with_untracked(|v| v.channel.id);
    let Some(before) = view.with_untracked(|v| v.has_more.then(|| v.oldest()).flatten()) else {
        return Ok(false);
    };
    merge_older_page(view, ChannelView::prepend, || {
        channel_history(Some(channel), Some(before))
    })
    .await?;
    Ok(true)
}

/// How often an older page is read again because events overtook it.
const MAX_PAGE_READS: usize = 5;

/// Reads an older page and merges it into `view`; a page read before the view's latest event is
/// read again (see [`ChannelView::prepend`]), so no edit to its messages is lost.
pub(super) async fn merge_older_page<V, P, F>(
    view: RwSignal<V>,
    merge: fn(&mut V, P) -> bool,
    read: impl Fn() -> F,
) -> Result<(), crate::AppError>
where
    V: Send + Sync + 'static,
    F: std::future::Future<Output = Result<P, crate::AppError>>,
{
    for _ in 0..MAX_PAGE_READS {
        let page = read().await?;
        // A view disposed meanwhile (the reader left) needs nothing more.
        if view.try_update(|v| merge(v, page)).unwrap_or(true) {
            return Ok(());
        }
    }
    Err(crate::AppError::Transport(
        "the conversation kept changing while loading".into(),
    ))
}

/// Follows `?m=ID`: loads earlier pages until the message is there, scrolls to it and
/// highlights it.
fn jump_to_linked_message(
    view: RwSignal<ChannelView>,
    highlight: RwSignal<Option<MessageId>>,
    stick_to_bottom: RwSignal<bool>,
) {
    let query = use_query_map();
    Effect::new(move |_| {
        let Some(target) = query
            .read()
            .get("m")
            .and_then(|m| m.parse::<i64>().ok())
            .map(MessageId)
        else {
            return;
        };
        let has = move || view.with_untracked(|v| v.messages.iter().any(|m| m.id == target));
        leptos::task::spawn_local(async move {
            let mut pages = 0;
            while !has() && pages < MAX_JUMP_PAGES && load_older_page(view).await == Ok(true) {
                pages += 1;
            }
            if !has() {
                return;
            }
            stick_to_bottom.set(false);
            highlight.set(Some(target));
            #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
            request_animation_frame(move || {
                let selector = format!(r#"article.message[data-id="{}"]"#, target.0);
                if let Ok(Some(el)) = document().query_selector(&selector) {
                    let options = web_sys::ScrollIntoViewOptions::new();
                    options.set_block(web_sys::ScrollLogicalPosition::Center);
                    el.scroll_into_view_with_scroll_into_view_options(&options);
                }
            });
        });
    });
}

/// The first message that was unread when the channel opened (someone else's, after where I
/// had read to): the "New" line goes above it and stays while the channel is open. Known only
/// in the browser, once my channel list has loaded.
fn first_unread_message(view: RwSignal<ChannelView>) -> Memo<Option<MessageId>> {
    let chat = expect_context::<ChatState>();
    let live = expect_context::<Live>();
    let channel = view.with_untracked(|v| v.channel.id);
    // Where I had read to when the channel opened (`None`: not known yet).
    let read_at_open = RwSignal::new(None::<Option<Seq>>);
    Effect::new(move |_| {
        if read_at_open.get_untracked().is_some() {
            return;
        }
        if let Some(workspace) = chat.workspace.get() {
            let unread = workspace.with_untracked(|w| w.unread_in(channel));
            read_at_open.set(Some((unread.unread > 0).then_some(unread.last_read)));
        }
    });
    Memo::new(move |_| {
        let last_read = read_at_open.get().flatten()?;
        let me = live.me.with(|me| me.as_ref().map(|u| u.id));
        view.with(|v| {
            v.messages
                .iter()
                .find(|m| m.seq > last_read && Some(m.author.id) != me)
                .map(|m| m.id)
        })
    })
}

/// Marks the channel read while it is on screen: once on opening, then whenever something
/// unread arrives while the tab is visible (a hidden tab leaves it unread, so its title counts).
fn mark_read_while_shown(view: RwSignal<ChannelView>) {
    let chat = expect_context::<ChatState>();
    let live = expect_context::<Live>();
    let channel = view.with_untracked(|v| v.channel.id);
    let visible = RwSignal::new(true);
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let shown = || document().visibility_state() == web_sys::VisibilityState::Visible;
        visible.set(shown());
        let handle = window_event_listener_untyped("visibilitychange", move |_| {
            visible.set(shown());
        });
        on_cleanup(move || handle.remove());
    }
    let sent = StoredValue::new(None::<Seq>);
    Effect::new(move |_| {
        let head = view.with(|v| v.head);
        let Some(workspace) = chat.workspace.get() else {
            return;
        };
        if !visible.get() || live.me.with(|me| me.is_none()) {
            return;
        }
        let (unread, ever_read) =
            workspace.with(|w| (w.unread_in(channel), w.unread.contains_key(&channel)));
        // Opening a channel never read (an empty one too: that makes me a member of it).
        let opening = sent.get_value().is_none() && (!ever_read || unread.last_read < head);
        let newer = sent.get_value().is_none_or(|s| s < head);
        if (opening || unread.unread > 0) && newer {
            sent.set_value(Some(head));
            live.send_command(MarkRead { channel, seq: head });
        }
    });
}

#[component]
pub(super) fn PendingItem(post: PendingCommand) -> impl IntoView {
    let live = expect_context::<Live>();
    let client_id = post.client_id.clone();
    let failed = post.error.clone();
    let body = post
        .command
        .command_as::<PostMessage>()
        .map(|m| m.body)
        .unwrap_or_default();
    let sending = failed.is_none();
    let t = crate::i18n::t();
    view! {
        <article class="message pending" aria-busy=sending.to_string()>
            <header>
                <span class="author">{t.you}</span>
                " "
                <span class="sending">{if sending { t.sending } else { t.not_sent }}</span>
            </header>
            <p class="body">{body}</p>
            {failed.map(|e| view! {
                <p role="alert" class="error">{e}</p>
                <button type="button" on:click=move |_| live.dismiss(&client_id)>{t.dismiss}</button>
            })}
        </article>
    }
}

/// "NAME is typing…" under the log, gone a few seconds after the last notice.
#[component]
fn TypingLine(view: RwSignal<ChannelView>) -> impl IntoView {
    let live = expect_context::<Live>();
    let t = crate::i18n::t();
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
        view.with(|v| v.typing_text(t, now, me))
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
    let t = crate::i18n::t();
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

    let mentions = MentionPicker::new(if thread.is_some() { "reply" } else { "message" });
    // Files attached with "Attach", dropped or pasted: sent with the next message.
    let uploads = crate::files::upload::Uploads::new();
    let attach = move |files: Vec<crate::transfer::PickedFile>| {
        if !files.is_empty() {
            error.set(None);
            uploads.add(files, |_, _| {});
        }
    };
    let send = move || {
        mentions.close();
        let body = input
            .get_untracked()
            .map(|el| el.value())
            .unwrap_or_else(|| text.get_untracked());
        if uploads.busy() {
            error.set(Some(t.wait_for_uploads.to_owned()));
            return;
        }
        let has_files = uploads.has_ready();
        let checked = if has_files && body.trim().is_empty() {
            Ok("")
        } else {
            xietong::validate::message_body(&body)
        };
        match checked {
            Ok(body) => {
                live.send_command(PostMessage {
                    channel,
                    body: body.to_owned(),
                    thread,
                    attachments: uploads.take_ready(),
                });
                text.set(String::new());
                typing_sent.set_value(0.0);
                if let Some(el) = input.get_untracked() {
                    el.set_value("");
                }
                error.set(None);
            }
            Err(e) => error.set(Some((t.invalid)(&e))),
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if mentions.on_keydown(&ev, input, text) {
            return;
        }
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <form class="composer"
            on:submit=move |ev| { ev.prevent_default(); send(); }
            on:dragover=move |ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                attach(crate::transfer::dropped(&ev));
            }>
            <crate::files::upload::UploadList uploads />
            <textarea
                node_ref=input
                aria-label=label
                placeholder=placeholder
                rows="2"
                aria-autocomplete="list"
                aria-controls=mentions.list_id()
                aria-activedescendant=move || mentions.active_id()
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    error.set(None);
                    typing();
                    mentions.follow_caret(input);
                }
                on:keydown=on_keydown
                on:blur=move |_| mentions.close()
                on:paste=move |ev| {
                    let files = crate::transfer::pasted(&ev);
                    if !files.is_empty() {
                        ev.prevent_default();
                        attach(files);
                    }
                }
            ></textarea>
            {mentions.view(input, text)}
            <label class="attach-button">
                {t.attach}
                <input type="file" multiple on:change=move |ev| attach(crate::transfer::picked(&ev)) />
            </label>
            <button type="submit">{t.send}</button>
            <Show when=move || error.get().is_some()>
                <p role="alert" class="error">{move || error.get()}</p>
            </Show>
        </form>
    }
}

/// The "Mention suggestions" list under a composer: typing `@` offers people (and `@channel`,
/// `@here`, `@all`) whose names start with what follows; arrow keys move, Enter or Tab picks,
/// Escape closes.
#[derive(Clone, Copy)]
struct MentionPicker {
    /// Names the list's element ids (one picker per kind of composer on a page).
    key: &'static str,
    /// The `@`'s byte offset and what is typed after it, while the caret is in a mention.
    typing: RwSignal<Option<(usize, String)>>,
    active: RwSignal<usize>,
    /// Everyone, loaded on the first `@`.
    people: RwSignal<Option<Vec<xietong::UserRef>>>,
    /// The names that match what is typed, as the list (loaded on demand) last found them:
    /// matching folds case in every script, and the tables for that stay out of the first
    /// screen with the list.
    shown: RwSignal<Vec<String>>,
    live: Live,
}

/// At most this many suggestions show.
const MAX_SUGGESTIONS: usize = 8;

impl MentionPicker {
    fn new(key: &'static str) -> Self {
        MentionPicker {
            key,
            typing: RwSignal::new(None),
            active: RwSignal::new(0),
            people: RwSignal::new(None),
            shown: RwSignal::new(Vec::new()),
            live: expect_context::<Live>(),
        }
    }

    /// The suggestions on show: none while no mention is being typed.
    fn suggestions(&self) -> Vec<String> {
        if self.typing.with(Option::is_none) {
            return Vec::new();
        }
        self.shown.get()
    }

    /// The names whose start matches what is typed after the `@`, in any case.
    fn matches(&self) -> Vec<String> {
        let Some((_, typed)) = self.typing.get() else {
            return Vec::new();
        };
        let typed = typed.to_lowercase();
        let me = self.live.me.with(|me| me.as_ref().map(|u| u.id));
        let people = self.people.get().unwrap_or_default();
        people
            .iter()
            .filter(|p| Some(p.id) != me)
            .map(|p| p.username.clone())
            .chain(
                xietong::chat::MENTION_EVERYONE
                    .iter()
                    .map(|s| (*s).to_owned()),
            )
            .filter(|name| name.to_lowercase().starts_with(&typed))
            .take(MAX_SUGGESTIONS)
            .collect()
    }

    fn list_id(&self) -> String {
        format!("mention-suggestions-{}", self.key)
    }

    fn option_id(&self, i: usize) -> String {
        format!("{}-{i}", self.list_id())
    }

    fn active_id(&self) -> Option<String> {
        (!self.suggestions().is_empty()).then(|| self.option_id(self.active.get()))
    }

    fn close(&self) {
        self.typing.set(None);
    }

    /// Opens, narrows or closes the list after an edit, from the text before the caret.
    fn follow_caret(&self, input: NodeRef<html::Textarea>) {
        let Some(el) = input.get_untracked() else {
            return;
        };
        let value = el.value();
        let caret = el
            .selection_start()
            .ok()
            .flatten()
            .map_or(value.len(), |units| byte_offset(&value, units as usize));
        let found =
            xietong::chat::mention_at_caret(&value[..caret]).map(|(at, t)| (at, t.to_owned()));
        if found.is_some() && self.people.get_untracked().is_none() {
            let people = self.people;
            people.set(Some(Vec::new()));
            leptos::task::spawn_local(async move {
                if let Ok(list) = super::people().await {
                    people.set(Some(list));
                }
            });
        }
        if found.as_ref().map(|(at, _)| *at) != self.typing.get_untracked().map(|(at, _)| at) {
            self.active.set(0);
            // Another mention: nothing from the last one stays on show.
            self.shown.set(Vec::new());
        }
        self.typing.set(found);
    }

    /// Replaces the mention being typed with `@name `.
    fn pick(&self, name: &str, input: NodeRef<html::Textarea>, text: RwSignal<String>) {
        let (Some((at, typed)), Some(el)) = (self.typing.get_untracked(), input.get_untracked())
        else {
            return;
        };
        let value = el.value();
        // The text may have changed since (sent, say): only replace the mention still there.
        let end = at + 1 + typed.len();
        if value.get(at..end) != Some(&format!("@{typed}")) {
            self.close();
            return;
        }
        let inserted = format!("@{name} ");
        let new_value = format!("{}{inserted}{}", &value[..at], &value[end..]);
        el.set_value(&new_value);
        text.set(new_value.clone());
        let caret = new_value[..at + inserted.len()].encode_utf16().count() as u32;
        let _ = el.set_selection_range(caret, caret);
        let _ = el.focus();
        self.close();
    }

    /// Handles the list's keys; true when the key was for the list.
    fn on_keydown(
        &self,
        ev: &leptos::ev::KeyboardEvent,
        input: NodeRef<html::Textarea>,
        text: RwSignal<String>,
    ) -> bool {
        let suggestions = self.suggestions();
        if suggestions.is_empty() || ev.is_composing() {
            return false;
        }
        let n = suggestions.len();
        match ev.key().as_str() {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1) % n),
            "ArrowUp" => self.active.update(|a| *a = (*a + n - 1) % n),
            "Enter" | "Tab" => {
                let i = self.active.get_untracked().min(n - 1);
                self.pick(&suggestions[i], input, text);
            }
            "Escape" => self.close(),
            _ => return false,
        }
        ev.prevent_default();
        true
    }

    /// The list, while a mention is being typed; its code loads with the first `@`.
    fn view(&self, input: NodeRef<html::Textarea>, text: RwSignal<String>) -> impl IntoView {
        let picker = *self;
        let open = Signal::derive(move || picker.typing.with(Option::is_some));
        view! { <crate::shell::OnDemand open load=move || mention_list(picker, input, text) /> }
    }

    fn list(&self, input: NodeRef<html::Textarea>, text: RwSignal<String>) -> impl IntoView {
        let picker = *self;
        let list_id = self.list_id();
        let label = crate::i18n::t().mention_suggestions;
        // Set on every change, equal or not: `follow_caret` empties it for each new mention.
        Effect::new(move |_| picker.shown.set(picker.matches()));
        move || {
            let suggestions = picker.suggestions();
            (!suggestions.is_empty()).then(|| {
                let options = suggestions
                    .into_iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let selected = move || (picker.active.get() == i).to_string();
                        let pick = picker;
                        let shown = format!("@{name}");
                        view! {
                            <li role="option" id=picker.option_id(i) aria-selected=selected
                                on:mousedown=move |ev| { ev.prevent_default(); pick.pick(&name, input, text); }>
                                {shown}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <ul role="listbox" id=list_id.clone() aria-label=label
                        class="mention-suggestions">
                        {options}
                    </ul>
                }
            })
        }
    }
}

#[lazy]
fn mention_list(
    picker: MentionPicker,
    input: NodeRef<html::Textarea>,
    text: RwSignal<String>,
) -> AnyView {
    picker.list(input, text).into_any()
}

/// The byte offset of a UTF-16 offset (a textarea's caret) in `s`.
fn byte_offset(s: &str, utf16_units: usize) -> usize {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        if units >= utf16_units {
            return i;
        }
        units += c.len_utf16();
    }
    s.len()
}
