//! All database access. Features call these methods; nothing else in the server writes SQL.
//!
//! Two backends behind one API, picked by the database URL: `sqlite:` (the default, embedded)
//! and `postgres:` (for several nodes). The queries are written once (in `backend!`, using `$n`
//! placeholders, which both engines accept) and compiled for each engine's native types; only
//! connection set-up, migrations and the snapshot statement differ.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use xietong::{
    Channel, ChannelId, ClientMsgId, CurrentUser, Event, HistoryPage, Scope, Seq, UserId, UserRef,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("unsupported database URL {0:?} (expected sqlite:… or postgres:…)")]
    UnsupportedUrl(String),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored event is corrupt: {0}")]
    CorruptEvent(#[from] serde_json::Error),
    #[error("that username is taken")]
    UsernameTaken,
    #[error("a channel with that name exists")]
    ChannelNameTaken,
    #[error("no such channel")]
    NoSuchChannel,
}

/// A write to one scope's log, committed with its side tables in one transaction.
#[derive(Debug, Clone)]
pub enum Append {
    PostMessage {
        channel: ChannelId,
        author: UserRef,
        body: String,
        client_id: ClientMsgId,
    },
    CreateChannel {
        name: String,
        creator: Option<UserId>,
    },
}

/// A committed event. `duplicate` is set when the append was a retry of one already stored; the
/// event is then the original one and must not be broadcast again.
#[derive(Debug, Clone)]
pub struct Committed {
    pub event: Event,
    pub duplicate: bool,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::Backend),
    Postgres(postgres::Backend),
}

/// Calls the same method on whichever backend this is.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(b) => b.$method($($arg),*).await,
            Store::Postgres(b) => b.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens (creating if needed) the database and applies migrations. For SQLite, `data_dir`
    /// is created when the URL points into it.
    pub async fn open(url: &str, data_dir: Option<&Path>) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        if url.starts_with("sqlite:") {
            if let Some(dir) = data_dir {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
            let options = SqliteConnectOptions::from_str(url)
                .map_err(open_err)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged event survives power loss, not only a process crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(open_err)?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Ok(Store::Sqlite(sqlite::Backend { pool }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // One plain connection first: an unreachable server is reported at once instead of
            // after the pool's retries.
            {
                use sqlx::Connection;
                sqlx::PgConnection::connect(url)
                    .await
                    .map_err(open_err)?
                    .close()
                    .await
                    .map_err(open_err)?;
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(open_err)?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Store::Postgres(postgres::Backend { pool }))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(b) => b.pool.close().await,
            Store::Postgres(b) => b.pool.close().await,
        }
    }

    /// Creates an account. The first account of the workspace is its admin.
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<CurrentUser, StoreError> {
        dispatch!(self.create_user(username, password_hash))
    }

    /// The account and its password hash, by username (ASCII case-insensitive).
    pub async fn user_by_name(
        &self,
        username: &str,
    ) -> Result<Option<(CurrentUser, String)>, StoreError> {
        dispatch!(self.user_by_name(username))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.create_session(token_hash, user, expires_at))
    }

    /// The user of an unexpired session.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<CurrentUser>, StoreError> {
        dispatch!(self.session_user(token_hash))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        dispatch!(self.delete_session(token_hash))
    }

    pub async fn channels(&self) -> Result<Vec<Channel>, StoreError> {
        dispatch!(self.channels())
    }

    pub async fn channel(&self, id: ChannelId) -> Result<Option<Channel>, StoreError> {
        dispatch!(self.channel(id))
    }

    /// The channel list and the workspace log's head, read from one snapshot.
    pub async fn workspace(&self) -> Result<(Vec<Channel>, Seq), StoreError> {
        dispatch!(self.workspace())
    }

    /// A page of a channel's history (`None`: the first channel, `general`) with the channel
    /// log's head, read from one snapshot so that `head` is exactly what the page includes.
    /// `None` when there is no such channel.
    pub async fn history(
        &self,
        channel: Option<ChannelId>,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Option<HistoryPage>, StoreError> {
        dispatch!(self.history(channel, before, limit))
    }

    /// The last sequence number of a scope (`Seq::ZERO` when it has no events).
    pub async fn head(&self, scope: Scope) -> Result<Seq, StoreError> {
        dispatch!(self.head(scope))
    }

    /// Up to `limit` events of a scope with sequence numbers above `after`, in order.
    pub async fn events_after(
        &self,
        scope: Scope,
        after: Seq,
        limit: u64,
    ) -> Result<Vec<Event>, StoreError> {
        dispatch!(self.events_after(scope, after, limit))
    }

    /// Commits a batch of appends in one transaction (one fsync for all of them). Each append
    /// gets its own outcome; a database failure fails the whole batch and nothing is written.
    pub async fn commit(
        &self,
        batch: &[Append],
    ) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
        dispatch!(self.commit(batch))
    }
}

/// The queries, written once, compiled per engine. `$snapshot` is the statement that makes a
/// read transaction see one snapshot (SQLite's deferred transactions already do); `$begin_write`
/// starts a transaction that reads then writes (SQLite must take the write lock up front, or a
/// concurrent writer makes the upgrade fail with "database is locked" instead of waiting).
macro_rules! backend {
    ($module:ident, $db:ty, $snapshot:expr, $begin_write:expr) => {
        pub mod $module {
            use sqlx::Row;
            use xietong::{
                Channel, ChannelId, ClientMsgId, CurrentUser, Event, EventBody, HistoryPage, Message,
                MessageId, Scope, Seq, UserId, UserRef,
            };

            use super::{now_ms, Append, Committed, StoreError};

            type Db = $db;
            type Conn = <Db as sqlx::Database>::Connection;
            type DbRow = <Db as sqlx::Database>::Row;

            #[derive(Clone)]
            pub struct Backend {
                pub(super) pool: sqlx::Pool<Db>,
            }

            const SNAPSHOT: Option<&str> = $snapshot;
            const BEGIN_WRITE: &str = $begin_write;

            const MESSAGE_COLUMNS: &str = "SELECT m.id, m.channel_id, m.seq, m.author_id, u.username, m.body, m.created_at, m.client_id
                 FROM messages m JOIN users u ON u.id = m.author_id";

            impl Backend {
                async fn read_snapshot(&self) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    if let Some(statement) = SNAPSHOT {
                        sqlx::query(statement).execute(&mut *tx).await?;
                    }
                    Ok(tx)
                }

                pub async fn create_user(&self, username: &str, password_hash: &str) -> Result<CurrentUser, StoreError> {
                    let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE lower(username) = lower($1)")
                        .bind(username)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if taken.is_some() {
                        return Err(StoreError::UsernameTaken);
                    }
                    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
                    let is_admin = count == 0;
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO users (username, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(username)
                    .bind(password_hash)
                    .bind(is_admin)
                    .bind(now_ms())
                    .fetch_one(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(CurrentUser { id: UserId(id), username: username.to_owned(), is_admin })
                }

                pub async fn user_by_name(&self, username: &str) -> Result<Option<(CurrentUser, String)>, StoreError> {
                    let row = sqlx::query("SELECT id, username, is_admin, password_hash FROM users WHERE lower(username) = lower($1)")
                        .bind(username)
                        .fetch_optional(&self.pool)
                        .await?;
                    Ok(row.map(|r| (user_from_row(&r), r.get("password_hash"))))
                }

                pub async fn create_session(&self, token_hash: &str, user: UserId, expires_at: i64) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash)
                        .bind(user.0)
                        .bind(now_ms())
                        .bind(expires_at)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                pub async fn session_user(&self, token_hash: &str) -> Result<Option<CurrentUser>, StoreError> {
                    let row = sqlx::query(
                        "SELECT u.id, u.username, u.is_admin FROM sessions s JOIN users u ON u.id = s.user_id
                         WHERE s.token_hash = $1 AND s.expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(now_ms())
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.as_ref().map(user_from_row))
                }

                pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
                    Ok(())
                }

                pub async fn channels(&self) -> Result<Vec<Channel>, StoreError> {
                    let mut conn = self.pool.acquire().await?;
                    channels(&mut conn).await
                }

                pub async fn channel(&self, id: ChannelId) -> Result<Option<Channel>, StoreError> {
                    let mut conn = self.pool.acquire().await?;
                    channel(&mut conn, id).await
                }

                pub async fn workspace(&self) -> Result<(Vec<Channel>, Seq), StoreError> {
                    let mut tx = self.read_snapshot().await?;
                    let head = head(&mut tx, Scope::Workspace).await?;
                    let channels = channels(&mut tx).await?;
                    tx.commit().await?;
                    Ok((channels, head))
                }

                pub async fn history(&self, channel_id: Option<ChannelId>, before: Option<Seq>, limit: u32) -> Result<Option<HistoryPage>, StoreError> {
                    let mut tx = self.read_snapshot().await?;
                    let found = match channel_id {
                        Some(id) => channel(&mut tx, id).await?,
                        None => channels(&mut tx).await?.into_iter().next(),
                    };
                    let Some(channel) = found else { return Ok(None) };
                    let head = head(&mut tx, Scope::Channel(channel.id)).await?;
                    let (messages, has_more) = messages_before(&mut tx, channel.id, before, limit).await?;
                    tx.commit().await?;
                    Ok(Some(HistoryPage { channel, messages, head, has_more }))
                }

                pub async fn head(&self, scope: Scope) -> Result<Seq, StoreError> {
                    let mut conn = self.pool.acquire().await?;
                    head(&mut conn, scope).await
                }

                pub async fn events_after(&self, scope: Scope, after: Seq, limit: u64) -> Result<Vec<Event>, StoreError> {
                    let rows = sqlx::query("SELECT seq, body FROM events WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                        .bind(scope.to_string())
                        .bind(after.0 as i64)
                        .bind(limit as i64)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter()
                        .map(|r| {
                            let body: EventBody = serde_json::from_str(r.get::<&str, _>("body"))?;
                            Ok(Event { scope, seq: Seq(r.get::<i64, _>("seq") as u64), body })
                        })
                        .collect()
                }

                pub async fn commit(&self, batch: &[Append]) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
                    let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                    let mut outcomes = Vec::with_capacity(batch.len());
                    for append in batch {
                        let outcome = match append {
                            Append::PostMessage { channel, author, body, client_id } => {
                                post_message(&mut tx, *channel, author, body, client_id).await
                            }
                            Append::CreateChannel { name, creator } => create_channel(&mut tx, name, *creator).await,
                        };
                        match outcome {
                            Err(StoreError::Db(e)) => return Err(StoreError::Db(e)),
                            other => outcomes.push(other),
                        }
                    }
                    tx.commit().await?;
                    Ok(outcomes)
                }
            }

            async fn head(conn: &mut Conn, scope: Scope) -> Result<Seq, StoreError> {
                let head: Option<i64> = sqlx::query_scalar("SELECT head FROM scope_heads WHERE scope = $1")
                    .bind(scope.to_string())
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(Seq(head.unwrap_or(0) as u64))
            }

            async fn channels(conn: &mut Conn) -> Result<Vec<Channel>, StoreError> {
                let rows = sqlx::query("SELECT id, name, created_at FROM channels ORDER BY id").fetch_all(&mut *conn).await?;
                Ok(rows.iter().map(channel_from_row).collect())
            }

            async fn channel(conn: &mut Conn, id: ChannelId) -> Result<Option<Channel>, StoreError> {
                let row = sqlx::query("SELECT id, name, created_at FROM channels WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(row.as_ref().map(channel_from_row))
            }

            /// The newest `limit` messages of a channel older than `before` (all when `None`),
            /// oldest first, and whether more exist before them.
            async fn messages_before(conn: &mut Conn, channel: ChannelId, before: Option<Seq>, limit: u32) -> Result<(Vec<Message>, bool), StoreError> {
                let before = before.map(|s| s.0 as i64).unwrap_or(i64::MAX);
                let rows = sqlx::query(&format!("{MESSAGE_COLUMNS} WHERE m.channel_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"))
                    .bind(channel.0)
                    .bind(before)
                    .bind(i64::from(limit) + 1)
                    .fetch_all(&mut *conn)
                    .await?;
                let has_more = rows.len() > limit as usize;
                let mut messages: Vec<Message> = rows.iter().take(limit as usize).map(message_from_row).collect();
                messages.reverse();
                Ok((messages, has_more))
            }

            /// The next sequence number of a scope. The upsert takes the scope's row lock until
            /// the transaction ends, so concurrent writers (other nodes) queue behind it.
            async fn next_seq(conn: &mut Conn, scope: Scope) -> Result<Seq, StoreError> {
                let head: i64 = sqlx::query_scalar(
                    "INSERT INTO scope_heads (scope, head) VALUES ($1, 1)
                     ON CONFLICT (scope) DO UPDATE SET head = scope_heads.head + 1 RETURNING head",
                )
                .bind(scope.to_string())
                .fetch_one(&mut *conn)
                .await?;
                Ok(Seq(head as u64))
            }

            async fn insert_event(conn: &mut Conn, event: &Event, at: i64) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO events (scope, seq, body, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(event.scope.to_string())
                    .bind(event.seq.0 as i64)
                    .bind(serde_json::to_string(&event.body)?)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn post_message(conn: &mut Conn, channel_id: ChannelId, author: &UserRef, body: &str, client_id: &ClientMsgId) -> Result<Committed, StoreError> {
                let existing = sqlx::query(&format!("{MESSAGE_COLUMNS} WHERE m.author_id = $1 AND m.client_id = $2"))
                    .bind(author.id.0)
                    .bind(&client_id.0)
                    .fetch_optional(&mut *conn)
                    .await?;
                if let Some(row) = existing {
                    let message = message_from_row(&row);
                    let event = Event { scope: Scope::Channel(message.channel), seq: message.seq, body: EventBody::MessagePosted { message } };
                    return Ok(Committed { event, duplicate: true });
                }
                if channel(conn, channel_id).await?.is_none() {
                    return Err(StoreError::NoSuchChannel);
                }
                let scope = Scope::Channel(channel_id);
                let seq = next_seq(conn, scope).await?;
                let at = now_ms();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO messages (channel_id, seq, author_id, body, created_at, client_id)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(channel_id.0)
                .bind(seq.0 as i64)
                .bind(author.id.0)
                .bind(body)
                .bind(at)
                .bind(&client_id.0)
                .fetch_one(&mut *conn)
                .await?;
                let message = Message {
                    id: MessageId(id),
                    channel: channel_id,
                    seq,
                    author: author.clone(),
                    body: body.to_owned(),
                    created_at: at,
                    client_id: Some(client_id.clone()),
                };
                let event = Event { scope, seq, body: EventBody::MessagePosted { message } };
                insert_event(conn, &event, at).await?;
                Ok(Committed { event, duplicate: false })
            }

            async fn create_channel(conn: &mut Conn, name: &str, creator: Option<UserId>) -> Result<Committed, StoreError> {
                let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM channels WHERE lower(name) = lower($1)")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?;
                if taken.is_some() {
                    return Err(StoreError::ChannelNameTaken);
                }
                let at = now_ms();
                let id: i64 = sqlx::query_scalar("INSERT INTO channels (name, created_by, created_at) VALUES ($1, $2, $3) RETURNING id")
                    .bind(name)
                    .bind(creator.map(|u| u.0))
                    .bind(at)
                    .fetch_one(&mut *conn)
                    .await?;
                let seq = next_seq(conn, Scope::Workspace).await?;
                let channel = Channel { id: ChannelId(id), name: name.to_owned(), created_at: at };
                let event = Event { scope: Scope::Workspace, seq, body: EventBody::ChannelCreated { channel } };
                insert_event(conn, &event, at).await?;
                Ok(Committed { event, duplicate: false })
            }

            fn user_from_row(r: &DbRow) -> CurrentUser {
                CurrentUser { id: UserId(r.get("id")), username: r.get("username"), is_admin: r.get("is_admin") }
            }

            fn channel_from_row(r: &DbRow) -> Channel {
                Channel { id: ChannelId(r.get("id")), name: r.get("name"), created_at: r.get("created_at") }
            }

            fn message_from_row(r: &DbRow) -> Message {
                Message {
                    id: MessageId(r.get("id")),
                    channel: ChannelId(r.get("channel_id")),
                    seq: Seq(r.get::<i64, _>("seq") as u64),
                    author: UserRef { id: UserId(r.get("author_id")), username: r.get("username") },
                    body: r.get("body"),
                    created_at: r.get("created_at"),
                    client_id: r.get::<Option<String>, _>("client_id").map(ClientMsgId),
                }
            }
        }
    };
}

backend!(sqlite, sqlx::Sqlite, None, "BEGIN IMMEDIATE");
backend!(
    postgres,
    sqlx::Postgres,
    Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"),
    "BEGIN"
);

#[cfg(test)]
mod tests;
