//! Files: one store for every module, and the personal file cabinet (个人文件柜) built on it.
//!
//! Bytes travel over plain HTTP, not the socket: an upload is made (`POST /files/uploads`),
//! filled in pieces (`PUT /files/uploads/{id}?offset=N`, so an interrupted one resumes where
//! the server's copy ends) and, once complete, handed to a command (`SaveUpload`) that puts it
//! where it belongs. A stored file is downloaded from `/files/{id}/download`, checked by the
//! access module: a file is readable where the thing it is attached to is.

use serde::{Deserialize, Serialize};

use crate::ids::{Seq, UserId};
use crate::org::AudienceMember;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

int_id!(
    /// One stored version of a file's bytes, with its name and type.
    FileId
);
pub use crate::ids::EntryId;

/// An upload in progress (or complete): what the server holds of it. Its id is a random
/// token, known only to the uploader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub name: String,
    pub size: u64,
    /// Bytes the server has; the next piece starts here.
    pub received: u64,
    /// True once every byte is in and the file is stored.
    pub complete: bool,
}

/// `POST /files/uploads`: starts an upload of `size` bytes named `name`. Refused at once when
/// the file is larger than the limit or would not fit the uploader's quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartUpload {
    pub name: String,
    pub size: u64,
}

/// A stored file: one version of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileInfo {
    pub id: FileId,
    pub name: String,
    pub size: u64,
    /// Detected from the bytes, not the name.
    pub mime: String,
    /// Who uploaded it.
    pub by: UserId,
    pub at: i64,
}

impl FileInfo {
    /// Where it downloads from.
    pub fn url(&self) -> String {
        format!("/files/{}/download", self.id)
    }

    /// An image shown in the page: its small version, and the whole one to open.
    pub fn is_image(&self) -> bool {
        matches!(
            self.mime.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/bmp"
        )
    }

    pub fn thumbnail_url(&self) -> String {
        format!("/files/{}/thumbnail", self.id)
    }

    pub fn inline_url(&self) -> String {
        format!("/files/{}/download?inline=true", self.id)
    }
}

/// A folder or a file in a cabinet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub owner: UserId,
    /// `None`: at the top of the cabinet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<EntryId>,
    pub name: String,
    /// The current version, for a file; `None` for a folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInfo>,
    /// Earlier versions of a file, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub older_versions: Vec<FileInfo>,
    pub updated_at: i64,
    /// In the recycle bin since then (deleted on its own, not with a folder around it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<i64>,
    /// Who it is shared with (the owner sees this; people it is shared with do not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<Share>,
    /// Its share links (the owner's only, like `shares`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<ShareLink>,
}

impl Entry {
    pub fn is_folder(&self) -> bool {
        self.file.is_none()
    }

    /// As someone it is shared with sees it: without its shares and links.
    pub fn for_reader(mut self) -> Entry {
        self.shares.clear();
        self.links.clear();
        self
    }
}

/// What a share allows: reading and downloading, or also uploading, making folders, renaming,
/// moving and deleting inside it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    #[default]
    View,
    Edit,
}

/// One member of a share's audience and what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Share {
    pub member: AudienceMember,
    pub permission: Permission,
}

/// A link that lets anyone who has it (and the password, when set) download a file, until it
/// expires or is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShareLink {
    pub token: String,
    pub has_password: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

impl ShareLink {
    /// Where it opens, on this site.
    pub fn path(&self) -> String {
        format!("/share/{}", self.token)
    }
}

/// Command (the owner): shares an entry with an audience, as view or edit. A member it was
/// shared with before gets the new permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareEntry {
    pub entry: EntryId,
    pub audience: Vec<AudienceMember>,
    #[serde(default)]
    pub permission: Permission,
}

/// Command (the owner): stops sharing an entry with one member of its audience. People who
/// lose access stop following it at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unshare {
    pub entry: EntryId,
    pub member: AudienceMember,
}

/// Command (the owner): a share link to a file, with an optional password and expiry (ms since
/// the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateShareLink {
    pub entry: EntryId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Set by the server (the password's argon2 hash) before the command runs; never read
    /// from a client.
    #[serde(skip)]
    pub password_hash: Option<String>,
}

/// Command (the owner): the link stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteShareLink {
    pub entry: EntryId,
    pub token: String,
}

/// Something shared with the reader: the shared entry itself, whose it is, and what the reader
/// may do with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SharedItem {
    pub entry: Entry,
    pub owner_name: String,
    pub permission: Permission,
}

/// A shared folder or file as someone it is shared with sees it: the entry and everything
/// inside (not what is in the recycle bin), what they may do, and the head of its
/// `Scope::Shared`, to follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSnapshot {
    pub root: EntryId,
    pub owner_name: String,
    pub permission: Permission,
    pub cabinet: CabinetSnapshot,
}

/// Someone's file cabinet: every entry (the recycle bin's too), the bytes it takes up, what
/// others shared with them, and the head of the owner's user scope, where its events go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CabinetSnapshot {
    pub owner: UserId,
    pub entries: Vec<Entry>,
    pub usage: Usage,
    /// "Shared with me": what others shared with the owner (empty in a shared entry's
    /// snapshot), by entry id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<SharedItem>,
    pub head: Seq,
}

/// Bytes a user's files take (every version, the recycle bin's included), and the quota set
/// by the admin (`None`: no quota).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub used: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<u64>,
}

/// Command: a new folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateFolder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<EntryId>,
    pub name: String,
}

/// Command: puts a complete upload into a folder. A file of the same name there gets it as a
/// new version (the old one is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveUpload {
    pub upload: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<EntryId>,
}

/// Command: a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameEntry {
    pub entry: EntryId,
    pub name: String,
}

/// Command: into another folder (`None`: the top). Not into itself or below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveEntry {
    pub entry: EntryId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<EntryId>,
}

/// Command: into the recycle bin (a folder with everything in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteEntry {
    pub entry: EntryId,
}

/// Command: out of the recycle bin, back where it was (at the top if that folder is gone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreEntry {
    pub entry: EntryId,
}

/// Command: deletes what is in the recycle bin for good, freeing its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyRecycleBin {}

/// The cabinet as a browser holds it: a snapshot plus the events since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cabinet {
    pub entries: Vec<Entry>,
    pub usage: Usage,
    pub shared: Vec<SharedItem>,
}

impl Cabinet {
    /// Entries directly in `folder` (not in the recycle bin), folders first, then by name.
    pub fn children(&self, folder: Option<EntryId>) -> Vec<&Entry> {
        let mut out: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.parent == folder && e.deleted_at.is_none())
            .collect();
        out.sort_by(|a, b| (!a.is_folder(), &a.name).cmp(&(!b.is_folder(), &b.name)));
        out
    }

    /// What is in the recycle bin, most recently deleted first.
    pub fn recycle_bin(&self) -> Vec<&Entry> {
        let mut out: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.deleted_at.is_some())
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse(e.deleted_at));
        out
    }

    /// The folders from the top down to `folder`.
    pub fn trail(&self, folder: Option<EntryId>) -> Vec<&Entry> {
        let mut out = Vec::new();
        let mut next = folder;
        while let Some(id) = next {
            let Some(entry) = self.entries.iter().find(|e| e.id == id) else {
                break;
            };
            out.push(entry);
            next = entry.parent;
            if out.len() > self.entries.len() {
                break;
            }
        }
        out.reverse();
        out
    }

    /// Applies one cabinet event (of the owner's scope or a shared entry's); false for events
    /// of other features.
    pub fn apply(&mut self, body: &FilesEvent) -> bool {
        match body {
            FilesEvent::EntrySaved { entry, usage } => {
                match self.entries.iter_mut().find(|e| e.id == entry.id) {
                    Some(known) => *known = entry.clone(),
                    None => self.entries.push(entry.clone()),
                }
                self.usage = *usage;
                true
            }
            FilesEvent::EntriesPurged { entries, usage } => {
                self.entries.retain(|e| !entries.contains(&e.id));
                self.usage = *usage;
                true
            }
            FilesEvent::SharedWithYou { item } => {
                match self.shared.iter_mut().find(|i| i.entry.id == item.entry.id) {
                    Some(known) => *known = item.clone(),
                    None => {
                        self.shared.push(item.clone());
                        self.shared.sort_by_key(|i| i.entry.id);
                    }
                }
                true
            }
            FilesEvent::ShareWithdrawn { entry } => {
                self.shared.retain(|i| i.entry.id != *entry);
                true
            }
            _ => false,
        }
    }
}

/// Characters a file or folder name may not hold: path separators, and what Windows refuses.
const FORBIDDEN_IN_NAMES: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// A file or folder name as stored: trimmed, no control or bidi characters, no path
/// separators, not `.` or `..`, at most 255 bytes.
pub fn file_name(name: &str) -> Result<String, crate::ValidationError> {
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(crate::ValidationError::FileName);
    }
    if name.len() > crate::limits::MAX_FILE_NAME_BYTES
        || name.chars().any(|c| {
            c.is_control()
                || FORBIDDEN_IN_NAMES.contains(&c)
                || crate::validate::is_invisible_format(c)
        })
    {
        return Err(crate::ValidationError::FileName);
    }
    Ok(name.to_owned())
}

/// Percent-encodes everything but unreserved characters (RFC 3986): for a query value, a
/// `data:` URL, or a UTF-8 file name in `Content-Disposition` (RFC 5987).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A size for people: `1.5 MB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_climb_out_or_hide_characters() {
        assert_eq!(file_name(" 中文文件名.docx ").unwrap(), "中文文件名.docx");
        for bad in [
            "",
            " ",
            ".",
            "..",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "a\u{0}b",
            "a\nb",
            "evil\u{202E}fdp.exe",
            "con:x",
        ] {
            assert!(file_name(bad).is_err(), "{bad:?}");
        }
        assert!(file_name(&"文".repeat(100)).is_err(), "300 bytes");
    }

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(200 * 1024 * 1024), "200 MB");
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilesEvent {
    /// In the owner's user scope: a cabinet entry as it now is (made, renamed, moved, a new
    /// version, deleted to or restored from the recycle bin), and the owner's usage after.
    EntrySaved {
        entry: crate::files::Entry,
        usage: crate::files::Usage,
    },
    /// In the owner's user scope: entries deleted for good (the recycle bin emptied).
    EntriesPurged {
        entries: Vec<crate::files::EntryId>,
        usage: crate::files::Usage,
    },
    /// In a user scope: something is shared with the user (or its name or their permission
    /// changed): their "Shared with me" list shows it.
    SharedWithYou { item: crate::files::SharedItem },
    /// In a user scope: it is no longer shared with the user (unshared, deleted, purged).
    ShareWithdrawn { entry: crate::files::EntryId },
    /// In a shared entry's scope: who it is shared with changed; `revoked` lost access with it.
    SharingChanged {
        entry: crate::files::EntryId,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        revoked: Vec<crate::ids::UserId>,
    },
}
