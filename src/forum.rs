//! 论坛 (forum): sections an admin sets up, each with moderators and an audience (who read and
//! post there). A topic is a discussion, a question (its author accepts one reply as the
//! answer, and the topic shows solved) or a vote (options, at most how many one picks, a
//! deadline; the results show to those who voted, and to everyone after the deadline).
//! Moderators pin, feature (精华), lock and move topics, and mute someone in their section for
//! a while. Replies quote a reply and mention people; a reader sees "N new replies" arrive.
//!
//! Topics, replies and votes live in their section's scope (`forum:<section>`), which its
//! audience, its moderators and admins read; sections in the workspace scope.

use serde::{Deserialize, Serialize};

use crate::ids::{ForumReplyId, ForumSectionId, ForumTopicId, Seq, UserId};
use crate::limits::{MAX_STORY_BODY_CHARS, MAX_STORY_TITLE_CHARS};
use crate::model::UserRef;
use crate::org::AudienceMember;
use crate::ValidationError;

/// Most options a vote offers.
pub const MAX_VOTE_OPTIONS: usize = 20;
/// A vote option's text, at most this many characters.
pub const MAX_VOTE_OPTION_CHARS: usize = 100;
/// A reply, at most this many characters.
pub const MAX_REPLY_CHARS: usize = 10_000;
/// A topic page holds this many replies; earlier ones load on asking.
pub const REPLIES_PAGE: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForumSection {
    pub id: ForumSectionId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub moderators: Vec<UserRef>,
    pub audience: Vec<AudienceMember>,
}

/// Command (admins): create (`section: None`) or change a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveForumSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<ForumSectionId>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub moderators: Vec<UserId>,
    pub audience: Vec<AudienceMember>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicKind {
    Discussion,
    Question,
    Vote,
}

impl TopicKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Discussion => "discussion",
            TopicKind::Question => "question",
            TopicKind::Vote => "vote",
        }
    }

    pub fn parse(s: &str) -> Option<TopicKind> {
        [TopicKind::Discussion, TopicKind::Question, TopicKind::Vote]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A vote's question: its options, how many one may pick, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteSetup {
    pub options: Vec<String>,
    /// 1: a single choice.
    pub max_choices: u32,
    /// Unix ms; no votes after it, and the results show to everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
}

/// Command (someone who may post in the section, not muted there): start a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartTopic {
    pub section: ForumSectionId,
    pub kind: TopicKind,
    pub title: String,
    /// Markdown.
    pub body: String,
    /// For a vote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<VoteSetup>,
}

impl StartTopic {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let title = self.title.trim().chars().count();
        if title == 0
            || title > MAX_STORY_TITLE_CHARS
            || self.title.chars().any(char::is_control)
            || self.body.chars().count() > MAX_STORY_BODY_CHARS
        {
            return Err(ValidationError::TopicText);
        }
        match (&self.vote, self.kind) {
            (Some(vote), TopicKind::Vote) => {
                let options: Vec<&str> = vote.options.iter().map(|o| o.trim()).collect();
                let distinct: std::collections::BTreeSet<&str> = options.iter().copied().collect();
                if options.len() < 2
                    || options.len() > MAX_VOTE_OPTIONS
                    || distinct.len() != options.len()
                    || options
                        .iter()
                        .any(|o| o.is_empty() || o.chars().count() > MAX_VOTE_OPTION_CHARS)
                    || vote.max_choices == 0
                    || vote.max_choices as usize > options.len()
                {
                    return Err(ValidationError::VoteOptions);
                }
                if vote
                    .deadline
                    .is_some_and(|t| !(946_684_800_000..7_258_118_400_000).contains(&t))
                {
                    return Err(ValidationError::PublishAt);
                }
                Ok(())
            }
            (None, TopicKind::Vote) => Err(ValidationError::VoteOptions),
            (Some(_), _) => Err(ValidationError::VoteOptions),
            (None, _) => Ok(()),
        }
    }
}

/// One option of a vote, with its count when I may see the results.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VoteOption {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Vote {
    pub options: Vec<VoteOption>,
    pub max_choices: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
    /// People who voted.
    pub voters: u32,
    /// Mine: the options I picked (empty: I have not voted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mine: Vec<u32>,
}

impl Vote {
    pub fn closed(&self, now: i64) -> bool {
        self.deadline.is_some_and(|d| d <= now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Topic {
    pub id: ForumTopicId,
    pub section: ForumSectionId,
    pub kind: TopicKind,
    pub title: String,
    pub body: String,
    /// `body` rendered and sanitised.
    #[serde(default)]
    pub html: String,
    pub author: UserRef,
    pub created_at: i64,
    /// The newest reply's time (the topic's own, before any).
    pub active_at: i64,
    pub replies: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// 精华.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub featured: bool,
    /// No more replies (or votes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
    /// A question's accepted answer: the topic is solved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<ForumReplyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<Vote>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub id: ForumReplyId,
    pub topic: ForumTopicId,
    pub author: UserRef,
    pub text: String,
    /// `text` rendered and sanitised, mentions marked.
    #[serde(default)]
    pub html: String,
    pub at: i64,
    /// The reply it quotes, as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    /// People it mentions by name (`@name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub reply: ForumReplyId,
    pub author: UserRef,
    /// Its start, as plain text.
    pub text: String,
}

/// Command: reply to a topic (not locked; not while muted in its section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyToTopic {
    pub topic: ForumTopicId,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<ForumReplyId>,
}

pub fn validate_reply(text: &str) -> Result<&str, ValidationError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REPLY_CHARS {
        return Err(ValidationError::ReplyText);
    }
    Ok(text)
}

/// Command (a question's author): accept a reply as the answer (`None`: accept none again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptAnswer {
    pub topic: ForumTopicId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ForumReplyId>,
}

/// Command: vote in a vote topic (before its deadline, once; `choices` are option indexes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CastVote {
    pub topic: ForumTopicId,
    pub choices: Vec<u32>,
}

/// What a moderator does to a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moderation {
    Pin(bool),
    Feature(bool),
    Lock(bool),
    /// To another section (where the moderator moderates too).
    Move(ForumSectionId),
}

/// Command (the section's moderators and admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerateTopic {
    pub topic: ForumTopicId,
    pub action: Moderation,
}

/// Command (the section's moderators and admins): mute someone in the section until `until`
/// (Unix ms; `None`: unmute). A muted person reads but neither starts topics nor replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MuteInSection {
    pub section: ForumSectionId,
    pub user: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// What I may do in a section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRights {
    pub read: bool,
    pub moderate: bool,
    /// Muted until then (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<i64>,
}

/// The forum (`/api/forum`): every section with what I may do, and the topics of the sections I
/// read (pinned first, then by activity), with the heads they come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForumBoard {
    pub me: UserId,
    pub workspace_head: Seq,
    pub section_heads: Vec<(ForumSectionId, Seq)>,
    pub sections: Vec<(ForumSection, SectionRights)>,
    pub topics: Vec<Topic>,
    /// A section changed: the page loads the board again.
    #[serde(skip)]
    pub stale: bool,
}

impl ForumBoard {
    pub fn section_head(&self, section: ForumSectionId) -> Seq {
        self.section_heads
            .iter()
            .find(|(s, _)| *s == section)
            .map(|(_, h)| *h)
            .unwrap_or_default()
    }

    pub fn section_head_mut(&mut self, section: ForumSectionId) -> &mut Seq {
        let at = match self.section_heads.iter().position(|(s, _)| *s == section) {
            Some(at) => at,
            None => {
                self.section_heads.push((section, Seq::ZERO));
                self.section_heads.len() - 1
            }
        };
        &mut self.section_heads[at].1
    }

    pub fn rights(&self, section: ForumSectionId) -> SectionRights {
        self.sections
            .iter()
            .find(|(s, _)| s.id == section)
            .map(|(_, r)| *r)
            .unwrap_or_default()
    }

    pub fn apply(&mut self, body: &ForumEvent) {
        match body {
            ForumEvent::TopicSaved { topic } => {
                let mut topic = topic.clone();
                // The list holds no bodies (an open topic has its own).
                topic.body.clear();
                topic.html.clear();
                if let Some(old) = self.topics.iter().find(|t| t.id == topic.id) {
                    keep_mine(&mut topic, old);
                }
                self.topics.retain(|t| t.id != topic.id);
                // Moved to a section I do not read: gone.
                if self.rights(topic.section).read {
                    self.topics.push(topic);
                }
                self.sort();
            }
            ForumEvent::TopicMoved { topic, to } if !self.rights(*to).read => {
                self.topics.retain(|t| t.id != *topic)
            }
            ForumEvent::ReplyPosted { reply, replies } => {
                if let Some(t) = self.topics.iter_mut().find(|t| t.id == reply.topic) {
                    t.replies = *replies;
                    t.active_at = t.active_at.max(reply.at);
                }
                self.sort();
            }
            // Who voted for what is nobody's business, and the counts are not for those who
            // have not voted: the event says only how many have.
            ForumEvent::VoteCast { topic, voters } => {
                if let Some(vote) = self
                    .topics
                    .iter_mut()
                    .find(|t| t.id == *topic)
                    .and_then(|t| t.vote.as_mut())
                {
                    vote.voters = *voters;
                }
            }
            ForumEvent::ForumSectionSaved { .. } | ForumEvent::ForumAccessChanged { .. } => {
                self.stale = true
            }
            _ => {}
        }
    }

    /// Pinned first, then by the newest activity.
    pub fn sort(&mut self) {
        self.topics
            .sort_by(|a, b| (b.pinned, b.active_at, b.id).cmp(&(a.pinned, a.active_at, a.id)));
    }
}

/// A topic event carries no one's own choices or hidden counts: a tab keeps its own.
fn keep_mine(topic: &mut Topic, old: &Topic) {
    if let (Some(new), Some(old)) = (topic.vote.as_mut(), old.vote.as_ref()) {
        new.mine = old.mine.clone();
        for (n, o) in new.options.iter_mut().zip(&old.options) {
            if n.votes.is_none() {
                n.votes = o.votes;
            }
        }
    }
}

/// One topic with its replies (`/api/forum_topic`), live from its section's scope. Replies
/// that arrive while it is open wait in `arrived` ("N new replies") until shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicPage {
    pub head: Seq,
    pub topic: Option<Topic>,
    /// The newest `REPLIES_PAGE` replies (or those before the `before` asked for), oldest first.
    pub replies: Vec<Reply>,
    /// Earlier replies are still on the server ("Earlier replies").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub earlier: bool,
    #[serde(skip)]
    pub arrived: Vec<Reply>,
    /// Who reads it (my own replies show at once).
    #[serde(default)]
    pub me: Option<UserId>,
    /// Someone voted while I may see the results: the page loads them again.
    #[serde(skip)]
    pub results_stale: bool,
}

impl TopicPage {
    pub fn apply(&mut self, body: &ForumEvent) {
        let Some(topic) = self.topic.as_mut() else {
            return;
        };
        match body {
            ForumEvent::TopicSaved { topic: saved } if saved.id == topic.id => {
                let mut saved = saved.clone();
                keep_mine(&mut saved, topic);
                *topic = saved;
            }
            ForumEvent::ReplyPosted { reply, replies } if reply.topic == topic.id => {
                topic.replies = *replies;
                let known = self
                    .replies
                    .iter()
                    .chain(&self.arrived)
                    .any(|r| r.id == reply.id);
                if !known {
                    // My own shows at once; the others wait to be shown.
                    if self.me == Some(reply.author.id) {
                        self.replies.append(&mut self.arrived);
                        self.replies.push(reply.clone());
                    } else {
                        self.arrived.push(reply.clone());
                    }
                }
            }
            ForumEvent::VoteCast {
                topic: voted,
                voters,
            } if *voted == topic.id => {
                if let Some(vote) = topic.vote.as_mut() {
                    vote.voters = *voters;
                    if vote.options.iter().any(|o| o.votes.is_some()) {
                        self.results_stale = true;
                    }
                }
            }
            _ => {}
        }
    }

    /// "N new replies": shows what arrived.
    pub fn show_arrived(&mut self) {
        self.replies.append(&mut self.arrived);
    }

    /// The page loaded again (a vote's results, a resync): the fresh page, keeping the earlier
    /// replies this one had paged back to.
    pub fn reloaded(&mut self, mut fresh: TopicPage) {
        let first = fresh
            .replies
            .first()
            .map_or(ForumReplyId(i64::MAX), |r| r.id);
        let mut kept: Vec<Reply> = self.replies.drain(..).filter(|r| r.id < first).collect();
        if !kept.is_empty() {
            fresh.earlier = self.earlier;
            kept.append(&mut fresh.replies);
            fresh.replies = kept;
        }
        *self = fresh;
    }

    /// Puts a page of earlier replies before the shown ones (skipping any already here).
    pub fn prepend(&mut self, asked_before: ForumReplyId, earlier: TopicPage) {
        let first = self
            .replies
            .first()
            .map_or(ForumReplyId(i64::MAX), |r| r.id);
        if first != asked_before {
            return; // reloaded meanwhile: joined here, the page would leave a gap
        }
        let mut merged: Vec<Reply> = earlier
            .replies
            .into_iter()
            .filter(|r| r.id < first)
            .collect();
        merged.append(&mut self.replies);
        self.replies = merged;
        self.earlier = earlier.earlier;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(id: i64) -> Reply {
        Reply {
            id: ForumReplyId(id),
            topic: ForumTopicId(1),
            author: UserRef {
                id: UserId(1),
                username: "a".into(),
            },
            text: String::new(),
            html: String::new(),
            at: 0,
            quote: None,
            mentions: Vec::new(),
        }
    }

    fn page(ids: std::ops::Range<i64>, earlier: bool) -> TopicPage {
        TopicPage {
            head: Seq::ZERO,
            topic: None,
            replies: ids.map(reply).collect(),
            earlier,
            arrived: Vec::new(),
            me: None,
            results_stale: false,
        }
    }

    fn ids(page: &TopicPage) -> Vec<i64> {
        page.replies.iter().map(|r| r.id.0).collect()
    }

    #[test]
    fn earlier_pages_join_only_where_they_were_asked_for_and_survive_a_reload() {
        let mut shown = page(10..20, true);
        // Asked before 10, but the page was reloaded meanwhile (now from 12): not joined.
        let mut reloaded = page(12..22, true);
        reloaded.prepend(ForumReplyId(10), page(0..10, false));
        assert_eq!(ids(&reloaded), (12..22).collect::<Vec<_>>());
        shown.prepend(ForumReplyId(10), page(0..10, false));
        assert_eq!(ids(&shown), (0..20).collect::<Vec<_>>());
        assert!(!shown.earlier);
        // A reload brings the newest page; what was paged back to stays.
        shown.reloaded(page(5..25, true));
        assert_eq!(ids(&shown), (0..25).collect::<Vec<_>>());
        assert!(!shown.earlier);
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForumEvent {
    /// In the workspace scope: a forum section as it now is.
    ForumSectionSaved { section: crate::forum::ForumSection },
    /// In a section's scope: `revoked` may read it no longer.
    ForumAccessChanged {
        section: crate::ids::ForumSectionId,
        revoked: Vec<crate::ids::UserId>,
    },
    /// In a section's scope: a topic as it now is (vote counts and one's own choices left
    /// out).
    TopicSaved { topic: crate::forum::Topic },
    /// In the section a topic left: it moved to `to`.
    TopicMoved {
        topic: crate::ids::ForumTopicId,
        to: crate::ids::ForumSectionId,
    },
    /// In a section's scope: a reply; `replies` on its topic in all.
    ReplyPosted {
        reply: crate::forum::Reply,
        replies: u32,
    },
    /// In a section's scope: someone voted; `voters` in all (no counts, no choices).
    VoteCast {
        topic: crate::ids::ForumTopicId,
        voters: u32,
    },
}
