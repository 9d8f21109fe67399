//! Reading channels and messages. Every read that names a channel goes through the access
//! module first.

use sqlx::Row;
use xietong::chat::ThreadPage;
use xietong::{
    Channel, ChannelId, ChannelKind, ClientMsgId, CurrentUser, HistoryPage, Message, MessageId,
    Scope, Seq, UserId, UserRef, WorkspaceSnapshot,
};

use crate::access::{self, Denied, Need};
use crate::store::{self, Conn, DbRow, Store, StoreError};

const CHANNEL_COLUMNS: &str = "SELECT id, name, kind, created_at FROM channels";

pub(super) fn channel_from_row(r: &DbRow) -> Result<Channel, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(Channel {
        id: ChannelId(r.try_get("id")?),
        name: r.try_get("name")?,
        kind: ChannelKind::parse(&kind).unwrap_or(ChannelKind::Private),
        created_at: r.try_get("created_at")?,
    })
}

pub async fn channel(conn: &mut Conn, id: ChannelId) -> Result<Option<Channel>, StoreError> {
    let row = sqlx::query(&format!("{CHANNEL_COLUMNS} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(channel_from_row).transpose()?)
}

/// Every channel the user can see: all public ones, and the others they are a member of.
pub async fn visible_channels(
    conn: &mut Conn,
    user: &CurrentUser,
) -> Result<Vec<Channel>, StoreError> {
    let rows = sqlx::query(&format!(
        "{CHANNEL_COLUMNS} WHERE kind = 'public'
            OR id IN (SELECT channel_id FROM channel_members WHERE user_id = $1)
         ORDER BY id"
    ))
    .bind(user.id.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(channel_from_row)
        .collect::<Result<_, _>>()?)
}

/// Whether any channel exists (the first start creates `general`).
pub async fn any_channel(store: &Store) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM channels LIMIT 1")
        .fetch_optional(store.pool())
        .await?;
    Ok(found.is_some())
}

/// The members of a channel, by username.
pub async fn members(conn: &mut Conn, channel: ChannelId) -> Result<Vec<UserRef>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.id, u.username FROM channel_members m JOIN users u ON u.id = m.user_id
         WHERE m.channel_id = $1 ORDER BY u.username",
    )
    .bind(channel.0)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserRef {
                id: UserId(r.try_get("id")?),
                username: r.try_get("username")?,
            })
        })
        .collect()
}

/// The workspace frame's snapshot: my channels and the heads of the two logs that change that
/// list, read from one snapshot.
pub async fn workspace(store: &Store, user: &CurrentUser) -> Result<WorkspaceSnapshot, StoreError> {
    let mut tx = store.read().await?;
    let head = store::head(&mut tx, Scope::Workspace).await?;
    let user_head = store::head(&mut tx, Scope::User(user.id)).await?;
    let channels = visible_channels(&mut tx, user).await?;
    let ids: Vec<ChannelId> = channels.iter().map(|c| c.id).collect();
    let unread = super::unread::snapshot(&mut tx, user, &ids).await?;
    let settings = crate::settings::of(&mut tx, user.id).await?;
    let workspace_settings = crate::settings::workspace(&mut tx).await?;
    let (notifications, notifications_seen, notifications_unseen) =
        crate::notify::centre::snapshot(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(WorkspaceSnapshot {
        me: user.clone(),
        channels,
        head,
        user_head,
        unread,
        settings,
        notifications,
        notifications_seen,
        notifications_unseen,
        workspace_settings,
    })
}

/// A page of a channel's history (`None`: the first public channel, `general`) with the
/// channel log's head, read from one snapshot so that `head` is exactly what the page includes.
pub async fn history(
    store: &Store,
    user: &CurrentUser,
    channel_id: Option<ChannelId>,
    before: Option<Seq>,
    limit: u32,
) -> Result<HistoryPage, Denied> {
    let mut tx = store.read().await?;
    let found = match channel_id {
        Some(id) => channel(&mut tx, id).await?,
        None => {
            let row = sqlx::query(&format!(
                "{CHANNEL_COLUMNS} WHERE kind = 'public' ORDER BY id LIMIT 1"
            ))
            .fetch_optional(&mut *tx)
            .await?;
            row.as_ref().map(channel_from_row).transpose()?
        }
    };
    let Some(channel) = found else {
        return Err(Denied::NotFound("channel"));
    };
    let scope = Scope::Channel(channel.id);
    access::check(&mut tx, user, scope, Need::Read).await?;
    let head = store::head(&mut tx, scope).await?;
    let (messages, has_more) = messages_before(&mut tx, channel.id, before, limit).await?;
    let seen = if channel.kind.is_direct() {
        super::unread::receipts(&mut tx, channel.id).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(HistoryPage {
        channel,
        messages,
        head,
        has_more,
        seen,
    })
}

const MESSAGE_COLUMNS: &str =
    "SELECT m.id, m.channel_id, m.seq, m.author_id, u.username, m.body, m.created_at, m.client_id,
            m.thread_id, m.reply_count, m.edited_at, m.deleted, m.pinned, m.mentions,
            m.mentions_all, m.card
     FROM messages m JOIN users u ON u.id = m.author_id";

fn message_from_row(r: &DbRow) -> Result<Message, sqlx::Error> {
    let body: String = r.try_get("body")?;
    let mentions = super::mentions::Mentions::from_columns(
        &r.try_get::<String, _>("mentions")?,
        r.try_get::<i64, _>("mentions_all")?,
    );
    let id = MessageId(r.try_get("id")?);
    Ok(Message {
        html: if body.is_empty() {
            String::new()
        } else {
            super::markdown::render(&body, &mentions.names())
        },
        mentions: mentions.ids(),
        mentions_all: mentions.all,
        id,
        channel: ChannelId(r.try_get("channel_id")?),
        seq: Seq(r.try_get::<i64, _>("seq")? as u64),
        author: UserRef {
            id: UserId(r.try_get("author_id")?),
            username: r.try_get("username")?,
        },
        body,
        created_at: r.try_get("created_at")?,
        client_id: r
            .try_get::<Option<String>, _>("client_id")?
            .map(ClientMsgId),
        thread: r.try_get::<Option<i64>, _>("thread_id")?.map(MessageId),
        reply_count: u32::try_from(r.try_get::<i64, _>("reply_count")?).unwrap_or(0),
        edited_at: r.try_get("edited_at")?,
        deleted: r.try_get::<i64, _>("deleted")? != 0,
        pinned: r.try_get::<i64, _>("pinned")? != 0,
        reactions: Vec::new(),
        attachments: Vec::new(),
        card: r
            .try_get::<Option<String>, _>("card")?
            .and_then(|c| stored_card(&c, id)),
    })
}

/// A message's stored card. One that no longer reads is left out of the message (and logged),
/// rather than failing the whole page it is on.
pub(crate) fn stored_card(json: &str, message: MessageId) -> Option<xietong::chat::Card> {
    serde_json::from_str(json)
        .inspect_err(
            |e| tracing::warn!(message = message.0, error = %e, "a stored card does not read"),
        )
        .ok()
}

/// Reads messages and fills in their reactions, in the order a browser applying the events
/// would hold them (emoji by appearance, users by when they reacted).
async fn messages_where(
    conn: &mut Conn,
    condition: &str,
    binds: &[i64],
) -> Result<Vec<Message>, StoreError> {
    let sql = format!("{MESSAGE_COLUMNS} WHERE {condition}");
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = query.bind(*b);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut messages: Vec<Message> = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<_, _>>()?;
    add_reactions(conn, &mut messages).await?;
    add_attachments(conn, &mut messages).await?;
    Ok(messages)
}

/// Messages by id (any order; those that do not exist are left out). The caller has checked
/// the user may read them.
pub async fn messages_by_id(
    conn: &mut Conn,
    ids: &[MessageId],
) -> Result<Vec<Message>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let binds: Vec<i64> = ids.iter().map(|id| id.0).collect();
    messages_where(
        conn,
        &format!("m.id IN ({})", placeholders.join(", ")),
        &binds,
    )
    .await
}

/// Fills in the files attached to each message.
async fn add_attachments(conn: &mut Conn, messages: &mut [Message]) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=messages.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, name, size, mime, owner_id, created_at, message_id FROM files
         WHERE message_id IN ({}) ORDER BY id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, (i64, String, i64, String, i64, i64, i64)>(&sql);
    for m in messages.iter() {
        query = query.bind(m.id.0);
    }
    for (id, name, size, mime, by, at, message) in query.fetch_all(&mut *conn).await? {
        if let Some(m) = messages.iter_mut().find(|m| m.id.0 == message) {
            m.attachments.push(xietong::files::FileInfo {
                id: xietong::files::FileId(id),
                name,
                size: size as u64,
                mime,
                by: UserId(by),
                at,
            });
        }
    }
    Ok(())
}

async fn add_reactions(conn: &mut Conn, messages: &mut [Message]) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=messages.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT message_id, emoji, user_id FROM message_reactions
         WHERE message_id IN ({}) ORDER BY emoji_since, seq",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, (i64, String, i64)>(&sql);
    for m in messages.iter() {
        query = query.bind(m.id.0);
    }
    for (message, emoji, user) in query.fetch_all(&mut *conn).await? {
        if let Some(m) = messages.iter_mut().find(|m| m.id.0 == message) {
            m.set_reaction(&emoji, UserId(user), true);
        }
    }
    Ok(())
}

/// The newest `limit` top-level messages of a channel older than `before` (all when `None`),
/// oldest first, and whether more exist before them. Thread replies are not in the list; their
/// roots count them.
async fn messages_before(
    conn: &mut Conn,
    channel: ChannelId,
    before: Option<Seq>,
    limit: u32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let before = before.map(|s| s.0 as i64).unwrap_or(i64::MAX);
    let mut messages = messages_where(
        conn,
        "m.channel_id = $1 AND m.seq < $2 AND m.thread_id IS NULL ORDER BY m.seq DESC LIMIT $3",
        &[channel.0, before, i64::from(limit) + 1],
    )
    .await?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    messages.reverse();
    Ok((messages, has_more))
}

/// A message's channel, for the access check before reading anything about it.
async fn channel_of(conn: &mut Conn, message: MessageId) -> Result<Channel, Denied> {
    let found: Option<i64> = sqlx::query_scalar("SELECT channel_id FROM messages WHERE id = $1")
        .bind(message.0)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(id) = found else {
        return Err(Denied::NotFound("message"));
    };
    channel(conn, ChannelId(id))
        .await?
        .ok_or(Denied::NotFound("message"))
}

/// A thread: its root and the newest `limit` replies before `before` (all the newest when
/// `None`), with the channel's head, from one snapshot. A thread in a channel the user cannot
/// read does not exist for them.
pub async fn thread(
    store: &Store,
    user: &CurrentUser,
    root: MessageId,
    before: Option<Seq>,
    limit: u32,
) -> Result<ThreadPage, Denied> {
    let mut tx = store.read().await?;
    let channel = channel_of(&mut tx, root).await?;
    let scope = Scope::Channel(channel.id);
    access::check(&mut tx, user, scope, Need::Read)
        .await
        .map_err(hide_forbidden)?;
    let head = store::head(&mut tx, scope).await?;
    let mut found = messages_where(&mut tx, "m.id = $1", &[root.0]).await?;
    let root_message = match found.pop() {
        Some(m) if m.thread.is_none() => m,
        _ => return Err(Denied::NotFound("thread")),
    };
    let before = before.map_or(i64::MAX, |s| i64::try_from(s.0).unwrap_or(i64::MAX));
    let mut replies = messages_where(
        &mut tx,
        "m.thread_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3",
        &[root.0, before, i64::from(limit) + 1],
    )
    .await?;
    tx.commit().await?;
    let has_more = replies.len() > limit as usize;
    replies.truncate(limit as usize);
    replies.reverse();
    Ok(ThreadPage {
        channel,
        root: root_message,
        replies,
        head,
        has_more,
    })
}

/// The channel's pinned messages, newest first.
pub async fn pinned(
    store: &Store,
    user: &CurrentUser,
    channel: ChannelId,
) -> Result<Vec<Message>, Denied> {
    let mut tx = store.read().await?;
    access::check(&mut tx, user, Scope::Channel(channel), Need::Read).await?;
    let messages = messages_where(
        &mut tx,
        "m.channel_id = $1 AND m.pinned = 1 ORDER BY m.seq DESC",
        &[channel.0],
    )
    .await?;
    tx.commit().await?;
    Ok(messages)
}

/// The members of a channel the user may read.
pub async fn channel_members(
    store: &Store,
    user: &CurrentUser,
    channel: ChannelId,
) -> Result<Vec<UserRef>, Denied> {
    let mut tx = store.read().await?;
    access::check(&mut tx, user, Scope::Channel(channel), Need::Read).await?;
    let found = members(&mut tx, channel).await?;
    tx.commit().await?;
    Ok(found)
}

/// Something the user may not read is, to them, something that does not exist.
fn hide_forbidden(d: Denied) -> Denied {
    match d {
        Denied::Forbidden(_) => Denied::NotFound("message"),
        other => other,
    }
}

/// A message's earlier bodies, oldest first: for its author and admins (a deleted message's
/// text is not for everyone).
pub async fn edit_history(
    store: &Store,
    user: &CurrentUser,
    message: MessageId,
) -> Result<Vec<String>, Denied> {
    let mut tx = store.read().await?;
    let channel = channel_of(&mut tx, message).await?;
    access::check(&mut tx, user, Scope::Channel(channel.id), Need::Read)
        .await
        .map_err(hide_forbidden)?;
    let author: i64 = sqlx::query_scalar("SELECT author_id FROM messages WHERE id = $1")
        .bind(message.0)
        .fetch_one(&mut *tx)
        .await?;
    if author != user.id.0 && !user.is_admin {
        return Err(Denied::Forbidden("message's history"));
    }
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM message_edits WHERE message_id = $1 ORDER BY id")
            .bind(message.0)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(bodies)
}
