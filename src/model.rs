//! The objects every feature shares: who a user is, and the workspace frame's snapshot.

use crate::chat::Channel;
use crate::ids::{Seq, UserId};
use serde::{Deserialize, Serialize};

/// How a user is shown to others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// What the workspace frame needs on first render: who I am and the channels I can see, with
/// the heads of the two logs that keep that list live (the workspace scope for public channels,
/// my user scope for private channels and direct messages I am in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSnapshot {
    pub me: CurrentUser,
    pub channels: Vec<Channel>,
    pub head: Seq,
    #[serde(default)]
    pub user_head: Seq,
    /// Where I stand in each channel I have read or have unread messages in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<crate::chat::ChannelUnread>,
    #[serde(default)]
    pub settings: crate::settings::UserSettings,
    /// My newest notifications, newest first (at most `RECENT_NOTIFICATIONS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<crate::notify::Notification>,
    /// Notifications seen up to this one (a seq of my user scope).
    #[serde(default)]
    pub notifications_seen: crate::ids::Seq,
    /// Notifications after `notifications_seen`.
    #[serde(default)]
    pub notifications_unseen: u32,
    #[serde(default)]
    pub workspace_settings: crate::settings::WorkspaceSettings,
}
