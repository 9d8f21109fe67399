//! 论坛 (forum). Sections are the workspace's (`forum_section_saved` in the workspace scope);
//! what may be done in one the access module decides (`access::forum_section`). Topics,
//! replies and votes live in their section's scope (`forum:<id>`). A vote's counts and who
//! picked what never go into that scope: the counts are read (`/api/forum_topic`) by those who
//! have voted, and by everyone after the deadline.

use std::collections::BTreeSet;

use sqlx::Row;
use xietong::forum::*;
use xietong::notify::{Module, Note};
use xietong::{
    CommandOutput, CurrentUser, ForumReplyId, ForumSectionId, ForumTopicId, Scope, UserId, UserRef,
    ValidationError,
};

use crate::access::{self, Denied};
use crate::command::{Actor, CommandError, Ctx};
use crate::store::{self, Conn, Store, StoreError};

/// Topics the forum page lists at most.
const BOARD_LIMIT: i64 = 300;
/// Replies a topic page holds at most.
/// A quote keeps this many characters of the reply it quotes.
const QUOTE_CHARS: usize = 200;

const TOPIC_COLUMNS: &str = "t.id, t.section_id, t.author_id, u.username, t.kind, t.title,
     t.body, t.html, t.created_at, t.active_at, t.replies, t.pinned, t.featured, t.locked,
     t.accepted_id, t.vote_options, t.max_choices, t.deadline, t.voters";

fn topic_from_row(r: &store::DbRow) -> Result<Topic, StoreError> {
    let options: Option<String> = r.try_get("vote_options")?;
    let vote = match options {
        Some(json) => {
            let texts: Vec<String> = serde_json::from_str(&json)?;
            Some(Vote {
                options: texts
                    .into_iter()
                    .map(|text| VoteOption { text, votes: None })
                    .collect(),
                max_choices: u32::try_from(r.try_get::<i64, _>("max_choices")?).unwrap_or(1),
                deadline: r.try_get("deadline")?,
                voters: u32::try_from(r.try_get::<i64, _>("voters")?).unwrap_or(0),
                mine: Vec::new(),
            })
        }
        None => None,
    };
    Ok(Topic {
        id: ForumTopicId(r.try_get("id")?),
        section: ForumSectionId(r.try_get("section_id")?),
        kind: TopicKind::parse(&r.try_get::<String, _>("kind")?).unwrap_or(TopicKind::Discussion),
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        html: r.try_get("html")?,
        author: UserRef {
            id: UserId(r.try_get("author_id")?),
            username: r.try_get("username")?,
        },
        created_at: r.try_get("created_at")?,
        active_at: r.try_get("active_at")?,
        replies: u32::try_from(r.try_get::<i64, _>("replies")?).unwrap_or(0),
        pinned: store::flag(r, "pinned")?,
        featured: store::flag(r, "featured")?,
        locked: store::flag(r, "locked")?,
        accepted: r
            .try_get::<Option<i64>, _>("accepted_id")?
            .map(ForumReplyId),
        vote,
    })
}

async fn load(conn: &mut Conn, id: ForumTopicId) -> Result<Option<Topic>, StoreError> {
    let sql = format!(
        "SELECT {TOPIC_COLUMNS} FROM forum_topics t JOIN users u ON u.id = t.author_id WHERE t.id = $1"
    );
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(topic_from_row).transpose()
}

async fn load_known(conn: &mut Conn, id: ForumTopicId) -> Result<Topic, CommandError> {
    Ok(load(conn, id)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?)
}

/// Fills in `user`'s own choices, and the counts where they may see them (they voted, or the
/// vote has closed).
async fn add_my_vote(
    conn: &mut Conn,
    user: UserId,
    topic: &mut Topic,
    now: i64,
) -> Result<(), StoreError> {
    let Some(vote) = topic.vote.as_mut() else {
        return Ok(());
    };
    let mine: Vec<i64> = sqlx::query_scalar(
        "SELECT choice FROM forum_votes WHERE topic_id = $1 AND user_id = $2 ORDER BY choice",
    )
    .bind(topic.id.0)
    .bind(user.0)
    .fetch_all(&mut *conn)
    .await?;
    vote.mine = mine
        .into_iter()
        .filter_map(|c| u32::try_from(c).ok())
        .collect();
    if !vote.mine.is_empty() || vote.closed(now) {
        let counts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT choice, COUNT(*) FROM forum_votes WHERE topic_id = $1 GROUP BY choice",
        )
        .bind(topic.id.0)
        .fetch_all(&mut *conn)
        .await?;
        for (i, option) in vote.options.iter_mut().enumerate() {
            let n = counts
                .iter()
                .find(|(c, _)| *c == i as i64)
                .map_or(0, |(_, n)| *n);
            option.votes = Some(u32::try_from(n).unwrap_or(0));
        }
    }
    Ok(())
}

async fn sections(conn: &mut Conn) -> Result<Vec<ForumSection>, StoreError> {
    let rows: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT id, name, description, audience FROM forum_sections ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    let moderators: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT m.section_id, u.id, u.username FROM forum_moderators m JOIN users u ON u.id = m.user_id
         ORDER BY u.username",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, name, description, audience)| {
            Ok(ForumSection {
                id: ForumSectionId(id),
                name,
                description,
                moderators: moderators
                    .iter()
                    .filter(|(s, ..)| *s == id)
                    .map(|(_, u, name)| UserRef {
                        id: UserId(*u),
                        username: name.clone(),
                    })
                    .collect(),
                audience: serde_json::from_str(&audience)?,
            })
        })
        .collect()
}

async fn section(conn: &mut Conn, id: ForumSectionId) -> Result<Option<ForumSection>, StoreError> {
    Ok(sections(conn).await?.into_iter().find(|s| s.id == id))
}

/// What the actor may do in `section` now (the server: everything).
async fn rights(ctx: &mut Ctx<'_>, section: ForumSectionId) -> Result<SectionRights, CommandError> {
    let now = ctx.now();
    let user = match ctx.actor() {
        Actor::System => {
            return Ok(SectionRights {
                read: true,
                moderate: true,
                muted_until: None,
            })
        }
        Actor::User(user) => user.id,
    };
    access::forum_section(ctx.conn(), user, section, now)
        .await?
        .ok_or_else(|| Denied::NotFound("forum section").into())
}

/// Refuses unless the actor may post in `section` (reads it, not muted).
async fn require_poster(ctx: &mut Ctx<'_>, section: ForumSectionId) -> Result<(), CommandError> {
    let rights = rights(ctx, section).await?;
    if !rights.read {
        return Err(Denied::NotFound("forum section").into());
    }
    if let Some(until) = rights.muted_until {
        return Err(CommandError::Forbidden(format!(
            "you are muted in this section until {}",
            chrono_text(until)
        )));
    }
    Ok(())
}

fn chrono_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The topic, if the actor may read its section (unknown and unreadable look the same), read
/// under its section's lock: a move, lock or vote at the same moment on another node comes
/// before or after this command, never in between (PostgreSQL runs read committed).
async fn readable(ctx: &mut Ctx<'_>, id: ForumTopicId) -> Result<Topic, CommandError> {
    let gone = || CommandError::from(Denied::NotFound("topic"));
    let mut topic = load(ctx.conn(), id).await?.ok_or_else(gone)?;
    loop {
        store::lock_scope(ctx.conn(), Scope::Forum(topic.section)).await?;
        let now = load(ctx.conn(), id).await?.ok_or_else(gone)?;
        let settled = now.section == topic.section;
        topic = now;
        if settled {
            break;
        }
    }
    if !rights(ctx, topic.section).await?.read {
        return Err(gone());
    }
    Ok(topic)
}

fn section_name(name: &str) -> Result<&str, CommandError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(CommandError::Invalid(
            "a forum section is named in 1 to 64 characters".into(),
        ));
    }
    Ok(name)
}

async fn moderators_of(
    conn: &mut Conn,
    section: ForumSectionId,
) -> Result<Vec<UserId>, StoreError> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT user_id FROM forum_moderators WHERE section_id = $1")
            .bind(section.0)
            .fetch_all(&mut *conn)
            .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

async fn section_readers(
    conn: &mut Conn,
    section: &ForumSection,
) -> Result<BTreeSet<UserId>, StoreError> {
    let mut readers = crate::org::audience::resolve(conn, &section.audience).await?;
    readers.extend(moderators_of(conn, section.id).await?);
    Ok(readers)
}

pub async fn save_section(
    ctx: &mut Ctx<'_>,
    command: &SaveForumSection,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let name = section_name(&command.name)?.to_owned();
    if command.description.chars().count() > 500 {
        return Err(CommandError::Invalid(
            "a section's description is at most 500 characters".into(),
        ));
    }
    let audience = crate::org::audience::checked(ctx.conn(), &command.audience).await?;
    let moderators = crate::org::audience::known_people(ctx.conn(), &command.moderators).await?;
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM forum_sections WHERE lower(name) = lower($1) AND id <> $2",
    )
    .bind(&name)
    .bind(command.section.map_or(0, |s| s.0))
    .fetch_optional(ctx.conn())
    .await?;
    if taken.is_some() {
        return Err(CommandError::Conflict(format!(
            "there is a forum section {name} already"
        )));
    }
    let audience_json = serde_json::to_string(&audience).map_err(StoreError::from)?;
    let (id, before) = match command.section {
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO forum_sections (name, description, audience, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&name)
            .bind(command.description.trim())
            .bind(&audience_json)
            .bind(ctx.now())
            .fetch_one(ctx.conn())
            .await?;
            (ForumSectionId(id), None)
        }
        Some(id) => {
            let before = section(ctx.conn(), id)
                .await?
                .ok_or_else(|| Denied::NotFound("forum section"))?;
            let readers = section_readers(ctx.conn(), &before).await?;
            sqlx::query("UPDATE forum_sections SET name = $1, description = $2, audience = $3 WHERE id = $4")
                .bind(&name)
                .bind(command.description.trim())
                .bind(&audience_json)
                .bind(id.0)
                .execute(ctx.conn())
                .await?;
            (id, Some(readers))
        }
    };
    crate::org::audience::replace_listed(
        ctx.conn(),
        "forum_moderators",
        "section_id",
        id.0,
        &moderators,
    )
    .await?;
    crate::org::audience::replace_audience(
        ctx.conn(),
        "forum_audience",
        "section_id",
        id.0,
        &audience,
    )
    .await?;
    let saved = section(ctx.conn(), id)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    if let Some(before) = before {
        let now_in = section_readers(ctx.conn(), &saved).await?;
        let mut revoked = Vec::new();
        for user in before.difference(&now_in) {
            if access::forum_section(ctx.conn(), *user, id, 0)
                .await?
                .is_some_and(|r| !r.read)
            {
                revoked.push(*user);
            }
        }
        if !revoked.is_empty() {
            ctx.append(
                Scope::Forum(id),
                xietong::forum::ForumEvent::ForumAccessChanged {
                    section: id,
                    revoked,
                },
            )
            .await?;
        }
    }
    ctx.append(
        Scope::Workspace,
        xietong::forum::ForumEvent::ForumSectionSaved { section: saved },
    )
    .await?;
    Ok(CommandOutput::ForumSectionSaved { section: id })
}

pub async fn start_topic(
    ctx: &mut Ctx<'_>,
    command: &StartTopic,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    command.validate()?;
    require_poster(ctx, command.section).await?;
    let now = ctx.now();
    if command
        .vote
        .as_ref()
        .and_then(|v| v.deadline)
        .is_some_and(|d| d <= now)
    {
        return Err(CommandError::Invalid(
            "a vote's deadline is in the future".into(),
        ));
    }
    let options = command
        .vote
        .as_ref()
        .map(|v| serde_json::to_string(&v.options.iter().map(|o| o.trim()).collect::<Vec<_>>()))
        .transpose()
        .map_err(StoreError::from)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO forum_topics (section_id, author_id, kind, title, body, html, created_at,
                                   active_at, vote_options, max_choices, deadline)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10) RETURNING id",
    )
    .bind(command.section.0)
    .bind(me.id.0)
    .bind(command.kind.as_str())
    .bind(command.title.trim())
    .bind(&command.body)
    .bind(crate::chat::markdown::render(&command.body, &[]))
    .bind(now)
    .bind(options)
    .bind(i64::from(
        command.vote.as_ref().map_or(1, |v| v.max_choices),
    ))
    .bind(command.vote.as_ref().and_then(|v| v.deadline))
    .fetch_one(ctx.conn())
    .await?;
    let topic = load_known(ctx.conn(), ForumTopicId(id)).await?;
    ctx.append(
        Scope::Forum(topic.section),
        xietong::forum::ForumEvent::TopicSaved { topic },
    )
    .await?;
    Ok(CommandOutput::TopicChanged {
        topic: ForumTopicId(id),
    })
}

/// The plain start of a reply's text, for a quote.
fn plain_start(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(QUOTE_CHARS) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

type ReplyRow = (i64, i64, i64, String, String, i64, Option<i64>, String);

const REPLY_COLUMNS: &str =
    "r.id, r.topic_id, r.author_id, u.username, r.text, r.at, r.quote_id, r.mentions";

/// Replies from their rows, with their quotes and rendered text.
async fn replies_from(conn: &mut Conn, rows: Vec<ReplyRow>) -> Result<Vec<Reply>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for (id, topic, author, username, text, at, quote, mentions) in rows {
        let mentions: Vec<(UserId, String)> = serde_json::from_str(&mentions)?;
        let names: Vec<String> = mentions.iter().map(|(_, n)| n.to_lowercase()).collect();
        let quote = match quote {
            Some(q) => {
                let quoted: Option<(i64, String, String)> = sqlx::query_as(
                    "SELECT u.id, u.username, r.text FROM forum_replies r JOIN users u ON u.id = r.author_id
                     WHERE r.id = $1",
                )
                .bind(q)
                .fetch_optional(&mut *conn)
                .await?;
                quoted.map(|(uid, username, text)| Quote {
                    reply: ForumReplyId(q),
                    author: UserRef {
                        id: UserId(uid),
                        username,
                    },
                    text: plain_start(&text),
                })
            }
            None => None,
        };
        out.push(Reply {
            id: ForumReplyId(id),
            topic: ForumTopicId(topic),
            author: UserRef {
                id: UserId(author),
                username,
            },
            html: crate::chat::markdown::render(&text, &names),
            text,
            at,
            quote,
            mentions: mentions.into_iter().map(|(id, _)| id).collect(),
        });
    }
    Ok(out)
}

pub async fn reply(
    ctx: &mut Ctx<'_>,
    command: &ReplyToTopic,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let text = validate_reply(&command.text)?.to_owned();
    let topic = readable(ctx, command.topic).await?;
    require_poster(ctx, topic.section).await?;
    if topic.locked {
        return Err(CommandError::Conflict("this topic is locked".into()));
    }
    if let Some(quote) = command.quote {
        let in_topic: Option<i64> =
            sqlx::query_scalar("SELECT id FROM forum_replies WHERE id = $1 AND topic_id = $2")
                .bind(quote.0)
                .bind(topic.id.0)
                .fetch_optional(ctx.conn())
                .await?;
        if in_topic.is_none() {
            return Err(CommandError::NotFound(
                "no such reply to quote in this topic".into(),
            ));
        }
    }
    // Only people who may read the section are mentioned (and told).
    let named = crate::chat::mentions::Mentions::resolve(ctx.conn(), &text).await?;
    let mut mentioned: Vec<(UserId, String)> = Vec::new();
    for (user, name) in named.users {
        let reads = access::forum_section(ctx.conn(), user, topic.section, 0)
            .await?
            .is_some_and(|r| r.read);
        if reads && user != me.id {
            mentioned.push((user, name));
        }
    }
    let now = ctx.now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO forum_replies (topic_id, author_id, text, at, quote_id, mentions)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(topic.id.0)
    .bind(me.id.0)
    .bind(&text)
    .bind(now)
    .bind(command.quote.map(|q| q.0))
    .bind(serde_json::to_string(&mentioned).map_err(StoreError::from)?)
    .fetch_one(ctx.conn())
    .await?;
    let replies: i64 = sqlx::query_scalar(
        "UPDATE forum_topics SET replies = replies + 1, active_at = $1 WHERE id = $2 RETURNING replies",
    )
    .bind(now)
    .bind(topic.id.0)
    .fetch_one(ctx.conn())
    .await?;
    let rows: Vec<ReplyRow> = sqlx::query_as(&format!(
        "SELECT {REPLY_COLUMNS} FROM forum_replies r JOIN users u ON u.id = r.author_id WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_all(ctx.conn())
    .await?;
    let reply = replies_from(ctx.conn(), rows)
        .await?
        .pop()
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    ctx.append(
        Scope::Forum(topic.section),
        xietong::forum::ForumEvent::ReplyPosted {
            reply: reply.clone(),
            replies: u32::try_from(replies).unwrap_or(0),
        },
    )
    .await?;
    // The people it mentions, and the topic's author, hear of it.
    let note = |text: String| Note {
        module: Module::Forum,
        item: topic.id.0,
        title: topic.title.clone(),
        text,
        from: Some(me.user_ref()),
        urgent: false,
        href: format!("/forum?topic={}", topic.id),
    };
    let mut told: Vec<UserId> = mentioned.iter().map(|(u, _)| *u).collect();
    if !told.is_empty() {
        crate::notify::raise(
            ctx,
            crate::notify::Raise {
                note: note(text.clone()),
                to: &told,
                escalate: None,
                outside_only: false,
            },
        )
        .await?;
    }
    let author_reads = access::forum_section(ctx.conn(), topic.author.id, topic.section, 0)
        .await?
        .is_some_and(|r| r.read);
    if topic.author.id != me.id && !told.contains(&topic.author.id) && author_reads {
        told = vec![topic.author.id];
        crate::notify::raise(
            ctx,
            crate::notify::Raise {
                note: note(text),
                to: &told,
                escalate: None,
                outside_only: false,
            },
        )
        .await?;
    }
    Ok(CommandOutput::ReplyPosted { reply: reply.id })
}

pub async fn accept_answer(
    ctx: &mut Ctx<'_>,
    command: &AcceptAnswer,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let topic = readable(ctx, command.topic).await?;
    if topic.author.id != me {
        return Err(CommandError::Forbidden(
            "only the question's author accepts an answer".into(),
        ));
    }
    if topic.kind != TopicKind::Question {
        return Err(CommandError::Invalid(
            "only a question has an accepted answer".into(),
        ));
    }
    let mut answerer = None;
    if let Some(reply) = command.reply {
        let author: Option<i64> = sqlx::query_scalar(
            "SELECT author_id FROM forum_replies WHERE id = $1 AND topic_id = $2",
        )
        .bind(reply.0)
        .bind(topic.id.0)
        .fetch_optional(ctx.conn())
        .await?;
        answerer = Some(UserId(author.ok_or_else(|| {
            CommandError::NotFound("no such reply in this topic".into())
        })?));
    }
    sqlx::query("UPDATE forum_topics SET accepted_id = $1 WHERE id = $2")
        .bind(command.reply.map(|r| r.0))
        .bind(topic.id.0)
        .execute(ctx.conn())
        .await?;
    let saved = load_known(ctx.conn(), topic.id).await?;
    ctx.append(
        Scope::Forum(saved.section),
        xietong::forum::ForumEvent::TopicSaved {
            topic: saved.clone(),
        },
    )
    .await?;
    let mut answerer = answerer.filter(|a| *a != me);
    if let Some(who) = answerer {
        let reads = access::forum_section(ctx.conn(), who, saved.section, 0)
            .await?
            .is_some_and(|r| r.read);
        if !reads {
            answerer = None;
        }
    }
    if let Some(answerer) = answerer {
        let from = ctx.user()?.user_ref();
        crate::notify::raise(
            ctx,
            crate::notify::Raise {
                note: Note {
                    module: Module::Forum,
                    item: saved.id.0,
                    title: saved.title.clone(),
                    text: "✓".into(),
                    from: Some(from),
                    urgent: false,
                    href: format!("/forum?topic={}", saved.id),
                },
                to: &[answerer],
                escalate: None,
                outside_only: false,
            },
        )
        .await?;
    }
    Ok(CommandOutput::TopicChanged { topic: saved.id })
}

pub async fn cast_vote(
    ctx: &mut Ctx<'_>,
    command: &CastVote,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let topic = readable(ctx, command.topic).await?;
    require_poster(ctx, topic.section).await?;
    let Some(vote) = topic.vote.as_ref() else {
        return Err(CommandError::Invalid("this topic is not a vote".into()));
    };
    if topic.locked || vote.closed(ctx.now()) {
        return Err(CommandError::Conflict("this vote has closed".into()));
    }
    let choices: BTreeSet<u32> = command.choices.iter().copied().collect();
    if choices.is_empty()
        || choices.len() != command.choices.len()
        || choices.len() > vote.max_choices as usize
        || choices.iter().any(|c| *c as usize >= vote.options.len())
    {
        return Err(ValidationError::VoteOptions.into());
    }
    let voted: Option<i64> = sqlx::query_scalar(
        "SELECT choice FROM forum_votes WHERE topic_id = $1 AND user_id = $2 LIMIT 1",
    )
    .bind(topic.id.0)
    .bind(me.0)
    .fetch_optional(ctx.conn())
    .await?;
    if voted.is_some() {
        return Err(CommandError::Conflict("you have voted already".into()));
    }
    for choice in &choices {
        sqlx::query(
            "INSERT INTO forum_votes (topic_id, user_id, choice, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(topic.id.0)
        .bind(me.0)
        .bind(i64::from(*choice))
        .bind(ctx.now())
        .execute(ctx.conn())
        .await?;
    }
    let voters: i64 = sqlx::query_scalar(
        "UPDATE forum_topics SET voters = voters + 1 WHERE id = $1 RETURNING voters",
    )
    .bind(topic.id.0)
    .fetch_one(ctx.conn())
    .await?;
    // Unsigned: a reader who sees the counts must not learn who just voted.
    ctx.append_unsigned(
        Scope::Forum(topic.section),
        xietong::forum::ForumEvent::VoteCast {
            topic: topic.id,
            voters: u32::try_from(voters).unwrap_or(0),
        },
    )
    .await?;
    Ok(CommandOutput::TopicChanged { topic: topic.id })
}

pub async fn moderate(
    ctx: &mut Ctx<'_>,
    command: &ModerateTopic,
) -> Result<CommandOutput, CommandError> {
    let topic = readable(ctx, command.topic).await?;
    let may = |r: SectionRights| r.moderate;
    if !may(rights(ctx, topic.section).await?) {
        return Err(CommandError::Forbidden(
            "only the section's moderators and admins do this".into(),
        ));
    }
    let (column, value) = match command.action {
        Moderation::Pin(on) => ("pinned", i64::from(on)),
        Moderation::Feature(on) => ("featured", i64::from(on)),
        Moderation::Lock(on) => ("locked", i64::from(on)),
        Moderation::Move(to) => {
            if to == topic.section {
                return Ok(CommandOutput::TopicChanged { topic: topic.id });
            }
            if !may(rights(ctx, to).await?) {
                return Err(CommandError::Forbidden(
                    "you do not moderate the section it would go to".into(),
                ));
            }
            ("section_id", to.0)
        }
    };
    // `column` is one of the four names above, never input.
    sqlx::query(&format!(
        "UPDATE forum_topics SET {column} = $1 WHERE id = $2"
    ))
    .bind(value)
    .bind(topic.id.0)
    .execute(ctx.conn())
    .await?;
    let saved = load_known(ctx.conn(), topic.id).await?;
    if saved.section != topic.section {
        ctx.append(
            Scope::Forum(topic.section),
            xietong::forum::ForumEvent::TopicMoved {
                topic: topic.id,
                to: saved.section,
            },
        )
        .await?;
    }
    ctx.append(
        Scope::Forum(saved.section),
        xietong::forum::ForumEvent::TopicSaved {
            topic: saved.clone(),
        },
    )
    .await?;
    Ok(CommandOutput::TopicChanged { topic: saved.id })
}

pub async fn mute(
    ctx: &mut Ctx<'_>,
    command: &MuteInSection,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let section = section(ctx.conn(), command.section)
        .await?
        .ok_or_else(|| Denied::NotFound("forum section"))?;
    if !rights(ctx, section.id).await?.moderate {
        return Err(CommandError::Forbidden(
            "only the section's moderators and admins mute people".into(),
        ));
    }
    crate::org::audience::known_people(ctx.conn(), &[command.user]).await?;
    match command.until {
        Some(until) if until > ctx.now() => {
            sqlx::query(
                "INSERT INTO forum_mutes (section_id, user_id, until, by_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (section_id, user_id) DO UPDATE SET until = excluded.until, by_id = excluded.by_id",
            )
                .bind(section.id.0)
                .bind(command.user.0)
                .bind(until)
                .bind(me.id.0)
                .execute(ctx.conn())
                .await?;
            crate::notify::raise(
                ctx,
                crate::notify::Raise {
                    note: Note {
                        module: Module::Forum,
                        item: 0,
                        title: section.name.clone(),
                        text: format!("muted until {}", chrono_text(until)),
                        from: Some(me.user_ref()),
                        urgent: false,
                        href: "/forum".into(),
                    },
                    to: &[command.user],
                    escalate: None,
                    outside_only: false,
                },
            )
            .await?;
        }
        Some(_) => return Err(CommandError::Invalid("a mute ends in the future".into())),
        None => {
            sqlx::query("DELETE FROM forum_mutes WHERE section_id = $1 AND user_id = $2")
                .bind(section.id.0)
                .bind(command.user.0)
                .execute(ctx.conn())
                .await?;
        }
    }
    Ok(CommandOutput::Muted {
        section: section.id,
        user: command.user,
    })
}

/// The forum page for `user`.
pub async fn board(store: &Store, user: &CurrentUser) -> Result<ForumBoard, Denied> {
    let mut tx = store.read().await?;
    let now = store::now_ms();
    let workspace_head = store::head(&mut tx, Scope::Workspace).await?;
    let mut out_sections = Vec::new();
    let mut section_heads = Vec::new();
    for section in sections(&mut tx).await? {
        let rights = access::forum_section(&mut tx, user.id, section.id, now)
            .await?
            .unwrap_or_default();
        if rights.read {
            section_heads.push((
                section.id,
                store::head(&mut tx, Scope::Forum(section.id)).await?,
            ));
        }
        out_sections.push((section, rights));
    }
    let readable: Vec<i64> = out_sections
        .iter()
        .filter(|(_, r)| r.read)
        .map(|(s, _)| s.id.0)
        .collect();
    let mut topics = Vec::new();
    if !readable.is_empty() {
        let sql = format!(
            "SELECT {TOPIC_COLUMNS} FROM forum_topics t JOIN users u ON u.id = t.author_id
             WHERE t.section_id IN ({})
             ORDER BY t.pinned DESC, t.active_at DESC, t.id DESC LIMIT $1",
            crate::org::audience::placeholders(2, readable.len())
        );
        let mut query = sqlx::query(&sql).bind(BOARD_LIMIT);
        for id in &readable {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *tx).await? {
            let mut topic = topic_from_row(&row)?;
            // The list needs no bodies: an open topic loads its own.
            topic.body.clear();
            topic.html.clear();
            add_my_vote(&mut tx, user.id, &mut topic, now).await?;
            topics.push(topic);
        }
    }
    tx.commit().await?;
    let mut board = ForumBoard {
        me: user.id,
        workspace_head,
        section_heads,
        sections: out_sections,
        topics,
        stale: false,
    };
    board.sort();
    Ok(board)
}

/// One topic with its newest replies (or those before `before`), for someone who may read its
/// section.
pub async fn topic_page(
    store: &Store,
    user: &CurrentUser,
    id: ForumTopicId,
    before: Option<ForumReplyId>,
) -> Result<TopicPage, Denied> {
    let mut tx = store.read().await?;
    let now = store::now_ms();
    let mut topic = load(&mut tx, id).await?.ok_or(Denied::NotFound("topic"))?;
    let reads = access::forum_section(&mut tx, user.id, topic.section, now)
        .await?
        .is_some_and(|r| r.read);
    if !reads {
        return Err(Denied::NotFound("topic"));
    }
    let head = store::head(&mut tx, Scope::Forum(topic.section)).await?;
    add_my_vote(&mut tx, user.id, &mut topic, now).await?;
    let mut rows: Vec<ReplyRow> = sqlx::query_as(&format!(
        "SELECT {REPLY_COLUMNS} FROM forum_replies r JOIN users u ON u.id = r.author_id
         WHERE r.topic_id = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT $3"
    ))
    .bind(id.0)
    .bind(before.map_or(i64::MAX, |b| b.0))
    .bind(REPLIES_PAGE as i64 + 1)
    .fetch_all(&mut *tx)
    .await?;
    let earlier = rows.len() > REPLIES_PAGE;
    rows.truncate(REPLIES_PAGE);
    rows.reverse();
    let replies = replies_from(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(TopicPage {
        head,
        topic: Some(topic),
        replies,
        earlier,
        arrived: Vec::new(),
        me: Some(user.id),
        results_stale: false,
    })
}
