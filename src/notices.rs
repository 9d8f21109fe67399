//! 通知公告 (notices): a title and a Markdown body for an audience, of a type an admin defines
//! (notice, announcement, decision — a type may need review by a role before it is published),
//! valid from / until, pinned until; optionally to be acknowledged ("我已阅知"). The publisher
//! sees live who has read it and who has not, and can remind the others. A published notice is
//! never edited silently: a revision says what changed and asks for acknowledgement again.

use serde::{Deserialize, Serialize};

use crate::ids::{NoticeId, NoticeTypeId, RoleId, Seq};
use crate::limits::{MAX_NOTICE_BODY_CHARS, MAX_NOTICE_TITLE_CHARS};
use crate::model::UserRef;
use crate::org::AudienceMember;
use crate::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeType {
    pub id: NoticeTypeId,
    pub name: String,
    /// Publishing one needs approval by someone with this role (`None`: published at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_role: Option<RoleId>,
}

/// Command (admins): define a type of notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineNoticeType {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_role: Option<RoleId>,
}

/// Command (admins): remove a type no notice uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveNoticeType {
    pub kind: NoticeTypeId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Draft,
    /// Waiting for a reviewer of its type's role.
    PendingReview,
    /// Approved, to be released to its audience at `valid_from`.
    Scheduled,
    Published,
    Withdrawn,
}

impl NoticeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Draft => "draft",
            NoticeStatus::PendingReview => "pending_review",
            NoticeStatus::Scheduled => "scheduled",
            NoticeStatus::Published => "published",
            NoticeStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeStatus> {
        [
            NoticeStatus::Draft,
            NoticeStatus::PendingReview,
            NoticeStatus::Scheduled,
            NoticeStatus::Published,
            NoticeStatus::Withdrawn,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What the author writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeFields {
    pub kind: NoticeTypeId,
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    pub audience: Vec<AudienceMember>,
    /// Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_until: Option<i64>,
    /// Readers are asked to acknowledge it ("Acknowledge", 我已阅知).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_ack: bool,
    /// Urgent: its notification goes by SMS too (to those who allow it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// Those who have not read it this many minutes after it is published get an email (an
    /// urgent one: an SMS too). `None`: email and SMS go out at once, as each reader set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_after_minutes: Option<u32>,
}

impl NoticeFields {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let title = self.title.trim().chars().count();
        if title == 0
            || title > MAX_NOTICE_TITLE_CHARS
            || self.body.chars().count() > MAX_NOTICE_BODY_CHARS
            || self.title.chars().any(char::is_control)
        {
            return Err(ValidationError::NoticeText);
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until) {
            if until <= from {
                return Err(ValidationError::NoticeDates);
            }
        }
        if let (Some(pin), Some(until)) = (self.pinned_until, self.valid_until) {
            if pin > until {
                return Err(ValidationError::NoticeDates);
            }
        }
        if self
            .escalate_after_minutes
            .is_some_and(|m| m == 0 || m > 7 * 24 * 60)
        {
            return Err(ValidationError::NoticeDates);
        }
        // Dates between 2000 and 2200.
        let sane =
            |t: Option<i64>| t.is_none_or(|t| (946_684_800_000..7_258_118_400_000).contains(&t));
        if !(sane(self.valid_from) && sane(self.valid_until) && sane(self.pinned_until)) {
            return Err(ValidationError::NoticeDates);
        }
        Ok(())
    }
}

/// One line of what a revision changed in the body (or the title).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedLine {
    /// `+` added, `-` removed, ` ` kept.
    pub op: char,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: NoticeId,
    pub fields: NoticeFields,
    /// `fields.body` rendered and sanitised.
    #[serde(default)]
    pub html: String,
    pub author: UserRef,
    pub status: NoticeStatus,
    /// 0 until published; each revision of a published notice adds one.
    #[serde(default)]
    pub revision: u32,
    /// The publisher's note on the latest revision, and what it changed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revision_note: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ChangedLine>,
    /// The reviewer's words when a review sent it back.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub review_note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    pub updated_at: i64,
    /// Mine, as a reader: when I first read it, and when I acknowledged this revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<i64>,
    /// Files readable by whoever reads the notice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::files::FileInfo>,
    /// Its text (`fields.body`, `html`, `changes`) is left out: a reader fetches it on opening
    /// it (`POST /api/notice_text`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abridged: bool,
}

impl Notice {
    /// The notice as told to readers and reviewers in their scopes and boards: without its
    /// text, so a notice to 10,000 people is not 10,000 copies of it (only its author's copy
    /// is whole).
    pub fn abridged(mut self) -> Notice {
        self.fields.body.clear();
        self.html.clear();
        self.changes.clear();
        self.abridged = true;
        self
    }

    /// Fills in the text of an abridged notice from the whole one.
    pub fn fill_text(&mut self, whole: &Notice) {
        if self.abridged
            && self.id == whole.id
            && self.updated_at == whole.updated_at
            && self.revision == whole.revision
            && self.status == whole.status
        {
            self.fields.body = whole.fields.body.clone();
            self.html = whole.html.clone();
            self.changes = whole.changes.clone();
            self.abridged = false;
        }
    }

    pub fn pinned(&self, now: i64) -> bool {
        self.status == NoticeStatus::Published && self.fields.pinned_until.is_some_and(|p| p > now)
    }

    pub fn expired(&self, now: i64) -> bool {
        self.fields.valid_until.is_some_and(|u| u <= now)
    }
}

/// Command: save a notice — a new draft (`notice: None`), a changed draft, or a revision of a
/// published one (then `revision_note` says what changed, and readers acknowledge again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveNotice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<NoticeId>,
    pub fields: NoticeFields,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revision_note: String,
    /// Finished uploads to attach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Attached files to take off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_attachments: Vec<crate::files::FileId>,
}

/// Command (its author): publish a draft — at once, at its `valid_from`, or after review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishNotice {
    pub notice: NoticeId,
}

/// Command (someone with the type's review role): approve or send back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewNotice {
    pub notice: NoticeId,
    /// The `updated_at` of the notice as the reviewer saw it: a notice changed since is not
    /// approved unseen (`conflict`).
    pub seen_at: i64,
    pub approve: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Command (its author or an admin): withdraw a published notice; it leaves every reader's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawNotice {
    pub notice: NoticeId,
}

/// Command (a reader): I have opened it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadNotice {
    pub notice: NoticeId,
}

/// Command (a reader): I acknowledge it (我已阅知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeNotice {
    pub notice: NoticeId,
}

/// A notice's readers are reminded at most once in this long: a reminder is a notification,
/// an email or an SMS to each of them.
pub const REMIND_EVERY_MS: i64 = 10 * 60 * 1000;

/// Command (its author): remind everyone who has not read it (or, if it needs
/// acknowledgement, not acknowledged it) — at most once every `REMIND_EVERY_MS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemindNotice {
    pub notice: NoticeId,
}

/// Command (the server): release a scheduled notice whose `valid_from` has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseNotice {
    pub notice: NoticeId,
}

/// My notices (`/api/notices`): those published to me, mine, and those waiting for my review;
/// with the notice types and my user scope's head.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeBoard {
    pub head: Seq,
    /// The workspace scope's head (notice types live there).
    pub workspace_head: Seq,
    pub types: Vec<NoticeType>,
    pub notices: Vec<Notice>,
}

impl NoticeBoard {
    /// Applies one of my user scope's events (others change nothing).
    pub fn apply(&mut self, body: &NoticeEvent) {
        match body {
            NoticeEvent::NoticeSaved { notice } => {
                let mut notice = notice.clone();
                if let Some(old) = self.notices.iter().find(|n| n.id == notice.id) {
                    // My own marks stay; a new revision asks for acknowledgement again.
                    notice.read_at = old.read_at;
                    notice.acknowledged_at = if old.revision == notice.revision {
                        old.acknowledged_at
                    } else {
                        None
                    };
                }
                self.notices.retain(|n| n.id != notice.id);
                self.notices.push(notice);
                self.sort();
            }
            NoticeEvent::NoticeRemoved { notice } => self.notices.retain(|n| n.id != *notice),
            NoticeEvent::NoticeRead { notice, at } => {
                if let Some(n) = self.notices.iter_mut().find(|n| n.id == *notice) {
                    n.read_at.get_or_insert(*at);
                }
            }
            NoticeEvent::NoticeAcknowledged { notice, at, .. } => {
                if let Some(n) = self.notices.iter_mut().find(|n| n.id == *notice) {
                    n.read_at.get_or_insert(*at);
                    n.acknowledged_at.get_or_insert(*at);
                }
            }
            NoticeEvent::NoticeTypeSaved { kind } => {
                self.types.retain(|t| t.id != kind.id);
                self.types.push(kind.clone());
                self.types.sort_by_key(|t| t.id);
            }
            NoticeEvent::NoticeTypeRemoved { kind } => self.types.retain(|t| t.id != *kind),
            _ => {}
        }
    }

    /// Newest first by when published (drafts by when saved).
    pub fn sort(&mut self) {
        self.notices.sort_by(|a, b| {
            let key = |n: &Notice| (n.published_at.unwrap_or(n.updated_at), n.id);
            key(b).cmp(&key(a))
        });
    }
}

/// Who has read a notice, for its author (`/api/notice_readers`): live through the author's
/// user scope (`notice_read_by`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeReaders {
    pub notice: NoticeId,
    pub head: Seq,
    pub revision: u32,
    pub requires_ack: bool,
    /// With when each first read it, in that order.
    pub read: Vec<(UserRef, i64)>,
    /// By username.
    pub not_read: Vec<UserRef>,
    /// Acknowledged this revision, in that order.
    pub acknowledged: Vec<(UserRef, i64)>,
}

impl NoticeReaders {
    pub fn apply(&mut self, body: &NoticeEvent) {
        match body {
            NoticeEvent::NoticeReadBy {
                notice,
                reader,
                at,
                acknowledged,
            } if *notice == self.notice => {
                if !self.read.iter().any(|(u, _)| u.id == reader.id) {
                    self.read.push((reader.clone(), *at));
                }
                self.not_read.retain(|u| u.id != reader.id);
                if *acknowledged && !self.acknowledged.iter().any(|(u, _)| u.id == reader.id) {
                    self.acknowledged.push((reader.clone(), *at));
                }
            }
            NoticeEvent::NoticeSaved { notice } if notice.id == self.notice => {
                if notice.revision != self.revision {
                    self.revision = notice.revision;
                    self.acknowledged.clear();
                }
                self.requires_ack = notice.fields.requires_ack;
            }
            _ => {}
        }
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEvent {
    /// In a user scope: a notice as it now is, for its author, its reviewers while it waits,
    /// and its recipients once released (their own read marks are not in it).
    NoticeSaved { notice: crate::notices::Notice },
    /// In a user scope: a notice is no longer for the user (withdrawn, or they left its
    /// audience in a revision, or it left review).
    NoticeRemoved { notice: crate::ids::NoticeId },
    /// In a reader's user scope: they opened it (first time, `at`).
    NoticeRead {
        notice: crate::ids::NoticeId,
        at: i64,
    },
    /// In a reader's user scope: they acknowledged its current revision.
    NoticeAcknowledged {
        notice: crate::ids::NoticeId,
        at: i64,
    },
    /// In the author's user scope: `reader` read (or acknowledged) their notice.
    NoticeReadBy {
        notice: crate::ids::NoticeId,
        reader: crate::model::UserRef,
        at: i64,
        #[serde(default, skip_serializing_if = "crate::wire::is_false")]
        acknowledged: bool,
    },
    /// In the workspace scope: a notice type as it now is.
    NoticeTypeSaved { kind: crate::notices::NoticeType },
    /// In the workspace scope: a notice type was removed.
    NoticeTypeRemoved { kind: crate::ids::NoticeTypeId },
}
