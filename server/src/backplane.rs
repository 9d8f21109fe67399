//! The backplane: how a committed event reaches the connections of every node.
//!
//! Without Redis there is one node and the in-process hub is all there is. With `--redis-url`,
//! each node still delivers its own events to its own connections at once, and also publishes
//! them on a Redis channel; every other node delivers what it receives to its connections.
//! Redis pub/sub neither orders events from different nodes nor promises delivery, so it is
//! only a fast path: connections fill any gap from the database (see `ws.rs`), and a periodic
//! sweep (and one after every reconnect to Redis) offers each subscribed scope's latest event
//! again, so an event lost on the way shows up within `SWEEP_EVERY`. Presence is shared through
//! per-node keys with a TTL: a node that dies stops counting within `--presence-ttl-secs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use redis::AsyncCommands;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use xietong::{Event, Seq, UserId, UserRef};

use crate::hub::Hub;
use crate::store::Store;

const SWEEP_EVERY: Duration = Duration::from_secs(3);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum BackplaneError {
    #[error("cannot reach Redis at {url}: {source}")]
    Unreachable {
        url: String,
        source: redis::RedisError,
    },
}

/// Where committed events go. Cheap to clone.
#[derive(Clone)]
pub struct Backplane {
    hub: Arc<Hub>,
    remote: Option<mpsc::Sender<String>>,
    node: Arc<str>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    node: String,
    event: Event,
}

impl Backplane {
    /// The single-node backplane: the hub alone.
    pub fn local(hub: Arc<Hub>) -> Backplane {
        Backplane {
            hub,
            remote: None,
            node: Arc::from("local"),
        }
    }

    /// Connects to Redis (failing at once if it is unreachable) and starts the publisher,
    /// subscriber, sweep and presence tasks. `namespace_of` (the database URL) keeps clusters
    /// on different databases apart on a shared Redis.
    pub async fn redis(
        url: &str,
        namespace_of: &str,
        hub: Arc<Hub>,
        store: Store,
        presence_ttl: Duration,
        stop: CancellationToken,
    ) -> Result<Backplane, BackplaneError> {
        let unreachable = |source| BackplaneError::Unreachable {
            url: url.to_owned(),
            source,
        };
        let client = redis::Client::open(url).map_err(unreachable)?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(unreachable)?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(unreachable)?;
        let digest = Sha256::digest(namespace_of.as_bytes());
        let namespace = format!(
            "xietong:{:02x}{:02x}{:02x}{:02x}",
            digest[0], digest[1], digest[2], digest[3]
        );
        let node: Arc<str> = Arc::from(crate::auth::new_token()[..12].to_owned());
        let (tx, rx) = mpsc::channel(16_384);
        let names = Names {
            events: format!("{namespace}:events"),
            presence: format!("{namespace}:presence"),
            namespace,
        };
        tokio::spawn(publisher(
            client.clone(),
            names.events.clone(),
            rx,
            stop.clone(),
        ));
        tokio::spawn(subscriber(
            client.clone(),
            names.clone(),
            node.clone(),
            hub.clone(),
            store.clone(),
            stop.clone(),
        ));
        tokio::spawn(sweeper(hub.clone(), store, stop.clone()));
        tokio::spawn(presence(
            client,
            names,
            node.clone(),
            hub.clone(),
            presence_ttl,
            stop,
        ));
        tracing::info!(node = %node, "backplane: Redis at {url}");
        Ok(Backplane {
            hub,
            remote: Some(tx),
            node,
        })
    }

    /// Delivers a committed event to this node's connections and, with Redis, to the others.
    pub fn publish(&self, event: &Event) {
        self.hub.publish(event);
        if let Some(remote) = &self.remote {
            let envelope = Envelope {
                node: self.node.to_string(),
                event: event.clone(),
            };
            if let Ok(json) = serde_json::to_string(&envelope) {
                if remote.try_send(json).is_err() {
                    tracing::warn!("backplane: outgoing queue full; other nodes will pick this event up from the database");
                }
            }
        }
    }
}

#[derive(Clone)]
struct Names {
    namespace: String,
    events: String,
    presence: String,
}

async fn backoff(attempt: &mut u32, stop: &CancellationToken) -> bool {
    let wait =
        (Duration::from_millis(200) * 2u32.saturating_pow((*attempt).min(5))).min(MAX_BACKOFF);
    *attempt += 1;
    tokio::select! {
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}

async fn publisher(
    client: redis::Client,
    channel: String,
    mut rx: mpsc::Receiver<String>,
    stop: CancellationToken,
) {
    let mut attempt = 0;
    'connect: loop {
        let mut conn = match client.get_multiplexed_async_connection().await {
            Ok(conn) => {
                if attempt > 0 {
                    tracing::warn!("backplane: publisher reconnected to Redis");
                }
                attempt = 0;
                conn
            }
            Err(e) => {
                tracing::error!(error = %e, "backplane: cannot reach Redis to publish; retrying");
                if !backoff(&mut attempt, &stop).await {
                    return;
                }
                continue;
            }
        };
        loop {
            let payload = tokio::select! {
                _ = stop.cancelled() => return,
                payload = rx.recv() => match payload { Some(p) => p, None => return },
            };
            if let Err(e) = conn.publish::<_, _, ()>(&channel, payload).await {
                tracing::error!(error = %e, "backplane: publishing to Redis failed; other nodes will recover the event from the database");
                if !backoff(&mut attempt, &stop).await {
                    return;
                }
                continue 'connect;
            }
        }
    }
}

async fn subscriber(
    client: redis::Client,
    names: Names,
    node: Arc<str>,
    hub: Arc<Hub>,
    store: Store,
    stop: CancellationToken,
) {
    let mut attempt = 0;
    loop {
        let mut pubsub = match client.get_async_pubsub().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "backplane: cannot subscribe to Redis; retrying");
                if !backoff(&mut attempt, &stop).await {
                    return;
                }
                continue;
            }
        };
        if let Err(e) = pubsub.subscribe(&[&names.events, &names.presence]).await {
            tracing::error!(error = %e, "backplane: SUBSCRIBE failed; retrying");
            if !backoff(&mut attempt, &stop).await {
                return;
            }
            continue;
        }
        if attempt > 0 {
            tracing::warn!("backplane: subscriber reconnected to Redis; recovering missed events from the database");
        }
        attempt = 0;
        // Whatever was published while we were not listening is in the database.
        sweep(&hub, &store).await;
        hub.remote_presence_changed();
        let mut messages = pubsub.on_message();
        loop {
            let message = tokio::select! {
                _ = stop.cancelled() => return,
                m = messages.next() => m,
            };
            let Some(message) = message else { break };
            if message.get_channel_name() == names.presence {
                hub.remote_presence_changed();
                continue;
            }
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<Envelope>(&payload) {
                Ok(envelope) if *envelope.node != *node => hub.publish(&envelope.event),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "backplane: ignoring a malformed message"),
            }
        }
        tracing::error!("backplane: lost the Redis subscription; reconnecting");
        if !backoff(&mut attempt, &stop).await {
            return;
        }
    }
}

/// Offers every locally subscribed scope's latest stored event to its connections: those that
/// are behind see the gap and fill it from the database; those that are not drop it.
async fn sweep(hub: &Hub, store: &Store) {
    for scope in hub.subscribed_scopes() {
        let Ok(head) = store.head(scope).await else {
            continue;
        };
        if head == Seq::ZERO {
            continue;
        }
        if let Ok(events) = store.events_after(scope, Seq(head.0 - 1), 1).await {
            for event in events {
                hub.publish(&event);
            }
        }
    }
}

async fn sweeper(hub: Arc<Hub>, store: Store, stop: CancellationToken) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => sweep(&hub, &store).await,
        }
    }
}

/// Writes this node's online users under a key that expires unless refreshed, announces
/// changes, and reads every node's keys into the hub's view of who is online elsewhere.
async fn presence(
    client: redis::Client,
    names: Names,
    node: Arc<str>,
    hub: Arc<Hub>,
    ttl: Duration,
    stop: CancellationToken,
) {
    let own_key = format!("{}:presence:{node}", names.namespace);
    let pattern = format!("{}:presence:*", names.namespace);
    let ttl_secs = ttl.as_secs().max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(ttl_secs * 1000 / 3));
    let mut last_local: Option<Vec<UserRef>> = None;
    let mut conn = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                if let Some(mut c) = conn.take() { let _: Result<(), _> = redis::AsyncCommands::del(&mut c, &own_key).await; }
                return;
            }
            _ = tick.tick() => {}
            _ = hub.presence_activity() => {}
        }
        if conn.is_none() {
            conn = client.get_multiplexed_async_connection().await.ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        let local = hub.local_online();
        let changed = last_local.as_ref() != Some(&local);
        let json = serde_json::to_string(&local).unwrap_or_else(|_| "[]".into());
        let written: Result<(), redis::RedisError> = c.set_ex(&own_key, json, ttl_secs).await;
        if let Err(e) = written {
            tracing::error!(error = %e, "backplane: cannot write presence to Redis");
            conn = None;
            continue;
        }
        if changed {
            let _: Result<(), _> = c.publish(&names.presence, "changed").await;
            last_local = Some(local);
        }
        let keys: Vec<String> = match c.keys(&pattern).await {
            Ok(keys) => keys,
            Err(_) => continue,
        };
        let others: Vec<String> = keys.into_iter().filter(|k| *k != own_key).collect();
        let mut remote: BTreeMap<UserId, UserRef> = BTreeMap::new();
        if !others.is_empty() {
            let values: Vec<Option<String>> = c.mget(&others).await.unwrap_or_default();
            for users in values
                .into_iter()
                .flatten()
                .filter_map(|v| serde_json::from_str::<Vec<UserRef>>(&v).ok())
            {
                for user in users {
                    remote.insert(user.id, user);
                }
            }
        }
        hub.set_remote_online(remote);
    }
}
