//! The hub: which connection listens to which scope, who is online, and the fan-out.
//!
//! Each event is serialised once, and a batch's events of one scope go to each subscriber as one
//! queue item holding the same reference-counted run: a batch of a hundred messages costs a
//! channel of a thousand members a thousand queue operations, not a hundred thousand. Every
//! connection has a bounded outbound queue, counted in frames; the hub only ever `try_send`s
//! into it, so one slow client never slows the others: when its queue is full it is cut off
//! (close code `TOO_SLOW`) and it recovers by resuming from its last sequence numbers. The locks here are
//! plain `std` locks held for short, non-async sections only.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use xietong::wire::close;
use xietong::{Event, Scope, Seq, ServerMsg, UserId, UserRef};

use crate::rate::RateByKey;

pub type ConnId = u64;

/// No connection of this node (ids start at 1): for frames relayed from another node.
pub const NO_CONNECTION: ConnId = 0;

/// Most events in one queue item: a longer run of one scope is split.
const MAX_RUN: usize = 64;

/// Subscriptions a user may start per second (sustained), with bursts up to the cap of one
/// connection.
const SUBSCRIBE_RATE: f64 = 10.0;

/// What a connection's writer receives.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Stored events of one scope, in order (one or more from one batch, shared by every
    /// subscriber): the connection checks each `seq` against what it has sent for `scope`.
    /// They count as `events.len()` frames of the queue until the connection has sent them.
    Events {
        scope: Scope,
        events: Arc<[Published]>,
    },
    /// Anything else (acks, errors, presence snapshots).
    Frame(Utf8Bytes),
    /// Ephemeral (typing, presence changes): dropped rather than queued when the connection
    /// is behind, and never a reason to cut it off. With a scope, delivered only while the
    /// connection is subscribed to it (access checked).
    Ephemeral {
        scope: Option<Scope>,
        text: Utf8Bytes,
    },
    /// The user lost read access to the scope: end the subscription and say so.
    Revoked(Scope),
}

impl Outbound {
    /// How many frames this item is.
    pub fn frames(&self) -> usize {
        match self {
            Outbound::Events { events, .. } => events.len(),
            _ => 1,
        }
    }
}

/// A stored event as every subscriber receives it.
#[derive(Debug)]
pub struct Published {
    pub seq: Seq,
    pub text: Utf8Bytes,
    /// Users who lose read access with this event (see `EventBody::revoked_readers`): a
    /// connection of theirs ends the subscription right after sending it.
    pub revokes: Option<Arc<[UserId]>>,
}

/// Where the hub puts a connection's frames: its queue, and how many stored events in it
/// are not sent yet (one queue item can hold many).
#[derive(Clone)]
pub struct Outlet {
    pub tx: mpsc::Sender<Outbound>,
    pub queued_events: Arc<AtomicUsize>,
}

impl Outlet {
    /// Queues a run of events unless that would take the connection past `capacity` frames;
    /// false means it is too slow (a closed queue is not).
    fn offer(&self, scope: Scope, events: &Arc<[Published]>, capacity: usize) -> bool {
        let n = events.len();
        let before = self.queued_events.fetch_add(n, Ordering::AcqRel);
        if before + n > capacity {
            self.queued_events.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        let item = Outbound::Events {
            scope,
            events: events.clone(),
        };
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(e) => {
                self.queued_events.fetch_sub(n, Ordering::AcqRel);
                // A closed queue is a connection on its way out, not a slow one.
                matches!(e, mpsc::error::TrySendError::Closed(_))
            }
        }
    }

    /// The connection sent (or dropped) a run of `n` events.
    pub fn delivered(&self, n: usize) {
        self.queued_events.fetch_sub(n, Ordering::AcqRel);
    }
}

/// The hub's end of a connection.
#[derive(Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub user: UserRef,
    pub session: Arc<str>,
    pub outlet: Outlet,
    /// Cancelled when the hub cuts the connection off; `close_code` says why.
    pub kill: CancellationToken,
    pub close_code: Arc<AtomicU16>,
}

impl ConnHandle {
    pub fn cut_off(&self, code: u16) {
        self.close_code.store(code, Ordering::Relaxed);
        self.kill.cancel();
    }
}

/// A scope's subscribers on this node.
#[derive(Default)]
struct Subscribers {
    conns: HashMap<ConnId, Outlet>,
    /// The highest sequence number fanned out to them, so the backplane reads from the
    /// database only events this node has not delivered yet (a connection behind it fills its
    /// own gap).
    published: AtomicU64,
}

#[derive(Default)]
struct Inner {
    conns: HashMap<ConnId, ConnHandle>,
    scopes: HashMap<Scope, Subscribers>,
    /// Per connection, the scopes it is subscribed to (so a disconnect touches only those).
    subscriptions: HashMap<ConnId, HashSet<Scope>>,
    /// Online users and how many connections each has.
    online: BTreeMap<UserId, (UserRef, usize)>,
    /// Users online on other nodes (from the backplane).
    remote_online: BTreeMap<UserId, UserRef>,
    /// The `presence` frame every new connection starts with, kept between connects (`None`:
    /// who is online changed since it was encoded).
    presence_frame: Option<Utf8Bytes>,
    /// Counts changes of who is online, so a frame encoded outside the lock is kept only if
    /// nothing changed meanwhile.
    presence_version: u64,
}

/// Why a connection was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("too many connections for this user")]
    TooManyConnections,
}

impl Inner {
    /// Who is online here or elsewhere may have changed: the kept presence frame is stale.
    fn online_changed(&mut self) {
        self.presence_frame = None;
        self.presence_version += 1;
    }

    /// Who is online workspace-wide: here and on the other nodes, by id.
    fn online(&self) -> Vec<UserRef> {
        let mut all: BTreeMap<UserId, UserRef> = self.remote_online.clone();
        for (id, (user, _)) in &self.online {
            all.insert(*id, user.clone());
        }
        all.into_values().collect()
    }

    fn remove_subscriber(&mut self, scope: Scope, conn: ConnId) {
        if let Some(subscribers) = self.scopes.get_mut(&scope) {
            subscribers.conns.remove(&conn);
            if subscribers.conns.is_empty() {
                self.scopes.remove(&scope);
            }
        }
    }
}

pub struct Hub {
    inner: RwLock<Inner>,
    next_id: AtomicU64,
    queue_capacity: usize,
    max_sockets_per_user: usize,
    /// Per user: commands they may still send, across all their sockets on this node (its own
    /// lock: commands never wait for the fan-out).
    commands: RateByKey<UserId>,
    /// Subscriptions started per user, across all their sockets on this node (each one may
    /// replay up to a page of history, so opening more sockets must not buy more).
    subscribes: RateByKey<UserId>,
    presence_dirty: AtomicBool,
    /// Woken when this node's online set changes or other nodes announce a change.
    presence_activity: tokio::sync::Notify,
    /// Which ways out (email, SMS, webhook) this deployment has configured, so commands write
    /// outbox rows only for word that can go out.
    outlets: std::sync::OnceLock<crate::notify::Outlets>,
}

impl Hub {
    pub fn set_outlets(&self, outlets: crate::notify::Outlets) {
        let _ = self.outlets.set(outlets);
    }

    pub fn outlets(&self) -> crate::notify::Outlets {
        self.outlets.get().copied().unwrap_or_default()
    }

    pub fn new(queue_capacity: usize, max_sockets_per_user: usize, command_rate: u32) -> Arc<Hub> {
        Arc::new(Hub {
            inner: RwLock::new(Inner::default()),
            next_id: AtomicU64::new(1),
            queue_capacity: queue_capacity.max(1),
            max_sockets_per_user: max_sockets_per_user.max(1),
            commands: {
                let rate = f64::from(command_rate.max(1));
                RateByKey::new(rate, rate * 4.0)
            },
            subscribes: RateByKey::new(SUBSCRIBE_RATE, xietong::limits::MAX_SUBSCRIPTIONS as f64),
            presence_dirty: AtomicBool::new(false),
            presence_activity: tokio::sync::Notify::new(),
            outlets: std::sync::OnceLock::new(),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a connection; the returned receiver is its outbound queue. Refused when the user
    /// already has `max_sockets_per_user` open on this node.
    pub fn register(
        &self,
        user: UserRef,
        session: Arc<str>,
    ) -> Result<(ConnHandle, mpsc::Receiver<Outbound>), RegisterError> {
        let mut inner = self.write();
        if inner.online.get(&user.id).map_or(0, |(_, n)| *n) >= self.max_sockets_per_user {
            return Err(RegisterError::TooManyConnections);
        }
        let (tx, rx) = mpsc::channel(self.queue_capacity);
        let handle = ConnHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            user: user.clone(),
            session,
            outlet: Outlet {
                tx,
                queued_events: Arc::new(AtomicUsize::new(0)),
            },
            kill: CancellationToken::new(),
            close_code: Arc::new(AtomicU16::new(close::NORMAL)),
        };
        inner.conns.insert(handle.id, handle.clone());
        let entry = inner.online.entry(user.id).or_insert((user, 0));
        entry.1 += 1;
        if entry.1 == 1 {
            inner.online_changed();
            self.presence_dirty.store(true, Ordering::Release);
            self.presence_activity.notify_one();
        }
        Ok((handle, rx))
    }

    /// Takes one command token of `user` (shared by all their sockets on this node); false when
    /// they are sending faster than the configured rate.
    pub fn take_command_token(&self, user: UserId) -> bool {
        self.commands.take(&user)
    }

    /// Takes one subscription token of `user` (shared by all their sockets on this node).
    pub fn take_subscribe_token(&self, user: UserId) -> bool {
        self.subscribes.take(&user)
    }

    pub fn unregister(&self, id: ConnId) {
        let mut inner = self.write();
        let Some(handle) = inner.conns.remove(&id) else {
            return;
        };
        for scope in inner.subscriptions.remove(&id).unwrap_or_default() {
            inner.remove_subscriber(scope, id);
        }
        if let Some(entry) = inner.online.get_mut(&handle.user.id) {
            entry.1 -= 1;
            if entry.1 == 0 {
                inner.online.remove(&handle.user.id);
                inner.online_changed();
                self.presence_dirty.store(true, Ordering::Release);
                self.presence_activity.notify_one();
            }
        }
    }

    pub fn subscribe(&self, conn: &ConnHandle, scope: Scope) {
        let mut inner = self.write();
        inner
            .scopes
            .entry(scope)
            .or_default()
            .conns
            .insert(conn.id, conn.outlet.clone());
        inner
            .subscriptions
            .entry(conn.id)
            .or_default()
            .insert(scope);
    }

    pub fn unsubscribe(&self, conn: ConnId, scope: Scope) {
        let mut inner = self.write();
        if let Some(scopes) = inner.subscriptions.get_mut(&conn) {
            scopes.remove(&scope);
        }
        inner.remove_subscriber(scope, conn);
    }

    /// Fans a committed event out to the scope's subscribers (serialised once), then ends the
    /// subscriptions of users the event takes read access from.
    pub fn publish(&self, event: &Event) {
        self.publish_all(&[event]);
    }

    /// `publish` for a batch's events, in order: each scope's run goes to each subscriber as
    /// one queue item. An event that takes read access away ends a run, so the subscriptions it
    /// ends are gone before anything after it is fanned out, as with one event at a time.
    pub fn publish_all(&self, events: &[&Event]) {
        let mut start = 0;
        for (i, event) in events.iter().enumerate() {
            let revoked = event.body.revoked_readers();
            if revoked.is_empty() {
                continue;
            }
            self.fan_out(&events[start..=i]);
            start = i + 1;
            for user in revoked {
                self.revoke(user, event.scope);
            }
        }
        self.fan_out(&events[start..]);
    }

    /// Ends every subscription of `user` to `scope` on this node; each connection says so to its
    /// client after what was already queued.
    pub fn revoke(&self, user: UserId, scope: Scope) {
        let mut too_slow = Vec::new();
        {
            let mut inner = self.write();
            let ids: Vec<ConnId> = inner
                .conns
                .values()
                .filter(|c| c.user.id == user)
                .map(|c| c.id)
                .collect();
            let Some(subscribers) = inner.scopes.get_mut(&scope) else {
                return;
            };
            let mut revoked = Vec::new();
            for id in ids {
                if let Some(tx) = subscribers.conns.remove(&id) {
                    revoked.push((id, tx));
                }
            }
            if subscribers.conns.is_empty() {
                inner.scopes.remove(&scope);
            }
            for (id, _) in &revoked {
                if let Some(scopes) = inner.subscriptions.get_mut(id) {
                    scopes.remove(&scope);
                }
            }
            for (id, outlet) in revoked {
                if outlet.tx.try_send(Outbound::Revoked(scope)).is_err() {
                    too_slow.push(id);
                }
            }
        }
        self.cut_off(&too_slow, close::TOO_SLOW);
    }

    fn fan_out(&self, events: &[&Event]) {
        // Runs per scope, in the order the scopes first appear in the batch.
        let mut runs: Vec<(Scope, Vec<Published>)> = Vec::new();
        let mut run_of: HashMap<Scope, usize> = HashMap::new();
        for event in events {
            if !self.has_subscribers(event.scope) {
                continue;
            }
            let i = *run_of.entry(event.scope).or_insert_with(|| {
                runs.push((event.scope, Vec::new()));
                runs.len() - 1
            });
            let revoked = event.body.revoked_readers();
            runs[i].1.push(Published {
                seq: event.seq,
                text: Utf8Bytes::from(ServerMsg::Event((*event).clone()).to_json()),
                revokes: (!revoked.is_empty()).then(|| revoked.into()),
            });
        }
        // A long run goes in pieces a connection can take while it drains the one before (a
        // people import writes thousands of events to one scope in one batch).
        let piece = MAX_RUN.min(self.queue_capacity / 2).max(1);
        let mut too_slow = Vec::new();
        {
            let inner = self.read();
            for (scope, run) in runs {
                let Some(subscribers) = inner.scopes.get(&scope) else {
                    continue;
                };
                let last = run.last().map_or(0, |p| p.seq.0);
                subscribers.published.fetch_max(last, Ordering::Relaxed);
                let mut run = run.into_iter().peekable();
                while run.peek().is_some() {
                    let part: Arc<[Published]> = run.by_ref().take(piece).collect();
                    for (id, outlet) in &subscribers.conns {
                        if !outlet.offer(scope, &part, self.queue_capacity) {
                            too_slow.push(*id);
                        }
                    }
                }
            }
        }
        too_slow.sort_unstable();
        too_slow.dedup();
        self.cut_off(&too_slow, close::TOO_SLOW);
    }

    /// Whether an ephemeral frame may go into a queue: only while it is less than half full, so
    /// ephemeral frames are dropped first and stored events keep the room they need.
    fn has_room_for_ephemeral(&self, outlet: &Outlet) -> bool {
        outlet.tx.capacity() * 2 > self.queue_capacity
            && outlet.queued_events.load(Ordering::Relaxed) * 2 < self.queue_capacity
    }

    /// Sends an ephemeral frame to every connection that has room for it.
    fn send_to_all(&self, text: Utf8Bytes) {
        let inner = self.read();
        for conn in inner.conns.values() {
            if self.has_room_for_ephemeral(&conn.outlet) {
                let _ = conn.outlet.tx.try_send(Outbound::Ephemeral {
                    scope: None,
                    text: text.clone(),
                });
            }
        }
    }

    /// Relays an ephemeral frame (typing) to a scope's subscribers on this node except the
    /// sending connection; dropped for those that are behind.
    pub fn relay_ephemeral(&self, scope: Scope, from: ConnId, text: Utf8Bytes) {
        let inner = self.read();
        let Some(subscribers) = inner.scopes.get(&scope) else {
            return;
        };
        for (id, outlet) in &subscribers.conns {
            if *id != from && self.has_room_for_ephemeral(outlet) {
                let _ = outlet.tx.try_send(Outbound::Ephemeral {
                    scope: Some(scope),
                    text: text.clone(),
                });
            }
        }
    }

    /// Closes every connection of a session (after logout).
    pub fn end_session(&self, session: &str) {
        let ids: Vec<ConnId> = self
            .read()
            .conns
            .values()
            .filter(|c| &*c.session == session)
            .map(|c| c.id)
            .collect();
        self.cut_off(&ids, close::SESSION_ENDED);
    }

    /// Closes every connection of `user` on this node (a deactivated account).
    pub fn end_user(&self, user: UserId) {
        let ids: Vec<ConnId> = self
            .read()
            .conns
            .values()
            .filter(|c| c.user.id == user)
            .map(|c| c.id)
            .collect();
        self.cut_off(&ids, close::SESSION_ENDED);
    }

    /// The distinct sessions of this node's connections.
    pub fn sessions(&self) -> Vec<Arc<str>> {
        let mut all: Vec<Arc<str>> = self
            .read()
            .conns
            .values()
            .map(|c| c.session.clone())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Closes every connection (shutdown).
    pub fn close_all(&self, code: u16) {
        let ids: Vec<ConnId> = self.read().conns.keys().copied().collect();
        self.cut_off(&ids, code);
    }

    fn cut_off(&self, ids: &[ConnId], code: u16) {
        if ids.is_empty() {
            return;
        }
        let inner = self.read();
        for id in ids {
            if let Some(conn) = inner.conns.get(id) {
                if code == close::TOO_SLOW {
                    tracing::warn!(conn = id, user = %conn.user.username, "outbound queue full: cutting off a slow connection");
                }
                conn.cut_off(code);
            }
        }
    }

    /// Whether a user has a socket open on this node or, as last heard, on another.
    pub fn is_online(&self, user: UserId) -> bool {
        let inner = self.read();
        inner.online.contains_key(&user) || inner.remote_online.contains_key(&user)
    }

    /// Who is online workspace-wide: here and on the other nodes.
    pub fn online(&self) -> Vec<UserRef> {
        self.read().online()
    }

    /// The `presence` frame (who is online) a new connection starts with. Encoded outside the
    /// lock, so a wave of first connects (each one changes who is online) never encodes the
    /// list while holding up the fan-out.
    pub fn presence_frame(&self) -> Utf8Bytes {
        let (online, version) = {
            let inner = self.read();
            if let Some(frame) = &inner.presence_frame {
                return frame.clone();
            }
            (inner.online(), inner.presence_version)
        };
        let frame = Utf8Bytes::from(ServerMsg::Presence { online }.to_json());
        let mut inner = self.write();
        if inner.presence_version == version {
            inner.presence_frame = Some(frame.clone());
        }
        frame
    }

    /// Who is online on this node.
    pub fn local_online(&self) -> Vec<UserRef> {
        self.read()
            .online
            .values()
            .map(|(user, _)| user.clone())
            .collect()
    }

    /// Replaces the set of users online on other nodes.
    pub fn set_remote_online(&self, remote: BTreeMap<UserId, UserRef>) {
        let mut inner = self.write();
        if inner.remote_online != remote {
            inner.remote_online = remote;
            inner.online_changed();
            self.presence_dirty.store(true, Ordering::Release);
        }
    }

    /// Another node announced a presence change.
    pub fn remote_presence_changed(&self) {
        self.presence_activity.notify_one();
    }

    /// Resolves on the next presence change (here or announced by another node).
    pub async fn presence_activity(&self) {
        self.presence_activity.notified().await;
    }

    pub fn has_subscribers(&self, scope: Scope) -> bool {
        self.read().scopes.contains_key(&scope)
    }

    /// The highest sequence number of `scope` this node has fanned out since the scope got its
    /// current subscribers; `None` when nobody here is subscribed.
    pub fn published(&self, scope: Scope) -> Option<Seq> {
        self.read()
            .scopes
            .get(&scope)
            .map(|s| Seq(s.published.load(Ordering::Relaxed)))
    }

    /// The scopes some connection of this node is subscribed to.
    pub fn subscribed_scopes(&self) -> Vec<Scope> {
        self.read().scopes.keys().copied().collect()
    }

    pub fn connection_count(&self) -> usize {
        self.read().conns.len()
    }

    /// Broadcasts who joined and who left whenever the online set changed, at most once per
    /// `period`, so a burst of connects costs one small frame per connection rather than the
    /// whole list per connect. (Each connection got the whole list once, on connect.)
    pub async fn run_presence(self: Arc<Self>, period: Duration, stop: CancellationToken) {
        let mut tick = tokio::time::interval(period);
        let mut last: BTreeMap<UserId, UserRef> = BTreeMap::new();
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if self.presence_dirty.swap(false, Ordering::AcqRel) {
                let now: BTreeMap<UserId, UserRef> =
                    self.online().into_iter().map(|u| (u.id, u)).collect();
                let joined: Vec<UserRef> = now
                    .values()
                    .filter(|u| !last.contains_key(&u.id))
                    .cloned()
                    .collect();
                let left: Vec<UserId> = last
                    .keys()
                    .filter(|id| !now.contains_key(id))
                    .copied()
                    .collect();
                last = now;
                if joined.is_empty() && left.is_empty() {
                    continue;
                }
                let text = Utf8Bytes::from(ServerMsg::PresenceChanged { joined, left }.to_json());
                self.send_to_all(text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use xietong::chat::ChatEvent;
    use xietong::{ChannelId, EventBody, MessageId};

    use super::*;

    fn user(id: i64) -> UserRef {
        UserRef {
            id: UserId(id),
            username: format!("user{id}"),
        }
    }

    fn event(scope: Scope, seq: u64, body: ChatEvent) -> Event {
        Event {
            scope,
            seq: Seq(seq),
            actor: None,
            at: 0,
            client_id: None,
            body: EventBody::Chat(body),
        }
    }

    fn deleted(scope: Scope, seq: u64) -> Event {
        event(
            scope,
            seq,
            ChatEvent::MessageDeleted {
                message: MessageId(seq as i64),
            },
        )
    }

    /// What is queued for a connection now: (scope, seqs) per item.
    fn drain(rx: &mut mpsc::Receiver<Outbound>) -> Vec<(Scope, Vec<u64>)> {
        let mut items = Vec::new();
        while let Ok(item) = rx.try_recv() {
            match item {
                Outbound::Events { scope, events } => {
                    items.push((scope, events.iter().map(|e| e.seq.0).collect()))
                }
                Outbound::Revoked(scope) => items.push((scope, Vec::new())),
                other => panic!("unexpected item {other:?}"),
            }
        }
        items
    }

    #[test]
    fn a_batch_reaches_each_subscriber_as_one_run_per_scope() {
        let hub = Hub::new(16, 4, 100);
        let a = Scope::Channel(ChannelId(1));
        let b = Scope::Channel(ChannelId(2));
        let (alice, mut alice_rx) = hub.register(user(1), "s1".into()).unwrap();
        let (bob, mut bob_rx) = hub.register(user(2), "s2".into()).unwrap();
        hub.subscribe(&alice, a);
        hub.subscribe(&alice, b);
        hub.subscribe(&bob, a);
        let batch = [deleted(b, 1), deleted(a, 1), deleted(a, 2), deleted(a, 3)];
        hub.publish_all(&batch.iter().collect::<Vec<_>>());
        // Scopes in the order they first appear in the batch.
        assert_eq!(drain(&mut alice_rx), vec![(b, vec![1]), (a, vec![1, 2, 3])]);
        assert_eq!(drain(&mut bob_rx), vec![(a, vec![1, 2, 3])]);
        // Each event counts against the queue until the connection says it was sent.
        assert_eq!(alice.outlet.queued_events.load(Ordering::Relaxed), 4);
        alice.outlet.delivered(3);
        alice.outlet.delivered(1);
        assert_eq!(alice.outlet.queued_events.load(Ordering::Relaxed), 0);
        assert_eq!(hub.published(a), Some(Seq(3)));
        assert!(!alice.kill.is_cancelled());
    }

    #[test]
    fn a_connection_is_cut_off_when_a_run_would_pass_its_queue_in_frames() {
        let hub = Hub::new(4, 4, 100);
        let a = Scope::Channel(ChannelId(1));
        let (slow, mut slow_rx) = hub.register(user(1), "s1".into()).unwrap();
        hub.subscribe(&slow, a);
        let first = [deleted(a, 1), deleted(a, 2), deleted(a, 3)];
        hub.publish_all(&first.iter().collect::<Vec<_>>());
        assert!(!slow.kill.is_cancelled());
        // Two queue items, but three frames of four: two more do not fit.
        let second = [deleted(a, 4), deleted(a, 5)];
        hub.publish_all(&second.iter().collect::<Vec<_>>());
        assert!(slow.kill.is_cancelled());
        assert_eq!(slow.close_code.load(Ordering::Relaxed), close::TOO_SLOW);
        assert_eq!(drain(&mut slow_rx), vec![(a, vec![1, 2]), (a, vec![3])]);
        assert_eq!(slow.outlet.queued_events.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_long_run_goes_in_pieces_and_a_closed_queue_is_not_too_slow() {
        let hub = Hub::new(8, 4, 100);
        let a = Scope::Channel(ChannelId(1));
        let (reader, mut reader_rx) = hub.register(user(1), "s1".into()).unwrap();
        let (gone, gone_rx) = hub.register(user(2), "s2".into()).unwrap();
        hub.subscribe(&reader, a);
        hub.subscribe(&gone, a);
        drop(gone_rx);
        let batch: Vec<Event> = (1..=6).map(|seq| deleted(a, seq)).collect();
        hub.publish_all(&batch.iter().collect::<Vec<_>>());
        // Pieces of at most half the queue, so a reader takes one while it sends the other.
        assert_eq!(
            drain(&mut reader_rx),
            vec![(a, vec![1, 2, 3, 4]), (a, vec![5, 6])]
        );
        assert!(!reader.kill.is_cancelled());
        assert!(!gone.kill.is_cancelled());
        assert_eq!(gone.outlet.queued_events.load(Ordering::Relaxed), 0);
    }

    /// The encoded list is kept between connects, and every change of who is online (a first
    /// socket, a last one closing, another node's list) makes a new one.
    #[test]
    fn the_presence_frame_follows_every_change_of_who_is_online() {
        let hub = Hub::new(16, 4, 100);
        let online = |frame: &Utf8Bytes| -> Vec<i64> {
            match serde_json::from_str::<ServerMsg>(frame.as_str()) {
                Ok(ServerMsg::Presence { online }) => online.iter().map(|u| u.id.0).collect(),
                other => panic!("not a presence frame: {other:?}"),
            }
        };
        let same = |a: &Utf8Bytes, b: &Utf8Bytes| a.as_str().as_ptr() == b.as_str().as_ptr();
        assert_eq!(online(&hub.presence_frame()), Vec::<i64>::new());
        let (alice, _alice_rx) = hub.register(user(1), "s1".into()).unwrap();
        let (bob, _bob_rx) = hub.register(user(2), "s2".into()).unwrap();
        let kept = hub.presence_frame();
        assert_eq!(online(&kept), vec![1, 2]);
        // A second tab, and closing it, change nothing: the same encoded frame.
        let (second_tab, _second_rx) = hub.register(user(1), "s1".into()).unwrap();
        assert!(same(&hub.presence_frame(), &kept));
        hub.unregister(second_tab.id);
        assert!(same(&hub.presence_frame(), &kept));
        // Carol elsewhere, and alice on another node too.
        hub.set_remote_online(BTreeMap::from([(UserId(1), user(1)), (UserId(3), user(3))]));
        assert_eq!(online(&hub.presence_frame()), vec![1, 2, 3]);
        hub.unregister(bob.id);
        assert_eq!(online(&hub.presence_frame()), vec![1, 3]);
        hub.unregister(alice.id);
        assert_eq!(online(&hub.presence_frame()), vec![1, 3]);
        hub.set_remote_online(BTreeMap::new());
        assert_eq!(online(&hub.presence_frame()), Vec::<i64>::new());
    }

    #[test]
    fn an_event_that_takes_access_away_ends_the_run() {
        let hub = Hub::new(16, 4, 100);
        let a = Scope::Channel(ChannelId(1));
        let (alice, mut alice_rx) = hub.register(user(1), "s1".into()).unwrap();
        let (bob, mut bob_rx) = hub.register(user(2), "s2".into()).unwrap();
        hub.subscribe(&alice, a);
        hub.subscribe(&bob, a);
        let removal = event(
            a,
            2,
            ChatEvent::MembersChanged {
                channel: ChannelId(1),
                added: Vec::new(),
                removed: vec![user(2)],
            },
        );
        let batch = [deleted(a, 1), removal, deleted(a, 3)];
        hub.publish_all(&batch.iter().collect::<Vec<_>>());
        assert_eq!(drain(&mut alice_rx), vec![(a, vec![1, 2]), (a, vec![3])]);
        // Bob gets the event that removes him, is unsubscribed, and gets nothing after it.
        assert_eq!(drain(&mut bob_rx), vec![(a, vec![1, 2]), (a, vec![])]);
    }
}
