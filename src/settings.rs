//! A user's own preferences, kept on the server so every device and tab of theirs shares them
//! (changed through a command, announced in the user's scope).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    /// Tell the others in a direct conversation when I have read it ("Seen").
    #[serde(default = "yes")]
    pub read_receipts: bool,
    /// The language of the interface (`None`: follow the browser's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// Keep my mobile number out of the address book.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_mobile: bool,
}

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    #[default]
    #[serde(rename = "en")]
    English,
    #[serde(rename = "zh-CN")]
    Chinese,
}

impl Language {
    /// The BCP 47 tag (`<html lang>`, the setting's stored value).
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    /// The language a tag names, if the interface speaks it (`zh`, `zh-Hans-CN`, `en-GB` …).
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Language::Chinese),
            "en" => Some(Language::English),
            _ => None,
        }
    }

    /// The first language of a browser's preference list that the interface speaks: an
    /// `Accept-Language` header (`zh-CN,zh;q=0.9,en;q=0.8`) or `navigator.languages` joined
    /// by commas. English when none is.
    pub fn preferred(list: &str) -> Language {
        let mut best: Option<(u16, Language)> = None;
        for item in list.split(',') {
            let mut parts = item.split(';');
            let Some(language) = parts.next().and_then(Language::from_tag) else {
                continue;
            };
            // Earlier wins a tie.
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, |q| thousandths(q.trim()));
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
        best.map_or(Language::English, |(_, language)| language)
    }
}

/// A weight (`q=0.875`, RFC 9110 `qvalue`: 0 to 1 with at most three decimals) in
/// thousandths; 0 for anything else. Read digit by digit: a float parser would put about
/// 20 KB of tables and code into the browser's first screen for this alone.
fn thousandths(q: &str) -> u16 {
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let fraction = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    match whole {
        "0" => fraction,
        "1" if fraction == 0 => 1000,
        _ => 0,
    }
}

fn yes() -> bool {
    true
}

impl Default for UserSettings {
    fn default() -> Self {
        UserSettings {
            read_receipts: true,
            language: None,
            hide_mobile: false,
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
    /// Largest file anyone may upload, in MB (`None`: `DEFAULT_MAX_FILE_MB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_mb: Option<u32>,
    /// Bytes of files each person may keep, in MB (`None`: `DEFAULT_QUOTA_MB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_mb: Option<u32>,
}

impl WorkspaceSettings {
    /// Largest file, in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        u64::from(
            self.max_file_mb
                .unwrap_or(crate::limits::DEFAULT_MAX_FILE_MB),
        ) * 1024
            * 1024
    }

    /// Each person's quota, in bytes.
    pub fn quota_bytes(&self) -> u64 {
        u64::from(self.quota_mb.unwrap_or(crate::limits::DEFAULT_QUOTA_MB)) * 1024 * 1024
    }

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
    fn weights_are_read_in_thousandths() {
        assert_eq!(thousandths("1"), 1000);
        assert_eq!(thousandths("1.0"), 1000);
        assert_eq!(thousandths("1.000"), 1000);
        assert_eq!(thousandths("0"), 0);
        assert_eq!(thousandths("0.8"), 800);
        assert_eq!(thousandths("0.85"), 850);
        assert_eq!(thousandths("0.875"), 875);
        assert_eq!(thousandths("0."), 0);
        for bad in ["1.001", "2", "0.1234", "-0.5", "0.5x", "", ".5", "0.+5"] {
            assert_eq!(thousandths(bad), 0, "{bad}");
        }
    }

    #[test]
    fn the_browser_s_first_spoken_language_wins() {
        assert_eq!(
            Language::preferred("zh-CN,zh;q=0.9,en;q=0.8"),
            Language::Chinese
        );
        assert_eq!(Language::preferred("en-US,en;q=0.9"), Language::English);
        assert_eq!(
            Language::preferred("fr-FR,zh-Hans;q=0.5,en;q=0.4"),
            Language::Chinese
        );
        assert_eq!(
            Language::preferred("en;q=0.5,zh-TW;q=0.8"),
            Language::Chinese
        );
        assert_eq!(Language::preferred("fr, de;q=0.5"), Language::English);
        assert_eq!(Language::preferred(""), Language::English);
        assert_eq!(Language::preferred("zh;q=0, en"), Language::English);
        assert_eq!(
            Language::preferred("en;q=0.001, zh;q=0.002"),
            Language::Chinese
        );
        assert_eq!(
            Language::preferred("en;q=0.5, zh;q=1.000"),
            Language::Chinese
        );
        // Not a weight: weighs nothing.
        assert_eq!(Language::preferred("zh;q=1.5, en;q=0.1"), Language::English);
        assert_eq!(Language::preferred("zh;q=x, en;q=0.1"), Language::English);
        assert_eq!(
            Language::preferred("zh;q=0.0001, en;q=0.1"),
            Language::English
        );
        let json = serde_json::to_string(&Language::Chinese).unwrap();
        assert_eq!(json, r#""zh-CN""#);
    }

    #[test]
    fn windows_count_from_posting() {
        assert!(WorkspaceSettings::within(None, 0, i64::MAX));
        assert!(WorkspaceSettings::within(Some(5), 0, 5 * 60_000));
        assert!(!WorkspaceSettings::within(Some(5), 0, 5 * 60_000 + 1));
        assert!(!WorkspaceSettings::within(Some(0), 0, 1));
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsEvent {
    /// In the workspace scope: an admin changed the workspace settings.
    WorkspaceSettingsChanged {
        settings: crate::settings::WorkspaceSettings,
    },
    /// In a user scope: the user's settings changed (in another tab, say).
    SettingsChanged {
        settings: crate::settings::UserSettings,
    },
}
