//! Who may read and write what: the one place that decides, per scope.
//!
//! Every way in asks here: the socket's subscribe, every command, every server function and
//! history page (later file downloads and search). A feature decides nothing about access on
//! its own; it names the scope a thing lives in.

use xietong::{ChannelId, ChannelKind, CurrentUser, Scope};

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
    }
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

/// Allows `user` to read a stored file, or refuses: a cabinet file is its owner's (sharing
/// extends this), a message's file is readable where the channel is. A file attached to
/// nothing (or no longer) is nobody's to read. Unknown and unreadable look the same.
pub async fn file(
    conn: &mut Conn,
    user: &CurrentUser,
    id: xietong::files::FileId,
) -> Result<ReadableFile, Denied> {
    type Row = (String, String, i64, String, Option<i64>, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT f.hash, f.name, f.size, f.mime, e.owner_id, f.channel_id
         FROM files f LEFT JOIN cabinet_entries e ON e.id = f.entry_id
         WHERE f.id = $1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((hash, name, size, mime, cabinet_owner, channel)) = row else {
        return Err(Denied::NotFound("file"));
    };
    let readable = match (cabinet_owner, channel) {
        (Some(owner), _) => owner == user.id.0,
        (None, Some(channel)) => {
            let scope = Scope::Channel(ChannelId(channel));
            match check(conn, user, scope, Need::Read).await {
                Ok(()) => true,
                Err(Denied::Store(e)) => return Err(Denied::Store(e)),
                Err(_) => false,
            }
        }
        (None, None) => false,
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
