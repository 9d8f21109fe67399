//! The event log writer: the one path by which anything becomes an event.
//!
//! Commands queue up here; a single task applies them in batches (one transaction, one fsync
//! per batch, each command in its own savepoint) and only then publishes the new events and
//! answers each caller. So every event a client sees or is told is saved is already in the
//! database, and the hub receives each scope's events in sequence order.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use xietong::Event;

use crate::backplane::Backplane;
use crate::command::{self, Applied, BatchMemo, CommandError, Fence, Presence, Submission};
use sqlx::pool::PoolConnection;

use crate::store::{Conn, Db, Store, StoreError};

/// Most commands applied in one transaction.
const MAX_BATCH: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("the server is shutting down")]
    ShuttingDown,
}

type Reply = oneshot::Sender<Result<Applied, CommandError>>;

struct Pending {
    submission: Submission,
    reply: Reply,
    queued: Instant,
}

#[derive(Clone)]
pub struct EventLog {
    tx: mpsc::Sender<Pending>,
}

impl EventLog {
    /// Starts the writer task. It stops when `stop` is cancelled, after draining what was queued.
    pub fn start(
        store: Store,
        backplane: Backplane,
        stop: CancellationToken,
    ) -> (EventLog, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(write_loop(store, backplane, rx, stop));
        (EventLog { tx }, task)
    }

    /// Applies a command and, once it is durable, publishes its events. Resolves after both.
    pub async fn run(&self, submission: Submission) -> Result<Applied, AppendError> {
        self.submit(submission).await?.outcome().await
    }

    /// Queues a command and returns without waiting for its commit. Commands submitted one after
    /// another are applied in that order, so one client's pipelined posts keep their order.
    pub async fn submit(&self, submission: Submission) -> Result<Submitted, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Pending {
                submission,
                reply,
                queued: Instant::now(),
            })
            .await
            .map_err(|_| AppendError::ShuttingDown)?;
        Ok(Submitted(answer))
    }
}

/// A queued command; `outcome` resolves once it is committed and published (or refused).
pub struct Submitted(oneshot::Receiver<Result<Applied, CommandError>>);

impl Submitted {
    pub async fn outcome(self) -> Result<Applied, AppendError> {
        Ok(self.0.await.map_err(|_| AppendError::ShuttingDown)??)
    }
}

async fn write_loop(
    store: Store,
    backplane: Backplane,
    mut rx: mpsc::Receiver<Pending>,
    stop: CancellationToken,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    let mut load = WriterLoad::new();
    let mut own = OwnConnection::default();
    loop {
        let first = tokio::select! {
            biased;
            item = rx.recv() => item,
            _ = stop.cancelled() => { rx.close(); rx.recv().await }
        };
        let Some(first) = first else { return };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        load.queued(batch.iter().map(|p| started - p.queued));
        let (submissions, replies): (Vec<Submission>, Vec<Reply>) =
            batch.drain(..).map(|p| (p.submission, p.reply)).unzip();
        let mut phases = Phases::default();
        let committed = match own.get(&store).await {
            Ok(conn) => {
                commit_in_phases(&store, conn, &submissions, backplane.hub(), &mut phases).await
            }
            Err(e) => Err(e),
        };
        own.used(committed.is_ok());
        let commit_took = started.elapsed();
        match committed {
            Ok(outcomes) => {
                let events: Vec<&Event> = outcomes
                    .iter()
                    .filter_map(|outcome| outcome.as_ref().ok())
                    .flat_map(|applied| &applied.events)
                    .collect();
                backplane.publish_all(&events);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                load.batch(commit_took, &phases, started.elapsed() - commit_took);
            }
            Err(e) => {
                tracing::error!(error = %e, batch = submissions.len(), "committing a batch of commands failed");
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(CommandError::Store(StoreError::Db(
                        sqlx::Error::Protocol(message.clone()),
                    ))));
                }
            }
        }
    }
}

/// The writer's own database connection, kept between batches so a batch does not wait for a
/// pool checkout. It is checked after an idle spell (a database restarted meanwhile is found
/// before a batch fails on it), replaced after a failed batch and renewed now and then.
#[derive(Default)]
struct OwnConnection {
    conn: Option<(PoolConnection<Db>, Instant)>,
    last_used: Option<Instant>,
}

impl OwnConnection {
    /// Idle longer than this, the connection is pinged before use.
    const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);
    /// Kept at most this long (the pool's own connections are renewed too).
    const RENEW_AFTER: Duration = Duration::from_secs(30 * 60);

    async fn get(&mut self, store: &Store) -> Result<&mut Conn, StoreError> {
        use sqlx::Connection;
        let stale = match (&mut self.conn, self.last_used) {
            (Some((_, taken)), _) if taken.elapsed() > Self::RENEW_AFTER => true,
            (Some((conn, _)), Some(last)) if last.elapsed() > Self::CHECK_AFTER_IDLE => {
                conn.ping().await.is_err()
            }
            _ => false,
        };
        if stale {
            self.conn = None;
        }
        let (conn, _) = match self.conn.take() {
            Some(kept) => self.conn.insert(kept),
            None => self
                .conn
                .insert((store.connection().await?, Instant::now())),
        };
        Ok(&mut **conn)
    }

    /// After a batch: a failed one may have left the connection broken, so it is not kept.
    fn used(&mut self, ok: bool) {
        self.last_used = Some(Instant::now());
        if !ok {
            self.conn = None;
        }
    }
}

/// How long the writer's batches wait, commit and publish, logged at `debug` once per
/// `WriterLoad::EVERY` while commands come (`--log info,xietong_server::events=debug`). A writer
/// busy near 100 % is the limit of the whole server's write rate, whatever the CPU shows.
struct WriterLoad {
    since: Instant,
    batches: u32,
    commands: u32,
    waited: Duration,
    longest_wait: Duration,
    committing: Duration,
    longest_commit: Duration,
    phases: Phases,
    publishing: Duration,
}

/// Where a batch's commit time goes: taking a pooled connection and beginning the transaction,
/// running the commands' statements, writing the rows they held, and the commit itself (the
/// fsync). Measured for batches of several commands; a batch redone fenced counts only its
/// first attempt.
#[derive(Default, Clone, Copy)]
pub(crate) struct Phases {
    /// Batches measured (of several commands).
    batches: u32,
    begin: Duration,
    apply: Duration,
    held: Duration,
    commit: Duration,
    /// The first attempt failed and the batch was redone fenced.
    redone: bool,
}

impl Phases {
    fn add(&mut self, other: &Phases) {
        self.batches += other.batches;
        self.begin += other.begin;
        self.apply += other.apply;
        self.held += other.held;
        self.commit += other.commit;
    }

    #[cfg(test)]
    pub(crate) fn redone(&self) -> bool {
        self.redone
    }
}

impl WriterLoad {
    const EVERY: Duration = Duration::from_secs(10);

    fn new() -> Self {
        WriterLoad {
            since: Instant::now(),
            batches: 0,
            commands: 0,
            waited: Duration::ZERO,
            longest_wait: Duration::ZERO,
            committing: Duration::ZERO,
            longest_commit: Duration::ZERO,
            phases: Phases::default(),
            publishing: Duration::ZERO,
        }
    }

    /// A batch's commands, each with how long it waited in the queue.
    fn queued(&mut self, waits: impl Iterator<Item = Duration>) {
        for wait in waits {
            self.commands += 1;
            self.waited += wait;
            self.longest_wait = self.longest_wait.max(wait);
        }
    }

    fn batch(&mut self, commit: Duration, phases: &Phases, publish: Duration) {
        self.batches += 1;
        self.committing += commit;
        self.phases.add(phases);
        self.longest_commit = self.longest_commit.max(commit);
        self.publishing += publish;
        let period = self.since.elapsed();
        if period < Self::EVERY {
            return;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        tracing::debug!(
            batches = self.batches,
            commands = self.commands,
            mean_wait_ms = ms(self.waited) / f64::from(self.commands.max(1)),
            longest_wait_ms = ms(self.longest_wait),
            mean_commit_ms = ms(self.committing) / f64::from(self.batches),
            longest_commit_ms = ms(self.longest_commit),
            measured_batches = self.phases.batches,
            mean_begin_ms = ms(self.phases.begin) / f64::from(self.phases.batches.max(1)),
            mean_apply_ms = ms(self.phases.apply) / f64::from(self.phases.batches.max(1)),
            mean_held_ms = ms(self.phases.held) / f64::from(self.phases.batches.max(1)),
            mean_fsync_ms = ms(self.phases.commit) / f64::from(self.phases.batches.max(1)),
            mean_publish_ms = ms(self.publishing) / f64::from(self.batches),
            busy_percent = (ms(self.committing + self.publishing) / ms(period) * 100.0).round(),
            "event log writer load"
        );
        *self = WriterLoad::new();
    }
}

/// A command alone in its batch: its failure is the batch's, nothing to redo — except a
/// deadlock the database broke by failing it (`CommandError::crossed`), tried again.
async fn commit_one(
    store: &Store,
    conn: &mut Conn,
    batch: &[Submission],
    presence: &dyn Presence,
) -> Result<Vec<Result<Applied, CommandError>>, StoreError> {
    let mut attempt = 1;
    loop {
        let mut tx = store.write_on(conn).await?;
        let mut memo = BatchMemo::preload(&mut tx, batch).await?;
        match command::apply(&mut tx, &batch[0], Fence::None, &mut memo, presence).await? {
            Ok(applied) => {
                tx.commit().await?;
                return Ok(vec![Ok(applied)]);
            }
            Err(e) => {
                tx.rollback().await?;
                if e.crossed() && attempt < command::CROSSED_ATTEMPTS {
                    attempt += 1;
                    continue;
                }
                return Ok(vec![Err(e)]);
            }
        }
    }
}

/// Applies a batch in one transaction. Each command gets its own outcome; a broken transaction
/// (or a failed commit) fails the whole batch and nothing is written.
///
/// Most batches have no failing command, so the batch is first applied without a savepoint
/// per command, its event log rows held and written at the end in a few statements; if any
/// command (or that write) fails, that attempt is rolled back and the batch applied again with
/// every command in its own savepoint, writing at once, so the failure costs only itself.
#[cfg(test)]
pub(crate) async fn commit(
    store: &Store,
    batch: &[Submission],
    presence: &dyn Presence,
) -> Result<Vec<Result<Applied, CommandError>>, StoreError> {
    commit_reporting(store, batch, presence).await.0
}

/// `commit`, and how it went.
#[cfg(test)]
pub(crate) async fn commit_reporting(
    store: &Store,
    batch: &[Submission],
    presence: &dyn Presence,
) -> (
    Result<Vec<Result<Applied, CommandError>>, StoreError>,
    Phases,
) {
    let mut phases = Phases::default();
    let outcome = match store.connection().await {
        Ok(mut conn) => commit_in_phases(store, &mut conn, batch, presence, &mut phases).await,
        Err(e) => Err(e),
    };
    (outcome, phases)
}

/// `commit` on the writer's own connection, timing its phases.
async fn commit_in_phases(
    store: &Store,
    conn: &mut Conn,
    batch: &[Submission],
    presence: &dyn Presence,
    phases: &mut Phases,
) -> Result<Vec<Result<Applied, CommandError>>, StoreError> {
    if batch.len() == 1 {
        return commit_one(store, conn, batch, presence).await;
    }
    let mut clock = Instant::now();
    let mut lap = |phase: &mut Duration| {
        let now = Instant::now();
        *phase += now - clock;
        clock = now;
    };
    let mut tx = store.write_on(conn).await?;
    lap(&mut phases.begin);
    let mut memo = BatchMemo::preload(&mut tx, batch).await?;
    memo.hold_log_writes();
    let mut outcomes = Vec::with_capacity(batch.len());
    for submission in batch {
        match command::apply(&mut tx, submission, Fence::None, &mut memo, presence).await? {
            Ok(applied) => outcomes.push(Ok(applied)),
            Err(_) => break,
        }
    }
    lap(&mut phases.apply);
    if outcomes.len() == batch.len() {
        let held = memo.write_held(&mut tx).await;
        lap(&mut phases.held);
        match held {
            Ok(()) => {
                tx.commit().await?;
                lap(&mut phases.commit);
                phases.batches = 1;
                return Ok(outcomes);
            }
            // A command's held row refused (its output recorded twice at once from two
            // nodes): the fenced redo finds which one.
            Err(e) => {
                tracing::debug!(error = %e, "a batch's held log writes failed; redoing it fenced")
            }
        }
    }
    tx.rollback().await?;
    phases.redone = true;
    let mut tx = store.write_on(conn).await?;
    let mut memo = BatchMemo::default();
    let mut outcomes = Vec::with_capacity(batch.len());
    for submission in batch {
        outcomes.push(
            command::apply(&mut tx, submission, Fence::Savepoint, &mut memo, presence).await?,
        );
    }
    tx.commit().await?;
    Ok(outcomes)
}
