//! A user's own preferences, kept on the server so every device and tab of theirs shares them
//! (changed through a command, announced in the user's scope).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    /// Tell the others in a direct conversation when I have read it ("Seen").
    #[serde(default = "yes")]
    pub read_receipts: bool,
}

fn yes() -> bool {
    true
}

impl Default for UserSettings {
    fn default() -> Self {
        UserSettings {
            read_receipts: true,
        }
    }
}

/// Command: replace my settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateSettings {
    pub settings: UserSettings,
}

/// What an admin sets for the whole workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSettings {
    /// How long after posting one may edit one's own message, in minutes (`None`: always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_window_minutes: Option<u32>,
    /// How long after posting one may delete one's own message (admins delete any, always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_window_minutes: Option<u32>,
}

impl WorkspaceSettings {
    /// Whether a message posted at `posted_at` may still be changed at `now` under `window`.
    pub fn within(window: Option<u32>, posted_at: i64, now: i64) -> bool {
        window.is_none_or(|minutes| now - posted_at <= i64::from(minutes) * 60_000)
    }
}

/// Command (admins only): replace the workspace settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateWorkspaceSettings {
    pub settings: WorkspaceSettings,
}

/// A window longer than this many minutes (a year) is refused as a mistake.
pub const MAX_WINDOW_MINUTES: u32 = 525_600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_from_posting() {
        assert!(WorkspaceSettings::within(None, 0, i64::MAX));
        assert!(WorkspaceSettings::within(Some(5), 0, 5 * 60_000));
        assert!(!WorkspaceSettings::within(Some(5), 0, 5 * 60_000 + 1));
        assert!(!WorkspaceSettings::within(Some(0), 0, 1));
    }
}
