//! The delivery worker, one per node. It claims due outbox rows for a lease (any node may; a
//! row another node claimed is taken over only once that node's lease has run out, so a node
//! that dies mid-delivery costs a delay, not a message), hands each to its way out, and marks
//! it sent, or schedules a retry with a doubling wait, or gives up after the last attempt.
//! A dead SMTP server or gateway delays word; it never blocks a request: commands only write
//! rows.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sqlx::Row;
use tokio_util::sync::CancellationToken;
use xietong::notify::{Delivery, DeliveryState, Module, Via, DELIVERY_LOG_ROWS};
use xietong::{UserId, UserRef};

use super::send::{Outgoing, Sender};
use crate::store::{now_ms, Store, StoreError};

/// Rows handed over at once, and claimed per round: a round's rows all start at once, so none
/// waits behind others while its lease runs.
const CONCURRENCY: usize = 16;
const BATCH: i64 = CONCURRENCY as i64;
/// How often an idle worker looks for due rows.
const POLL: Duration = Duration::from_millis(500);

pub struct Worker {
    store: Store,
    sender: Sender,
    /// Unique per node and start, so a claim is recognisably this worker's.
    name: String,
    lease_ms: i64,
    retry_ms: i64,
    attempts: u32,
}

impl Worker {
    pub fn new(store: Store, sender: Sender, config: &crate::config::Config) -> Worker {
        use rand::Rng;
        Worker {
            store,
            sender,
            name: format!("{:016x}", rand::thread_rng().gen::<u64>()),
            lease_ms: (config.delivery_lease_secs.max(1) * 1000) as i64,
            retry_ms: (config.delivery_retry_secs.max(1) * 1000) as i64,
            attempts: config.delivery_attempts.max(1),
        }
    }

    /// Delivers until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let vias = self.sender.vias();
        if vias.is_empty() {
            return;
        }
        let mut round = 0u64;
        loop {
            round += 1;
            let claimed = match self.round(round, &vias).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery: cannot read the outbox");
                    0
                }
            };
            if claimed < BATCH as usize {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(POLL) => {}
                }
            } else if stop.is_cancelled() {
                return;
            }
        }
    }

    /// Claims due rows and hands them over; returns how many it claimed.
    async fn round(&self, round: u64, vias: &[Via]) -> Result<usize, StoreError> {
        let claim = format!("{}-{round}", self.name);
        let now = now_ms();
        let due =
            "((state = 'pending' AND due_at <= $3) OR (state = 'sending' AND lease_until < $3))";
        let sql = format!(
            "UPDATE outbox SET state = 'sending', claim = $1, lease_until = $2,
                               attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox WHERE {due} AND via IN ({})
                          ORDER BY due_at LIMIT $4)
               AND {due}",
            crate::org::audience::placeholders(5, vias.len())
        );
        let mut query = sqlx::query(&sql)
            .bind(&claim)
            .bind(now + self.lease_ms)
            .bind(now)
            .bind(BATCH);
        for via in vias {
            query = query.bind(via.as_str());
        }
        let mut tx = self.store.write().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        let mut conn = self.store.pool().acquire().await?;
        let rows = sqlx::query(
            "SELECT o.id, o.user_id, o.via, o.module, o.title, o.body, o.href, o.sender, o.urgent,
                    o.unless_read, o.attempts, o.address, u.username, u.email, u.mobile,
                    u.deactivated
             FROM outbox o JOIN users u ON u.id = o.user_id
             WHERE o.claim = $1",
        )
        .bind(&claim)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let mut work = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let (Some(via), Some(module)) = (
                Via::parse(&r.try_get::<String, _>("via")?),
                Module::parse(&r.try_get::<String, _>("module")?),
            ) else {
                // Written by a newer version: not this one's to send.
                self.finish(id, &claim, DeliveryState::Failed, "unknown way or module")
                    .await?;
                continue;
            };
            if r.try_get::<i64, _>("deactivated")? != 0 {
                self.finish(id, &claim, DeliveryState::Cancelled, "account deactivated")
                    .await?;
                continue;
            }
            work.push((
                r.try_get::<i64, _>("attempts")?,
                r.try_get::<Option<String>, _>("unless_read")?,
                Outgoing {
                    id: r.try_get("id")?,
                    to: UserRef {
                        id: UserId(r.try_get("user_id")?),
                        username: r.try_get("username")?,
                    },
                    email: r.try_get("email")?,
                    outside: r.try_get("address")?,
                    mobile: r.try_get("mobile")?,
                    via,
                    module,
                    title: r.try_get("title")?,
                    text: r.try_get("body")?,
                    href: r.try_get("href")?,
                    sender: r.try_get("sender")?,
                    urgent: crate::store::flag(r, "urgent")?,
                },
            ));
        }
        let claimed = work.len();
        futures::stream::iter(work)
            .for_each_concurrent(CONCURRENCY, |(attempts, unless_read, out)| {
                let claim = claim.clone();
                async move {
                    if let Err(e) = self.deliver(&claim, attempts, unless_read, out).await {
                        tracing::warn!(error = %e, "delivery: cannot record an outcome");
                    }
                }
            })
            .await;
        Ok(claimed)
    }

    async fn deliver(
        &self,
        claim: &str,
        attempts: i64,
        unless_read: Option<String>,
        out: Outgoing,
    ) -> Result<(), StoreError> {
        if let Some(item) = unless_read {
            let mut conn = self.store.pool().acquire().await?;
            if super::read_already(&mut conn, out.to.id, &item).await? {
                drop(conn);
                return self
                    .finish(out.id, claim, DeliveryState::Cancelled, "read in time")
                    .await;
            }
        }
        // Well inside the lease, so no other node takes the row over while this one sends.
        let limit = Duration::from_millis((self.lease_ms / 2).max(1000) as u64);
        let sent = match tokio::time::timeout(limit, self.sender.send(&self.store, &out)).await {
            Ok(sent) => sent,
            Err(_) => Err(super::send::SendError::Http(format!(
                "no answer within {} s",
                limit.as_secs()
            ))),
        };
        match sent {
            Ok(()) => self.finish(out.id, claim, DeliveryState::Sent, "").await,
            Err(e) if e.is_permanent() || attempts >= i64::from(self.attempts) => {
                tracing::warn!(id = out.id, via = out.via.as_str(), error = %e, "delivery failed");
                self.finish(out.id, claim, DeliveryState::Failed, &e.to_string())
                    .await
            }
            Err(e) => {
                let wait = self.retry_ms << (attempts - 1).clamp(0, 6);
                tracing::info!(id = out.id, via = out.via.as_str(), error = %e, retry_in_ms = wait, "delivery will be retried");
                let mut tx = self.store.write().await?;
                sqlx::query(
                    "UPDATE outbox SET state = 'pending', claim = NULL, lease_until = NULL,
                                       due_at = $1, error = $2
                     WHERE id = $3 AND claim = $4",
                )
                .bind(now_ms() + wait)
                .bind(e.to_string())
                .bind(out.id)
                .bind(claim)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Records an outcome, if the claim is still this worker's.
    async fn finish(
        &self,
        id: i64,
        claim: &str,
        state: DeliveryState,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.store.write().await?;
        sqlx::query(
            "UPDATE outbox SET state = $1, error = $2, claim = NULL, lease_until = NULL,
                               sent_at = $3
             WHERE id = $4 AND claim = $5",
        )
        .bind(state.as_str())
        .bind(error)
        .bind((state == DeliveryState::Sent).then(now_ms))
        .bind(id)
        .bind(claim)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The delivery log: the newest rows of the outbox, for an admin.
pub async fn log(store: &Store) -> Result<Vec<Delivery>, StoreError> {
    let mut conn = store.pool().acquire().await?;
    let rows = sqlx::query(
        "SELECT o.id, o.user_id, u.username, o.via, o.module, o.title, o.state, o.attempts,
                o.due_at, o.sent_at, o.error, o.address
         FROM outbox o JOIN users u ON u.id = o.user_id
         ORDER BY o.id DESC LIMIT $1",
    )
    .bind(DELIVERY_LOG_ROWS as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let (Some(via), Some(module), Some(state)) = (
            Via::parse(&r.try_get::<String, _>("via")?),
            Module::parse(&r.try_get::<String, _>("module")?),
            DeliveryState::parse(&r.try_get::<String, _>("state")?),
        ) else {
            continue;
        };
        out.push(Delivery {
            id: r.try_get("id")?,
            to: UserRef {
                id: UserId(r.try_get("user_id")?),
                username: r.try_get("username")?,
            },
            via,
            module,
            address: r.try_get("address")?,
            // A short message or a mail is between its sender and recipients, not for the
            // admin's eyes.
            title: if matches!(module, Module::ShortMessages | Module::Mail) {
                String::new()
            } else {
                r.try_get("title")?
            },
            state,
            attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
            due_at: r.try_get("due_at")?,
            sent_at: r.try_get("sent_at")?,
            error: r.try_get("error")?,
        });
    }
    Ok(out)
}

/// The delivery log, for admins only.
pub async fn log_for(
    store: &Store,
    user: &xietong::CurrentUser,
) -> Result<Vec<Delivery>, crate::access::Denied> {
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    crate::access::administer_now(&mut conn, user).await?;
    drop(conn);
    Ok(log(store).await?)
}
