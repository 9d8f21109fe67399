//! The database: opening it, migrations, transactions, and the per-scope event log.
//!
//! Queries are plain Rust functions over [`Conn`] (sqlx's `Any` driver) written once with `$n`
//! placeholders, which SQLite and PostgreSQL both accept; the engine is picked at run time by
//! the URL (`sqlite:` embedded, the default; `postgres:` for several nodes). Each feature keeps
//! its own queries in its folder (`chat/queries.rs`, …); this module holds only what every
//! feature shares: the event log (`next_seq`, `insert_event`, `events_after`, `head`).
//!
//! Why `Any` and not one generic function per engine: a query is written, read, formatted and
//! checked by rust-analyzer once, and the store tests run every query on both engines. The cost
//! is a conversion of arguments and rows at run time, measured by `make bench` (persistence).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Executor, Row};
use xietong::{ClientMsgId, Event, EventBody, Scope, Seq, UserId};

/// The one database type the server talks to.
pub type Db = sqlx::Any;
/// A connection or transaction, as every query takes it (`&mut *tx` derefs to it).
pub type Conn = sqlx::AnyConnection;
pub type Tx = sqlx::Transaction<'static, Db>;
pub type DbRow = sqlx::any::AnyRow;

/// How long a request waits for a pooled connection before it fails with a logged error:
/// well under the 30 s response deadline (`crate::RESPONSE_DEADLINE`; sqlx's default is the
/// same 30 s), so a starved pool shows as an error that names it, not as a silent 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

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
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: sqlx::AnyPool,
    engine: Engine,
}

/// A database URL with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Opens (creating if needed) the database and applies migrations. For SQLite, `data_dir`
    /// is created when the URL points into it.
    pub async fn open(url: &str, data_dir: Option<&Path>) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let open_err = |source| StoreError::Open {
            url: redact_url(url),
            source,
        };
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let pool = match engine {
            Engine::Sqlite => {
                if let Some(dir) = data_dir {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                let url = if url.contains('?') {
                    url.to_owned()
                } else {
                    format!("{url}?mode=rwc")
                };
                let options = AnyConnectOptions::from_str(&url).map_err(open_err)?;
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    // A file cannot hang up: no ping (a round trip to SQLite's thread) per
                    // checkout.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL: readers never wait for the writer. FULL: an acknowledged
                            // event survives power loss, not only a process crash.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    .map_err(open_err)?
            }
            Engine::Postgres => {
                // One plain connection first: an unreachable server is reported at once instead
                // of after the pool's retries.
                {
                    use sqlx::Connection;
                    sqlx::PgConnection::connect(url)
                        .await
                        .map_err(open_err)?
                        .close()
                        .await
                        .map_err(open_err)?;
                }
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect(url)
                    .await
                    .map_err(open_err)?
            }
        };
        match engine {
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Engine::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Store { pool, engine })
    }

    pub async fn close(&self) {
        self.pool.close().await
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.pool
    }

    /// A read-only transaction that sees one snapshot of the database, so a page and the head
    /// it reports agree (SQLite's deferred transactions already do; PostgreSQL needs
    /// REPEATABLE READ).
    pub async fn read(&self) -> Result<Tx, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.engine == Engine::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// A transaction that reads, then writes. SQLite must take the write lock up front, or a
    /// concurrent writer makes the upgrade fail with "database is locked" instead of waiting.
    pub async fn write(&self) -> Result<Tx, StoreError> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// `write` on a connection the caller keeps (the event log writer's own): no pool
    /// checkout, whose health checks are round trips that wait for a busy runtime.
    pub async fn write_on<'c>(
        &self,
        conn: &'c mut Conn,
    ) -> Result<sqlx::Transaction<'c, Db>, StoreError> {
        use sqlx::Connection;
        Ok(match self.engine {
            Engine::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => conn.begin().await?,
        })
    }

    /// A connection taken out of the pool for as long as the caller keeps it.
    pub async fn connection(&self) -> Result<sqlx::pool::PoolConnection<Db>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// The last sequence number of a scope (`Seq::ZERO` when it has no events).
    pub async fn head(&self, scope: Scope) -> Result<Seq, StoreError> {
        let mut conn = self.pool.acquire().await?;
        head(&mut conn, scope).await
    }

    /// Up to `limit` events of a scope with sequence numbers above `after`, in order.
    pub async fn events_after(
        &self,
        scope: Scope,
        after: Seq,
        limit: u64,
    ) -> Result<Vec<Event>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        events_after(&mut conn, scope, after, limit).await
    }
}

/// `$first, $first+1, …` for `n` values: an `IN (…)` list of bound parameters.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn is_postgres(conn: &Conn) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

/// Bound parameters for a statement of many values bound in the order they appear: on
/// PostgreSQL `placeholders(first, n)`; on SQLite a bare `?` each. SQLite looks every `$n` up
/// by name in the list of the statement's names, when parsing it and again when sqlx binds
/// it, so a statement of a few hundred `$n` costs time quadratic in their number (a third of
/// the writer's time with 600 of them); bare `?` are bound in order.
pub fn markers(conn: &Conn, first: usize, n: usize) -> String {
    if is_postgres(conn) {
        placeholders(first, n)
    } else {
        vec!["?"; n].join(", ")
    }
}

/// The heads of many scopes, a few hundred per query (scopes without events are left out).
pub async fn heads(
    conn: &mut Conn,
    scopes: &[Scope],
) -> Result<std::collections::HashMap<Scope, Seq>, StoreError> {
    let mut found = std::collections::HashMap::new();
    for chunk in scopes.chunks(500) {
        let sql = format!(
            "SELECT scope, head FROM scope_heads WHERE scope IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
        for scope in chunk {
            query = query.bind(scope.to_string());
        }
        for (scope, head) in query.fetch_all(&mut *conn).await? {
            if let Ok(scope) = scope.parse::<Scope>() {
                found.insert(scope, Seq(head as u64));
            }
        }
    }
    Ok(found)
}

pub async fn head(conn: &mut Conn, scope: Scope) -> Result<Seq, StoreError> {
    let head: Option<i64> = sqlx::query_scalar("SELECT head FROM scope_heads WHERE scope = $1")
        .bind(scope.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(Seq(head.unwrap_or(0) as u64))
}

pub async fn events_after(
    conn: &mut Conn,
    scope: Scope,
    after: Seq,
    limit: u64,
) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, body, created_at, actor_id, client_id FROM events
         WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(scope.to_string())
    .bind(after.0.min(i64::MAX as u64) as i64)
    .bind(limit.min(i64::MAX as u64) as i64)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let body: EventBody = xietong::wire::decode_stored(r.try_get::<&str, _>("body")?)?;
            Ok(Event {
                scope,
                seq: Seq(r.try_get::<i64, _>("seq")? as u64),
                actor: r.try_get::<Option<i64>, _>("actor_id")?.map(UserId),
                at: r.try_get("created_at")?,
                client_id: r
                    .try_get::<Option<String>, _>("client_id")?
                    .map(ClientMsgId),
                body,
            })
        })
        .collect()
}

/// The next sequence number of a scope. The upsert takes the scope's row lock until the
/// transaction ends, so concurrent writers (other nodes) queue behind it and numbers stay
/// gapless.
pub async fn next_seq(conn: &mut Conn, scope: Scope) -> Result<Seq, StoreError> {
    let head: i64 = sqlx::query_scalar(
        "INSERT INTO scope_heads (scope, head) VALUES ($1, 1)
         ON CONFLICT (scope) DO UPDATE SET head = scope_heads.head + 1 RETURNING head",
    )
    .bind(scope.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(Seq(head as u64))
}

/// The next sequence number of each of many distinct scopes, a hundred per statement
/// (`next_seq` for each, in fewer round trips).
pub async fn next_seqs(
    conn: &mut Conn,
    scopes: &[Scope],
) -> Result<std::collections::HashMap<Scope, Seq>, StoreError> {
    let mut taken = std::collections::HashMap::with_capacity(scopes.len());
    for chunk in scopes.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (1..=chunk.len())
            .map(|i| format!("({}, 1)", markers(conn, i, 1)))
            .collect();
        let sql = format!(
            "INSERT INTO scope_heads (scope, head) VALUES {}
             ON CONFLICT (scope) DO UPDATE SET head = scope_heads.head + 1 RETURNING scope, head",
            rows.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql).persistent(false);
        for scope in chunk {
            query = query.bind(scope.to_string());
        }
        for (scope, head) in query.fetch_all(&mut *conn).await? {
            let scope = scope
                .parse::<Scope>()
                .map_err(|_| StoreError::Db(sqlx::Error::Protocol(format!("bad scope {scope}"))))?;
            taken.insert(scope, Seq(head as u64));
        }
    }
    Ok(taken)
}

/// Locks a scope's head row until the transaction ends, without taking a sequence number:
/// commands that read and then decide (a department's ancestors) run one at a time.
pub async fn lock_scope(conn: &mut Conn, scope: Scope) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO scope_heads (scope, head) VALUES ($1, 0)
         ON CONFLICT (scope) DO UPDATE SET head = scope_heads.head",
    )
    .bind(scope.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_event(conn: &mut Conn, event: &Event) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (scope, seq, body, created_at, actor_id, client_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.scope.to_string())
    .bind(event.seq.0 as i64)
    .bind(serde_json::to_string(&event.body)?)
    .bind(event.at)
    .bind(event.actor.map(|u| u.0))
    .bind(event.client_id.as_ref().map(|c| c.0.clone()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rows per multi-row `INSERT` (well under SQLite's and PostgreSQL's limits on bound values).
/// Such statements are not kept prepared (`persistent(false)`): each row count is another
/// statement, and a hundred of them would push the hot ones out of the statement cache.
pub const ROWS_PER_INSERT: usize = 100;

/// Bound values per multi-row `INSERT` at most: wide rows take fewer per statement.
const VALUES_PER_INSERT: usize = 600;

/// One value of a row written by [`insert_rows`], typed even when NULL (PostgreSQL refuses a
/// NULL of the wrong type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(Some(v))
    }
}

impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Self {
        Cell::Int(v)
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(Some(v))
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(Some(v.to_owned()))
    }
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        Cell::Text(v)
    }
}

/// Where [`insert_rows`] writes: `INSERT INTO {table} ({columns}) VALUES (…), … {then}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowsInto {
    pub table: &'static str,
    /// The columns every row gives, as in `scope, seq`.
    pub columns: &'static str,
    /// How many columns `columns` names (the length of every row).
    pub count: usize,
    /// What follows the rows (`ON CONFLICT DO NOTHING`), or nothing.
    pub then: &'static str,
}

/// Writes rows into one table, up to a hundred per statement: one round trip where a row at a
/// time takes one per row.
pub async fn insert_rows(
    conn: &mut Conn,
    into: &RowsInto,
    rows: &[Vec<Cell>],
) -> Result<(), StoreError> {
    insert_rows_as(conn, into, rows, false).await
}

/// `insert_rows`, with each row's first value its `id` (one `reserve_id` gave) when `with_id`.
pub(crate) async fn insert_rows_as(
    conn: &mut Conn,
    into: &RowsInto,
    rows: &[Vec<Cell>],
    with_id: bool,
) -> Result<(), StoreError> {
    let count = into.count + usize::from(with_id);
    let id = if with_id { "id, " } else { "" };
    let per_statement = (VALUES_PER_INSERT / count).clamp(1, ROWS_PER_INSERT);
    for chunk in rows.chunks(per_statement) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", markers(conn, count * i + 1, count)))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({id}{}) VALUES {} {}",
            into.table,
            into.columns,
            values.join(", "),
            into.then
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for row in chunk {
            if row.len() != count {
                return Err(StoreError::Db(sqlx::Error::Protocol(format!(
                    "a row of {} values for {}",
                    row.len(),
                    into.table
                ))));
            }
            for cell in row {
                query = match cell {
                    Cell::Int(v) => query.bind(*v),
                    Cell::Text(v) => query.bind(v.as_deref()),
                };
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes one row into a table whose `id` column the database fills, and returns that id.
pub async fn insert_returning_id(
    conn: &mut Conn,
    into: &RowsInto,
    row: &[Cell],
) -> Result<i64, StoreError> {
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) {} RETURNING id",
        into.table,
        into.columns,
        placeholders(1, into.count),
        into.then
    );
    let mut query = sqlx::query_scalar(&sql);
    for cell in row {
        query = match cell {
            Cell::Int(v) => query.bind(*v),
            Cell::Text(v) => query.bind(v.as_deref()),
        };
    }
    Ok(query.fetch_one(&mut *conn).await?)
}

/// Ids reserved per round trip on PostgreSQL (those a batch does not use are skipped, as a
/// sequence skips numbers anyway).
const IDS_PER_RESERVATION: i64 = 64;

/// Ids set aside for rows to be written later in a transaction, which the database would
/// otherwise give at their insert (`reserve_ids`).
#[derive(Debug)]
pub(crate) enum ReservedIds {
    /// Every id from this one on (SQLite).
    From(i64),
    /// These (PostgreSQL); more come from the sequence when they run out.
    Taken(std::collections::VecDeque<i64>),
}

impl ReservedIds {
    /// The next reserved id, if any is left.
    pub(crate) fn take(&mut self) -> Option<i64> {
        match self {
            ReservedIds::From(next) => {
                let id = *next;
                *next += 1;
                Some(id)
            }
            ReservedIds::Taken(ids) => ids.pop_front(),
        }
    }
}

/// Reserves ids for rows of `table` (its `id` column filled by the database) to be inserted
/// later in this transaction. On SQLite the transaction holds the write lock, so every id
/// after the largest ever given is free until it ends — as long as no row of the table is
/// inserted meanwhile without one of them. On PostgreSQL they come from the column's sequence.
pub(crate) async fn reserve_ids(conn: &mut Conn, table: &str) -> Result<ReservedIds, StoreError> {
    if is_postgres(conn) {
        let sql = format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
        );
        let mut ids: Vec<i64> = sqlx::query_scalar(&sql)
            .bind(IDS_PER_RESERVATION)
            .fetch_all(&mut *conn)
            .await?;
        ids.sort_unstable();
        return Ok(ReservedIds::Taken(ids.into()));
    }
    let sql = format!(
        "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = $1), 0),
                    COALESCE((SELECT max(id) FROM {table}), 0))"
    );
    let last: i64 = sqlx::query_scalar(&sql)
        .bind(table)
        .fetch_one(&mut *conn)
        .await?;
    Ok(ReservedIds::From(last + 1))
}

const EVENTS: RowsInto = RowsInto {
    table: "events",
    columns: "scope, seq, body, created_at, actor_id, client_id",
    count: 6,
    then: "",
};

/// Writes many events, a hundred per statement: one round trip where `insert_event` takes one
/// per event.
pub async fn insert_events(conn: &mut Conn, events: &[Event]) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        rows.push(vec![
            event.scope.to_string().into(),
            (event.seq.0 as i64).into(),
            serde_json::to_string(&event.body)?.into(),
            event.at.into(),
            event.actor.map(|u| u.0).into(),
            event.client_id.as_ref().map(|c| c.0.clone()).into(),
        ]);
    }
    insert_rows(conn, &EVENTS, &rows).await
}

/// Sets the heads of scopes whose rows this transaction already holds (each took a number with
/// `next_seq` first), a hundred per statement.
pub async fn set_heads(conn: &mut Conn, heads: &[(Scope, Seq)]) -> Result<(), StoreError> {
    for chunk in heads.chunks(ROWS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", markers(conn, 2 * i + 1, 2)))
            .collect();
        let sql = format!(
            "INSERT INTO scope_heads (scope, head) VALUES {}
             ON CONFLICT (scope) DO UPDATE SET head = excluded.head",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for (scope, head) in chunk {
            query = query.bind(scope.to_string()).bind(head.0 as i64);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Rewrites a scope's stored events whose JSON body starts with one of `prefixes` to `body`:
/// what was taken back (a recalled mail) is not replayed, even to a client that asks for the
/// scope from its start. Their places in the log stay (no gap).
pub async fn redact(
    conn: &mut Conn,
    scope: Scope,
    prefixes: &[String],
    body: &EventBody,
) -> Result<u64, StoreError> {
    let replacement = serde_json::to_string(body)?;
    let mut redacted = 0;
    for prefix in prefixes {
        // `%` and `_` in a prefix would be wildcards: the callers' prefixes are JSON of ids
        // and keys; an `_` matches itself among the rest.
        redacted += sqlx::query("UPDATE events SET body = $1 WHERE scope = $2 AND body LIKE $3")
            .bind(&replacement)
            .bind(scope.to_string())
            .bind(format!("{prefix}%"))
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(redacted)
}

/// A boolean column: PostgreSQL has a type for it, SQLite stores 0 or 1.
pub fn flag(row: &DbRow, column: &str) -> Result<bool, sqlx::Error> {
    row.try_get::<bool, _>(column)
        .or_else(|_| row.try_get::<i64, _>(column).map(|v| v != 0))
}

#[cfg(test)]
mod tests;
