//! 通知公告 (notices). A notice is its author's until published: drafts and reviews live in
//! the author's (and reviewers') user scopes. Released, its audience is resolved to people,
//! each recorded as a recipient (their read and acknowledgement times), told in their user
//! scope (`notice_saved`) and notified through the notification centre (email and SMS at once,
//! or as an escalation for those who have not read it in time). Reads and acknowledgements
//! reach the author's user scope (`notice_read_by`), which feeds the live "Read" / "Not read"
//! lists. A revision of a published notice is a new revision number: readers see what changed
//! and acknowledge again.

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::Row;
use tokio_util::sync::CancellationToken;
use xietong::notices::*;
use xietong::notify::{Module, Note};
use xietong::org::AudienceMember;
use xietong::{
    CommandOutput, CurrentUser, NoticeId, NoticeTypeId, RoleId, Scope, UserId, UserRef,
    ValidationError,
};

use crate::access::{self, Denied};
use crate::command::{Actor, CommandError, Ctx};
use crate::store::{self, Conn, Store, StoreError};

/// The searchbox finds a notice published to the reader (withdrawn: no longer), and the
/// author's own in any state.
pub const SEARCHABLE: crate::search::items::Searchable = crate::search::items::Searchable {
    module: Module::Notices,
    items: "SELECT x.id, x.title, x.body, u.username AS author,
                   COALESCE(x.published_at, x.updated_at) AS at
            FROM notices x JOIN users u ON u.id = x.author_id",
    readable:
        "SELECT r.notice_id AS id FROM notice_recipients r JOIN notices n ON n.id = r.notice_id
               WHERE r.user_id = $1 AND n.status = 'published'
               UNION SELECT id FROM notices WHERE author_id = $1",
    href: |id| format!("/notices?n={id}"),
};

/// Recipients written per statement.
const CHUNK: usize = 200;
/// Notices a board lists at most.
const BOARD_LIMIT: i64 = 200;
/// What changed is shown up to this many lines.
const MAX_CHANGED_LINES: usize = 200;

const COLUMNS: &str =
    "n.id, n.type_id, n.author_id, u.username, n.title, n.body, n.html, n.audience,
     n.valid_from, n.valid_until, n.pinned_until, n.requires_ack, n.urgent, n.escalate_after,
     n.status, n.revision, n.revision_note, n.changes, n.review_note, n.published_at,
     n.updated_at";

fn notice_from_row(r: &store::DbRow) -> Result<Notice, StoreError> {
    let audience: Vec<AudienceMember> = serde_json::from_str(&r.try_get::<String, _>("audience")?)?;
    let changes: Vec<ChangedLine> = serde_json::from_str(&r.try_get::<String, _>("changes")?)?;
    Ok(Notice {
        id: NoticeId(r.try_get("id")?),
        fields: NoticeFields {
            kind: NoticeTypeId(r.try_get("type_id")?),
            title: r.try_get("title")?,
            body: r.try_get("body")?,
            audience,
            valid_from: r.try_get("valid_from")?,
            valid_until: r.try_get("valid_until")?,
            pinned_until: r.try_get("pinned_until")?,
            requires_ack: store::flag(r, "requires_ack")?,
            urgent: store::flag(r, "urgent")?,
            escalate_after_minutes: r
                .try_get::<Option<i64>, _>("escalate_after")?
                .and_then(|m| u32::try_from(m).ok()),
        },
        html: r.try_get("html")?,
        author: UserRef {
            id: UserId(r.try_get("author_id")?),
            username: r.try_get("username")?,
        },
        status: NoticeStatus::parse(&r.try_get::<String, _>("status")?)
            .unwrap_or(NoticeStatus::Draft),
        revision: u32::try_from(r.try_get::<i64, _>("revision")?).unwrap_or(0),
        revision_note: r.try_get("revision_note")?,
        changes,
        review_note: r.try_get("review_note")?,
        published_at: r.try_get("published_at")?,
        updated_at: r.try_get("updated_at")?,
        read_at: None,
        acknowledged_at: None,
        attachments: Vec::new(),
        abridged: false,
    })
}

/// Fills in each notice's attachments.
async fn with_files(conn: &mut Conn, notices: &mut [Notice]) -> Result<(), StoreError> {
    let ids: Vec<i64> = notices.iter().map(|n| n.id.0).collect();
    let mut files = crate::files::attached(conn, crate::files::Holder::Notice, &ids).await?;
    for notice in notices {
        notice.attachments = files.remove(&notice.id.0).unwrap_or_default();
    }
    Ok(())
}

async fn load(conn: &mut Conn, id: NoticeId) -> Result<Option<Notice>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notices n JOIN users u ON u.id = n.author_id WHERE n.id = $1"
    );
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    let mut notice = row.as_ref().map(notice_from_row).transpose()?;
    if let Some(notice) = &mut notice {
        with_files(conn, std::slice::from_mut(notice)).await?;
    }
    Ok(notice)
}

/// Attaches the uploads and takes off the files a save asks for; what that changed, as
/// lines for a revision's changes.
async fn change_files(
    ctx: &mut Ctx<'_>,
    id: NoticeId,
    command: &SaveNotice,
) -> Result<Vec<ChangedLine>, CommandError> {
    let mut lines = Vec::new();
    if command.remove_attachments.len() > xietong::limits::MAX_ATTACHMENTS {
        return Err(CommandError::Invalid(format!(
            "at most {} files per notice",
            xietong::limits::MAX_ATTACHMENTS
        )));
    }
    for file in &command.remove_attachments {
        let name: Option<String> =
            sqlx::query_scalar("DELETE FROM files WHERE id = $1 AND notice_id = $2 RETURNING name")
                .bind(file.0)
                .bind(id.0)
                .fetch_optional(ctx.conn())
                .await?;
        if let Some(name) = name {
            lines.push(ChangedLine {
                op: '-',
                text: format!("📎 {name}"),
            });
        }
    }
    if !command.attachments.is_empty() {
        let had: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE notice_id = $1")
            .bind(id.0)
            .fetch_one(ctx.conn())
            .await?;
        if had as usize + command.attachments.len() > xietong::limits::MAX_ATTACHMENTS {
            return Err(CommandError::Invalid(format!(
                "at most {} files per notice",
                xietong::limits::MAX_ATTACHMENTS
            )));
        }
        for file in crate::files::attach(
            ctx,
            &command.attachments,
            crate::files::AttachTo::Notice(id),
        )
        .await?
        {
            lines.push(ChangedLine {
                op: '+',
                text: format!("📎 {}", file.name),
            });
        }
    }
    Ok(lines)
}

async fn notice_type(conn: &mut Conn, id: NoticeTypeId) -> Result<Option<NoticeType>, StoreError> {
    let row: Option<(i64, String, Option<i64>)> =
        sqlx::query_as("SELECT id, name, review_role FROM notice_types WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(id, name, role)| NoticeType {
        id: NoticeTypeId(id),
        name,
        review_role: role.map(RoleId),
    }))
}

pub async fn types(conn: &mut Conn) -> Result<Vec<NoticeType>, StoreError> {
    let rows: Vec<(i64, String, Option<i64>)> =
        sqlx::query_as("SELECT id, name, review_role FROM notice_types ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, role)| NoticeType {
            id: NoticeTypeId(id),
            name,
            review_role: role.map(RoleId),
        })
        .collect())
}

async fn has_role(conn: &mut Conn, user: UserId, role: RoleId) -> Result<bool, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT user_id FROM user_roles WHERE user_id = $1 AND role_id = $2")
            .bind(user.0)
            .bind(role.0)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

/// Whether `user` needs a reviewer to publish a notice of type `kind`.
async fn needs_review(
    conn: &mut Conn,
    user: UserId,
    kind: NoticeTypeId,
) -> Result<bool, StoreError> {
    match notice_type(conn, kind).await?.and_then(|t| t.review_role) {
        Some(role) => Ok(!has_role(conn, user, role).await?),
        None => Ok(false),
    }
}

async fn people_with_role(conn: &mut Conn, role: RoleId) -> Result<Vec<UserId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT r.user_id FROM user_roles r JOIN users u ON u.id = r.user_id
         WHERE r.role_id = $1 AND u.deactivated = 0 ORDER BY r.user_id",
    )
    .bind(role.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

async fn recipients(conn: &mut Conn, id: NoticeId) -> Result<Vec<UserId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT user_id FROM notice_recipients WHERE notice_id = $1 ORDER BY user_id",
    )
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Tells each of `users` the notice as it now is.
/// Readers and reviewers are told it without its text (they fetch that on opening it); its
/// author has it whole.
async fn announce(
    ctx: &mut Ctx<'_>,
    users: &[UserId],
    notice: &Notice,
) -> Result<(), CommandError> {
    let abridged = notice.clone().abridged();
    for user in users {
        let told = if *user == notice.author.id {
            notice
        } else {
            &abridged
        };
        ctx.append(
            Scope::User(*user),
            xietong::notices::NoticeEvent::NoticeSaved {
                notice: told.clone(),
            },
        )
        .await?;
    }
    Ok(())
}

fn note_for(notice: &Notice, text: String) -> Note {
    Note {
        module: Module::Notices,
        item: notice.id.0,
        title: notice.fields.title.clone(),
        text,
        from: Some(notice.author.clone()),
        urgent: notice.fields.urgent,
        href: format!("/notices?n={}", notice.id),
    }
}

fn plain_start(body: &str) -> String {
    body.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub async fn define_type(
    ctx: &mut Ctx<'_>,
    command: &DefineNoticeType,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let name = command.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(CommandError::Invalid(
            "a notice type is named in 1 to 64 characters".into(),
        ));
    }
    if let Some(role) = command.review_role {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM roles WHERE id = $1")
            .bind(role.0)
            .fetch_optional(ctx.conn())
            .await?;
        if found.is_none() {
            return Err(CommandError::NotFound("no such role".into()));
        }
    }
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM notice_types WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(ctx.conn())
            .await?;
    if taken.is_some() {
        return Err(CommandError::Conflict(format!(
            "there is a notice type {name} already"
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notice_types (name, review_role, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(command.review_role.map(|r| r.0))
    .bind(ctx.now())
    .fetch_one(ctx.conn())
    .await?;
    let kind = NoticeType {
        id: NoticeTypeId(id),
        name: name.to_owned(),
        review_role: command.review_role,
    };
    ctx.append(
        Scope::Workspace,
        xietong::notices::NoticeEvent::NoticeTypeSaved { kind },
    )
    .await?;
    Ok(CommandOutput::NoticeTypeChanged {
        kind: NoticeTypeId(id),
    })
}

pub async fn remove_type(
    ctx: &mut Ctx<'_>,
    command: &RemoveNoticeType,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    if notice_type(ctx.conn(), command.kind).await?.is_none() {
        return Err(CommandError::NotFound("no such notice type".into()));
    }
    let used: Option<i64> = sqlx::query_scalar("SELECT id FROM notices WHERE type_id = $1 LIMIT 1")
        .bind(command.kind.0)
        .fetch_optional(ctx.conn())
        .await?;
    if used.is_some() {
        return Err(CommandError::Conflict("notices of this type exist".into()));
    }
    sqlx::query("DELETE FROM notice_types WHERE id = $1")
        .bind(command.kind.0)
        .execute(ctx.conn())
        .await?;
    ctx.append(
        Scope::Workspace,
        xietong::notices::NoticeEvent::NoticeTypeRemoved { kind: command.kind },
    )
    .await?;
    Ok(CommandOutput::NoticeTypeChanged { kind: command.kind })
}

/// What a revision changed: the title's and the body's lines, removed and added.
fn changed_lines(before: &NoticeFields, after: &NoticeFields) -> Vec<ChangedLine> {
    let old = format!("{}\n\n{}", before.title.trim(), before.body);
    let new = format!("{}\n\n{}", after.title.trim(), after.body);
    // Bounded: a pathological pair of texts must not hold the writer.
    let diff = similar::TextDiff::configure()
        .timeout(Duration::from_millis(100))
        .diff_lines(&old, &new);
    diff.iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal || !c.value().trim().is_empty())
        .map(|c| ChangedLine {
            op: match c.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            },
            text: c.value().trim_end_matches('\n').to_owned(),
        })
        .take(MAX_CHANGED_LINES)
        .collect()
}

pub async fn save(ctx: &mut Ctx<'_>, command: &SaveNotice) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    command.fields.validate()?;
    if notice_type(ctx.conn(), command.fields.kind)
        .await?
        .is_none()
    {
        return Err(CommandError::NotFound("no such notice type".into()));
    }
    let audience = crate::org::audience::checked(ctx.conn(), &command.fields.audience).await?;
    let mut fields = command.fields.clone();
    fields.title = fields.title.trim().to_owned();
    fields.audience = audience;
    let html = crate::chat::markdown::render(&fields.body, &[]);
    let now = ctx.now();
    let audience_json = serde_json::to_string(&fields.audience).map_err(StoreError::from)?;
    let Some(id) = command.notice else {
        let insert = sqlx::query(
            "INSERT INTO notices (type_id, title, body, html, audience, valid_from, valid_until,
                                  pinned_until, requires_ack, urgent, escalate_after, author_id,
                                  status, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13)
             RETURNING id",
        );
        let id: i64 = bind_fields(insert, &fields, &html, &audience_json)
            .bind(me.id.0)
            .bind(now)
            .fetch_one(ctx.conn())
            .await?
            .try_get("id")?;
        crate::search::items::index(ctx.conn(), Module::Notices, id, &fields.title, &fields.body)
            .await?;
        change_files(ctx, NoticeId(id), command).await?;
        let notice = load(ctx.conn(), NoticeId(id))
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
        announce(ctx, &[me.id], &notice).await?;
        return Ok(CommandOutput::NoticeChanged {
            notice: notice.id,
            status: notice.status,
        });
    };
    let before = load(ctx.conn(), id)
        .await?
        .ok_or_else(|| Denied::NotFound("notice"))?;
    if before.author.id != me.id {
        return Err(Denied::NotFound("notice").into());
    }
    // What a reviewer approved is what goes out: a reviewed notice the author could not
    // publish alone is not changed behind the review.
    let reviewed = needs_review(ctx.conn(), me.id, before.fields.kind).await?
        || needs_review(ctx.conn(), me.id, fields.kind).await?;
    if reviewed && before.status == NoticeStatus::Published {
        return Err(CommandError::Forbidden(
            "this type of notice is reviewed: withdraw it and publish a new one for review".into(),
        ));
    }
    let (status, revision, note, mut changes) = match before.status {
        NoticeStatus::Withdrawn => {
            return Err(CommandError::Conflict(
                "a withdrawn notice cannot be changed".into(),
            ))
        }
        NoticeStatus::Published => {
            let note = command.revision_note.trim();
            if note.is_empty() || note.chars().count() > 500 {
                return Err(ValidationError::RevisionNote.into());
            }
            (
                NoticeStatus::Published,
                before.revision + 1,
                note.to_owned(),
                changed_lines(&before.fields, &fields),
            )
        }
        // A changed draft under review goes back to its author.
        NoticeStatus::PendingReview | NoticeStatus::Draft => {
            (NoticeStatus::Draft, 0, String::new(), Vec::new())
        }
        // A scheduled notice that was reviewed goes back for review once changed.
        NoticeStatus::Scheduled if reviewed => (NoticeStatus::Draft, 0, String::new(), Vec::new()),
        NoticeStatus::Scheduled => (NoticeStatus::Scheduled, 0, String::new(), Vec::new()),
    };
    let file_changes = change_files(ctx, id, command).await?;
    if status == NoticeStatus::Published {
        changes.extend(file_changes);
    }
    let changes_json = serde_json::to_string(&changes).map_err(StoreError::from)?;
    let update = sqlx::query(
        "UPDATE notices SET type_id = $1, title = $2, body = $3, html = $4, audience = $5,
                            valid_from = $6, valid_until = $7, pinned_until = $8, requires_ack = $9,
                            urgent = $10, escalate_after = $11, status = $12, revision = $13,
                            revision_note = $14, changes = $15, updated_at = $16
         WHERE id = $17",
    );
    bind_fields(update, &fields, &html, &audience_json)
        .bind(status.as_str())
        .bind(i64::from(revision.max(before.revision)))
        .bind(&note)
        .bind(&changes_json)
        .bind(now)
        .bind(id.0)
        .execute(ctx.conn())
        .await?;
    crate::search::items::index(
        ctx.conn(),
        Module::Notices,
        id.0,
        &fields.title,
        &fields.body,
    )
    .await?;
    let notice = load(ctx.conn(), id)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    if before.status == NoticeStatus::PendingReview {
        withdraw_from_reviewers(ctx, &before).await?;
    }
    if status == NoticeStatus::Published {
        // Who it reaches now: those who left its audience lose it, newcomers get it, everyone
        // who has it sees the revision and is asked again.
        let had: BTreeSet<UserId> = recipients(ctx.conn(), id).await?.into_iter().collect();
        let now_in = crate::org::audience::resolve(ctx.conn(), &notice.fields.audience).await?;
        let gone: Vec<UserId> = had.difference(&now_in).copied().collect();
        let added: Vec<UserId> = now_in
            .difference(&had)
            .copied()
            .filter(|u| *u != me.id)
            .collect();
        for user in &gone {
            sqlx::query("DELETE FROM notice_recipients WHERE notice_id = $1 AND user_id = $2")
                .bind(id.0)
                .bind(user.0)
                .execute(ctx.conn())
                .await?;
            take_from(ctx, id, *user, "left the audience").await?;
        }
        add_recipients(ctx, id, &added).await?;
        let mut told: Vec<UserId> = now_in.into_iter().filter(|u| *u != me.id).collect();
        announce(ctx, &told, &notice).await?;
        announce(ctx, &[me.id], &notice).await?;
        let note = note_for(&notice, note_text(&notice));
        told.sort();
        crate::notify::raise(
            ctx,
            crate::notify::Raise {
                note,
                to: &told,
                escalate: escalation(&notice),
                outside_only: false,
            },
        )
        .await?;
    } else {
        announce(ctx, &[me.id], &notice).await?;
    }
    Ok(CommandOutput::NoticeChanged {
        notice: id,
        status: notice.status,
    })
}

type NoticeQuery<'q> = sqlx::query::Query<'q, store::Db, sqlx::any::AnyArguments<'q>>;

/// Binds what the author wrote as parameters `$1`–`$11`, in the order both the insert and the
/// update of a notice name its columns.
fn bind_fields<'q>(
    query: NoticeQuery<'q>,
    fields: &'q NoticeFields,
    html: &'q str,
    audience_json: &'q str,
) -> NoticeQuery<'q> {
    query
        .bind(fields.kind.0)
        .bind(fields.title.as_str())
        .bind(fields.body.as_str())
        .bind(html)
        .bind(audience_json)
        .bind(fields.valid_from)
        .bind(fields.valid_until)
        .bind(fields.pinned_until)
        .bind(i64::from(fields.requires_ack))
        .bind(i64::from(fields.urgent))
        .bind(fields.escalate_after_minutes.map(i64::from))
}

fn note_text(notice: &Notice) -> String {
    if notice.revision > 1 && !notice.revision_note.is_empty() {
        notice.revision_note.clone()
    } else {
        plain_start(&notice.fields.body)
    }
}

fn escalation(notice: &Notice) -> Option<(i64, String)> {
    notice.fields.escalate_after_minutes.map(|m| {
        (
            i64::from(m) * 60_000,
            crate::notify::item_key(Module::Notices, notice.id.0),
        )
    })
}

async fn add_recipients(
    ctx: &mut Ctx<'_>,
    id: NoticeId,
    users: &[UserId],
) -> Result<(), CommandError> {
    for chunk in users.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${})", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO notice_recipients (notice_id, user_id) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(id.0);
        for user in chunk {
            query = query.bind(user.0);
        }
        query.execute(ctx.conn()).await?;
    }
    Ok(())
}

async fn set_status(
    ctx: &mut Ctx<'_>,
    id: NoticeId,
    status: NoticeStatus,
    review_note: &str,
) -> Result<Notice, CommandError> {
    sqlx::query("UPDATE notices SET status = $1, review_note = $2, updated_at = $3 WHERE id = $4")
        .bind(status.as_str())
        .bind(review_note)
        .bind(ctx.now())
        .bind(id.0)
        .execute(ctx.conn())
        .await?;
    Ok(load(ctx.conn(), id)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?)
}

/// A notice that was pending review leaves its reviewers' boards.
async fn withdraw_from_reviewers(ctx: &mut Ctx<'_>, notice: &Notice) -> Result<(), CommandError> {
    if let Some(role) = notice_type(ctx.conn(), notice.fields.kind)
        .await?
        .and_then(|t| t.review_role)
    {
        for reviewer in people_with_role(ctx.conn(), role).await? {
            if reviewer != notice.author.id {
                ctx.append(
                    Scope::User(reviewer),
                    xietong::notices::NoticeEvent::NoticeRemoved { notice: notice.id },
                )
                .await?;
            }
        }
    }
    Ok(())
}

pub async fn publish(
    ctx: &mut Ctx<'_>,
    command: &PublishNotice,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let notice = load(ctx.conn(), command.notice)
        .await?
        .ok_or_else(|| Denied::NotFound("notice"))?;
    if notice.author.id != me.id {
        return Err(Denied::NotFound("notice").into());
    }
    if notice.status != NoticeStatus::Draft {
        return Err(CommandError::Conflict("only a draft is published".into()));
    }
    let kind = notice_type(ctx.conn(), notice.fields.kind)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    if let Some(role) = kind.review_role {
        if !has_role(ctx.conn(), me.id, role).await? {
            let notice = set_status(ctx, notice.id, NoticeStatus::PendingReview, "").await?;
            let reviewers: Vec<UserId> = people_with_role(ctx.conn(), role).await?;
            announce(ctx, &reviewers, &notice).await?;
            announce(ctx, &[me.id], &notice).await?;
            crate::notify::raise(
                ctx,
                crate::notify::Raise {
                    note: note_for(&notice, plain_start(&notice.fields.body)),
                    to: &reviewers,
                    escalate: None,
                    outside_only: false,
                },
            )
            .await?;
            return Ok(CommandOutput::NoticeChanged {
                notice: notice.id,
                status: notice.status,
            });
        }
    }
    release_or_schedule(ctx, notice).await
}

/// Releases now, or schedules for `valid_from`.
async fn release_or_schedule(
    ctx: &mut Ctx<'_>,
    notice: Notice,
) -> Result<CommandOutput, CommandError> {
    if notice
        .fields
        .valid_from
        .is_some_and(|from| from > ctx.now())
    {
        let notice = set_status(ctx, notice.id, NoticeStatus::Scheduled, "").await?;
        announce(ctx, &[notice.author.id], &notice).await?;
        return Ok(CommandOutput::NoticeChanged {
            notice: notice.id,
            status: notice.status,
        });
    }
    release(ctx, notice).await
}

async fn release(ctx: &mut Ctx<'_>, notice: Notice) -> Result<CommandOutput, CommandError> {
    let now = ctx.now();
    // Only from a state that may be released: two nodes (or two reviewers) releasing at once
    // release it once; the other finds it released.
    let changed = sqlx::query(
        "UPDATE notices SET status = 'published', published_at = $1, revision = 1,
                            review_note = '', updated_at = $1
         WHERE id = $2 AND status IN ('draft', 'pending_review', 'scheduled')",
    )
    .bind(now)
    .bind(notice.id.0)
    .execute(ctx.conn())
    .await?
    .rows_affected();
    if changed == 0 {
        let current = load(ctx.conn(), notice.id)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
        return Ok(CommandOutput::NoticeChanged {
            notice: current.id,
            status: current.status,
        });
    }
    let notice = load(ctx.conn(), notice.id)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    let mut to = crate::org::audience::resolve(ctx.conn(), &notice.fields.audience).await?;
    to.remove(&notice.author.id);
    let to: Vec<UserId> = to.into_iter().collect();
    add_recipients(ctx, notice.id, &to).await?;
    announce(ctx, &to, &notice).await?;
    announce(ctx, &[notice.author.id], &notice).await?;
    crate::notify::raise(
        ctx,
        crate::notify::Raise {
            note: note_for(&notice, plain_start(&notice.fields.body)),
            to: &to,
            escalate: escalation(&notice),
            outside_only: false,
        },
    )
    .await?;
    Ok(CommandOutput::NoticeChanged {
        notice: notice.id,
        status: notice.status,
    })
}

pub async fn review(
    ctx: &mut Ctx<'_>,
    command: &ReviewNotice,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let notice = load(ctx.conn(), command.notice)
        .await?
        .ok_or_else(|| Denied::NotFound("notice"))?;
    let role = notice_type(ctx.conn(), notice.fields.kind)
        .await?
        .and_then(|t| t.review_role);
    let may = match role {
        Some(role) => has_role(ctx.conn(), me.id, role).await?,
        None => false,
    };
    if !may || notice.status != NoticeStatus::PendingReview {
        return Err(Denied::NotFound("notice waiting for your review").into());
    }
    if command.seen_at != notice.updated_at {
        return Err(CommandError::Conflict(
            "the notice changed since you opened it: look at it again".into(),
        ));
    }
    if command.note.chars().count() > 500 {
        return Err(CommandError::Invalid(
            "a review note is at most 500 characters".into(),
        ));
    }
    withdraw_from_reviewers(ctx, &notice).await?;
    if command.approve {
        return release_or_schedule(ctx, notice).await;
    }
    let note = command.note.trim();
    let notice = set_status(ctx, notice.id, NoticeStatus::Draft, note).await?;
    announce(ctx, &[notice.author.id], &notice).await?;
    Ok(CommandOutput::NoticeChanged {
        notice: notice.id,
        status: notice.status,
    })
}

pub async fn withdraw(
    ctx: &mut Ctx<'_>,
    command: &WithdrawNotice,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let notice = load(ctx.conn(), command.notice)
        .await?
        .ok_or_else(|| Denied::NotFound("notice"))?;
    if notice.author.id != me.id {
        // An admin may take down anyone's notice.
        ctx.require_admin()
            .await
            .map_err(|_| Denied::NotFound("notice"))?;
    }
    if matches!(notice.status, NoticeStatus::Withdrawn | NoticeStatus::Draft) {
        return Err(CommandError::Conflict(
            "only a published or waiting notice is withdrawn".into(),
        ));
    }
    if notice.status == NoticeStatus::PendingReview {
        withdraw_from_reviewers(ctx, &notice).await?;
    }
    let notice = set_status(ctx, notice.id, NoticeStatus::Withdrawn, "").await?;
    for user in recipients(ctx.conn(), notice.id).await? {
        if user == notice.author.id {
            continue; // the author keeps it, withdrawn
        }
        take_from(ctx, notice.id, user, "withdrawn").await?;
    }
    // Escalations still waiting are not needed any more.
    sqlx::query("UPDATE outbox SET state = 'cancelled', error = 'withdrawn' WHERE item = $1 AND state = 'pending'")
        .bind(crate::notify::item_key(Module::Notices, notice.id.0))
        .execute(ctx.conn())
        .await?;
    announce(ctx, &[notice.author.id], &notice).await?;
    Ok(CommandOutput::NoticeChanged {
        notice: notice.id,
        status: notice.status,
    })
}

/// Takes a notice back from a reader (withdrawn, or they left its audience): nothing of it
/// stays with them — its copies and its notification leave their log and their notification
/// list (a client replaying from the start finds it removed), and word still waiting to go
/// out to them does not.
async fn take_from(
    ctx: &mut Ctx<'_>,
    id: NoticeId,
    user: UserId,
    why: &str,
) -> Result<(), CommandError> {
    crate::notify::take_back(
        ctx,
        user,
        Module::Notices,
        id.0,
        format!("{{\"notice_saved\":{{\"notice\":{{\"id\":{id},"),
        xietong::notices::NoticeEvent::NoticeRemoved { notice: id },
    )
    .await?;
    sqlx::query(
        "UPDATE outbox SET state = 'cancelled', error = $1
         WHERE item = $2 AND user_id = $3 AND state = 'pending'",
    )
    .bind(why)
    .bind(crate::notify::item_key(Module::Notices, id.0))
    .bind(user.0)
    .execute(ctx.conn())
    .await?;
    Ok(())
}

/// The notice, if `user` is one of its recipients and it is published.
async fn as_recipient(ctx: &mut Ctx<'_>, id: NoticeId) -> Result<Notice, CommandError> {
    let me = ctx.user()?.clone();
    let notice = load(ctx.conn(), id)
        .await?
        .ok_or_else(|| Denied::NotFound("notice"))?;
    let mine: Option<i64> = sqlx::query_scalar(
        "SELECT user_id FROM notice_recipients WHERE notice_id = $1 AND user_id = $2",
    )
    .bind(id.0)
    .bind(me.id.0)
    .fetch_optional(ctx.conn())
    .await?;
    if mine.is_none() || notice.status != NoticeStatus::Published {
        return Err(Denied::NotFound("notice").into());
    }
    Ok(notice)
}

pub async fn read(ctx: &mut Ctx<'_>, command: &ReadNotice) -> Result<CommandOutput, CommandError> {
    mark(ctx, command.notice, false).await
}

pub async fn acknowledge(
    ctx: &mut Ctx<'_>,
    command: &AcknowledgeNotice,
) -> Result<CommandOutput, CommandError> {
    mark(ctx, command.notice, true).await
}

/// Records that the actor read (or acknowledged the current revision of) a notice published to
/// them: in their own scope, for their tabs, and in the author's, for the reader lists.
async fn mark(
    ctx: &mut Ctx<'_>,
    id: NoticeId,
    acknowledged: bool,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let notice = as_recipient(ctx, id).await?;
    if acknowledged && !notice.fields.requires_ack {
        return Err(CommandError::Invalid(
            "this notice asks for no acknowledgement".into(),
        ));
    }
    let at = ctx.now();
    let query = if acknowledged {
        sqlx::query(
            "UPDATE notice_recipients SET read_at = COALESCE(read_at, $1), ack_at = $1, ack_revision = $2
             WHERE notice_id = $3 AND user_id = $4 AND (ack_revision IS NULL OR ack_revision <> $2)",
        )
        .bind(at)
        .bind(i64::from(notice.revision))
    } else {
        sqlx::query(
            "UPDATE notice_recipients SET read_at = $1
             WHERE notice_id = $3 AND user_id = $4 AND read_at IS NULL AND $2 >= 0",
        )
        .bind(at)
        .bind(0_i64)
    };
    let changed = query
        .bind(notice.id.0)
        .bind(me.id.0)
        .execute(ctx.conn())
        .await?
        .rows_affected();
    if changed == 0 {
        return Ok(CommandOutput::NoticeMarked {
            notice: notice.id,
            seq: None,
        });
    }
    let mine = if acknowledged {
        xietong::notices::NoticeEvent::NoticeAcknowledged {
            notice: notice.id,
            at,
        }
    } else {
        xietong::notices::NoticeEvent::NoticeRead {
            notice: notice.id,
            at,
        }
    };
    let seq = ctx.append(Scope::User(me.id), mine).await?;
    ctx.append(
        Scope::User(notice.author.id),
        xietong::notices::NoticeEvent::NoticeReadBy {
            notice: notice.id,
            reader: UserRef {
                id: me.id,
                username: me.username.clone(),
            },
            at,
            acknowledged,
        },
    )
    .await?;
    Ok(CommandOutput::NoticeMarked {
        notice: notice.id,
        seq: Some(seq),
    })
}

pub async fn remind(
    ctx: &mut Ctx<'_>,
    command: &RemindNotice,
) -> Result<CommandOutput, CommandError> {
    let me = ctx.user()?.clone();
    let notice = load(ctx.conn(), command.notice)
        .await?
        .ok_or_else(|| Denied::NotFound("notice"))?;
    if notice.author.id != me.id {
        return Err(Denied::NotFound("notice").into());
    }
    if notice.status != NoticeStatus::Published {
        return Err(CommandError::Conflict(
            "only a published notice has readers to remind".into(),
        ));
    }
    let now = ctx.now();
    // Spaced out, also when two tabs press it at once: the update decides.
    let spaced = sqlx::query(
        "UPDATE notices SET reminded_at = $1 WHERE id = $2 AND (reminded_at IS NULL OR reminded_at <= $3)",
    )
    .bind(now)
    .bind(notice.id.0)
    .bind(now - REMIND_EVERY_MS)
    .execute(ctx.conn())
    .await?
    .rows_affected();
    if spaced == 0 {
        let last: Option<i64> = sqlx::query_scalar("SELECT reminded_at FROM notices WHERE id = $1")
            .bind(notice.id.0)
            .fetch_one(ctx.conn())
            .await?;
        let wait_ms = last.map_or(0, |at| at + REMIND_EVERY_MS - now).max(0);
        let minutes = (wait_ms + 59_999) / 60_000;
        return Err(CommandError::Conflict(format!(
            "its readers were reminded a moment ago: remind again in {minutes} min"
        )));
    }
    let sql = if notice.fields.requires_ack {
        "SELECT r.user_id FROM notice_recipients r JOIN users u ON u.id = r.user_id
         WHERE r.notice_id = $1 AND u.deactivated = 0
           AND (r.ack_revision IS NULL OR r.ack_revision <> $2) ORDER BY r.user_id"
    } else {
        "SELECT r.user_id FROM notice_recipients r JOIN users u ON u.id = r.user_id
         WHERE r.notice_id = $1 AND u.deactivated = 0 AND r.read_at IS NULL AND $2 >= 0
         ORDER BY r.user_id"
    };
    let ids: Vec<i64> = sqlx::query_scalar(sql)
        .bind(notice.id.0)
        .bind(i64::from(notice.revision))
        .fetch_all(ctx.conn())
        .await?;
    let to: Vec<UserId> = ids.into_iter().map(UserId).collect();
    crate::notify::raise(
        ctx,
        crate::notify::Raise {
            note: note_for(&notice, plain_start(&notice.fields.body)),
            to: &to,
            escalate: None,
            outside_only: false,
        },
    )
    .await?;
    Ok(CommandOutput::NoticeReminded {
        notice: notice.id,
        reminded: to.len() as u32,
    })
}

pub async fn release_due(
    ctx: &mut Ctx<'_>,
    command: &ReleaseNotice,
) -> Result<CommandOutput, CommandError> {
    if !matches!(ctx.actor(), Actor::System) {
        return Err(CommandError::Forbidden(
            "only the server releases notices".into(),
        ));
    }
    let notice = load(ctx.conn(), command.notice)
        .await?
        .ok_or_else(|| Denied::NotFound("notice"))?;
    if notice.status != NoticeStatus::Scheduled
        || notice.fields.valid_from.is_some_and(|f| f > ctx.now())
    {
        return Ok(CommandOutput::NoticeChanged {
            notice: notice.id,
            status: notice.status,
        });
    }
    release(ctx, notice).await
}

/// Releases scheduled notices whose time has come, every few seconds, on every node (a
/// notice released twice is released once: the second finds it published).
pub async fn release_now_and_then(
    store: Store,
    log: crate::events::EventLog,
    stop: CancellationToken,
) {
    crate::command::run_due_now_and_then(
        store,
        log,
        stop,
        "SELECT id FROM notices
         WHERE status = 'scheduled' AND (valid_from IS NULL OR valid_from <= $1)
         ORDER BY id LIMIT 50",
        |id| {
            xietong::Command::ReleaseNotice(ReleaseNotice {
                notice: NoticeId(id),
            })
        },
        "release a scheduled notice",
    )
    .await
}

/// Whether `user` has read notice `id` (for an escalation).
pub async fn read_by(conn: &mut Conn, id: i64, user: UserId) -> Result<bool, StoreError> {
    let read: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT read_at FROM notice_recipients WHERE notice_id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    // Someone no longer a recipient needs no reminder either.
    Ok(!matches!(read, Some(None)))
}

/// My notice board.
pub async fn board(store: &Store, user: &CurrentUser) -> Result<NoticeBoard, Denied> {
    let mut tx = store.read().await?;
    let scope = Scope::User(user.id);
    access::check(&mut tx, user, scope, access::Need::Read).await?;
    let head = store::head(&mut tx, scope).await?;
    let workspace_head = store::head(&mut tx, Scope::Workspace).await?;
    let types = types(&mut tx).await?;
    let sql = format!(
        "SELECT {COLUMNS}, r.read_at, r.ack_at, r.ack_revision
         FROM notices n JOIN users u ON u.id = n.author_id
         LEFT JOIN notice_recipients r ON r.notice_id = n.id AND r.user_id = $1
         WHERE (r.user_id IS NOT NULL AND n.status = 'published')
            OR n.author_id = $1
            OR (n.status = 'pending_review' AND EXISTS (
                   SELECT 1 FROM notice_types t JOIN user_roles ur ON ur.role_id = t.review_role
                   WHERE t.id = n.type_id AND ur.user_id = $1))
         ORDER BY COALESCE(n.published_at, n.updated_at) DESC, n.id DESC
         LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(user.id.0)
        .bind(BOARD_LIMIT)
        .fetch_all(&mut *tx)
        .await?;
    let mut notices = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut notice = notice_from_row(r)?;
        notice.read_at = r.try_get("read_at")?;
        let ack_revision: Option<i64> = r.try_get("ack_revision")?;
        if ack_revision == Some(i64::from(notice.revision)) {
            notice.acknowledged_at = r.try_get("ack_at")?;
        }
        notices.push(notice);
    }
    with_files(&mut tx, &mut notices).await?;
    tx.commit().await?;
    // Others' notices without their text, as their events tell them.
    let notices = notices
        .into_iter()
        .map(|n| {
            if n.author.id == user.id {
                n
            } else {
                n.abridged()
            }
        })
        .collect();
    let mut board = NoticeBoard {
        head,
        workspace_head,
        types,
        notices,
    };
    board.sort();
    Ok(board)
}

/// A notice whole (its text too), for someone who may read it: its author, a recipient while
/// it is published, a reviewer while it waits for review. Anyone else: not found.
pub async fn text(store: &Store, user: &CurrentUser, id: NoticeId) -> Result<Notice, Denied> {
    let mut tx = store.read().await?;
    if !access::notice(&mut tx, user.id, id).await? {
        return Err(Denied::NotFound("notice"));
    }
    let notice = load(&mut tx, id).await?.ok_or(Denied::NotFound("notice"))?;
    tx.commit().await?;
    Ok(notice)
}

/// Who has read a notice (its author, or an admin).
pub async fn readers(
    store: &Store,
    user: &CurrentUser,
    id: NoticeId,
) -> Result<NoticeReaders, Denied> {
    let mut tx = store.read().await?;
    let notice = load(&mut tx, id).await?.ok_or(Denied::NotFound("notice"))?;
    if notice.author.id != user.id {
        access::administer_now(&mut tx, user)
            .await
            .map_err(|_| Denied::NotFound("notice"))?;
    }
    let head = store::head(&mut tx, Scope::User(user.id)).await?;
    let rows: Vec<(i64, String, Option<i64>, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT u.id, u.username, r.read_at, r.ack_at, r.ack_revision
         FROM notice_recipients r JOIN users u ON u.id = r.user_id
         WHERE r.notice_id = $1 ORDER BY u.username",
    )
    .bind(id.0)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut out = NoticeReaders {
        notice: id,
        head,
        revision: notice.revision,
        requires_ack: notice.fields.requires_ack,
        ..Default::default()
    };
    for (uid, username, read_at, ack_at, ack_revision) in rows {
        let who = UserRef {
            id: UserId(uid),
            username,
        };
        match read_at {
            Some(at) => out.read.push((who.clone(), at)),
            None => out.not_read.push(who.clone()),
        }
        if let (Some(at), true) = (ack_at, ack_revision == Some(i64::from(notice.revision))) {
            out.acknowledged.push((who, at));
        }
    }
    out.read.sort_by_key(|(u, at)| (*at, u.id));
    out.acknowledged.sort_by_key(|(u, at)| (*at, u.id));
    Ok(out)
}
