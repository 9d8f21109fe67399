//! 内部邮件 (internal mail): mail between the people of the workspace. Each person holds their
//! own copy of a mail in one of their folders — Inbox, Sent, Drafts, Trash or a folder of their
//! own. To, Cc and Bcc are chosen with the audience picker (a department or role is expanded to
//! its people when the mail is sent); Bcc recipients are seen by the sender alone. The sender
//! sees, per recipient, whether and when it was read, live; "Recall" takes it back from every
//! recipient who has not read it yet. Everything lives in each holder's own user scope.

use serde::{Deserialize, Serialize};

use crate::files::FileInfo;
use crate::ids::{MailFolderId, MailId, Seq};
use crate::limits::{MAX_ATTACHMENTS, MAX_STORY_BODY_CHARS, MAX_STORY_TITLE_CHARS};
use crate::model::UserRef;
use crate::org::AudienceMember;
use crate::ValidationError;

/// Where a mail sits in its holder's mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    Inbox,
    Sent,
    Drafts,
    Trash,
    Own(MailFolderId),
}

impl Folder {
    /// The database form: `inbox`, `sent`, `drafts`, `trash` or `folder:<id>`.
    pub fn key(self) -> String {
        match self {
            Folder::Inbox => "inbox".into(),
            Folder::Sent => "sent".into(),
            Folder::Drafts => "drafts".into(),
            Folder::Trash => "trash".into(),
            Folder::Own(id) => format!("folder:{id}"),
        }
    }

    pub fn parse(key: &str) -> Option<Folder> {
        match key {
            "inbox" => Some(Folder::Inbox),
            "sent" => Some(Folder::Sent),
            "drafts" => Some(Folder::Drafts),
            "trash" => Some(Folder::Trash),
            other => other
                .strip_prefix("folder:")
                .and_then(|id| id.parse().ok())
                .map(|id| Folder::Own(MailFolderId(id))),
        }
    }
}

/// How a recipient got a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    To,
    Cc,
    Bcc,
}

/// What the sender writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MailFields {
    #[serde(default)]
    pub to: Vec<AudienceMember>,
    #[serde(default)]
    pub cc: Vec<AudienceMember>,
    #[serde(default)]
    pub bcc: Vec<AudienceMember>,
    pub subject: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    /// Email addresses outside the organisation it also goes to (when the deployment allows
    /// mail to leave it), by email over SMTP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside: Vec<String>,
}

/// A mail goes to at most this many outside addresses.
pub const MAX_OUTSIDE_ADDRESSES: usize = 20;
/// One person sends at most this many emails to outside addresses a day: the organisation's
/// sending address is not for bulk mail (nor a stolen account's spam).
pub const MAX_OUTSIDE_PER_DAY: i64 = 200;

/// Whether `address` looks like one plain email address (`name@example.com`): one `@`, a
/// dotted domain, no spaces, no display name, no list. The SMTP library checks it again.
pub fn is_email_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\".contains(c))
}

impl MailFields {
    /// What a mail needs before it is saved (a draft may have no recipients yet).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let subject = self.subject.trim().chars().count();
        if subject > MAX_STORY_TITLE_CHARS
            || self.subject.chars().any(char::is_control)
            || self.body.chars().count() > MAX_STORY_BODY_CHARS
        {
            return Err(ValidationError::MailText);
        }
        if self.to.len() + self.cc.len() + self.bcc.len() > crate::limits::MAX_AUDIENCE_MEMBERS {
            return Err(ValidationError::Audience);
        }
        if self.outside.len() > MAX_OUTSIDE_ADDRESSES
            || !self.outside.iter().all(|a| is_email_address(a))
        {
            return Err(ValidationError::OutsideAddress);
        }
        Ok(())
    }

    /// What sending needs besides: a subject and someone to send to.
    pub fn validate_for_sending(&self) -> Result<(), ValidationError> {
        self.validate()?;
        if self.subject.trim().is_empty() {
            return Err(ValidationError::MailText);
        }
        if self.to.is_empty()
            && self.cc.is_empty()
            && self.bcc.is_empty()
            && self.outside.is_empty()
        {
            return Err(ValidationError::Audience);
        }
        Ok(())
    }
}

/// One recipient as the sender sees them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Receipt {
    pub user: UserRef,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<i64>,
    /// Taken back before they read it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recalled: bool,
}

/// A mail as one holder has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mail {
    pub id: MailId,
    pub from: UserRef,
    /// The people it went to (Bcc only for the sender, and for a Bcc recipient themselves).
    #[serde(default)]
    pub to: Vec<UserRef>,
    #[serde(default)]
    pub cc: Vec<UserRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<UserRef>,
    /// Outside email addresses it went to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside: Vec<String>,
    pub subject: String,
    pub body: String,
    /// `body` rendered and sanitised.
    #[serde(default)]
    pub html: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileInfo>,
    /// Unset for a draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    /// The mail this answers or forwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<MailId>,
    /// Mine: where it is, whether I read it, and (a draft) what I chose.
    pub folder: Folder,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<i64>,
    /// A draft's recipients as chosen (audience members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<MailFields>,
    /// The sender's: each recipient and whether they read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receipts: Vec<Receipt>,
    /// Its text (`body`, `html`) is left out: the holder fetches it on opening it
    /// (`POST /api/mail_text`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abridged: bool,
}

impl Mail {
    /// A received mail as told to its recipient and listed in their mailbox: without its text,
    /// so a mail to 2,000 people is not 2,000 copies of it (the sender's copy is whole).
    pub fn abridged(mut self) -> Mail {
        self.body.clear();
        self.html.clear();
        self.abridged = true;
        self
    }

    /// Fills in the text of an abridged mail from the whole one.
    pub fn fill_text(&mut self, whole: &Mail) {
        if self.abridged && self.id == whole.id {
            self.body = whole.body.clone();
            self.html = whole.html.clone();
            self.abridged = false;
        }
    }
}

/// Command: save a draft (`mail: None` for a new one) — or, with `send`, send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveMail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailId>,
    pub fields: MailFields,
    /// Complete uploads to attach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Files of a mail I hold to attach again (a forward).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward_files: Vec<crate::files::FileId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<MailId>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub send: bool,
}

impl SaveMail {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.send {
            self.fields.validate_for_sending()?;
        } else {
            self.fields.validate()?;
        }
        if self.attachments.len() + self.forward_files.len() > MAX_ATTACHMENTS {
            return Err(ValidationError::MailText);
        }
        Ok(())
    }
}

/// Command: I have opened a mail I received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMail {
    pub mail: MailId,
}

/// Command (its sender): take a mail back from everyone who has not read it yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallMail {
    pub mail: MailId,
}

/// Command: move my copy to another folder (Trash to delete it; out of Trash to restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveMail {
    pub mail: MailId,
    pub folder: Folder,
}

/// Command: delete my copy for good (from Trash; a draft from anywhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteMail {
    pub mail: MailId,
}

/// Command: make (`folder: None`), rename or (`name` empty) remove one of my folders; a removed
/// folder's mail goes back to the Inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveMailFolder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<MailFolderId>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MailFolder {
    pub id: MailFolderId,
    pub name: String,
}

/// My mailbox (`/api/mail`): my folders and the mail I hold, newest first, with my user
/// scope's head.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub head: Seq,
    pub folders: Vec<MailFolder>,
    pub mail: Vec<Mail>,
    /// Mail may go to outside addresses too (the deployment sends it over SMTP).
    #[serde(default)]
    pub outside_mail: bool,
}

/// Mail a mailbox snapshot holds at most.
pub const MAILBOX_LIMIT: usize = 500;

impl Mailbox {
    pub fn apply(&mut self, body: &MailEvent) {
        match body {
            MailEvent::MailSaved { mail } => {
                self.mail.retain(|m| m.id != mail.id);
                self.mail.push(mail.clone());
                self.sort();
            }
            MailEvent::MailRemoved { mail } => self.mail.retain(|m| m.id != *mail),
            MailEvent::MailMoved { mail, folder } => {
                if let Some(m) = self.mail.iter_mut().find(|m| m.id == *mail) {
                    m.folder = *folder;
                }
            }
            MailEvent::MailRead { mail, at } => {
                if let Some(m) = self.mail.iter_mut().find(|m| m.id == *mail) {
                    m.read_at.get_or_insert(*at);
                }
            }
            MailEvent::MailReceipt { mail, receipt } => {
                if let Some(m) = self.mail.iter_mut().find(|m| m.id == *mail) {
                    match m.receipts.iter_mut().find(|r| r.user.id == receipt.user.id) {
                        Some(r) => *r = receipt.clone(),
                        None => m.receipts.push(receipt.clone()),
                    }
                }
            }
            MailEvent::MailFolderSaved { folder } => {
                self.folders.retain(|f| f.id != folder.id);
                self.folders.push(folder.clone());
                self.folders.sort_by_key(|f| f.id);
            }
            MailEvent::MailFolderRemoved { folder } => {
                self.folders.retain(|f| f.id != *folder);
                for m in &mut self.mail {
                    if m.folder == Folder::Own(*folder) {
                        // Mail I sent (it has receipts) goes back to Sent, the rest to the Inbox.
                        m.folder = if m.receipts.is_empty() {
                            Folder::Inbox
                        } else {
                            Folder::Sent
                        };
                    }
                }
            }
        }
    }

    /// Newest first by when sent; drafts (not sent) after them, newest first.
    pub fn sort(&mut self) {
        self.mail
            .sort_by(|a, b| (b.sent_at, b.id).cmp(&(a.sent_at, a.id)));
    }
}

/// "Re: …" and "Fwd: …" subjects, without piling them up.
pub fn reply_subject(subject: &str, prefix: &str) -> String {
    let trimmed = subject.trim();
    if trimmed.to_lowercase().starts_with(&prefix.to_lowercase()) {
        trimmed.to_owned()
    } else {
        format!("{prefix} {trimmed}")
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailEvent {
    /// In a holder's user scope: a mail as they have it (new, sent, or a draft saved).
    MailSaved {
        mail: crate::mail::Mail,
    },
    /// In a holder's user scope: the mail is no longer theirs (recalled, or deleted for good).
    MailRemoved {
        mail: crate::ids::MailId,
    },
    /// In a holder's user scope: their copy moved to another folder.
    MailMoved {
        mail: crate::ids::MailId,
        folder: crate::mail::Folder,
    },
    /// In a recipient's user scope: they opened it (first time, `at`).
    MailRead {
        mail: crate::ids::MailId,
        at: i64,
    },
    /// In the sender's user scope: a recipient read it, or it was recalled from them.
    MailReceipt {
        mail: crate::ids::MailId,
        receipt: crate::mail::Receipt,
    },
    /// In the owner's user scope: one of their mail folders as it now is.
    MailFolderSaved {
        folder: crate::mail::MailFolder,
    },
    MailFolderRemoved {
        folder: crate::ids::MailFolderId,
    },
}
