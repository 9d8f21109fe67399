//! The domain objects carried inside events and server-function results.

use crate::ids::{ChannelId, ClientMsgId, MessageId, Seq, UserId};
use serde::{Deserialize, Serialize};

/// How a user is shown to others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// The signed-in user, as the app sees itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub is_admin: bool,
}

impl CurrentUser {
    pub fn user_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub name: String,
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

/// What the workspace frame needs on first render: who I am and the channel list, with the
/// workspace log's head to subscribe from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSnapshot {
    pub me: CurrentUser,
    pub channels: Vec<Channel>,
    pub head: Seq,
}
