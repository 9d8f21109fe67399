//! Who may read and write what: the one place that decides, per scope.
//!
//! Every way in asks here: the socket's subscribe, every command, every server function and
//! history page (later file downloads and search). A feature decides nothing about access on
//! its own; it names the scope a thing lives in.

use xietong::files::{EntryId, Permission};
use xietong::{ChannelId, ChannelKind, CurrentUser, Scope, UserId};

use crate::store::{Conn, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

#[derive(Debug, thiserror::Error)]
pub enum Denied {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("you do not have access to this {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for Denied {
    fn from(e: sqlx::Error) -> Self {
        Denied::Store(StoreError::Db(e))
    }
}

/// Channel kinds already read (a channel's kind never changes), so a batch of commands asks
/// once per channel.
pub type KindMemo = std::collections::HashMap<ChannelId, ChannelKind>;

/// Allows or refuses `user` reading or writing `scope`.
pub async fn check(
    conn: &mut Conn,
    user: &CurrentUser,
    scope: Scope,
    need: Need,
) -> Result<(), Denied> {
    check_with(conn, user, scope, need, &mut KindMemo::new()).await
}

/// `check`, reusing channel kinds read before.
pub async fn check_with(
    conn: &mut Conn,
    user: &CurrentUser,
    scope: Scope,
    need: Need,
    kinds: &mut KindMemo,
) -> Result<(), Denied> {
    match scope {
        // Workspace-wide facts: everyone signed in reads them; only commands write them.
        Scope::Workspace => match need {
            Need::Read => Ok(()),
            Need::Write => Err(Denied::Forbidden("workspace")),
        },
        // A user's own stream: theirs alone.
        Scope::User(id) if id == user.id => Ok(()),
        Scope::User(_) => Err(Denied::Forbidden("user's stream")),
        Scope::Channel(id) => channel(conn, user, id, kinds).await,
        // A shared entry's stream: whoever may read the entry; only commands write it.
        Scope::Shared(id) => match need {
            Need::Read => match cabinet_entry(conn, user, id).await? {
                Some(_) => Ok(()),
                None => Err(Denied::NotFound("shared file or folder")),
            },
            Need::Write => Err(Denied::Forbidden("shared file or folder")),
        },
        // A news column's stream: its audience and its editors; only commands write it.
        Scope::News(id) => match need {
            Need::Read => match news_column(conn, user.id, id).await? {
                Some(rights) if rights.read => Ok(()),
                _ => Err(Denied::NotFound("news column")),
            },
            Need::Write => Err(Denied::Forbidden("news column")),
        },
        // A forum section's stream: its audience, moderators and admins; only commands write.
        Scope::Forum(id) => match need {
            Need::Read => match forum_section(conn, user.id, id, 0).await? {
                Some(rights) if rights.read => Ok(()),
                _ => Err(Denied::NotFound("forum section")),
            },
            Need::Write => Err(Denied::Forbidden("forum section")),
        },
    }
}

/// Whether `user` is an active admin, and whether they are listed in `table` (a module's
/// editors or moderators) for `id` (its `key` column).
async fn admin_or_listed(
    conn: &mut Conn,
    user: UserId,
    table: &str,
    key: &str,
    id: i64,
) -> Result<(bool, bool), StoreError> {
    let sql = format!(
        "SELECT COALESCE((SELECT CASE WHEN is_admin THEN 1 ELSE 0 END FROM users
                          WHERE id = $2 AND deactivated = 0), 0),
                (SELECT COUNT(*) FROM {table} l JOIN users u ON u.id = l.user_id
                 WHERE l.{key} = $1 AND l.user_id = $2 AND u.deactivated = 0)"
    );
    let (admin, listed): (i64, i64) = sqlx::query_as(&sql)
        .bind(id)
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await?;
    Ok((admin == 1, listed > 0))
}

/// Whether one of `user`'s audience keys is in `table` (a module's audience rows) for `id`.
async fn in_audience(
    conn: &mut Conn,
    user: UserId,
    table: &str,
    key: &str,
    id: i64,
) -> Result<bool, StoreError> {
    let keys = crate::org::audience::keys_of(conn, user).await?;
    if keys.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM {table} WHERE {key} = $1 AND member IN ({})",
        crate::org::audience::placeholders(2, keys.len()),
    );
    let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(id);
    for k in &keys {
        query = query.bind(k.as_str());
    }
    Ok(query.fetch_one(&mut *conn).await? > 0)
}

/// What `user` may do in a forum section at `now` (`None`: no such section). Its moderators
/// and admins moderate it (and read it); its audience reads and posts, unless muted there.
pub async fn forum_section(
    conn: &mut Conn,
    user: UserId,
    section: xietong::ForumSectionId,
    now: i64,
) -> Result<Option<xietong::forum::SectionRights>, StoreError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM forum_sections WHERE id = $1")
        .bind(section.0)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let (admin, moderator) =
        admin_or_listed(conn, user, "forum_moderators", "section_id", section.0).await?;
    let moderate = admin || moderator;
    let read = moderate || in_audience(conn, user, "forum_audience", "section_id", section.0).await?;
    let muted_until: Option<i64> = sqlx::query_scalar(
        "SELECT until FROM forum_mutes WHERE section_id = $1 AND user_id = $2 AND until > $3",
    )
    .bind(section.0)
    .bind(user.0)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Some(xietong::forum::SectionRights {
        read,
        moderate,
        muted_until: muted_until.filter(|_| !moderate),
    }))
}

/// What `user` may do in a news column (`None`: no such column). Its editors and the
/// workspace's admins edit it (and so read it); its audience reads it. Deactivated people
/// nothing.
pub async fn news_column(
    conn: &mut Conn,
    user: UserId,
    column: xietong::NewsColumnId,
) -> Result<Option<xietong::news::ColumnRights>, StoreError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM news_columns WHERE id = $1")
        .bind(column.0)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let (admin, editor) = admin_or_listed(conn, user, "news_editors", "column_id", column.0).await?;
    let edit = admin || editor;
    let read = edit || in_audience(conn, user, "news_audience", "column_id", column.0).await?;
    Ok(Some(xietong::news::ColumnRights { read, edit }))
}

/// Whether `user` holds a mail: its sender, or a recipient it was not recalled from.
pub async fn mail(conn: &mut Conn, user: UserId, mail: xietong::MailId) -> Result<bool, StoreError> {
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT recalled FROM mail_boxes WHERE mail_id = $1 AND user_id = $2",
    )
    .bind(mail.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(held == Some(0))
}

/// Whether `user` may read a notice (and its files): its author always; a recipient while it
/// is published; a reviewer of its type while it waits for review. The board's rule.
pub async fn notice(conn: &mut Conn, user: UserId, notice: xietong::NoticeId) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT n.id FROM notices n
         WHERE n.id = $1 AND (
               n.author_id = $2
            OR (n.status = 'published' AND EXISTS (
                   SELECT 1 FROM notice_recipients r WHERE r.notice_id = n.id AND r.user_id = $2))
            OR (n.status = 'pending_review' AND EXISTS (
                   SELECT 1 FROM notice_types t JOIN user_roles ur ON ur.role_id = t.review_role
                   WHERE t.id = n.type_id AND ur.user_id = $2)))",
    )
    .bind(notice.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Whether `user` may read a story: a published one where its column is read; an unpublished
/// one only by the column's editors.
pub async fn story(
    conn: &mut Conn,
    user: UserId,
    story: xietong::StoryId,
) -> Result<bool, StoreError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT column_id, status FROM stories WHERE id = $1")
            .bind(story.0)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((column, status)) = row else {
        return Ok(false);
    };
    let rights = news_column(conn, user, xietong::NewsColumnId(column))
        .await?
        .unwrap_or_default();
    Ok(rights.edit || (rights.read && status == "published"))
}

/// A cabinet entry and the folders above it, nearest first: whose it is and whether it (or a
/// folder around it) is in the recycle bin.
#[derive(Debug, Clone)]
pub struct EntryChain {
    pub owner: UserId,
    pub ids: Vec<i64>,
    pub in_recycle_bin: bool,
}

/// The chain of `entry` (`None`: no such entry).
pub async fn entry_chain(
    conn: &mut Conn,
    entry: EntryId,
) -> Result<Option<EntryChain>, StoreError> {
    let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "WITH RECURSIVE up(id, parent_id, owner_id, deleted_at, depth) AS (
             SELECT id, parent_id, owner_id, deleted_at, 0 FROM cabinet_entries WHERE id = $1
             UNION ALL
             SELECT e.id, e.parent_id, e.owner_id, e.deleted_at, up.depth + 1
             FROM cabinet_entries e JOIN up ON e.id = up.parent_id
             WHERE up.depth < 1000
         )
         SELECT id, owner_id, deleted_at FROM up ORDER BY depth",
    )
    .bind(entry.0)
    .fetch_all(&mut *conn)
    .await?;
    let Some(&(_, owner, _)) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(EntryChain {
        owner: UserId(owner),
        in_recycle_bin: rows.iter().any(|r| r.2.is_some()),
        ids: rows.into_iter().map(|r| r.0).collect(),
    }))
}

/// What `user` may do with a cabinet entry: everything, for its owner; for anyone else the
/// best of the shares on it or on a folder above it whose audience includes them (and nothing
/// while it is in the recycle bin). `None`: they may not even see it.
pub async fn cabinet_entry(
    conn: &mut Conn,
    user: &CurrentUser,
    entry: EntryId,
) -> Result<Option<Permission>, StoreError> {
    let Some(chain) = entry_chain(conn, entry).await? else {
        return Ok(None);
    };
    if chain.owner == user.id {
        return Ok(Some(Permission::Edit));
    }
    if chain.in_recycle_bin {
        return Ok(None);
    }
    let keys = crate::org::audience::keys_of(conn, user.id).await?;
    if keys.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT MAX(can_edit) FROM cabinet_shares WHERE entry_id IN ({}) AND member IN ({})",
        crate::org::audience::placeholders(1, chain.ids.len()),
        crate::org::audience::placeholders(1 + chain.ids.len(), keys.len()),
    );
    let mut query = sqlx::query_scalar::<_, Option<i64>>(&sql);
    for id in &chain.ids {
        query = query.bind(*id);
    }
    for key in &keys {
        query = query.bind(key.as_str());
    }
    Ok(match query.fetch_one(&mut *conn).await? {
        None => None,
        Some(0) => Some(Permission::View),
        Some(_) => Some(Permission::Edit),
    })
}

/// Administration (the organisation, workspace settings, people): admins only.
pub fn administer(user: &CurrentUser) -> Result<(), Denied> {
    if user.is_admin {
        Ok(())
    } else {
        Err(Denied::Forbidden("workspace's administration"))
    }
}

/// `administer`, with the actor as the database holds them now (an admin, not deactivated).
pub async fn administer_now(conn: &mut Conn, user: &CurrentUser) -> Result<(), Denied> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT CASE WHEN is_admin THEN 1 ELSE 0 END, deactivated FROM users WHERE id = $1",
    )
    .bind(user.id.0)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some((1, 0)) => Ok(()),
        _ => Err(Denied::Forbidden("workspace's administration")),
    }
}

/// A stored file, as the access module hands it out: readable where what it is attached to is.
#[derive(Debug, Clone)]
pub struct ReadableFile {
    pub hash: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
}

/// Allows `user` to read a stored file, or refuses: a cabinet file is readable by its owner and
/// whoever it (or a folder above it) is shared with, a message's file where the channel is. A file attached to
/// nothing (or no longer) is nobody's to read. Unknown and unreadable look the same.
pub async fn file(
    conn: &mut Conn,
    user: &CurrentUser,
    id: xietong::files::FileId,
) -> Result<ReadableFile, Denied> {
    type Row = (
        String,
        String,
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT hash, name, size, mime, entry_id, channel_id, story_id, mail_id, notice_id
         FROM files WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((hash, name, size, mime, entry, channel, story_id, mail_id, notice_id)) = row else {
        return Err(Denied::NotFound("file"));
    };
    let readable = match (entry, channel, story_id, mail_id, notice_id) {
        (Some(entry), ..) => cabinet_entry(conn, user, EntryId(entry)).await?.is_some(),
        (None, None, Some(id), ..) => story(conn, user.id, xietong::StoryId(id)).await?,
        (None, None, None, Some(id), _) => mail(conn, user.id, xietong::MailId(id)).await?,
        (None, None, None, None, Some(id)) => notice(conn, user.id, xietong::NoticeId(id)).await?,
        (None, Some(channel), ..) => {
            let scope = Scope::Channel(ChannelId(channel));
            match check(conn, user, scope, Need::Read).await {
                Ok(()) => true,
                Err(Denied::Store(e)) => return Err(Denied::Store(e)),
                Err(_) => false,
            }
        }
        (None, None, None, None, None) => false,
    };
    if !readable {
        return Err(Denied::NotFound("file"));
    }
    Ok(ReadableFile {
        hash,
        name,
        size: size as u64,
        mime,
    })
}

/// A share link's file: what a link opens, for anyone who has it — while the link exists and
/// has not expired, the file is not in the recycle bin (with the folders around it), and its
/// owner's account is active.
/// Also the link's password hash (empty: no password) for the caller to check.
pub async fn file_by_link(
    conn: &mut Conn,
    token: &str,
    now: i64,
) -> Result<(ReadableFile, String), Denied> {
    let gone = || Denied::NotFound("share link");
    let link: Option<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT entry_id, password_hash, expires_at FROM share_links WHERE token = $1",
    )
    .bind(token)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((entry, password_hash, expires_at)) = link else {
        return Err(gone());
    };
    if expires_at.is_some_and(|at| at <= now) {
        return Err(gone());
    }
    let owner = match entry_chain(conn, EntryId(entry)).await? {
        Some(chain) if !chain.in_recycle_bin => chain.owner,
        _ => return Err(gone()),
    };
    let active: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND deactivated = 0")
            .bind(owner.0)
            .fetch_optional(&mut *conn)
            .await?;
    if active.is_none() {
        return Err(gone());
    }
    let file: Option<(String, String, i64, String)> = sqlx::query_as(
        "SELECT f.hash, e.name, f.size, f.mime FROM cabinet_entries e
         JOIN files f ON f.id = e.current_file_id WHERE e.id = $1",
    )
    .bind(entry)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((hash, name, size, mime)) = file else {
        return Err(gone());
    };
    Ok((
        ReadableFile {
            hash,
            name,
            size: size as u64,
            mime,
        },
        password_hash,
    ))
}

/// Public channels are open to everyone; the other kinds to their members only.
async fn channel(
    conn: &mut Conn,
    user: &CurrentUser,
    id: ChannelId,
    kinds: &mut KindMemo,
) -> Result<(), Denied> {
    let kind = match kinds.get(&id) {
        Some(kind) => *kind,
        None => {
            let kind: Option<String> =
                sqlx::query_scalar("SELECT kind FROM channels WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some(kind) = kind else {
                return Err(Denied::NotFound("channel"));
            };
            let kind = ChannelKind::parse(&kind).unwrap_or(ChannelKind::Private);
            kinds.insert(id, kind);
            kind
        }
    };
    if !kind.members_only() || is_member(conn, id, user).await? {
        Ok(())
    } else {
        Err(Denied::Forbidden("channel"))
    }
}

pub async fn is_member(
    conn: &mut Conn,
    channel: ChannelId,
    user: &CurrentUser,
) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT user_id FROM channel_members WHERE channel_id = $1 AND user_id = $2",
    )
    .bind(channel.0)
    .bind(user.id.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// How `user` stands to a short message: they sent it, it was sent to them, or neither
/// (`None`: they may not see it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortMessageRole {
    Sender,
    Recipient,
}

pub async fn short_message(
    conn: &mut Conn,
    user: &CurrentUser,
    id: xietong::ShortMessageId,
) -> Result<Option<ShortMessageRole>, StoreError> {
    let sender: Option<i64> = sqlx::query_scalar("SELECT sender_id FROM short_messages WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    match sender {
        None => Ok(None),
        Some(s) if s == user.id.0 => Ok(Some(ShortMessageRole::Sender)),
        Some(_) => {
            let to: Option<i64> = sqlx::query_scalar(
                "SELECT user_id FROM short_message_recipients WHERE message_id = $1 AND user_id = $2",
            )
            .bind(id.0)
            .bind(user.id.0)
            .fetch_optional(&mut *conn)
            .await?;
            Ok(to.map(|_| ShortMessageRole::Recipient))
        }
    }
}
