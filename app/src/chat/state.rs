//! Chat's client-side state as "snapshot + apply(event)": each view starts from a server
//! snapshot and applies its scopes' events in sequence order, exactly once. Plain Rust, so it
//! is unit-tested natively.

use std::collections::BTreeMap;

use xietong::chat::{ChannelUnread, ChatEvent, ThreadPage};
use xietong::notify::Notified;
use xietong::settings::SettingsEvent;
use xietong::{Channel, ChannelId, HistoryPage, Message, Scope, Seq, WorkspaceSnapshot};

use crate::i18n::Texts;
use crate::live::{decode, decode_kind, Applied, LiveEvent, ScopeView};

use crate::live::advance as classify;

/// The channels I can see: public ones (the workspace scope) and the private channels and
/// direct conversations I am in (my user scope).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceView {
    pub me: xietong::CurrentUser,
    /// Ordered by id.
    pub channels: Vec<Channel>,
    /// Where I stand in each channel I have read or have unread messages in (my user scope).
    pub unread: BTreeMap<ChannelId, ChannelUnread>,
    pub settings: xietong::settings::UserSettings,
    /// My newest notifications, newest first.
    pub notifications: Vec<xietong::notify::Notification>,
    pub notifications_seen: Seq,
    pub notifications_unseen: u32,
    pub workspace_settings: xietong::settings::WorkspaceSettings,
    pub head: Seq,
    pub user_head: Seq,
}

impl WorkspaceView {
    pub fn from_snapshot(snapshot: &WorkspaceSnapshot) -> Self {
        WorkspaceView {
            me: snapshot.me.clone(),
            channels: snapshot.channels.clone(),
            unread: snapshot
                .unread
                .iter()
                .map(|u| (u.channel, u.clone()))
                .collect(),
            settings: snapshot.settings.clone(),
            notifications: snapshot.notifications.clone(),
            notifications_seen: snapshot.notifications_seen,
            notifications_unseen: snapshot.notifications_unseen,
            workspace_settings: snapshot.workspace_settings.clone(),
            head: snapshot.head,
            user_head: snapshot.user_head,
        }
    }

    /// My unread and mention counts in a channel, and how far I have read it.
    pub fn unread_in(&self, channel: ChannelId) -> ChannelUnread {
        self.unread.get(&channel).cloned().unwrap_or(ChannelUnread {
            channel,
            ..Default::default()
        })
    }

    /// Unread messages in all my channels (the document title's count).
    pub fn total_unread(&self) -> u32 {
        self.unread.values().map(|u| u.unread).sum()
    }

    /// A new entry of the "Notifications" list (the event's number is its id).
    fn notify(&mut self, event: &LiveEvent, about: xietong::notify::About) {
        self.notifications.insert(
            0,
            xietong::notify::Notification {
                id: event.seq,
                at: event.at,
                about,
            },
        );
        self.notifications
            .truncate(xietong::chat::RECENT_NOTIFICATIONS);
        if event.seq > self.notifications_seen {
            self.notifications_unseen += 1;
        }
    }

    fn count_unread(&mut self, channel: ChannelId, seq: Seq, mention: bool) {
        let entry = self.unread.entry(channel).or_insert_with(|| ChannelUnread {
            channel,
            ..Default::default()
        });
        if seq > entry.last_read {
            entry.unread += 1;
            entry.mentions += u32::from(mention);
        }
    }

    fn add(&mut self, channel: &Channel) {
        if let Err(at) = self.channels.binary_search_by_key(&channel.id, |c| c.id) {
            self.channels.insert(at, channel.clone());
        }
    }
}

impl ScopeView for WorkspaceView {
    fn head(&self, scope: Scope) -> Seq {
        match scope {
            Scope::Workspace => self.head,
            _ => self.user_head,
        }
    }

    fn apply(&mut self, event: &LiveEvent) -> Applied {
        let head = match event.scope {
            Scope::Workspace => &mut self.head,
            Scope::User(_) => &mut self.user_head,
            Scope::Channel(_) | Scope::Shared(_) | Scope::News(_) | Scope::Forum(_) => {
                return Applied::Duplicate
            }
        };
        if let Some(outcome) = classify(head, event) {
            return outcome;
        }
        if let Some(chat) = decode::<ChatEvent>(&event.body) {
            self.apply_chat(event, chat);
        } else if let Some(settings) = decode::<SettingsEvent>(&event.body) {
            match settings {
                SettingsEvent::SettingsChanged { settings } => self.settings = settings,
                SettingsEvent::WorkspaceSettingsChanged { settings } => {
                    self.workspace_settings = settings
                }
            }
        } else if let Some(Notified { note }) = decode_kind::<Notified>(&event.body) {
            self.notify(event, xietong::notify::About::Note(note));
        }
        Applied::Applied
    }
}

impl WorkspaceView {
    fn apply_chat(&mut self, event: &LiveEvent, chat: ChatEvent) {
        match &chat {
            ChatEvent::ChannelCreated { channel } | ChatEvent::ChannelAdded { channel } => {
                self.add(channel)
            }
            ChatEvent::ChannelRemoved { channel } => {
                self.channels.retain(|c| c.id != *channel);
                self.unread.remove(channel);
            }
            ChatEvent::MessageUnread {
                channel,
                message,
                seq,
                mention,
                notice,
            } => {
                self.count_unread(*channel, *seq, *mention);
                if let Some(notice) = notice {
                    self.notify(
                        event,
                        xietong::notify::About::Message {
                            channel: *channel,
                            message: *message,
                            notice: notice.clone(),
                        },
                    );
                }
            }
            ChatEvent::NotificationsSeen { up_to, unseen } => {
                self.notifications_seen = *up_to;
                self.notifications_unseen = *unseen;
            }
            ChatEvent::ChannelRead {
                channel,
                seq,
                unread,
                mentions,
            } => {
                self.unread.insert(
                    *channel,
                    ChannelUnread {
                        channel: *channel,
                        last_read: *seq,
                        unread: *unread,
                        mentions: *mentions,
                    },
                );
            }
            _ => {}
        }
    }
}

/// How long a typing notice shows without a new one (senders repeat every few seconds).
pub const TYPING_SHOWN_MS: f64 = 5000.0;

/// One channel's loaded messages.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelView {
    pub channel: Channel,
    /// Who was last seen typing, and when (browser clock, ms). Ephemeral: never in a snapshot.
    pub typing: Vec<(xietong::UserRef, f64)>,
    /// Oldest first, ordered by `seq`.
    pub messages: Vec<Message>,
    pub head: Seq,
    /// Whether older messages exist than the first loaded one.
    pub has_more: bool,
    /// In a direct conversation: how far each member has read it (read receipts).
    pub seen: BTreeMap<xietong::UserId, Seq>,
}

impl ChannelView {
    pub fn from_page(page: HistoryPage) -> Self {
        ChannelView {
            channel: page.channel,
            typing: Vec::new(),
            messages: page.messages,
            head: page.head,
            has_more: page.has_more,
            seen: page.seen.iter().map(|s| (s.user, s.seq)).collect(),
        }
    }

    /// Under my latest message in a direct conversation: "Seen" once the other person has read
    /// it, "Seen by N" in a group. `None` when the latest message is not mine or nobody has.
    pub fn seen_text(&self, t: &Texts, me: Option<xietong::UserId>) -> Option<String> {
        if !self.channel.kind.is_direct() {
            return None;
        }
        let me = me?;
        let latest = self
            .messages
            .last()
            .filter(|m| m.author.id == me && !m.deleted)?;
        let readers = self
            .seen
            .iter()
            .filter(|(user, seq)| **user != me && **seq >= latest.seq)
            .count();
        match (readers, self.channel.kind) {
            (0, _) => None,
            (_, xietong::ChannelKind::Direct) => Some(t.seen.into()),
            (n, _) => Some((t.seen_by)(n)),
        }
    }

    /// Adds an older page in front of what is loaded. Refused (false) when the page was read
    /// before events the view has applied: an edit among those events to a message of the
    /// older page found nothing to change here, so the caller fetches the page again.
    #[must_use]
    pub fn prepend(&mut self, older: HistoryPage) -> bool {
        if older.head < self.head {
            return false;
        }
        let first = self
            .messages
            .first()
            .map(|m| m.seq)
            .unwrap_or(Seq(u64::MAX));
        let mut merged: Vec<Message> = older
            .messages
            .into_iter()
            .filter(|m| m.seq < first)
            .collect();
        merged.append(&mut self.messages);
        self.messages = merged;
        self.has_more = older.has_more;
        true
    }

    pub fn oldest(&self) -> Option<Seq> {
        self.messages.first().map(|m| m.seq)
    }

    /// The view as a fresh first page would show it: the newest `limit` messages (a live view
    /// keeps what it has loaded and received, which may be more).
    pub fn latest_page(&self, limit: usize) -> ChannelView {
        let skip = self.messages.len().saturating_sub(limit);
        ChannelView {
            channel: self.channel.clone(),
            typing: Vec::new(),
            messages: self.messages[skip..].to_vec(),
            head: self.head,
            has_more: self.has_more || skip > 0,
            seen: self.seen.clone(),
        }
    }
}

impl ChannelView {
    /// Who is typing now (at `now`, ms), without `me`: "NAME is typing…".
    pub fn typing_text(&self, t: &Texts, now: f64, me: Option<xietong::UserId>) -> Option<String> {
        let names: Vec<&str> = self
            .typing
            .iter()
            .filter(|(u, at)| Some(u.id) != me && now - at < TYPING_SHOWN_MS)
            .map(|(u, _)| u.username.as_str())
            .collect();
        match names.as_slice() {
            [] => None,
            [one] => Some((t.typing_one)(one)),
            [a, b] => Some((t.typing_two)(a, b)),
            _ => Some(t.typing_many.into()),
        }
    }
}

impl ScopeView for ChannelView {
    fn head(&self, _scope: Scope) -> Seq {
        self.head
    }

    fn typing(&mut self, user: &xietong::UserRef) {
        let now = crate::live::now_ms();
        self.typing
            .retain(|(u, at)| u.id != user.id && now - at < TYPING_SHOWN_MS);
        self.typing.push((user.clone(), now));
    }

    fn apply(&mut self, event: &LiveEvent) -> Applied {
        if let Some(outcome) = classify(&mut self.head, event) {
            return outcome;
        }
        let Some(chat) = decode::<ChatEvent>(&event.body) else {
            return Applied::Applied;
        };
        if let ChatEvent::MessagePosted { message } = &chat {
            // Whoever just posted has stopped typing.
            self.typing.retain(|(u, _)| u.id != message.author.id);
        }
        match &chat {
            ChatEvent::MessagePosted { message } => match message.thread {
                None => self.messages.push(message.clone()),
                Some(root) => {
                    if let Some(root) = self.messages.iter_mut().find(|m| m.id == root) {
                        root.reply_count += 1;
                    }
                }
            },
            ChatEvent::MessagesSeen { user, seq } => {
                self.seen.insert(*user, *seq);
            }
            ChatEvent::MembersChanged { removed, .. } => {
                for user in removed {
                    self.seen.remove(&user.id);
                }
            }
            other => {
                change_message(&mut self.messages, other);
            }
        }
        Applied::Applied
    }
}

/// Applies an edit, delete, reaction or pin to whichever of `messages` it names. The same
/// rules as the server's rows (`Message::set_reaction`, `Message::mark_deleted`).
pub fn change_message(messages: &mut [Message], body: &ChatEvent) {
    let (ChatEvent::MessageEdited { message, .. }
    | ChatEvent::MessageCardChanged { message, .. }
    | ChatEvent::MessageDeleted { message }
    | ChatEvent::ReactionChanged { message, .. }
    | ChatEvent::MessagePinned { message, .. }) = body
    else {
        return;
    };
    let Some(target) = messages.iter_mut().find(|m| m.id == *message) else {
        return;
    };
    match body {
        ChatEvent::MessageEdited {
            body,
            html,
            edited_at,
            mentions,
            mentions_all,
            ..
        } => {
            target.body = body.clone();
            target.html = html.clone();
            target.edited_at = Some(*edited_at);
            target.mentions = mentions.clone();
            target.mentions_all = *mentions_all;
        }
        ChatEvent::MessageCardChanged { card, .. } => target.card = card.clone(),
        ChatEvent::MessageDeleted { .. } => target.mark_deleted(),
        ChatEvent::ReactionChanged {
            emoji, user, on, ..
        } => target.set_reaction(emoji, *user, *on),
        ChatEvent::MessagePinned { pinned, .. } => target.pinned = *pinned,
        _ => {}
    }
}

/// An open thread: its first message and replies, live from the channel's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadView {
    pub channel: Channel,
    pub root: Message,
    pub replies: Vec<Message>,
    pub head: Seq,
    /// Older replies are still on the server.
    pub has_more: bool,
}

impl ThreadView {
    pub fn from_page(page: ThreadPage) -> Self {
        ThreadView {
            channel: page.channel,
            root: page.root,
            replies: page.replies,
            head: page.head,
            has_more: page.has_more,
        }
    }

    /// Puts an older page of replies before the loaded ones (skipping any already here); refused
    /// like [`ChannelView::prepend`] when the page is older than the view.
    #[must_use]
    pub fn prepend(&mut self, older: ThreadPage) -> bool {
        if older.head < self.head {
            return false;
        }
        let first = self.oldest().unwrap_or(Seq(u64::MAX));
        let mut merged: Vec<Message> = older
            .replies
            .into_iter()
            .filter(|m| m.seq < first)
            .collect();
        merged.append(&mut self.replies);
        self.replies = merged;
        self.has_more = older.has_more;
        true
    }

    pub fn oldest(&self) -> Option<Seq> {
        self.replies.first().map(|m| m.seq)
    }
}

impl ScopeView for ThreadView {
    fn head(&self, _scope: Scope) -> Seq {
        self.head
    }

    fn apply(&mut self, event: &LiveEvent) -> Applied {
        if let Some(outcome) = classify(&mut self.head, event) {
            return outcome;
        }
        let Some(chat) = decode::<ChatEvent>(&event.body) else {
            return Applied::Applied;
        };
        match &chat {
            ChatEvent::MessagePosted { message } if message.thread == Some(self.root.id) => {
                self.root.reply_count += 1;
                self.replies.push(message.clone());
            }
            other => {
                change_message(std::slice::from_mut(&mut self.root), other);
                change_message(&mut self.replies, other);
            }
        }
        Applied::Applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::ENGLISH;
    use xietong::{ChannelId, ChannelKind, ClientMsgId, MessageId, UserId, UserRef};

    fn channel() -> Channel {
        Channel {
            id: ChannelId(1),
            name: "general".into(),
            kind: ChannelKind::Public,
            created_at: 0,
        }
    }

    fn event(scope: Scope, seq: u64, body: ChatEvent) -> LiveEvent {
        crate::live::test_event(scope, seq, Some(UserId(1)), body)
    }

    fn message(seq: u64) -> Message {
        Message {
            id: MessageId(seq as i64),
            channel: ChannelId(1),
            seq: Seq(seq),
            author: UserRef {
                id: UserId(1),
                username: "a".into(),
            },
            body: format!("m{seq}"),
            html: format!("<p>m{seq}</p>"),
            created_at: 0,
            client_id: Some(ClientMsgId(format!("client-{seq:04}"))),
            ..Default::default()
        }
    }

    fn posted(seq: u64) -> LiveEvent {
        event(
            Scope::Channel(ChannelId(1)),
            seq,
            ChatEvent::MessagePosted {
                message: message(seq),
            },
        )
    }

    fn page(range: std::ops::RangeInclusive<u64>, head: u64, has_more: bool) -> HistoryPage {
        HistoryPage {
            channel: channel(),
            messages: range.map(message).collect(),
            head: Seq(head),
            has_more,
            seen: Vec::new(),
        }
    }

    /// Zulip's rule: the state before plus the events in between equals a fresh snapshot after.
    #[test]
    fn snapshot_plus_events_equals_the_later_snapshot() {
        let mut view = ChannelView::from_page(page(1..=3, 3, false));
        for seq in 4..=6 {
            assert_eq!(view.apply(&posted(seq)), Applied::Applied);
        }
        assert_eq!(view, ChannelView::from_page(page(1..=6, 6, false)));
    }

    #[test]
    fn replayed_events_are_dropped_and_gaps_refused() {
        let mut view = ChannelView::from_page(page(1..=3, 3, false));
        assert_eq!(view.apply(&posted(3)), Applied::Duplicate);
        assert_eq!(view.apply(&posted(5)), Applied::Gap);
        assert_eq!(view.messages.len(), 3);
        assert_eq!(view.apply(&posted(4)), Applied::Applied);
        assert_eq!(view.apply(&posted(4)), Applied::Duplicate);
        assert_eq!(
            view.messages.iter().map(|m| m.seq.0).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn older_pages_go_in_front_once() {
        let mut view = ChannelView::from_page(page(51..=100, 100, true));
        assert!(view.prepend(page(1..=51, 100, false)));
        assert_eq!(view.messages.len(), 100);
        assert_eq!(view.oldest(), Some(Seq(1)));
        assert!(!view.has_more);
    }

    /// An edit to a message of a page still loading is in no snapshot the view holds: a page
    /// read before the view's head must be fetched again, not merged.
    #[test]
    fn an_older_page_read_before_the_views_head_is_refused() {
        let mut view = ChannelView::from_page(page(51..=100, 100, true));
        assert_eq!(view.apply(&posted(101)), Applied::Applied);
        assert!(!view.prepend(page(1..=50, 100, true)));
        assert_eq!(view.oldest(), Some(Seq(51)));
        assert!(view.prepend(page(1..=50, 101, false)));
        assert_eq!(view.oldest(), Some(Seq(1)));
    }

    #[test]
    fn seen_shows_under_my_latest_direct_message_once_read() {
        let mut page = page(1..=2, 2, false);
        page.channel.kind = ChannelKind::GroupDirect;
        let mut view = ChannelView::from_page(page);
        let me = Some(UserId(1)); // the author of every message in `page`
        assert_eq!(view.seen_text(&ENGLISH, me), None);
        let seen = |user, seq| ChatEvent::MessagesSeen {
            user: UserId(user),
            seq: Seq(seq),
        };
        let scope = Scope::Channel(ChannelId(1));
        assert_eq!(view.apply(&event(scope, 3, seen(2, 3))), Applied::Applied);
        assert_eq!(view.seen_text(&ENGLISH, me), Some("Seen by 1".into()));
        assert_eq!(view.apply(&event(scope, 4, seen(3, 4))), Applied::Applied);
        assert_eq!(view.seen_text(&ENGLISH, me), Some("Seen by 2".into()));
        // Not for someone else's message, nor my own receipt.
        assert_eq!(view.seen_text(&ENGLISH, Some(UserId(2))), None);
        view.channel.kind = ChannelKind::Direct;
        assert_eq!(view.seen_text(&ENGLISH, me), Some("Seen".into()));
    }

    #[test]
    fn unread_counts_only_after_what_was_read() {
        let me = Scope::User(UserId(1));
        let snapshot = WorkspaceSnapshot {
            me: xietong::CurrentUser {
                id: UserId(1),
                username: "a".into(),
                is_admin: false,
            },
            channels: vec![channel()],
            head: Seq(0),
            user_head: Seq(0),
            unread: vec![ChannelUnread {
                channel: ChannelId(1),
                last_read: Seq(10),
                unread: 1,
                mentions: 0,
            }],
            settings: Default::default(),
            notifications: Vec::new(),
            notifications_seen: Seq(0),
            notifications_unseen: 0,
            workspace_settings: Default::default(),
        };
        let mut view = WorkspaceView::from_snapshot(&snapshot);
        let unread = |seq, mention| ChatEvent::MessageUnread {
            channel: ChannelId(1),
            message: MessageId(seq as i64),
            seq: Seq(seq),
            mention,
            notice: None,
        };
        assert_eq!(
            view.apply(&event(me, 1, unread(12, true))),
            Applied::Applied
        );
        // Committed before a read that already covered it: not counted again.
        assert_eq!(
            view.apply(&event(me, 2, unread(9, false))),
            Applied::Applied
        );
        assert_eq!(
            (
                view.unread_in(ChannelId(1)).unread,
                view.unread_in(ChannelId(1)).mentions
            ),
            (2, 1)
        );
        assert_eq!(view.total_unread(), 2);
        let read = ChatEvent::ChannelRead {
            channel: ChannelId(1),
            seq: Seq(12),
            unread: 0,
            mentions: 0,
        };
        assert_eq!(view.apply(&event(me, 3, read)), Applied::Applied);
        assert_eq!(view.total_unread(), 0);
        assert_eq!(view.unread_in(ChannelId(1)).last_read, Seq(12));
    }

    #[test]
    fn workspace_view_adds_created_channels() {
        let snapshot = WorkspaceSnapshot {
            me: xietong::CurrentUser {
                id: UserId(1),
                username: "a".into(),
                is_admin: true,
            },
            channels: vec![channel()],
            head: Seq(1),
            user_head: Seq(0),
            unread: Vec::new(),
            settings: Default::default(),
            notifications: Vec::new(),
            notifications_seen: Seq(0),
            notifications_unseen: 0,
            workspace_settings: Default::default(),
        };
        let mut view = WorkspaceView::from_snapshot(&snapshot);
        let created = Channel {
            id: ChannelId(3),
            name: "产品".into(),
            kind: ChannelKind::Public,
            created_at: 1,
        };
        let created_event = event(
            Scope::Workspace,
            2,
            ChatEvent::ChannelCreated {
                channel: created.clone(),
            },
        );
        assert_eq!(view.apply(&created_event), Applied::Applied);
        assert_eq!(view.apply(&created_event), Applied::Duplicate);
        // A private channel I was added to, in my own scope, sorts by id.
        let private = Channel {
            id: ChannelId(2),
            name: "secret".into(),
            kind: ChannelKind::Private,
            created_at: 1,
        };
        let me = Scope::User(UserId(1));
        let added = event(
            me,
            1,
            ChatEvent::ChannelAdded {
                channel: private.clone(),
            },
        );
        assert_eq!(view.apply(&added), Applied::Applied);
        assert_eq!(view.channels, vec![channel(), private, created.clone()]);
        let removed = event(
            me,
            2,
            ChatEvent::ChannelRemoved {
                channel: ChannelId(2),
            },
        );
        assert_eq!(view.apply(&removed), Applied::Applied);
        assert_eq!(view.channels, vec![channel(), created]);
        assert_eq!(view.head(me), Seq(2));
    }

    #[test]
    fn typing_names_others_only_and_expires() {
        let mut view = ChannelView::from_page(page(1..=1, 1, false));
        let user = |id, name: &str| UserRef {
            id: UserId(id),
            username: name.into(),
        };
        view.typing = vec![(user(1, "me"), 1000.0), (user(2, "李雷"), 1000.0)];
        assert_eq!(
            view.typing_text(&ENGLISH, 1000.0, Some(UserId(1)))
                .as_deref(),
            Some("李雷 is typing…")
        );
        view.typing.push((user(3, "韩梅梅"), 3000.0));
        assert_eq!(
            view.typing_text(&ENGLISH, 3000.0, Some(UserId(1)))
                .as_deref(),
            Some("李雷 and 韩梅梅 are typing…")
        );
        assert_eq!(
            view.typing_text(&ENGLISH, 1000.0 + TYPING_SHOWN_MS, Some(UserId(1)))
                .as_deref(),
            Some("韩梅梅 is typing…")
        );
        // Posting ends one's typing notice.
        view.typing.push((user(4, "x"), 3000.0));
        view.apply(&posted(2));
        assert!(view.typing.iter().all(|(u, _)| u.id != UserId(1)));
        assert_eq!(
            view.typing_text(&ENGLISH, 9000.0 + TYPING_SHOWN_MS, None),
            None
        );
    }
}
