//! The event log writer: the one path by which anything becomes an event.
//!
//! Appends queue up here; a single task commits them in batches (one transaction, one fsync per
//! batch) and only then publishes each new event to the hub and acknowledges it. So every event
//! a client sees or is told is saved is already in the database, and the hub receives each
//! scope's events in sequence order.

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::backplane::Backplane;
use crate::store::{Append, Committed, Store, StoreError};

/// Most appends committed in one transaction.
const MAX_BATCH: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the server is shutting down")]
    ShuttingDown,
}

struct Pending {
    append: Append,
    reply: oneshot::Sender<Result<Committed, StoreError>>,
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

    /// Commits an append and, once it is durable, publishes it. Resolves after both.
    pub async fn append(&self, append: Append) -> Result<Committed, AppendError> {
        self.submit(append).await?.outcome().await
    }

    /// Queues an append and returns without waiting for its commit. Appends submitted one after
    /// another are committed in that order, so one client's pipelined posts keep their order.
    pub async fn submit(&self, append: Append) -> Result<Submitted, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Pending { append, reply })
            .await
            .map_err(|_| AppendError::ShuttingDown)?;
        Ok(Submitted(answer))
    }
}

/// A queued append; `outcome` resolves once it is committed and published (or refused).
pub struct Submitted(oneshot::Receiver<Result<Committed, StoreError>>);

impl Submitted {
    pub async fn outcome(self) -> Result<Committed, AppendError> {
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
        let (appends, replies): (Vec<Append>, Vec<_>) =
            batch.drain(..).map(|p| (p.append, p.reply)).unzip();
        match store.commit(&appends).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    if let Ok(committed) = &outcome {
                        if !committed.duplicate {
                            backplane.publish(&committed.event);
                        }
                    }
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batch = appends.len(), "committing a batch of events failed");
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Db(sqlx::Error::Protocol(message.clone()))));
                }
            }
        }
    }
}
