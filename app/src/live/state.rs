//! Client-side state as "snapshot + apply(event)": each view starts from a server snapshot and
//! applies the scope's events in sequence order, exactly once. Plain Rust, so it is unit-tested
//! natively.

use xietong::{Channel, Event, EventBody, HistoryPage, Message, Seq, SeqOrder, WorkspaceSnapshot};

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// Already applied (a replay overlap): ignored.
    Duplicate,
    /// Events are missing before this one: not applied; resubscribe from `head`.
    Gap,
}

/// The channel list (the workspace scope).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceView {
    pub channels: Vec<Channel>,
    pub head: Seq,
}

impl WorkspaceView {
    pub fn from_snapshot(snapshot: &WorkspaceSnapshot) -> Self {
        WorkspaceView {
            channels: snapshot.channels.clone(),
            head: snapshot.head,
        }
    }

    pub fn apply(&mut self, event: &Event) -> Applied {
        match self.head.classify(event.seq) {
            SeqOrder::Duplicate => return Applied::Duplicate,
            SeqOrder::Gap => return Applied::Gap,
            SeqOrder::Next => {}
        }
        self.head = event.seq;
        if let EventBody::ChannelCreated { channel } = &event.body {
            if !self.channels.iter().any(|c| c.id == channel.id) {
                self.channels.push(channel.clone());
            }
        }
        Applied::Applied
    }
}

/// One channel's loaded messages.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelView {
    pub channel: Channel,
    /// Oldest first, ordered by `seq`.
    pub messages: Vec<Message>,
    pub head: Seq,
    /// Whether older messages exist than the first loaded one.
    pub has_more: bool,
}

impl ChannelView {
    pub fn from_page(page: HistoryPage) -> Self {
        ChannelView {
            channel: page.channel,
            messages: page.messages,
            head: page.head,
            has_more: page.has_more,
        }
    }

    pub fn apply(&mut self, event: &Event) -> Applied {
        match self.head.classify(event.seq) {
            SeqOrder::Duplicate => return Applied::Duplicate,
            SeqOrder::Gap => return Applied::Gap,
            SeqOrder::Next => {}
        }
        self.head = event.seq;
        if let EventBody::MessagePosted { message } = &event.body {
            self.messages.push(message.clone());
        }
        Applied::Applied
    }

    /// Adds an older page in front of what is loaded.
    pub fn prepend(&mut self, older: HistoryPage) {
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
    }

    pub fn oldest(&self) -> Option<Seq> {
        self.messages.first().map(|m| m.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xietong::{ChannelId, ClientMsgId, MessageId, Scope, UserId, UserRef};

    fn channel() -> Channel {
        Channel {
            id: ChannelId(1),
            name: "general".into(),
            created_at: 0,
        }
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
            created_at: 0,
            client_id: Some(ClientMsgId(format!("client-{seq:04}"))),
        }
    }

    fn posted(seq: u64) -> Event {
        Event {
            scope: Scope::Channel(ChannelId(1)),
            seq: Seq(seq),
            body: EventBody::MessagePosted {
                message: message(seq),
            },
        }
    }

    fn page(range: std::ops::RangeInclusive<u64>, head: u64, has_more: bool) -> HistoryPage {
        HistoryPage {
            channel: channel(),
            messages: range.map(message).collect(),
            head: Seq(head),
            has_more,
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
        view.prepend(page(1..=51, 100, false));
        assert_eq!(view.messages.len(), 100);
        assert_eq!(view.oldest(), Some(Seq(1)));
        assert!(!view.has_more);
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
        };
        let mut view = WorkspaceView::from_snapshot(&snapshot);
        let created = Channel {
            id: ChannelId(2),
            name: "产品".into(),
            created_at: 1,
        };
        let event = Event {
            scope: Scope::Workspace,
            seq: Seq(2),
            body: EventBody::ChannelCreated {
                channel: created.clone(),
            },
        };
        assert_eq!(view.apply(&event), Applied::Applied);
        assert_eq!(view.apply(&event), Applied::Duplicate);
        assert_eq!(view.channels, vec![channel(), created]);
    }
}
