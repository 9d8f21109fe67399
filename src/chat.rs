//! Chat: channels of every kind, their members and messages. The commands a browser sends, the
//! objects they produce, and what the chat events carry.

use crate::ids::{ChannelId, ClientMsgId, MessageId, Seq, UserId};
use crate::model::UserRef;
use serde::{Deserialize, Serialize};

/// Who can see a channel. Public channels are announced in the workspace scope and readable by
/// everyone; the others only by their members, and announced in their members' user scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    #[default]
    Public,
    Private,
    /// A conversation between two people (or one person with themself).
    Direct,
    /// A conversation between three or more people, without a name of its own.
    GroupDirect,
}

impl ChannelKind {
    /// Whether only members may read and write it.
    pub fn members_only(self) -> bool {
        !matches!(self, ChannelKind::Public)
    }

    /// A direct conversation (two people, or a group without a name of its own).
    pub fn is_direct(self) -> bool {
        matches!(self, ChannelKind::Direct | ChannelKind::GroupDirect)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Public => "public",
            ChannelKind::Private => "private",
            ChannelKind::Direct => "direct",
            ChannelKind::GroupDirect => "group_direct",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        Some(match s {
            "public" => ChannelKind::Public,
            "private" => ChannelKind::Private,
            "direct" => ChannelKind::Direct,
            "group_direct" => ChannelKind::GroupDirect,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub name: String,
    /// Events stored before channel kinds existed have none: they were public.
    #[serde(default)]
    pub kind: ChannelKind,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Channel {
    /// How `me` sees the channel named: a direct conversation by the other people in it (its
    /// stored name lists everyone), anything else by its name.
    pub fn display_name(&self, me: &str) -> String {
        if !self.kind.is_direct() {
            return self.name.clone();
        }
        let others: Vec<&str> = self.name.split(", ").filter(|n| *n != me).collect();
        if others.is_empty() {
            me.to_owned()
        } else {
            others.join(", ")
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub channel: ChannelId,
    /// The sequence number of the event that posted it in its channel's log.
    pub seq: Seq,
    pub author: UserRef,
    /// The text as typed (Markdown).
    pub body: String,
    /// `body` rendered from Markdown and sanitised by the server: the only HTML a client shows
    /// (empty in events stored before rendering existed: show `body` as text then).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub html: String,
    /// Unix milliseconds, server clock.
    pub created_at: i64,
    /// The sender's id for this message, so the sending tab can match its pending copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientMsgId>,
    /// The thread's first message when this is a reply in a thread. Replies are not part of
    /// the channel's main list; their root counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<MessageId>,
    /// Replies in this message's thread.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reply_count: u32,
    /// When the body was last edited (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Deleted: the body is gone, the place in the conversation stays.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub pinned: bool,
    /// In the order each emoji was first used on this message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// The people the message mentions by name (`@name`), resolved when it was posted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// It mentions everyone in the channel (`@channel`, `@all` or `@here`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub mentions_all: bool,
    /// Files attached when it was posted, readable by whoever reads the channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::files::FileInfo>,
    /// Something shared into the conversation, shown as a card under the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
}

/// What a message may show as a card: `{"kind": "story", …the story card's fields}`.
///
/// Decoded by hand, kind first: serde's derived decoder for an internally tagged enum buffers
/// the whole object before it knows the kind (about 20 KB of the browser's first screen, for
/// this one type). Every card is written by serde with its kind first (stored as text, and in
/// PostgreSQL's `jsonb` order too, where shorter keys come first), so a card whose first key is
/// not `kind` is refused, with a message that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Card {
    Story(crate::news::StoryCard),
}

/// The kinds of [`Card`], as its `kind` names them.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum CardKind {
    Story,
}

impl<'de> Deserialize<'de> for Card {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CardVisitor;
        impl<'de> serde::de::Visitor<'de> for CardVisitor {
            type Value = Card;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a card: an object whose first key is \"kind\"")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Card, A::Error> {
                use serde::de::Error;
                if map.next_key::<std::borrow::Cow<'de, str>>()?.as_deref() != Some("kind") {
                    return Err(A::Error::custom("a card's first key must be \"kind\""));
                }
                let kind: CardKind = map.next_value()?;
                // The rest of the object is the kind's own fields.
                let rest = serde::de::value::MapAccessDeserializer::new(map);
                match kind {
                    CardKind::Story => crate::news::StoryCard::deserialize(rest).map(Card::Story),
                }
            }
        }
        deserializer.deserialize_map(CardVisitor)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One emoji on a message and who reacted with it (in the order they did).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<UserId>,
}

impl Message {
    /// A reply in a thread (not shown in the channel's main list).
    pub fn is_reply(&self) -> bool {
        self.thread.is_some()
    }

    /// Applies a reaction change (the same rule for the server's rows and every browser's view).
    pub fn set_reaction(&mut self, emoji: &str, user: UserId, on: bool) {
        let at = self.reactions.iter().position(|r| r.emoji == emoji);
        match (at, on) {
            (Some(i), true) => {
                if !self.reactions[i].users.contains(&user) {
                    self.reactions[i].users.push(user);
                }
            }
            (None, true) => self.reactions.push(Reaction {
                emoji: emoji.to_owned(),
                users: vec![user],
            }),
            (Some(i), false) => {
                self.reactions[i].users.retain(|u| *u != user);
                if self.reactions[i].users.is_empty() {
                    self.reactions.remove(i);
                }
            }
            (None, false) => {}
        }
    }

    /// Whether the message mentions `user` (by name, or everyone).
    pub fn mentions_user(&self, user: UserId) -> bool {
        self.author.id != user && (self.mentions_all || self.mentions.contains(&user))
    }

    /// What deleting leaves: the message's place, without its content.
    pub fn mark_deleted(&mut self) {
        self.deleted = true;
        self.body.clear();
        self.html.clear();
        self.reactions.clear();
        self.pinned = false;
        self.mentions.clear();
        self.mentions_all = false;
        self.attachments.clear();
        self.card = None;
    }
}

/// One page of a channel's history, oldest first, plus where the log stood when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub channel: Channel,
    pub messages: Vec<Message>,
    /// The channel log's head when the page was read: subscribe with `after: head` to get
    /// exactly what follows.
    pub head: Seq,
    /// Whether older messages exist before the first one in `messages`.
    pub has_more: bool,
    /// In a direct conversation: how far each member who sends read receipts has read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<SeenBy>,
}

/// How far a member has read a direct conversation (a read receipt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenBy {
    pub user: UserId,
    pub seq: Seq,
}

/// Command: post a message to a channel the user may write to (`thread`: as a reply in the
/// thread of that top-level message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMessage {
    pub channel: ChannelId,
    /// May be empty when the message carries attachments.
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<MessageId>,
    /// Complete uploads of the poster's (their ids) to attach, at most `MAX_ATTACHMENTS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
}

/// Command: replace the body of one's own message (within the workspace's edit window).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditMessage {
    pub message: MessageId,
    pub body: String,
}

/// Command: delete one's own message (within the delete window), or any message as an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteMessage {
    pub message: MessageId,
}

/// Command: add (`on: true`) or take back one's reaction. Explicit rather than a toggle, so a
/// retried command means the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct React {
    pub message: MessageId,
    pub emoji: String,
    pub on: bool,
}

/// Command: pin a message to its channel, or unpin it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinMessage {
    pub message: MessageId,
    pub pinned: bool,
}

/// The reactions the picker offers (any single emoji is accepted).
pub const QUICK_REACTIONS: [&str; 8] = ["👍", "❤️", "😄", "🎉", "😮", "😢", "👀", "✅"];

/// A thread: its first message and one page of replies (the newest, or those before a
/// given reply), oldest first, with the channel log's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPage {
    pub channel: Channel,
    pub root: Message,
    pub replies: Vec<Message>,
    pub head: Seq,
    /// Older replies exist before the first one here.
    #[serde(default, skip_serializing_if = "is_false")]
    pub has_more: bool,
}

/// Command: create a channel. `members` (besides the creator) matter for the members-only kinds;
/// a public channel is open to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateChannel {
    pub name: String,
    #[serde(default)]
    pub kind: ChannelKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<UserId>,
}

/// Command: add people to a members-only channel (members may add).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMembers {
    pub channel: ChannelId,
    pub users: Vec<UserId>,
}

/// Command: remove someone from a members-only channel (its creator, an admin, or the member
/// themself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveMember {
    pub channel: ChannelId,
    pub user: UserId,
}

/// Command: I have read a channel up to `seq` (its log's head as my tab shows it). Clears its
/// unread count in every tab of mine; opening a public channel also makes me a member, so its
/// new messages count as unread for me from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    pub channel: ChannelId,
    pub seq: Seq,
}

/// Where I stand in one channel: read up to `last_read`; `unread` messages after it for me
/// (`mentions` of them mention me).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelUnread {
    pub channel: ChannelId,
    pub last_read: Seq,
    pub unread: u32,
    pub mentions: u32,
}

/// Why a message is worth telling its reader about (beyond counting it unread).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// It mentions them.
    Mention,
    /// A message in a direct conversation of theirs.
    Direct,
    /// A reply in a thread they follow.
    Reply,
}

/// What the "Notifications" list shows of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub author: UserRef,
    /// The start of the message's text.
    pub excerpt: String,
    /// The thread's first message, for a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<MessageId>,
}

/// The newest this many notifications are listed.
pub const RECENT_NOTIFICATIONS: usize = 30;
/// A notice's excerpt holds at most this many characters of the message.
pub const NOTICE_EXCERPT_CHARS: usize = 140;

/// Command: I have seen my notifications up to `up_to` (the newest one listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeeNotifications {
    pub up_to: Seq,
}

/// The words after `@` that mention everyone in the channel.
pub const MENTION_EVERYONE: [&str; 3] = ["channel", "all", "here"];

/// What follows each `@` that could be a mention: the run of username characters after an `@`
/// that does not continue a word (so `a@b.com` is
/// no mention; `你好@张伟` is one). A run may be longer than the name (`@张伟你好`: names are matched as prefixes,
/// see [`mention_prefixes`]); a trailing `.` or `-` ends a sentence, not a name.
pub fn mention_runs(text: &str) -> Vec<(usize, &str)> {
    let mut runs = Vec::new();
    let mut prev: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && prev.is_none_or(|p| !continues_word(p));
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let len = rest
            .char_indices()
            .find(|(_, c)| !is_username_char(*c))
            .map_or(rest.len(), |(i, _)| i);
        let run = rest[..len].trim_end_matches(['.', '-']);
        if !run.is_empty() {
            runs.push((at, run));
        }
    }
    runs
}

/// The mention being typed at the end of `before_caret` (the composer's text up to the caret):
/// the byte offset of its `@` and what follows it so far. `None` when the caret is not in one.
pub fn mention_at_caret(before_caret: &str) -> Option<(usize, &str)> {
    let at = before_caret.rfind('@')?;
    let typed = &before_caret[at + 1..];
    let starts = before_caret[..at]
        .chars()
        .next_back()
        .is_none_or(|p| !continues_word(p));
    (starts
        && typed.chars().all(is_username_char)
        && typed.chars().count() <= crate::limits::MAX_USERNAME_CHARS)
        .then_some((at, typed))
}

/// The names a mention run could mean, longest first: the whole run, or a shorter name where
/// the run goes on in a script written without spaces (`@张伟你好` may mean `张伟`; `@bob的` may
/// mean `bob`), never where it goes on in a word (`@johnny` does not mean `jo`).
pub fn mention_prefixes(run: &str) -> impl Iterator<Item = &str> {
    use crate::limits::{MAX_USERNAME_CHARS, MIN_USERNAME_CHARS};
    let mut ends: Vec<usize> = run
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .enumerate()
        .filter(|(n, _)| (MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&(n + 1)))
        .map(|(_, end)| end)
        .filter(|end| {
            run[*end..]
                .chars()
                .next()
                .is_none_or(|next| !continues_word(next))
        })
        .collect();
    ends.reverse();
    ends.into_iter().map(move |end| &run[..end])
}

/// A character before `@` that makes it part of a word (`a@b.com`), not a mention. Chinese
/// text has no spaces, so `你好@张伟` is a mention.
fn continues_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '=' | '?' | '&')
}

/// A character a username may hold (the rule of `validate::username`).
pub fn is_username_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | '_')
}

#[cfg(test)]
mod mention_tests {
    use super::*;

    #[test]
    fn finds_mentions_but_not_addresses() {
        let runs: Vec<&str> = mention_runs("@bob hi, mail a@b.com or @张伟你好. (@here)")
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(runs, ["bob", "张伟你好", "here"]);
        assert_eq!(mention_runs("@ alone and @.").len(), 0);
        assert_eq!(mention_runs("end @carol.")[0].1, "carol");
        assert_eq!(mention_runs("https://medium.com/@alice/x").len(), 0);
    }

    #[test]
    fn mention_being_typed() {
        assert_eq!(mention_at_caret("hi @bo"), Some((3, "bo")));
        assert_eq!(mention_at_caret("@"), Some((0, "")));
        assert_eq!(mention_at_caret("你好@张"), Some((6, "张")));
        assert_eq!(mention_at_caret("你好 @张"), Some((7, "张")));
        assert_eq!(mention_at_caret("mail a@b"), None);
        assert_eq!(mention_at_caret("@bob done"), None);
    }

    #[test]
    fn prefixes_are_longest_first() {
        let p: Vec<&str> = mention_prefixes("张伟你").collect();
        assert_eq!(p, ["张伟你", "张伟"]);
        let p: Vec<&str> = mention_prefixes("bob的").collect();
        assert_eq!(p, ["bob的", "bob"]);
        let p: Vec<&str> = mention_prefixes("johnny").collect();
        assert_eq!(p, ["johnny"]);
    }

    #[test]
    fn own_message_does_not_mention_me() {
        let mut m = Message {
            mentions_all: true,
            ..Default::default()
        };
        m.author.id = UserId(1);
        assert!(!m.mentions_user(UserId(1)));
        assert!(m.mentions_user(UserId(2)));
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatEvent {
    /// In a channel scope.
    MessagePosted { message: crate::chat::Message },
    /// In the workspace scope: a public channel was created.
    ChannelCreated { channel: crate::chat::Channel },
    /// In a user scope: the user can now see this members-only channel (created with them in
    /// it, or they were added).
    ChannelAdded { channel: crate::chat::Channel },
    /// In a user scope: the user was removed from this channel.
    ChannelRemoved { channel: crate::ids::ChannelId },
    /// In a channel scope: what a message's card shows now (the story it shares was withdrawn).
    MessageCardChanged {
        message: crate::ids::MessageId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card: Option<crate::chat::Card>,
    },
    /// In a channel scope: a message's new body.
    MessageEdited {
        message: crate::ids::MessageId,
        body: String,
        /// `body` rendered and sanitised, as in [`Message::html`].
        #[serde(default, skip_serializing_if = "String::is_empty")]
        html: String,
        edited_at: i64,
        /// The new body's mentions (see [`Message::mentions`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<crate::ids::UserId>,
        #[serde(default, skip_serializing_if = "crate::wire::is_false")]
        mentions_all: bool,
    },
    /// In a channel scope: a message was deleted.
    MessageDeleted { message: crate::ids::MessageId },
    /// In a channel scope: `user` added (`on`) or took back a reaction.
    ReactionChanged {
        message: crate::ids::MessageId,
        emoji: String,
        user: crate::ids::UserId,
        on: bool,
    },
    /// In a channel scope: pinned or unpinned.
    MessagePinned {
        message: crate::ids::MessageId,
        pinned: bool,
    },
    /// In a user scope: a message the user has not read yet (in a channel they are a member
    /// of, a thread they follow, or one that mentions them). `seq` is the message's place in
    /// its channel's log.
    MessageUnread {
        channel: crate::ids::ChannelId,
        message: crate::ids::MessageId,
        seq: crate::ids::Seq,
        #[serde(default, skip_serializing_if = "crate::wire::is_false")]
        mention: bool,
        /// Set when it goes in the user's "Notifications" list (a mention, a direct message,
        /// a reply in a followed thread).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice: Option<crate::chat::Notice>,
    },
    /// In a user scope: notifications are seen up to `up_to`; `unseen` are left after it.
    NotificationsSeen { up_to: crate::ids::Seq, unseen: u32 },
    /// In a user scope: the user read the channel up to `seq`; what is still unread after it
    /// (absolute counts, so every tab shows the same).
    ChannelRead {
        channel: crate::ids::ChannelId,
        seq: crate::ids::Seq,
        unread: u32,
        mentions: u32,
    },
    /// In a direct conversation's scope: `user` has read it up to `seq` (this event's own
    /// number). Only from members who send read receipts.
    MessagesSeen {
        user: crate::ids::UserId,
        seq: crate::ids::Seq,
    },
    /// In a channel scope: who joined and who left.
    MembersChanged {
        channel: crate::ids::ChannelId,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        added: Vec<crate::model::UserRef>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<crate::model::UserRef>,
    },
}

#[cfg(test)]
mod card_tests {
    use super::*;
    use crate::ids::StoryId;
    use crate::news::StoryCard;

    fn story_card() -> Card {
        Card::Story(StoryCard {
            story: StoryId(7),
            title: "季度总结".into(),
            summary: "摘要".into(),
            column: "公司新闻".into(),
            cover: Some(crate::files::FileInfo {
                id: crate::files::FileId(3),
                name: "cover.png".into(),
                size: 10,
                mime: "image/png".into(),
                by: UserId(1),
                at: 5,
            }),
            withdrawn: false,
        })
    }

    #[test]
    fn a_card_reads_back_as_written_alone_and_in_a_message() {
        let card = story_card();
        let json = serde_json::to_string(&card).unwrap();
        assert!(json.starts_with(r#"{"kind":"story","#), "{json}");
        assert_eq!(serde_json::from_str::<Card>(&json).unwrap(), card);
        let message = Message {
            card: Some(card),
            ..Default::default()
        };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), message);
        // Written before (fields left out take their defaults), in PostgreSQL `jsonb` order.
        let old = r#"{"kind":"story","story":7,"title":"t","column":"c"}"#;
        let Card::Story(read) = serde_json::from_str::<Card>(old).unwrap();
        assert_eq!(
            (read.story, read.summary.as_str(), read.cover),
            (StoryId(7), "", None)
        );
    }

    #[test]
    fn a_card_without_its_kind_first_or_of_an_unknown_kind_is_refused_clearly() {
        let late = r#"{"story":7,"kind":"story","title":"t","column":"c"}"#;
        let e = serde_json::from_str::<Card>(late).unwrap_err().to_string();
        assert!(e.contains(r#"first key must be "kind""#), "{e}");
        let unknown = r#"{"kind":"poll","story":7,"title":"t","column":"c"}"#;
        let e = serde_json::from_str::<Card>(unknown)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `poll`"), "{e}");
        let e = serde_json::from_str::<Card>("[1]").unwrap_err().to_string();
        assert!(e.contains("first key is"), "{e}");
    }
}
