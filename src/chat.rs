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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub channel: ChannelId,
    /// The sequence number of the event that posted it in its channel's log.
    pub seq: Seq,
    pub author: UserRef,
    /// Plain text as typed; clients render it as text, never as HTML.
    pub body: String,
    /// Unix milliseconds, server clock.
    pub created_at: i64,
    /// The sender's id for this message, so the sending tab can match its pending copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientMsgId>,
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
}

/// Command: post a message to a channel the user may write to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMessage {
    pub channel: ChannelId,
    pub body: String,
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
