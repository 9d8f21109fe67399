//! Id newtypes, so a channel id can never be passed where a user id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

int_id!(
    /// A user account.
    UserId
);
int_id!(
    /// A channel: public, private, a direct message or a group direct message.
    ChannelId
);
int_id!(
    /// A stored chat message.
    MessageId
);
int_id!(
    /// A department of the organisation.
    DepartmentId
);
int_id!(
    /// A role an admin defined ("HR", "Finance", …).
    RoleId
);
int_id!(
    /// A folder or a file in someone's file cabinet.
    EntryId
);
int_id!(
    /// Someone from outside the organisation in a user's own contacts.
    ContactId
);
int_id!(
    /// A group of a user's own contacts.
    ContactGroupId
);
int_id!(
    /// A field of the address book an admin defined ("Office phone", "Employee no.").
    FieldId
);
int_id!(
    /// A short message (短信) sent to one or more people.
    ShortMessageId
);
int_id!(
    /// A notice (通知公告).
    NoticeId
);
int_id!(
    /// A type of notice an admin defined (notice, announcement, decision).
    NoticeTypeId
);
int_id!(
    /// A column of news stories (新闻栏目).
    NewsColumnId
);
int_id!(
    /// A news story.
    StoryId
);
int_id!(
    /// A comment on a news story.
    StoryCommentId
);
int_id!(
    /// A section of the forum (论坛版块).
    ForumSectionId
);
int_id!(
    /// A forum topic: a discussion, a question or a vote.
    ForumTopicId
);
int_id!(
    /// A reply to a forum topic.
    ForumReplyId
);
int_id!(
    /// An internal mail (内部邮件), the same for its sender and every recipient.
    MailId
);
int_id!(
    /// A mail folder of someone's own.
    MailFolderId
);

/// Position of an event in its scope's log: gapless and increasing, starting at 1.
/// `Seq(0)` means "nothing seen yet".
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    pub const ZERO: Seq = Seq(0);

    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }

    /// Where an incoming event stands relative to the last one applied (`self`). Every consumer
    /// of a scope's stream (server connection, browser store) uses this one rule.
    pub fn classify(self, incoming: Seq) -> SeqOrder {
        if incoming <= self {
            SeqOrder::Duplicate
        } else if incoming == self.next() {
            SeqOrder::Next
        } else {
            SeqOrder::Gap
        }
    }
}

/// See [`Seq::classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqOrder {
    /// Already applied: drop it.
    Duplicate,
    /// Exactly the next one: apply it.
    Next,
    /// Events are missing before it: fetch them first.
    Gap,
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A client-generated id for a command being sent, so that a retry after a lost acknowledgement
/// is recognised and applied once (commands are idempotent by user and client id). Any string of 8..=64 ASCII letters, digits, `-` or `_`
/// (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientMsgId(pub String);

impl ClientMsgId {
    pub fn is_well_formed(&self) -> bool {
        (8..=64).contains(&self.0.len())
            && self
                .0
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

impl fmt::Display for ClientMsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ordered event stream. Every event belongs to exactly one scope and carries that scope's
/// next sequence number. On the wire and in the database a scope is a short string:
/// `workspace`, `channel:<id>`, `user:<id>` or `shared:<id>`. A scope is also the unit of access: who may read
/// it is decided per scope (see the server's access module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Workspace-wide facts everyone sees: channels created, renamed, …
    Workspace,
    /// One channel's messages and their edits.
    Channel(ChannelId),
    /// One user's own stream: private channels and DMs they were added to, their counts,
    /// notifications. Only that user may read it.
    User(UserId),
    /// A shared folder or file of a cabinet, with everything inside it: read by its owner and
    /// the audience it is shared with.
    Shared(EntryId),
    /// A news column's published stories, their likes and comments: read by its audience and
    /// its editors.
    News(NewsColumnId),
    /// A forum section's topics, replies and votes: read by its audience, its moderators and
    /// admins.
    Forum(ForumSectionId),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Workspace => f.write_str("workspace"),
            Scope::Channel(id) => write!(f, "channel:{id}"),
            Scope::User(id) => write!(f, "user:{id}"),
            Scope::Shared(id) => write!(f, "shared:{id}"),
            Scope::News(id) => write!(f, "news:{id}"),
            Scope::Forum(id) => write!(f, "forum:{id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a scope: {0:?} (expected `workspace`, `channel:<id>`, `user:<id>`, `shared:<id>`, `news:<id>` or `forum:<id>`)")]
pub struct ScopeParseError(pub String);

impl FromStr for Scope {
    type Err = ScopeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "workspace" {
            return Ok(Scope::Workspace);
        }
        let id_after = |prefix: &str| {
            s.strip_prefix(prefix)
                .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|id| id.parse::<i64>().ok())
                .filter(|id| *id > 0)
        };
        if let Some(id) = id_after("channel:") {
            return Ok(Scope::Channel(ChannelId(id)));
        }
        if let Some(id) = id_after("user:") {
            return Ok(Scope::User(UserId(id)));
        }
        if let Some(id) = id_after("shared:") {
            return Ok(Scope::Shared(EntryId(id)));
        }
        if let Some(id) = id_after("news:") {
            return Ok(Scope::News(NewsColumnId(id)));
        }
        if let Some(id) = id_after("forum:") {
            return Ok(Scope::Forum(ForumSectionId(id)));
        }
        Err(ScopeParseError(s.to_owned()))
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_round_trips_through_its_string_form() {
        for scope in [
            Scope::Workspace,
            Scope::Channel(ChannelId(42)),
            Scope::User(UserId(7)),
            Scope::Shared(EntryId(9)),
            Scope::News(NewsColumnId(3)),
            Scope::Forum(ForumSectionId(4)),
        ] {
            assert_eq!(scope.to_string().parse::<Scope>().unwrap(), scope);
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        }
        assert_eq!(
            serde_json::to_string(&Scope::Channel(ChannelId(7))).unwrap(),
            "\"channel:7\""
        );
    }

    #[test]
    fn malformed_scopes_are_rejected() {
        for bad in [
            "",
            "channel:",
            "channel:x",
            "channel:-1",
            "channel:0",
            "Workspace",
            "dm:3",
            "user:",
            "user:+3",
            "channel:+3",
        ] {
            assert!(bad.parse::<Scope>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn classify_orders_events() {
        assert_eq!(Seq(3).classify(Seq(2)), SeqOrder::Duplicate);
        assert_eq!(Seq(3).classify(Seq(3)), SeqOrder::Duplicate);
        assert_eq!(Seq(3).classify(Seq(4)), SeqOrder::Next);
        assert_eq!(Seq(3).classify(Seq(6)), SeqOrder::Gap);
        assert_eq!(Seq::ZERO.classify(Seq(1)), SeqOrder::Next);
    }

    #[test]
    fn client_msg_id_shape() {
        assert!(ClientMsgId("3f2b9c1e-0000-4000-8000-123456789abc".into()).is_well_formed());
        assert!(!ClientMsgId("short".into()).is_well_formed());
        assert!(!ClientMsgId("has space in it".into()).is_well_formed());
        assert!(!ClientMsgId("x".repeat(65)).is_well_formed());
    }
}
