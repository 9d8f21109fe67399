//! 新闻 (news). Columns are the workspace's (`news_column_saved` in the workspace scope); what
//! may be done in one the access module decides (`access::news_column`). A story is its
//! column's editors' until published: drafts and scheduled stories are told to them in their
//! user scopes. Published, it lives in its column's scope (`news:<id>`), with its likes and
//! comments; withdrawn, it leaves that scope. Views are counted once per person and told to
//! nobody (a view is not worth a live event to every reader).

use std::collections::BTreeSet;

use sqlx::Row;
use tokio_util::sync::CancellationToken;
use xietong::chat::{Card, PostMessage};
use xietong::files::{FileId, FileInfo};
use xietong::news::*;
use xietong::notify::{Module, Note};
use xietong::org::AudienceMember;
use xietong::{
    CommandOutput, CurrentUser, NewsColumnId, Scope, StoryCommentId, StoryId, UserId, UserRef,
};

use crate::access::{self, Denied};
use crate::command::{Actor, CommandError, Ctx};
use crate::store::{self, Conn, Store, StoreError};

/// Stories the news page lists at most.
const BOARD_LIMIT: i64 = 300;
/// Comments one story page shows at most (the newest).
const COMMENTS_LIMIT: i64 = 500;

const STORY_COLUMNS: &str = "s.id, s.column_id, s.author_id, u.username, s.title, s.summary,
     s.body, s.html, s.publish_at, s.pinned, s.status, s.published_at, s.updated_at, s.views,
     s.likes, s.comments";

fn count(r: &store::DbRow, column: &str) -> Result<u32, sqlx::Error> {
    Ok(u32::try_from(r.try_get::<i64, _>(column)?).unwrap_or(0))
}

fn story_from_row(r: &store::DbRow) -> Result<Story, StoreError> {
    Ok(Story {
        id: StoryId(r.try_get("id")?),
        fields: StoryFields {
            column: NewsColumnId(r.try_get("column_id")?),
            title: r.try_get("title")?,
            summary: r.try_get("summary")?,
            body: r.try_get("body")?,
            publish_at: r.try_get("publish_at")?,
            pinned: store::flag(r, "pinned")?,
        },
        html: r.try_get("html")?,
        author: UserRef {
            id: UserId(r.try_get("author_id")?),
            username: r.try_get("username")?,
        },
        status: StoryStatus::parse(&r.try_get::<String, _>("status")?)
            .unwrap_or(StoryStatus::Draft),
        cover: None,
        attachments: Vec::new(),
        published_at: r.try_get("published_at")?,
        updated_at: r.try_get("updated_at")?,
        views: count(r, "views")?,
        likes: count(r, "likes")?,
        comments: count(r, "comments")?,
        liked: false,
    })
}

/// Fills in each story's cover and attachments.
async fn add_files(conn: &mut Conn, stories: &mut [Story]) -> Result<(), StoreError> {
    for chunk in stories.chunks_mut(200) {
        let sql = format!(
            "SELECT id, name, size, mime, owner_id, created_at, story_id, is_cover FROM files
             WHERE story_id IN ({}) ORDER BY id",
            crate::org::audience::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String, i64, String, i64, i64, i64, i64)>(&sql);
        for s in chunk.iter() {
            query = query.bind(s.id.0);
        }
        for (id, name, size, mime, by, at, story, cover) in query.fetch_all(&mut *conn).await? {
            let file = FileInfo {
                id: FileId(id),
                name,
                size: size.max(0) as u64,
                mime,
                by: UserId(by),
                at,
            };
            if let Some(s) = chunk.iter_mut().find(|s| s.id.0 == story) {
                if cover == 1 {
                    s.cover = Some(file);
                } else {
                    s.attachments.push(file);
                }
            }
        }
    }
    Ok(())
}

async fn load(conn: &mut Conn, id: StoryId) -> Result<Option<Story>, StoreError> {
    let sql = format!(
        "SELECT {STORY_COLUMNS} FROM stories s JOIN users u ON u.id = s.author_id WHERE s.id = $1"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut story = [story_from_row(&row)?];
    add_files(conn, &mut story).await?;
    let [story] = story;
    Ok(Some(story))
}

async fn load_known(conn: &mut Conn, id: StoryId) -> Result<Story, CommandError> {
    Ok(load(conn, id)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?)
}

async fn columns(conn: &mut Conn) -> Result<Vec<NewsColumn>, StoreError> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, audience FROM news_columns ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    let editors: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT e.column_id, u.id, u.username FROM news_editors e JOIN users u ON u.id = e.user_id
         ORDER BY u.username",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, name, audience)| {
            Ok(NewsColumn {
                id: NewsColumnId(id),
                name,
                editors: editors
                    .iter()
                    .filter(|(c, ..)| *c == id)
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

async fn column(conn: &mut Conn, id: NewsColumnId) -> Result<Option<NewsColumn>, StoreError> {
    Ok(columns(conn).await?.into_iter().find(|c| c.id == id))
}

/// What the actor may do in `column` (the server: everything).
async fn rights(ctx: &mut Ctx<'_>, column: NewsColumnId) -> Result<ColumnRights, CommandError> {
    let user = match ctx.actor() {
        Actor::System => {
            return Ok(ColumnRights {
                read: true,
                edit: true,
            })
        }
        Actor::User(user) => user.id,
    };
    access::news_column(ctx.conn(), user, column)
        .await?
        .ok_or_else(|| Denied::NotFound("news column").into())
}

/// Refuses unless the actor edits `column`.
async fn require_editor(ctx: &mut Ctx<'_>, column: NewsColumnId) -> Result<(), CommandError> {
    if rights(ctx, column).await?.edit {
        Ok(())
    } else {
        Err(CommandError::Forbidden(
            "only the column's editors write its stories".into(),
        ))
    }
}

/// The published story, if the actor may read it (unknown and unreadable look the same).
async fn readable(ctx: &mut Ctx<'_>, id: StoryId) -> Result<Story, CommandError> {
    let gone = || CommandError::from(Denied::NotFound("story"));
    let story = load(ctx.conn(), id).await?.ok_or_else(gone)?;
    if story.status != StoryStatus::Published || !rights(ctx, story.fields.column).await?.read {
        return Err(gone());
    }
    Ok(story)
}

/// A story an editor works on (unknown and not theirs look the same).
async fn editable(ctx: &mut Ctx<'_>, id: StoryId) -> Result<Story, CommandError> {
    let story = load(ctx.conn(), id)
        .await?
        .ok_or_else(|| Denied::NotFound("story"))?;
    if !rights(ctx, story.fields.column).await?.edit {
        return Err(Denied::NotFound("story").into());
    }
    Ok(story)
}

async fn editors_of(conn: &mut Conn, column: NewsColumnId) -> Result<Vec<UserId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT e.user_id FROM news_editors e JOIN users u ON u.id = e.user_id
         WHERE e.column_id = $1 AND u.deactivated = 0 ORDER BY e.user_id",
    )
    .bind(column.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Tells the story as it now is to the people who work on it: its column's editors, its
/// author and whoever changed it (an admin), in their user scopes.
async fn tell_editors(ctx: &mut Ctx<'_>, story: &Story) -> Result<(), CommandError> {
    let mut to: BTreeSet<UserId> = editors_of(ctx.conn(), story.fields.column)
        .await?
        .into_iter()
        .collect();
    // Its author and an admin who changed it, while they may edit the column (an author no
    // longer its editor hears nothing more of its drafts).
    let mut others = vec![story.author.id];
    if let Actor::User(user) = ctx.actor() {
        others.push(user.id);
    }
    for user in others {
        if access::news_column(ctx.conn(), user, story.fields.column)
            .await?
            .is_some_and(|r| r.edit)
        {
            to.insert(user);
        }
    }
    for user in to {
        ctx.append(
            Scope::User(user),
            xietong::news::NewsEvent::StorySaved {
                story: story.clone(),
            },
        )
        .await?;
    }
    Ok(())
}

fn changed(story: &Story) -> CommandOutput {
    CommandOutput::StoryChanged {
        story: story.id,
        status: story.status,
    }
}

fn column_name(name: &str) -> Result<&str, CommandError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(CommandError::Invalid(
            "a news column is named in 1 to 64 characters".into(),
        ));
    }
    Ok(name)
}

/// Who may read a column now: its audience and its editors.
async fn column_readers(
    conn: &mut Conn,
    column: &NewsColumn,
) -> Result<BTreeSet<UserId>, StoreError> {
    let mut readers = crate::org::audience::resolve(conn, &column.audience).await?;
    readers.extend(editors_of(conn, column.id).await?);
    Ok(readers)
}

pub async fn save_column(
    ctx: &mut Ctx<'_>,
    command: &SaveNewsColumn,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let name = column_name(&command.name)?.to_owned();
    let audience = crate::org::audience::checked(ctx.conn(), &command.audience).await?;
    let editors = crate::org::audience::known_people(ctx.conn(), &command.editors).await?;
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM news_columns WHERE lower(name) = lower($1) AND id <> $2",
    )
    .bind(&name)
    .bind(command.column.map_or(0, |c| c.0))
    .fetch_optional(ctx.conn())
    .await?;
    if taken.is_some() {
        return Err(CommandError::Conflict(format!(
            "there is a news column {name} already"
        )));
    }
    let audience_json = serde_json::to_string(&audience).map_err(StoreError::from)?;
    let (id, before) = match command.column {
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO news_columns (name, audience, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&name)
            .bind(&audience_json)
            .bind(ctx.now())
            .fetch_one(ctx.conn())
            .await?;
            (NewsColumnId(id), None)
        }
        Some(id) => {
            let before = column(ctx.conn(), id)
                .await?
                .ok_or_else(|| Denied::NotFound("news column"))?;
            let readers = column_readers(ctx.conn(), &before).await?;
            sqlx::query("UPDATE news_columns SET name = $1, audience = $2 WHERE id = $3")
                .bind(&name)
                .bind(&audience_json)
                .bind(id.0)
                .execute(ctx.conn())
                .await?;
            (id, Some(readers))
        }
    };
    crate::org::audience::replace_listed(ctx.conn(), "news_editors", "column_id", id.0, &editors)
        .await?;
    crate::org::audience::replace_audience(
        ctx.conn(),
        "news_audience",
        "column_id",
        id.0,
        &audience,
    )
    .await?;
    let saved = column(ctx.conn(), id)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    if let Some(before) = before {
        // Admins keep reading every column; the others who left it stop following it.
        let now_in = column_readers(ctx.conn(), &saved).await?;
        let mut revoked = Vec::new();
        for user in before.difference(&now_in) {
            if access::news_column(ctx.conn(), *user, id)
                .await?
                .is_some_and(|r| !r.read)
            {
                revoked.push(*user);
            }
        }
        if !revoked.is_empty() {
            ctx.append(
                Scope::News(id),
                xietong::news::NewsEvent::NewsAccessChanged {
                    column: id,
                    revoked,
                },
            )
            .await?;
        }
    }
    ctx.append(
        Scope::Workspace,
        xietong::news::NewsEvent::NewsColumnSaved { column: saved },
    )
    .await?;
    Ok(CommandOutput::NewsColumnSaved { column: id })
}

pub async fn save_story(
    ctx: &mut Ctx<'_>,
    command: &SaveStory,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    command.fields.validate()?;
    require_editor(ctx, command.fields.column).await?;
    let mut fields = command.fields.clone();
    fields.title = fields.title.trim().to_owned();
    fields.summary = fields.summary.trim().to_owned();
    let html = crate::chat::markdown::render(&fields.body, &[]);
    let now = ctx.now();
    let (id, before) = match command.story {
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO stories (column_id, author_id, title, summary, body, html, publish_at,
                                      pinned, status, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9) RETURNING id",
            )
            .bind(fields.column.0)
            .bind(me.id.0)
            .bind(&fields.title)
            .bind(&fields.summary)
            .bind(&fields.body)
            .bind(&html)
            .bind(fields.publish_at)
            .bind(i64::from(fields.pinned))
            .bind(now)
            .fetch_one(ctx.conn())
            .await?;
            (StoryId(id), None)
        }
        Some(id) => {
            let before = editable(ctx, id).await?;
            if before.status == StoryStatus::Withdrawn {
                return Err(CommandError::Conflict(
                    "a withdrawn story cannot be changed".into(),
                ));
            }
            sqlx::query(
                "UPDATE stories SET column_id = $1, title = $2, summary = $3, body = $4, html = $5,
                                    publish_at = $6, pinned = $7, updated_at = $8
                 WHERE id = $9",
            )
            .bind(fields.column.0)
            .bind(&fields.title)
            .bind(&fields.summary)
            .bind(&fields.body)
            .bind(&html)
            .bind(fields.publish_at)
            .bind(i64::from(fields.pinned))
            .bind(now)
            .bind(id.0)
            .execute(ctx.conn())
            .await?;
            (id, Some(before))
        }
    };
    update_files(ctx, id, command).await?;
    let story = load_known(ctx.conn(), id).await?;
    if let Some(before) = before.filter(|b| b.status == StoryStatus::Published) {
        if before.fields.column != story.fields.column {
            ctx.append(
                Scope::News(before.fields.column),
                xietong::news::NewsEvent::StoryRemoved { story: id },
            )
            .await?;
        }
        ctx.append(
            Scope::News(story.fields.column),
            xietong::news::NewsEvent::StorySaved {
                story: story.clone(),
            },
        )
        .await?;
    }
    tell_editors(ctx, &story).await?;
    Ok(changed(&story))
}

/// A new cover replaces the old one; attachments are added and removed as asked.
async fn update_files(
    ctx: &mut Ctx<'_>,
    id: StoryId,
    command: &SaveStory,
) -> Result<(), CommandError> {
    if command.cover.is_some() || command.remove_cover {
        sqlx::query("DELETE FROM files WHERE story_id = $1 AND is_cover = 1")
            .bind(id.0)
            .execute(ctx.conn())
            .await?;
    }
    if let Some(cover) = &command.cover {
        crate::files::attach(
            ctx,
            std::slice::from_ref(cover),
            crate::files::AttachTo::Story {
                story: id,
                cover: true,
            },
        )
        .await?;
    }
    if command.remove_attachments.len() > MAX_STORY_FILES {
        return Err(CommandError::Invalid(format!(
            "at most {MAX_STORY_FILES} files per story"
        )));
    }
    for file in &command.remove_attachments {
        sqlx::query("DELETE FROM files WHERE id = $1 AND story_id = $2 AND is_cover = 0")
            .bind(file.0)
            .bind(id.0)
            .execute(ctx.conn())
            .await?;
    }
    if !command.attachments.is_empty() {
        let had: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE story_id = $1 AND is_cover = 0")
                .bind(id.0)
                .fetch_one(ctx.conn())
                .await?;
        if had as usize + command.attachments.len() > MAX_STORY_FILES {
            return Err(CommandError::Invalid(format!(
                "at most {MAX_STORY_FILES} files per story"
            )));
        }
        crate::files::attach(
            ctx,
            &command.attachments,
            crate::files::AttachTo::Story {
                story: id,
                cover: false,
            },
        )
        .await?;
    }
    Ok(())
}

pub async fn publish(
    ctx: &mut Ctx<'_>,
    command: &PublishStory,
) -> Result<CommandOutput, CommandError> {
    let story = editable(ctx, command.story).await?;
    if story.status != StoryStatus::Draft {
        return Err(CommandError::Conflict("only a draft is published".into()));
    }
    if story.fields.publish_at.is_some_and(|at| at > ctx.now()) {
        set_status(ctx, story.id, StoryStatus::Scheduled).await?;
        let story = load_known(ctx.conn(), story.id).await?;
        tell_editors(ctx, &story).await?;
        return Ok(changed(&story));
    }
    release(ctx, story.id).await
}

async fn set_status(
    ctx: &mut Ctx<'_>,
    id: StoryId,
    status: StoryStatus,
) -> Result<(), CommandError> {
    sqlx::query("UPDATE stories SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(ctx.now())
        .bind(id.0)
        .execute(ctx.conn())
        .await?;
    Ok(())
}

/// Publishes a draft or scheduled story now (once, however many nodes try).
async fn release(ctx: &mut Ctx<'_>, id: StoryId) -> Result<CommandOutput, CommandError> {
    let done = sqlx::query(
        "UPDATE stories SET status = 'published', published_at = $1, updated_at = $1
         WHERE id = $2 AND (status = 'draft'
                            OR (status = 'scheduled' AND (publish_at IS NULL OR publish_at <= $1)))",
    )
    .bind(ctx.now())
    .bind(id.0)
    .execute(ctx.conn())
    .await?
    .rows_affected();
    let story = load_known(ctx.conn(), id).await?;
    if done == 1 {
        ctx.append(
            Scope::News(story.fields.column),
            xietong::news::NewsEvent::StorySaved {
                story: story.clone(),
            },
        )
        .await?;
        tell_editors(ctx, &story).await?;
    }
    Ok(changed(&story))
}

pub async fn release_due(
    ctx: &mut Ctx<'_>,
    command: &ReleaseStory,
) -> Result<CommandOutput, CommandError> {
    if !matches!(ctx.actor(), Actor::System) {
        return Err(CommandError::Forbidden(
            "only the server releases stories".into(),
        ));
    }
    let story = load(ctx.conn(), command.story)
        .await?
        .ok_or_else(|| Denied::NotFound("story"))?;
    if story.status != StoryStatus::Scheduled
        || story.fields.publish_at.is_some_and(|at| at > ctx.now())
    {
        return Ok(changed(&story));
    }
    release(ctx, story.id).await
}

pub async fn withdraw(
    ctx: &mut Ctx<'_>,
    command: &WithdrawStory,
) -> Result<CommandOutput, CommandError> {
    let story = editable(ctx, command.story).await?;
    if !matches!(
        story.status,
        StoryStatus::Published | StoryStatus::Scheduled
    ) {
        return Err(CommandError::Conflict(
            "only a published or scheduled story is withdrawn".into(),
        ));
    }
    set_status(ctx, story.id, StoryStatus::Withdrawn).await?;
    withdraw_cards(ctx, story.id).await?;
    if story.status == StoryStatus::Published {
        ctx.append(
            Scope::News(story.fields.column),
            xietong::news::NewsEvent::StoryRemoved { story: story.id },
        )
        .await?;
    }
    let story = load_known(ctx.conn(), story.id).await?;
    tell_editors(ctx, &story).await?;
    Ok(changed(&story))
}

pub async fn view(ctx: &mut Ctx<'_>, command: &ViewStory) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let story = readable(ctx, command.story).await?;
    let first = sqlx::query(
        "INSERT INTO story_views (story_id, user_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(story.id.0)
    .bind(me.0)
    .bind(ctx.now())
    .execute(ctx.conn())
    .await?
    .rows_affected();
    if first == 1 {
        sqlx::query("UPDATE stories SET views = views + 1 WHERE id = $1")
            .bind(story.id.0)
            .execute(ctx.conn())
            .await?;
    }
    Ok(CommandOutput::StoryCounted {
        story: story.id,
        seq: None,
    })
}

/// Takes the column's lock: likes, comments and hiding recount a story's totals, which two
/// writers at once (PostgreSQL, read committed) would each count without the other.
async fn lock_column(ctx: &mut Ctx<'_>, story: &Story) -> Result<(), CommandError> {
    Ok(store::lock_scope(ctx.conn(), Scope::News(story.fields.column)).await?)
}

pub async fn like(ctx: &mut Ctx<'_>, command: &LikeStory) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let story = readable(ctx, command.story).await?;
    lock_column(ctx, &story).await?;
    let changed = if command.like {
        sqlx::query(
            "INSERT INTO story_likes (story_id, user_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(story.id.0)
        .bind(me.0)
        .bind(ctx.now())
        .execute(ctx.conn())
        .await?
    } else {
        sqlx::query("DELETE FROM story_likes WHERE story_id = $1 AND user_id = $2")
            .bind(story.id.0)
            .bind(me.0)
            .execute(ctx.conn())
            .await?
    }
    .rows_affected();
    if changed == 0 {
        return Ok(CommandOutput::StoryCounted {
            story: story.id,
            seq: None,
        });
    }
    let likes: i64 = sqlx::query_scalar(
        "UPDATE stories SET likes = (SELECT COUNT(*) FROM story_likes WHERE story_id = $1)
         WHERE id = $1 RETURNING likes",
    )
    .bind(story.id.0)
    .fetch_one(ctx.conn())
    .await?;
    let seq = ctx
        .append(
            Scope::News(story.fields.column),
            xietong::news::NewsEvent::StoryLiked {
                story: story.id,
                by: me,
                liked: command.like,
                likes: u32::try_from(likes).unwrap_or(0),
            },
        )
        .await?;
    Ok(CommandOutput::StoryCounted {
        story: story.id,
        seq: Some(seq),
    })
}

/// Recounts a story's visible comments.
async fn recount_comments(ctx: &mut Ctx<'_>, story: StoryId) -> Result<u32, CommandError> {
    let n: i64 = sqlx::query_scalar(
        "UPDATE stories SET comments =
             (SELECT COUNT(*) FROM story_comments WHERE story_id = $1 AND hidden = 0)
         WHERE id = $1 RETURNING comments",
    )
    .bind(story.0)
    .fetch_one(ctx.conn())
    .await?;
    Ok(u32::try_from(n).unwrap_or(0))
}

async fn load_comment(
    conn: &mut Conn,
    id: StoryCommentId,
) -> Result<Option<StoryComment>, StoreError> {
    let row: Option<(i64, i64, i64, String, String, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.story_id, c.author_id, u.username, c.text, c.at, c.hidden
         FROM story_comments c JOIN users u ON u.id = c.author_id WHERE c.id = $1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(comment_from))
}

fn comment_from(
    (id, story, author, username, text, at, hidden): (i64, i64, i64, String, String, i64, i64),
) -> StoryComment {
    StoryComment {
        id: StoryCommentId(id),
        story: StoryId(story),
        author: UserRef {
            id: UserId(author),
            username,
        },
        html: crate::chat::markdown::render(&text, &[]),
        text,
        at,
        hidden: hidden != 0,
    }
}

pub async fn comment(
    ctx: &mut Ctx<'_>,
    command: &CommentOnStory,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let text = validate_comment(&command.text)?.to_owned();
    let story = readable(ctx, command.story).await?;
    lock_column(ctx, &story).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO story_comments (story_id, author_id, text, at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(story.id.0)
    .bind(me.id.0)
    .bind(&text)
    .bind(ctx.now())
    .fetch_one(ctx.conn())
    .await?;
    let comments = recount_comments(ctx, story.id).await?;
    let comment = load_comment(ctx.conn(), StoryCommentId(id))
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    ctx.append(
        Scope::News(story.fields.column),
        xietong::news::NewsEvent::StoryCommented { comment, comments },
    )
    .await?;
    if story.author.id != me.id && access::story(ctx.conn(), story.author.id, story.id).await? {
        crate::notify::raise(
            ctx,
            crate::notify::Raise {
                note: Note {
                    module: Module::News,
                    item: story.id.0,
                    title: story.fields.title.clone(),
                    text,
                    from: Some(me.user_ref()),
                    urgent: false,
                    href: story.href(),
                },
                to: &[story.author.id],
                escalate: None,
                outside_only: false,
            },
        )
        .await?;
    }
    Ok(CommandOutput::StoryCommentChanged {
        comment: StoryCommentId(id),
    })
}

pub async fn hide_comment(
    ctx: &mut Ctx<'_>,
    command: &HideStoryComment,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.id;
    let gone = || CommandError::from(Denied::NotFound("comment"));
    let comment = load_comment(ctx.conn(), command.comment)
        .await?
        .ok_or_else(gone)?;
    let story = load(ctx.conn(), comment.story).await?.ok_or_else(gone)?;
    let rights = rights(ctx, story.fields.column).await?;
    if !rights.read {
        return Err(gone());
    }
    if !rights.edit {
        return Err(CommandError::Forbidden(
            "only an admin or the column's editors moderate comments".into(),
        ));
    }
    if comment.hidden == command.hidden {
        return Ok(CommandOutput::StoryCommentChanged {
            comment: comment.id,
        });
    }
    lock_column(ctx, &story).await?;
    sqlx::query("UPDATE story_comments SET hidden = $1, hidden_by = $2 WHERE id = $3")
        .bind(i64::from(command.hidden))
        .bind(command.hidden.then_some(me.0))
        .bind(comment.id.0)
        .execute(ctx.conn())
        .await?;
    let comments = recount_comments(ctx, story.id).await?;
    let body = if command.hidden {
        xietong::news::NewsEvent::StoryCommentHidden {
            story: story.id,
            comment: comment.id,
            hidden: true,
            comments,
        }
    } else {
        // Shown again: readers need its text back.
        let comment = StoryComment {
            hidden: false,
            ..comment.clone()
        };
        xietong::news::NewsEvent::StoryCommented { comment, comments }
    };
    // A story no longer published has no readers to tell (its column's log keeps no text of it).
    if story.status == StoryStatus::Published {
        ctx.append(Scope::News(story.fields.column), body).await?;
    }
    Ok(CommandOutput::StoryCommentChanged {
        comment: comment.id,
    })
}

/// Shares a story into a channel as a card — only a story of a column for everyone: a card is
/// a copy in the channel's history, which people added to the channel later read too, so a
/// story for some people only is never made one.
pub async fn share(ctx: &mut Ctx<'_>, command: &ShareStory) -> Result<CommandOutput, CommandError> {
    let story = readable(ctx, command.story).await?;
    // Holds the story's row: a withdrawal at the same moment comes wholly before this share
    // (refused here) or after it (and then finds this card).
    let held =
        sqlx::query("UPDATE stories SET status = status WHERE id = $1 AND status = 'published'")
            .bind(story.id.0)
            .execute(ctx.conn())
            .await?
            .rows_affected();
    if held == 0 {
        return Err(Denied::NotFound("story").into());
    }
    ctx.require(Scope::Channel(command.channel), access::Need::Write)
        .await?;
    let column = column(ctx.conn(), story.fields.column)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    if !column.audience.contains(&AudienceMember::Everyone) {
        return Err(CommandError::Forbidden(
            "only stories of a column for everyone are shared into conversations".into(),
        ));
    }
    let card = Card::Story(StoryCard {
        story: story.id,
        title: story.fields.title.clone(),
        summary: story.fields.summary.clone(),
        column: column.name,
        cover: story.cover.clone(),
        withdrawn: false,
    });
    let posted = crate::chat::commands::post(
        ctx,
        &PostMessage {
            channel: command.channel,
            body: command.text.clone(),
            thread: None,
            attachments: Vec::new(),
        },
        Some(card),
    )
    .await?;
    if let CommandOutput::MessagePosted { message, .. } = &posted {
        sqlx::query("UPDATE messages SET card_story = $1 WHERE id = $2")
            .bind(story.id.0)
            .bind(message.0)
            .execute(ctx.conn())
            .await?;
    }
    Ok(posted)
}

/// A withdrawn story's cards in conversations show only that it was withdrawn, live and in
/// every history fetched after.
async fn withdraw_cards(ctx: &mut Ctx<'_>, story: StoryId) -> Result<(), CommandError> {
    let cards: Vec<(i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT id, channel_id, card FROM messages WHERE card_story = $1 ORDER BY id",
    )
    .bind(story.0)
    .fetch_all(ctx.conn())
    .await?;
    for (message, channel, card) in cards {
        let Some(Card::Story(shown)) =
            card.and_then(|c| crate::chat::queries::stored_card(&c, xietong::MessageId(message)))
        else {
            continue;
        };
        if shown.withdrawn {
            continue;
        }
        let gone = Card::Story(StoryCard {
            story,
            title: String::new(),
            summary: String::new(),
            column: shown.column,
            cover: None,
            withdrawn: true,
        });
        sqlx::query("UPDATE messages SET card = $1 WHERE id = $2")
            .bind(serde_json::to_string(&gone).map_err(StoreError::from)?)
            .bind(message)
            .execute(ctx.conn())
            .await?;
        ctx.append(
            Scope::Channel(xietong::ChannelId(channel)),
            xietong::chat::ChatEvent::MessageCardChanged {
                message: xietong::MessageId(message),
                card: Some(gone),
            },
        )
        .await?;
    }
    Ok(())
}

/// Publishes scheduled stories whose time has come, every few seconds, on every node (one
/// released twice is released once: the second finds it published).
pub async fn release_now_and_then(
    store: Store,
    log: crate::events::EventLog,
    stop: CancellationToken,
) {
    crate::command::run_due_now_and_then(
        store,
        log,
        stop,
        "SELECT id FROM stories
         WHERE status = 'scheduled' AND (publish_at IS NULL OR publish_at <= $1)
         ORDER BY id LIMIT 50",
        |id| xietong::Command::ReleaseStory(ReleaseStory { story: StoryId(id) }),
        "publish a scheduled story",
    )
    .await
}

/// The news page for `user`.
pub async fn board(store: &Store, user: &CurrentUser) -> Result<NewsBoard, Denied> {
    let mut tx = store.read().await?;
    let head = store::head(&mut tx, Scope::User(user.id)).await?;
    let workspace_head = store::head(&mut tx, Scope::Workspace).await?;
    let mut columns_out = Vec::new();
    let mut column_heads = Vec::new();
    for column in columns(&mut tx).await? {
        let rights = access::news_column(&mut tx, user.id, column.id)
            .await?
            .unwrap_or_default();
        if rights.read {
            column_heads.push((
                column.id,
                store::head(&mut tx, Scope::News(column.id)).await?,
            ));
        }
        columns_out.push((column, rights));
    }
    let readable: Vec<i64> = columns_out
        .iter()
        .filter(|(_, r)| r.read)
        .map(|(c, _)| c.id.0)
        .collect();
    let edited: Vec<i64> = columns_out
        .iter()
        .filter(|(_, r)| r.edit)
        .map(|(c, _)| c.id.0)
        .collect();
    let mut stories = Vec::new();
    if !readable.is_empty() {
        // Published stories of the columns I read; every story of the columns I edit.
        let edited_list = if edited.is_empty() {
            "0".to_owned()
        } else {
            crate::org::audience::placeholders(3 + readable.len(), edited.len())
        };
        let sql = format!(
            "SELECT {STORY_COLUMNS}, (SELECT COUNT(*) FROM story_likes l
                                      WHERE l.story_id = s.id AND l.user_id = $1) AS mine
             FROM stories s JOIN users u ON u.id = s.author_id
             WHERE (s.status = 'published' AND s.column_id IN ({}))
                OR s.column_id IN ({edited_list})
             ORDER BY COALESCE(s.published_at, s.updated_at) DESC, s.id DESC
             LIMIT $2",
            crate::org::audience::placeholders(3, readable.len()),
        );
        let mut query = sqlx::query(&sql).bind(user.id.0).bind(BOARD_LIMIT);
        for id in readable.iter().chain(edited.iter()) {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *tx).await? {
            let mut story = story_from_row(&row)?;
            story.liked = row.try_get::<i64, _>("mine")? > 0;
            stories.push(story);
        }
        add_files(&mut tx, &mut stories).await?;
    }
    tx.commit().await?;
    let mut board = NewsBoard {
        me: user.id,
        head,
        workspace_head,
        column_heads,
        columns: columns_out,
        stories,
        stale: false,
    };
    board.sort();
    Ok(board)
}

/// One story's comments, for someone who may read it (moderators see hidden ones too).
pub async fn comments(
    store: &Store,
    user: &CurrentUser,
    id: StoryId,
) -> Result<StoryComments, Denied> {
    let mut tx = store.read().await?;
    let story = load(&mut tx, id).await?.ok_or(Denied::NotFound("story"))?;
    if !access::story(&mut tx, user.id, id).await? {
        return Err(Denied::NotFound("story"));
    }
    let rights = access::news_column(&mut tx, user.id, story.fields.column)
        .await?
        .unwrap_or_default();
    let head = store::head(&mut tx, Scope::News(story.fields.column)).await?;
    let rows: Vec<(i64, i64, i64, String, String, i64, i64)> = sqlx::query_as(
        "SELECT * FROM (
             SELECT c.id, c.story_id, c.author_id, u.username, c.text, c.at, c.hidden
             FROM story_comments c JOIN users u ON u.id = c.author_id
             WHERE c.story_id = $1 AND (c.hidden = 0 OR $2 = 1)
             ORDER BY c.at DESC, c.id DESC LIMIT $3) newest
         ORDER BY at, id",
    )
    .bind(id.0)
    .bind(i64::from(rights.edit))
    .bind(COMMENTS_LIMIT)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(StoryComments {
        story: id,
        column: story.fields.column,
        head,
        moderator: rights.edit,
        comments: rows.into_iter().map(comment_from).collect(),
    })
}
