//! The backplane: how a committed event reaches the connections of every node.
//!
//! Without Redis there is one node and the in-process hub is all there is. With `--redis-url`,
//! each node still delivers its own events to its own connections at once, and also publishes
//! a hint — scope and sequence number, nothing else — on a Redis channel. Hints are not
//! trusted: a node that receives one reads the events from the database and delivers those, so
//! a forged publish cannot inject an event, an author or a sequence number. Redis pub/sub
//! neither orders nor promises delivery, so it is only a fast path: connections fill any gap
//! from the database (see `ws.rs`), and a periodic sweep (and one after every reconnect to
//! Redis) offers each subscribed scope's latest event again, so an event whose hint was lost
//! shows up within `SWEEP_EVERY`. Control messages (a session ended) are hints too: the
//! receiving node checks the database before acting. Presence is shared through per-node keys
//! with a TTL, listed in a sorted set (no `KEYS` scans): a node that dies stops counting within
//! `--presence-ttl-secs`; only the user ids are read from there, the names come from the
//! database. Typing notices cross nodes as control messages carrying a user id, checked the
//! same way.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use redis::AsyncCommands;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use xietong::{Event, Scope, Seq, UserId, UserRef};

use crate::auth::SessionCache;
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
    sessions: Arc<SessionCache>,
    remote: Option<mpsc::Sender<(Channel, String)>>,
    node: Arc<str>,
}

#[derive(Debug, Clone, Copy)]
enum Channel {
    Events,
    Control,
}

/// "This node committed event `seq` of `scope`": read it from the database.
#[derive(serde::Serialize, serde::Deserialize)]
struct Hint {
    node: String,
    scope: Scope,
    seq: Seq,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Control {
    /// A session was logged out: drop it from caches and close its sockets, if the database
    /// agrees it is gone.
    SessionEnded { node: String, session: String },
    /// A committed event ended every session of `user` (a deactivated account): close their
    /// sockets and drop their cached sessions, if the database agrees.
    UserSessionsEnded { node: String, user: UserId },
    /// Someone is typing in a scope (ephemeral, never stored). The receiving node takes the
    /// name from the database and shows it only if that user may read the scope.
    Typing {
        node: String,
        scope: Scope,
        user: UserId,
    },
}

impl Backplane {
    /// The single-node backplane: the hub alone.
    pub fn local(hub: Arc<Hub>, sessions: Arc<SessionCache>) -> Backplane {
        Backplane {
            hub,
            sessions,
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
        sessions: Arc<SessionCache>,
        store: Store,
        presence_ttl: Duration,
        stop: CancellationToken,
    ) -> Result<Backplane, BackplaneError> {
        let unreachable = |source| BackplaneError::Unreachable {
            url: crate::store::redact_url(url),
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
            control: format!("{namespace}:control"),
            nodes: format!("{namespace}:nodes"),
            namespace,
        };
        tokio::spawn(publisher(client.clone(), names.clone(), rx, stop.clone()));
        tokio::spawn(subscriber(
            client.clone(),
            names.clone(),
            node.clone(),
            hub.clone(),
            sessions.clone(),
            store.clone(),
            stop.clone(),
        ));
        tokio::spawn(sweeper(hub.clone(), store.clone(), stop.clone()));
        tokio::spawn(presence(
            client,
            names,
            node.clone(),
            hub.clone(),
            store,
            presence_ttl,
            stop,
        ));
        tracing::info!(node = %node, "backplane: Redis at {}", crate::store::redact_url(url));
        Ok(Backplane {
            hub,
            sessions,
            remote: Some(tx),
            node,
        })
    }

    /// Delivers a committed event to this node's connections and, with Redis, hints the others.
    pub fn publish(&self, event: &Event) {
        self.publish_all(&[event]);
    }

    /// `publish` for a batch's events, in order. The hub gets them in runs (one queue item per
    /// scope and subscriber); an event that ends a user's sessions ends a run, so nothing after
    /// it reaches their sockets, as with one event at a time.
    pub fn publish_all(&self, events: &[&Event]) {
        let mut start = 0;
        for (i, event) in events.iter().enumerate() {
            let Some(user) = event.body.ends_sessions_of() else {
                continue;
            };
            self.hub.publish_all(&events[start..=i]);
            start = i + 1;
            self.sessions.invalidate_user(user);
            self.hub.end_user(user);
            let control = Control::UserSessionsEnded {
                node: self.node.to_string(),
                user,
            };
            self.send_remote(Channel::Control, serde_json::to_string(&control));
        }
        self.hub.publish_all(&events[start..]);
        for event in events {
            let hint = Hint {
                node: self.node.to_string(),
                scope: event.scope,
                seq: event.seq,
            };
            self.send_remote(Channel::Events, serde_json::to_string(&hint));
        }
    }

    /// A session was logged out here: forget it and close its sockets on every node.
    pub fn session_ended(&self, session: &str) {
        self.sessions.invalidate(session);
        self.hub.end_session(session);
        let control = Control::SessionEnded {
            node: self.node.to_string(),
            session: session.to_owned(),
        };
        self.send_remote(Channel::Control, serde_json::to_string(&control));
    }

    /// This node's hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// `user` is typing in `scope`: tells its other subscribers on this node (not the typing
    /// connection `from`) and, with Redis, on every other node.
    pub fn typing(&self, scope: Scope, from: crate::hub::ConnId, user: &xietong::CurrentUser) {
        let frame = xietong::ServerMsg::Typing {
            scope,
            user: user.user_ref(),
        };
        self.hub
            .relay_ephemeral(scope, from, frame.to_json().into());
        let control = Control::Typing {
            node: self.node.to_string(),
            scope,
            user: user.id,
        };
        self.send_remote(Channel::Control, serde_json::to_string(&control));
    }

    fn send_remote(&self, channel: Channel, payload: Result<String, serde_json::Error>) {
        let (Some(remote), Ok(payload)) = (&self.remote, payload) else {
            return;
        };
        if remote.try_send((channel, payload)).is_err() {
            tracing::warn!(
                "backplane: outgoing queue full; other nodes will catch up from the database"
            );
        }
    }
}

#[derive(Clone)]
struct Names {
    namespace: String,
    events: String,
    presence: String,
    control: String,
    /// Sorted set: node id → when its presence key expires (Unix ms).
    nodes: String,
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
    names: Names,
    mut rx: mpsc::Receiver<(Channel, String)>,
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
            let (channel, payload) = tokio::select! {
                _ = stop.cancelled() => return,
                payload = rx.recv() => match payload { Some(p) => p, None => return },
            };
            let channel = match channel {
                Channel::Events => &names.events,
                Channel::Control => &names.control,
            };
            if let Err(e) = conn.publish::<_, _, ()>(channel, payload).await {
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
    sessions: Arc<SessionCache>,
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
        if let Err(e) = pubsub
            .subscribe(&[&names.events, &names.presence, &names.control])
            .await
        {
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
        let mut messages = pubsub.on_message().ready_chunks(256);
        loop {
            let chunk = tokio::select! {
                _ = stop.cancelled() => return,
                m = messages.next() => m,
            };
            let Some(chunk) = chunk else { break };
            // Hints of one chunk are merged: one database read per scope, however many events.
            let mut wanted: BTreeMap<Scope, Seq> = BTreeMap::new();
            for message in chunk {
                let channel = message.get_channel_name();
                if channel == names.presence {
                    hub.remote_presence_changed();
                    continue;
                }
                let Ok(payload) = message.get_payload::<String>() else {
                    continue;
                };
                if channel == names.control {
                    match serde_json::from_str::<Control>(&payload) {
                        Ok(Control::SessionEnded {
                            node: from,
                            session,
                        }) if *from != *node => {
                            end_session_if_gone(&hub, &sessions, &store, &session).await
                        }
                        Ok(Control::UserSessionsEnded { node: from, user }) if *from != *node => {
                            end_user_if_deactivated(&hub, &sessions, &store, user).await
                        }
                        Ok(Control::Typing {
                            node: from,
                            scope,
                            user,
                        }) if *from != *node => relay_typing(&hub, &store, scope, user).await,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "backplane: ignoring a malformed control message")
                        }
                    }
                    continue;
                }
                match serde_json::from_str::<Hint>(&payload) {
                    Ok(hint) if *hint.node != *node => {
                        let seq = wanted.entry(hint.scope).or_insert(hint.seq);
                        *seq = (*seq).max(hint.seq);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "backplane: ignoring a malformed hint"),
                }
            }
            for (scope, seq) in wanted {
                deliver_from_database(&hub, &store, scope, seq).await;
            }
        }
        tracing::error!("backplane: lost the Redis subscription; reconnecting");
        if !backoff(&mut attempt, &stop).await {
            return;
        }
    }
}

/// Most events read for one hint; a connection further behind fills the rest itself.
const MAX_EVENTS_PER_HINT: u64 = 64;

/// Delivers what the database holds of `scope` after what this node already fanned out, up to
/// `seq` (as hinted), to this node's subscribers: each connection drops what it has and fills
/// any gap before it from the database. A hint for an event already delivered reads nothing.
async fn deliver_from_database(hub: &Hub, store: &Store, scope: Scope, seq: Seq) {
    let Some(published) = hub.published(scope) else {
        return;
    };
    if seq <= published || seq.0 > i64::MAX as u64 {
        return;
    }
    let from = Seq(published.0.max(seq.0.saturating_sub(MAX_EVENTS_PER_HINT)));
    match store.events_after(scope, from, seq.0 - from.0).await {
        Ok(events) => {
            let hinted: Vec<&Event> = events.iter().filter(|e| e.seq <= seq).collect();
            hub.publish_all(&hinted);
        }
        Err(e) => {
            tracing::warn!(error = %e, %scope, "backplane: reading hinted events failed; the sweep will retry")
        }
    }
}

/// Another node logged a session out: trust the database, not the message.
async fn end_session_if_gone(hub: &Hub, sessions: &SessionCache, store: &Store, session: &str) {
    match crate::auth::queries::session(store, session).await {
        Ok(None) => {
            sessions.invalidate(session);
            hub.end_session(session);
        }
        Ok(Some(_)) => {
            tracing::warn!("backplane: ignoring a session-ended message for a live session")
        }
        Err(e) => tracing::warn!(error = %e, "backplane: cannot check an ended session"),
    }
}

/// Another node deactivated `user`: trust the database, not the message.
async fn end_user_if_deactivated(hub: &Hub, sessions: &SessionCache, store: &Store, user: UserId) {
    match crate::auth::queries::is_deactivated(store, user).await {
        Ok(true) => {
            sessions.invalidate_user(user);
            hub.end_user(user);
        }
        Ok(false) => {
            tracing::warn!("backplane: ignoring a sessions-ended message for an active user")
        }
        Err(e) => tracing::warn!(error = %e, "backplane: cannot check a deactivated user"),
    }
}

/// Another node says `user` is typing in `scope`: relayed to this node's subscribers of the
/// scope with the name the database holds, and only if that user may read the scope (a forged
/// message can name no one who does not exist or could not be there).
async fn relay_typing(hub: &Hub, store: &Store, scope: Scope, user: UserId) {
    if !matches!(scope, Scope::Channel(_)) || !hub.has_subscribers(scope) {
        return;
    }
    let checked = async {
        let mut conn = store.pool().acquire().await?;
        let Some(user) = crate::auth::queries::user_by_id(&mut conn, user).await? else {
            return Ok::<_, crate::store::StoreError>(None);
        };
        match crate::access::check(&mut conn, &user, scope, crate::access::Need::Read).await {
            Ok(()) => Ok(Some(user)),
            Err(crate::access::Denied::Store(e)) => Err(e),
            Err(_) => Ok(None),
        }
    };
    match checked.await {
        Ok(Some(user)) => {
            let frame = xietong::ServerMsg::Typing {
                scope,
                user: user.user_ref(),
            };
            hub.relay_ephemeral(scope, crate::hub::NO_CONNECTION, frame.to_json().into());
        }
        Ok(None) => {
            tracing::warn!(%scope, "backplane: ignoring typing by someone who may not read the scope")
        }
        Err(e) => tracing::warn!(error = %e, "backplane: cannot check a typing notice"),
    }
}

/// Offers every locally subscribed scope's latest stored event to its connections (even one
/// this node fanned out: a connection whose replay failed may still be behind): those that are
/// behind see the gap and fill it from the database; those that are not drop it.
async fn sweep(hub: &Hub, store: &Store) {
    let scopes = hub.subscribed_scopes();
    let heads = match store.pool().acquire().await {
        Ok(mut conn) => crate::store::heads(&mut conn, &scopes).await,
        Err(e) => Err(e.into()),
    };
    let heads = match heads {
        Ok(heads) => heads,
        Err(e) => {
            tracing::warn!(error = %e, "backplane: cannot read scope heads for the sweep");
            return;
        }
    };
    for (scope, head) in heads {
        if head == Seq::ZERO || !hub.has_subscribers(scope) {
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
    store: Store,
    ttl: Duration,
    stop: CancellationToken,
) {
    let own_key = format!("{}:presence:{node}", names.namespace);
    let mut names_of = KnownUsers::default();
    let ttl_secs = ttl.as_secs().max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(ttl_secs * 1000 / 3));
    let mut last_local: Option<Vec<UserRef>> = None;
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                if let Some(mut c) = conn.take() {
                    let _: Result<(), _> = redis::AsyncCommands::del(&mut c, &own_key).await;
                    let _: Result<(), _> = c.zrem(&names.nodes, &*node).await;
                }
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
        let now = crate::store::now_ms();
        let listed: Result<(), redis::RedisError> = redis::pipe()
            .zadd(&names.nodes, &*node, now + (ttl_secs * 1000) as i64)
            .ignore()
            .zrembyscore(&names.nodes, "-inf", now)
            .ignore()
            .query_async(c)
            .await;
        if listed.is_err() {
            conn = None;
            continue;
        }
        if changed {
            let _: Result<(), _> = c.publish(&names.presence, "changed").await;
            last_local = Some(local);
        }
        let nodes: Vec<String> = match c.zrange(&names.nodes, 0, -1).await {
            Ok(nodes) => nodes,
            Err(_) => continue,
        };
        let others: Vec<String> = nodes
            .into_iter()
            .filter(|n| **n != *node)
            .map(|n| format!("{}:presence:{n}", names.namespace))
            .collect();
        // Only the ids are taken from Redis; names come from the database, and an id that is
        // no account is dropped (a forged presence entry shows nobody).
        let mut ids: Vec<UserId> = Vec::new();
        if !others.is_empty() {
            let values: Vec<Option<String>> = c.mget(&others).await.unwrap_or_default();
            for users in values
                .into_iter()
                .flatten()
                .filter_map(|v| serde_json::from_str::<Vec<UserRef>>(&v).ok())
            {
                ids.extend(users.into_iter().map(|u| u.id));
            }
        }
        match names_of.resolve(&store, ids).await {
            Ok(remote) => hub.set_remote_online(remote),
            Err(e) => {
                tracing::warn!(error = %e, "backplane: cannot look up who is online elsewhere")
            }
        }
    }
}

/// Names of the users other nodes report online, read from the database once per user.
#[derive(Default)]
struct KnownUsers {
    names: std::collections::HashMap<UserId, String>,
    /// Ids reported that are no account (not looked up again until the set is cleared).
    unknown: std::collections::HashSet<UserId>,
}

impl KnownUsers {
    /// The reported users that exist, with their names from the database.
    async fn resolve(
        &mut self,
        store: &Store,
        ids: Vec<UserId>,
    ) -> Result<BTreeMap<UserId, UserRef>, crate::store::StoreError> {
        let mut missing: Vec<UserId> = ids
            .iter()
            .copied()
            .filter(|id| !self.names.contains_key(id) && !self.unknown.contains(id))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            if self.unknown.len() > 100_000 {
                self.unknown.clear();
            }
            let mut conn = store.pool().acquire().await?;
            let found = crate::auth::queries::user_refs(&mut conn, &missing).await?;
            for user in &found {
                self.names.insert(user.id, user.username.clone());
            }
            self.unknown
                .extend(missing.iter().filter(|id| !self.names.contains_key(id)));
        }
        Ok(ids
            .into_iter()
            .filter_map(|id| {
                let username = self.names.get(&id)?.clone();
                Some((id, UserRef { id, username }))
            })
            .collect())
    }
}
