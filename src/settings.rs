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
