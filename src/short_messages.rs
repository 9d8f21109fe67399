//! 短信 (short messages): a short note from one person to people or groups of them. It arrives
//! as a notification and in the recipients' "Short messages" list; marked urgent, it also goes
//! out as an SMS to each recipient who allows SMS.

use serde::{Deserialize, Serialize};

use crate::ids::{Seq, ShortMessageId};
use crate::model::UserRef;
use crate::org::AudienceMember;

/// Command: send a short message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendShortMessage {
    /// People, departments, roles (each resolved to its people when sent).
    pub to: Vec<AudienceMember>,
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
}

/// Command: I have read a short message sent to me.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadShortMessage {
    pub id: ShortMessageId,
}

/// A short message as its recipient has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortMessage {
    pub id: ShortMessageId,
    pub from: UserRef,
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// Unix milliseconds.
    pub at: i64,
    /// When I first read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<i64>,
}

/// A short message as its sender has it: to whom, and how many have read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentShortMessage {
    pub id: ShortMessageId,
    pub to: Vec<AudienceMember>,
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    pub at: i64,
    /// How many people it reached.
    pub recipients: u32,
    /// Who has read it, in the order they did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_by: Vec<UserRef>,
}

/// The newest this many short messages of each list are in the snapshot.
pub const SHORT_MESSAGES_LISTED: usize = 100;

/// My short messages (`/api/short_messages`): received and sent, newest first, with my user
/// scope's head.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortMessages {
    pub head: Seq,
    pub received: Vec<ShortMessage>,
    pub sent: Vec<SentShortMessage>,
}

impl ShortMessages {
    /// Applies one of my user scope's events (others change nothing).
    pub fn apply(&mut self, body: &ShortMessageEvent) {
        match body {
            ShortMessageEvent::ShortMessageReceived { message } => {
                self.received.retain(|m| m.id != message.id);
                self.received.insert(0, message.clone());
                self.received.truncate(SHORT_MESSAGES_LISTED);
            }
            ShortMessageEvent::ShortMessageSent { message } => {
                self.sent.retain(|m| m.id != message.id);
                self.sent.insert(0, message.clone());
                self.sent.truncate(SHORT_MESSAGES_LISTED);
            }
            ShortMessageEvent::ShortMessageRead { id, at } => {
                if let Some(m) = self.received.iter_mut().find(|m| m.id == *id) {
                    m.read_at.get_or_insert(*at);
                }
            }
            ShortMessageEvent::ShortMessageReadBy { id, reader } => {
                if let Some(m) = self.sent.iter_mut().find(|m| m.id == *id) {
                    if !m.read_by.iter().any(|r| r.id == reader.id) {
                        m.read_by.push(reader.clone());
                    }
                }
            }
        }
    }

    /// Received messages not read yet.
    pub fn unread(&self) -> usize {
        self.received.iter().filter(|m| m.read_at.is_none()).count()
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortMessageEvent {
    /// In a recipient's user scope: a short message for them.
    ShortMessageReceived {
        message: crate::short_messages::ShortMessage,
    },
    /// In the sender's user scope: a short message they sent.
    ShortMessageSent {
        message: crate::short_messages::SentShortMessage,
    },
    /// In a recipient's user scope: they read it (first time, `at`).
    ShortMessageRead {
        id: crate::ids::ShortMessageId,
        at: i64,
    },
    /// In the sender's user scope: `reader` read their short message.
    ShortMessageReadBy {
        id: crate::ids::ShortMessageId,
        reader: crate::model::UserRef,
    },
}
