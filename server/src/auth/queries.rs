//! Accounts and sessions in the database.

use sqlx::Row;
use xietong::{CurrentUser, UserId, UserRef};

use crate::store::{flag, now_ms, Conn, DbRow, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("that username is taken")]
    UsernameTaken,
    #[error("this invitation is not valid (used, expired or mistyped)")]
    BadInvite,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Store(StoreError::Db(e))
    }
}

/// A session found by its token hash.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: CurrentUser,
    /// Unix milliseconds.
    pub expires_at: i64,
}

fn user_from_row(r: &DbRow) -> Result<CurrentUser, sqlx::Error> {
    Ok(CurrentUser {
        id: UserId(r.try_get("id")?),
        username: r.try_get("username")?,
        is_admin: flag(r, "is_admin")?,
    })
}

/// How an account comes to be.
#[derive(Debug, Clone, Copy)]
pub enum Admission<'a> {
    /// Open sign-up.
    Open,
    /// With an invitation (the SHA-256 of its token), used up by this account.
    Invite(&'a str),
    /// By the operator on the command line: an admin.
    Admin,
}

/// Creates an account. The first account of the workspace is its admin: the count and the
/// insert happen in one write transaction, so two concurrent first sign-ups cannot both be.
pub async fn create_user(
    store: &Store,
    username: &str,
    password_hash: &str,
    admission: Admission<'_>,
) -> Result<CurrentUser, AccountError> {
    let mut tx = store.write().await?;
    if let Admission::Invite(token_hash) = admission {
        let usable: Option<String> = sqlx::query_scalar(
            "SELECT token_hash FROM invites WHERE token_hash = $1 AND used_by IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        if usable.is_none() {
            return Err(AccountError::BadInvite);
        }
    }
    let key = xietong::validate::username_fold(username);
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username_key = $1")
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(AccountError::UsernameTaken);
    }
    if store.engine() == crate::store::Engine::Postgres {
        // PostgreSQL's row locks do not cover "no rows yet": serialise account creation.
        sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    let is_admin = count == 0 || matches!(admission, Admission::Admin);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, username_key, password_hash, is_admin, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(username)
    .bind(&key)
    .bind(password_hash)
    .bind(is_admin)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AccountError::UsernameTaken,
        _ => e.into(),
    })?;
    if let Admission::Invite(token_hash) = admission {
        // Conditional, so two concurrent sign-ups with one invitation cannot both use it
        // (PostgreSQL's default isolation would let both pass the check above).
        let used = sqlx::query(
            "UPDATE invites SET used_by = $1 WHERE token_hash = $2 AND used_by IS NULL AND expires_at > $3",
        )
        .bind(id)
        .bind(token_hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(AccountError::BadInvite);
        }
    }
    tx.commit().await?;
    Ok(CurrentUser {
        id: UserId(id),
        username: username.to_owned(),
        is_admin,
    })
}

/// Gives accounts stored before `username_key` existed the server's fold of their name (the
/// migration could only use the database's lower(), which folds ASCII). A name whose fold an
/// earlier account already holds (two accounts SQLite told apart, `Ärger` and `ärger`) keeps
/// the migration's key, and is logged. Returns how many were changed.
pub async fn fold_usernames(store: &Store) -> Result<u64, StoreError> {
    let rows: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, username, username_key FROM users ORDER BY id")
            .fetch_all(store.pool())
            .await?;
    let mut changed = 0;
    for (id, username, key) in rows {
        let folded = xietong::validate::username_fold(&username);
        if key.as_deref() == Some(folded.as_str()) {
            continue;
        }
        let updated = sqlx::query("UPDATE users SET username_key = $2 WHERE id = $1")
            .bind(id)
            .bind(&folded)
            .execute(store.pool())
            .await;
        match updated {
            Ok(_) => changed += 1,
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                tracing::warn!(user = id, %username, "another account has the same name in another case; it keeps its old lookup key");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(changed)
}

/// The account and its password hash, by username (case-insensitive in every script).
pub async fn user_by_name(
    store: &Store,
    username: &str,
) -> Result<Option<(CurrentUser, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, username, is_admin, password_hash FROM users
         WHERE username_key = $1 AND deactivated = 0",
    )
    .bind(xietong::validate::username_fold(username))
    .fetch_optional(store.pool())
    .await?;
    match row {
        Some(r) => Ok(Some((user_from_row(&r)?, r.try_get("password_hash")?))),
        None => Ok(None),
    }
}

/// The account with this id, if it exists.
pub async fn user_by_id(conn: &mut Conn, id: UserId) -> Result<Option<CurrentUser>, StoreError> {
    let row = sqlx::query("SELECT id, username, is_admin FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| user_from_row(&r)).transpose()?)
}

/// The users with these ids that exist, as others see them.
pub async fn user_refs(conn: &mut Conn, ids: &[UserId]) -> Result<Vec<UserRef>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query("SELECT id, username FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(r) = row {
            out.push(UserRef {
                id: UserId(r.try_get("id")?),
                username: r.try_get("username")?,
            });
        }
    }
    Ok(out)
}

/// Everyone with an account, by username: the people pickers' list (a company of a thousand
/// is a few tens of kilobytes).
pub async fn people(store: &Store) -> Result<Vec<UserRef>, StoreError> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, username FROM users WHERE deactivated = 0 ORDER BY username")
            .fetch_all(store.pool())
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, username)| UserRef {
            id: UserId(id),
            username,
        })
        .collect())
}

pub async fn create_session(
    store: &Store,
    token_hash: &str,
    user: UserId,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.0)
    .bind(now_ms())
    .bind(expires_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The user of an unexpired session.
pub async fn session(store: &Store, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.is_admin, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deactivated = 0",
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(store.pool())
    .await?;
    match row {
        Some(r) => Ok(Some(SessionRow {
            user: user_from_row(&r)?,
            expires_at: r.try_get("expires_at")?,
        })),
        None => Ok(None),
    }
}

/// Replaces a password hash and deletes every session of the account, in one transaction;
/// the ended sessions' hashes, so their sockets can be closed everywhere. `None`: no such user.
pub async fn set_password(
    store: &Store,
    user: UserId,
    password_hash: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let mut tx = store.write().await?;
    let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Ok(None);
    }
    let sessions: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(sessions))
}

/// Whether the account was deactivated (false for one that does not exist).
pub async fn is_deactivated(store: &Store, user: UserId) -> Result<bool, StoreError> {
    let flag: Option<i64> = sqlx::query_scalar("SELECT deactivated FROM users WHERE id = $1")
        .bind(user.0)
        .fetch_optional(store.pool())
        .await?;
    Ok(flag.unwrap_or(0) != 0)
}

pub async fn delete_session(store: &Store, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Records an invitation (by the hash of its token), valid until `expires_at`.
pub async fn create_invite(
    store: &Store,
    token_hash: &str,
    by: UserId,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO invites (token_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(by.0)
    .bind(now_ms())
    .bind(expires_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Which of these sessions still exist (unexpired).
pub async fn live_sessions(store: &Store, hashes: &[&str]) -> Result<Vec<String>, StoreError> {
    let mut live = Vec::new();
    for chunk in hashes.chunks(100) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT token_hash FROM sessions WHERE expires_at > $1 AND token_hash IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(now_ms());
        for hash in chunk {
            query = query.bind(*hash);
        }
        live.extend(query.fetch_all(store.pool()).await?);
    }
    Ok(live)
}
