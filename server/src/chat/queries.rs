//! Reading channels and messages. Every read that names a channel goes through the access
//! module first.

use sqlx::Row;
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
    tx.commit().await?;
    Ok(WorkspaceSnapshot {
        me: user.clone(),
        channels,
        head,
        user_head,
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
    tx.commit().await?;
    Ok(HistoryPage {
        channel,
        messages,
        head,
        has_more,
    })
}

const MESSAGE_COLUMNS: &str =
    "SELECT m.id, m.channel_id, m.seq, m.author_id, u.username, m.body, m.created_at, m.client_id
     FROM messages m JOIN users u ON u.id = m.author_id";

fn message_from_row(r: &DbRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: MessageId(r.try_get("id")?),
        channel: ChannelId(r.try_get("channel_id")?),
        seq: Seq(r.try_get::<i64, _>("seq")? as u64),
        author: UserRef {
            id: UserId(r.try_get("author_id")?),
            username: r.try_get("username")?,
        },
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        client_id: r
            .try_get::<Option<String>, _>("client_id")?
            .map(ClientMsgId),
    })
}

/// The newest `limit` messages of a channel older than `before` (all when `None`), oldest
/// first, and whether more exist before them.
async fn messages_before(
    conn: &mut Conn,
    channel: ChannelId,
    before: Option<Seq>,
    limit: u32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let before = before.map(|s| s.0 as i64).unwrap_or(i64::MAX);
    let rows = sqlx::query(&format!(
        "{MESSAGE_COLUMNS} WHERE m.channel_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
    ))
    .bind(channel.0)
    .bind(before)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let has_more = rows.len() > limit as usize;
    let mut messages: Vec<Message> = rows
        .iter()
        .take(limit as usize)
        .map(message_from_row)
        .collect::<Result<_, _>>()?;
    messages.reverse();
    Ok((messages, has_more))
}
