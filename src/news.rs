//! 新闻 (news): stories in columns an admin sets up ("Company news", "Industry"). A column
//! has editors, who write, schedule, pin and withdraw its stories and moderate its comments,
//! and an audience, who read it. A published story has a cover image, a summary, a body
//! (Markdown, rendered and sanitised by the server), attachments, a view count, likes and
//! comments; it can be shared into a chat channel, where it shows as a card.
//!
//! Published stories, likes and comments live in their column's scope (`news:<column>`), which
//! its audience reads; drafts and scheduled stories only in their editors' user scopes; the
//! columns themselves in the workspace scope.

use serde::{Deserialize, Serialize};

use crate::files::{FileId, FileInfo};
use crate::ids::{ChannelId, NewsColumnId, Seq, StoryCommentId, StoryId, UserId};
use crate::limits::{
    MAX_ATTACHMENTS, MAX_COMMENT_CHARS, MAX_STORY_BODY_CHARS, MAX_STORY_SUMMARY_CHARS,
    MAX_STORY_TITLE_CHARS,
};
use crate::model::UserRef;
use crate::org::AudienceMember;
use crate::ValidationError;

/// A column of stories.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewsColumn {
    pub id: NewsColumnId,
    pub name: String,
    /// Who write and moderate it (admins may too).
    pub editors: Vec<UserRef>,
    /// Who read it.
    pub audience: Vec<AudienceMember>,
}

/// Command (admins): create (`column: None`) or change a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveNewsColumn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<NewsColumnId>,
    pub name: String,
    pub editors: Vec<UserId>,
    pub audience: Vec<AudienceMember>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryStatus {
    Draft,
    /// To be published at `publish_at`.
    Scheduled,
    Published,
    Withdrawn,
}

impl StoryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StoryStatus::Draft => "draft",
            StoryStatus::Scheduled => "scheduled",
            StoryStatus::Published => "published",
            StoryStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<StoryStatus> {
        [
            StoryStatus::Draft,
            StoryStatus::Scheduled,
            StoryStatus::Published,
            StoryStatus::Withdrawn,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What an editor writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryFields {
    pub column: NewsColumnId,
    pub title: String,
    /// Plain text under the title in lists and cards.
    #[serde(default)]
    pub summary: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    /// Unix ms: published then rather than at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_at: Option<i64>,
    /// Shown above the others in its column and on the front page.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
}

impl StoryFields {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let title = self.title.trim().chars().count();
        if title == 0
            || title > MAX_STORY_TITLE_CHARS
            || self.title.chars().any(char::is_control)
            || self.summary.chars().count() > MAX_STORY_SUMMARY_CHARS
            || self.body.chars().count() > MAX_STORY_BODY_CHARS
        {
            return Err(ValidationError::StoryText);
        }
        if self
            .publish_at
            .is_some_and(|t| !(946_684_800_000..7_258_118_400_000).contains(&t))
        {
            return Err(ValidationError::PublishAt);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Story {
    pub id: StoryId,
    pub fields: StoryFields,
    /// `fields.body` rendered and sanitised.
    #[serde(default)]
    pub html: String,
    pub author: UserRef,
    pub status: StoryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<FileInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    pub updated_at: i64,
    /// People who opened it (each counted once).
    #[serde(default)]
    pub views: u32,
    #[serde(default)]
    pub likes: u32,
    /// Comments not hidden.
    #[serde(default)]
    pub comments: u32,
    /// Mine: I like it. Events carry `false`; a tab keeps its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub liked: bool,
}

impl Story {
    /// The page a story opens on.
    pub fn href(&self) -> String {
        format!("/news?story={}", self.id)
    }
}

/// Command (the column's editors): save a story — a new draft (`story: None`), or changes to
/// one (a published story changes in place for its readers). `cover`: a complete upload of an
/// image to show as its cover; `attachments`: complete uploads to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveStory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<StoryId>,
    pub fields: StoryFields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove_cover: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_attachments: Vec<FileId>,
}

/// Command (the column's editors): publish a draft, at once or at its `publish_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishStory {
    pub story: StoryId,
}

/// Command (the column's editors): take a published or scheduled story down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawStory {
    pub story: StoryId,
}

/// Command (the server): publish a scheduled story whose time has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseStory {
    pub story: StoryId,
}

/// Command (a reader): I opened it (counted once per person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewStory {
    pub story: StoryId,
}

/// Command (a reader): like it, or take the like back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikeStory {
    pub story: StoryId,
    pub like: bool,
}

/// Command (a reader): comment on a published story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentOnStory {
    pub story: StoryId,
    pub text: String,
}

/// Command (an admin or the column's editor): hide a comment from readers, or show it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HideStoryComment {
    pub comment: StoryCommentId,
    pub hidden: bool,
}

/// Command (a reader): post the story into a chat channel, where it shows as a card. Only a
/// story of a column for everyone (a card stays in the channel's history for whoever joins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareStory {
    pub story: StoryId,
    pub channel: ChannelId,
    /// Words of one's own above the card.
    #[serde(default)]
    pub text: String,
}

pub fn validate_comment(text: &str) -> Result<&str, ValidationError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_COMMENT_CHARS {
        return Err(ValidationError::CommentText);
    }
    Ok(text)
}

/// At most this many files on one story.
pub const MAX_STORY_FILES: usize = MAX_ATTACHMENTS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryComment {
    pub id: StoryCommentId,
    pub story: StoryId,
    pub author: UserRef,
    pub text: String,
    /// `text` rendered and sanitised.
    #[serde(default)]
    pub html: String,
    pub at: i64,
    /// Hidden by a moderator: only moderators still see it, marked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

/// A story as a card in a chat message: what anyone in the channel may see of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryCard {
    pub story: StoryId,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub column: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<FileInfo>,
    /// The story was withdrawn: the card shows only that (its title, summary and cover gone).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
}

impl StoryCard {
    pub fn href(&self) -> String {
        format!("/news?story={}", self.story)
    }
}

/// What I may do in a column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRights {
    pub read: bool,
    pub edit: bool,
}

/// The news page (`/api/news`): every column (with what I may do in it), the published stories
/// I may read and the unpublished ones I edit; with the heads of the scopes they come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewsBoard {
    pub me: UserId,
    /// My user scope's head (drafts and scheduled stories).
    pub head: Seq,
    pub workspace_head: Seq,
    /// Each readable column's scope head.
    pub column_heads: Vec<(NewsColumnId, Seq)>,
    pub columns: Vec<(NewsColumn, ColumnRights)>,
    pub stories: Vec<Story>,
    /// A column changed: what I may do may have too; the page loads the board again.
    #[serde(skip)]
    pub stale: bool,
}

impl NewsBoard {
    pub fn column_head(&self, column: NewsColumnId) -> Seq {
        self.column_heads
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }

    pub fn column_head_mut(&mut self, column: NewsColumnId) -> &mut Seq {
        let at = match self.column_heads.iter().position(|(c, _)| *c == column) {
            Some(at) => at,
            None => {
                self.column_heads.push((column, Seq::ZERO));
                self.column_heads.len() - 1
            }
        };
        &mut self.column_heads[at].1
    }

    pub fn rights(&self, column: NewsColumnId) -> ColumnRights {
        self.columns
            .iter()
            .find(|(c, _)| c.id == column)
            .map(|(_, r)| *r)
            .unwrap_or_default()
    }

    /// Applies an event of my user scope, the workspace scope or a column's scope.
    pub fn apply(&mut self, body: &NewsEvent) {
        match body {
            NewsEvent::StorySaved { story } => {
                let mut story = story.clone();
                if let Some(old) = self.stories.iter().find(|s| s.id == story.id) {
                    // An editor hears of a story in two scopes, in either order: an older
                    // version never replaces a newer one.
                    if old.updated_at > story.updated_at {
                        return;
                    }
                    story.liked = old.liked;
                }
                self.stories.retain(|s| s.id != story.id);
                // Withdrawn stories leave the page for readers; their editors keep them.
                if story.status != StoryStatus::Withdrawn || self.rights(story.fields.column).edit {
                    self.stories.push(story);
                }
                self.sort();
            }
            // Its editors keep a withdrawn story (their user scope tells them its status).
            NewsEvent::StoryRemoved { story } => {
                let column = self
                    .stories
                    .iter()
                    .find(|s| s.id == *story)
                    .map(|s| s.fields.column);
                if !column.is_some_and(|c| self.rights(c).edit) {
                    self.stories.retain(|s| s.id != *story)
                }
            }
            NewsEvent::StoryLiked {
                story,
                by,
                liked,
                likes,
            } => {
                if let Some(s) = self.stories.iter_mut().find(|s| s.id == *story) {
                    s.likes = *likes;
                    if *by == self.me {
                        s.liked = *liked;
                    }
                }
            }
            NewsEvent::StoryCommented { comment, comments } => {
                if let Some(s) = self.stories.iter_mut().find(|s| s.id == comment.story) {
                    s.comments = *comments;
                }
            }
            NewsEvent::StoryCommentHidden {
                story, comments, ..
            } => {
                if let Some(s) = self.stories.iter_mut().find(|s| s.id == *story) {
                    s.comments = *comments;
                }
            }
            NewsEvent::NewsColumnSaved { .. } | NewsEvent::NewsAccessChanged { .. } => {
                self.stale = true
            }
        }
    }

    /// Newest first by when published (unpublished ones by when saved).
    pub fn sort(&mut self) {
        self.stories.sort_by(|a, b| {
            let key = |s: &Story| (s.published_at.unwrap_or(s.updated_at), s.id);
            key(b).cmp(&key(a))
        });
    }
}

/// One story's comments (`/api/story_comments`), live from its column's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryComments {
    pub story: StoryId,
    pub column: NewsColumnId,
    pub head: Seq,
    /// I moderate them: hidden ones stay, marked.
    pub moderator: bool,
    pub comments: Vec<StoryComment>,
}

impl StoryComments {
    pub fn apply(&mut self, body: &NewsEvent) {
        match body {
            NewsEvent::StoryCommented { comment, .. } if comment.story == self.story => {
                match self.comments.iter_mut().find(|c| c.id == comment.id) {
                    Some(c) => *c = comment.clone(),
                    None => self.comments.push(comment.clone()),
                }
                self.comments.sort_by_key(|c| (c.at, c.id));
            }
            NewsEvent::StoryCommentHidden {
                story,
                comment,
                hidden,
                ..
            } if *story == self.story => {
                if self.moderator {
                    if let Some(c) = self.comments.iter_mut().find(|c| c.id == *comment) {
                        c.hidden = *hidden;
                    }
                } else if *hidden {
                    self.comments.retain(|c| c.id != *comment);
                }
            }
            _ => {}
        }
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewsEvent {
    /// In the workspace scope: a news column as it now is.
    NewsColumnSaved { column: crate::news::NewsColumn },
    /// In a column's scope: `revoked` may read it no longer (the column's audience changed).
    NewsAccessChanged {
        column: crate::ids::NewsColumnId,
        revoked: Vec<crate::ids::UserId>,
    },
    /// A story as it now is: in its column's scope once published; in its editors' user
    /// scopes in every state.
    StorySaved { story: crate::news::Story },
    /// In a column's scope: a story left it (withdrawn, or moved to another column).
    StoryRemoved { story: crate::ids::StoryId },
    /// In a column's scope: `by` liked a story (or took the like back); `likes` in all.
    StoryLiked {
        story: crate::ids::StoryId,
        by: crate::ids::UserId,
        liked: bool,
        likes: u32,
    },
    /// In a column's scope: a comment, new or shown again; `comments` visible in all.
    StoryCommented {
        comment: crate::news::StoryComment,
        comments: u32,
    },
    /// In a column's scope: a moderator hid a comment (or showed it again).
    StoryCommentHidden {
        story: crate::ids::StoryId,
        comment: crate::ids::StoryCommentId,
        hidden: bool,
        comments: u32,
    },
}
