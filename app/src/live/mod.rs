//! The live connection: one WebSocket per tab, shared by every live part of the page through
//! context. It knows no feature: a feature watches the scopes it needs with its own view (a
//! [`ScopeView`]: snapshot + apply(event)), sends commands, and says how to refetch its snapshot
//! when a scope must resync. It resumes every watched scope after a reconnect from its view's
//! head, and resends commands that were not acknowledged (same client id: applied once).

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
mod socket;

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use xietong::wire::{CommandBody, EventContent, FeatureEvent, Tagged};
use xietong::{ClientMsg, ClientMsgId, Event, Scope, Seq, ServerMsg, UserRef};

/// An event as the socket hands it to the views: the envelope read, the body kept as JSON
/// for the feature it belongs to (see [`decode`]). Decoding only on demand keeps every
/// module's event decoders out of the first screen's code.
pub type LiveEvent = Event<Tagged>;

/// A frame from the server as the browser reads it (a command's output stays JSON).
type Frame = ServerMsg<Tagged, Box<serde_json::value::RawValue>>;

/// A frame to the server: commands already encoded by the feature that sent them.
type Outgoing = ClientMsg<Tagged>;

/// The body as feature `F`'s event, if it is one (a body that names one of `F`'s kinds but
/// does not decode is reported on the console and skipped: the server speaks another version).
pub fn decode<F: FeatureEvent>(body: &Tagged) -> Option<F> {
    reported(body, body.event::<F>())
}

/// The body as the one kind `T` stands for, if it is of that kind (reported and skipped as
/// [`decode`] does when it does not decode).
pub fn decode_kind<T: EventContent>(body: &Tagged) -> Option<T> {
    reported(body, body.content::<T>())
}

fn reported<T>(_body: &Tagged, decoded: Result<Option<T>, serde_json::Error>) -> Option<T> {
    match decoded {
        Ok(event) => event,
        Err(_error) => {
            #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
            leptos::logging::warn!("event {} does not decode: {_error}", _body.kind());
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    Reconnecting,
    /// The server speaks another protocol version: the page must be reloaded.
    Outdated,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// Already applied (a replay overlap): ignored.
    Duplicate,
    /// Events are missing before this one: not applied; resubscribe from `head`.
    Gap,
}

/// Moves `head` to `event` when it is the scope's next one (`None`: apply its body now);
/// otherwise says why not. Every `ScopeView::apply` starts with it.
pub fn advance(head: &mut Seq, event: &LiveEvent) -> Option<Applied> {
    match head.classify(event.seq) {
        xietong::SeqOrder::Duplicate => Some(Applied::Duplicate),
        xietong::SeqOrder::Gap => Some(Applied::Gap),
        xietong::SeqOrder::Next => {
            *head = event.seq;
            None
        }
    }
}

/// A feature's state kept from my own user scope: a snapshot carrying that scope's head,
/// which applies the scope's events (its feature's; the others only move the head).
pub trait MyState: std::fmt::Debug + Clone + Send + Sync + 'static {
    /// The feature's events.
    type Event: FeatureEvent;
    fn head(&self) -> Seq;
    fn head_mut(&mut self) -> &mut Seq;
    fn apply_event(&mut self, event: &Self::Event);
}

/// A [`MyState`] as the view of my user scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Mine<T>(pub T);

impl<T: MyState> ScopeView for Mine<T> {
    fn head(&self, _scope: Scope) -> Seq {
        self.0.head()
    }

    fn apply(&mut self, event: &LiveEvent) -> Applied {
        if let Some(outcome) = advance(self.0.head_mut(), event) {
            return outcome;
        }
        if let Some(mine) = decode::<T::Event>(&event.body) {
            self.0.apply_event(&mine);
        }
        Applied::Applied
    }
}

/// A feature's client-side state for one or more scopes: a snapshot plus the events applied
/// since, in sequence order, exactly once.
pub trait ScopeView: Send + Sync + 'static {
    /// The last sequence number applied for `scope`.
    fn head(&self, scope: Scope) -> Seq;
    /// Applies the next event of one of its scopes (check its `seq` with `Seq::classify`).
    fn apply(&mut self, event: &LiveEvent) -> Applied;

    /// Someone is typing in one of its scopes (ephemeral: nothing to store or replay).
    fn typing(&mut self, _user: &UserRef) {}
}

/// A command not yet acknowledged; features show it as pending (a greyed-out message, …).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCommand {
    pub client_id: ClientMsgId,
    /// As sent; `command.command_as::<PostMessage>()` reads it back.
    pub command: Tagged,
    /// Set when the server refused it.
    pub error: Option<String>,
}

type ApplyFn = Arc<dyn Fn(&LiveEvent) -> Option<Applied> + Send + Sync>;

/// One scope's watcher: how to apply its events, read its head, and refetch its snapshot.
#[derive(Clone)]
struct Watcher {
    id: u64,
    apply: ApplyFn,
    head: Arc<dyn Fn() -> Option<Seq> + Send + Sync>,
    resync: Arc<dyn Fn() + Send + Sync>,
    typing: Arc<dyn Fn(&UserRef) + Send + Sync>,
}

/// The tab's live service. Cheap to copy; get it with `expect_context::<Live>()`.
#[derive(Clone, Copy)]
pub struct Live {
    pub status: RwSignal<ConnState>,
    pub online: RwSignal<Vec<UserRef>>,
    pub pending: RwSignal<Vec<PendingCommand>>,
    /// Who this tab is signed in as, from the socket's welcome (`None` until connected, and
    /// while rendering on the server): controls only for one's own things appear once known.
    pub me: RwSignal<Option<xietong::CurrentUser>>,
    /// Minutes east of UTC for showing times; 0 while server-rendering, the browser's after.
    pub utc_offset_minutes: RwSignal<i32>,
    /// Several views may watch one scope (a channel and its open thread): one subscription,
    /// from the least advanced view's head; each view drops what it already has.
    watchers: StoredValue<HashMap<Scope, Vec<Watcher>>>,
    next_watcher: StoredValue<u64>,
    outbox: StoredValue<Option<futures::channel::mpsc::UnboundedSender<Outgoing>>>,
    stopped: StoredValue<bool>,
}

impl Live {
    /// Creates the service and provides it to the component tree below. In the browser it also
    /// opens the socket; it stops when the providing component is cleaned up. While rendering
    /// on the server nothing is started.
    pub fn provide() -> Live {
        let live = Live {
            status: RwSignal::new(ConnState::Connecting),
            online: RwSignal::new(Vec::new()),
            pending: RwSignal::new(Vec::new()),
            me: RwSignal::new(None),
            utc_offset_minutes: RwSignal::new(0),
            watchers: StoredValue::new(HashMap::new()),
            next_watcher: StoredValue::new(0),
            outbox: StoredValue::new(None),
            stopped: StoredValue::new(false),
        };
        provide_context(live);
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            Effect::new(move |_| {
                let offset = -js_sys::Date::new_0().get_timezone_offset() as i32;
                live.utc_offset_minutes.set(offset);
            });
            socket::start(live);
            on_cleanup(move || {
                live.stopped.set_value(true);
                live.outbox.update_value(|o| *o = None);
            });
        }
        live
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.try_get_value().unwrap_or(true)
    }

    /// Keeps `view` live for `scope` from the view's head: replays what it missed, then streams.
    /// `resync` refetches the view's snapshot when the scope cannot be replayed (too far
    /// behind, or access ended); the refetched view watches again. The watch ends when the
    /// calling component is cleaned up. A view may watch several scopes.
    pub fn watch<V: ScopeView>(
        &self,
        scope: Scope,
        view: RwSignal<V>,
        resync: impl Fn() + Send + Sync + 'static,
    ) {
        let id = self.next_watcher.try_update_value(|n| {
            *n += 1;
            *n
        });
        let Some(id) = id else { return };
        let watcher = Watcher {
            id,
            apply: Arc::new(move |event| view.try_update(|v| v.apply(event))),
            head: Arc::new(move || view.try_with_untracked(|v| v.head(scope))),
            resync: Arc::new(resync),
            typing: Arc::new(move |user| {
                view.try_update(|v| v.typing(user));
            }),
        };
        // `try_`: a page whose owner is already gone (a navigation during server rendering)
        // watches nothing.
        if self
            .watchers
            .try_update_value(|w| w.entry(scope).or_default().push(watcher))
            .is_none()
        {
            return;
        }
        self.send(ClientMsg::Subscribe {
            scope,
            after: self.head(scope),
        });
        let live = *self;
        on_cleanup(move || live.unwatch(scope, id));
    }

    /// Keeps `found` (a feature's state from my user scope) live: returns the view to show,
    /// refetched with `load` when the scope must resync.
    pub fn keep_mine<T, F, Fut>(&self, found: T, load: F) -> RwSignal<Mine<T>>
    where
        T: MyState,
        F: Fn() -> Fut + Copy + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, crate::AppError>> + 'static,
    {
        let view = RwSignal::new(Mine(found));
        self.watch_mine(view, move || {
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = load().await {
                    view.set(Mine(fresh));
                }
            });
        });
        view
    }

    /// Loads a snapshot again into `view` (`wrap` makes the view of it): what a resync, or a
    /// view that knows it is stale, calls.
    pub fn refetch_into<T, V, Fut>(
        view: RwSignal<V>,
        load: fn() -> Fut,
        wrap: fn(T) -> V,
    ) -> impl Fn() + Copy + Send + Sync + 'static
    where
        T: 'static,
        V: Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, crate::AppError>> + 'static,
    {
        move || {
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = load().await {
                    view.try_set(wrap(fresh));
                }
            });
        }
    }

    /// `watch` of my own user scope: now, or as soon as the socket has said who I am (a page
    /// opened directly hydrates before that). The watch belongs to the calling component.
    pub fn watch_mine<V: ScopeView>(
        &self,
        view: RwSignal<V>,
        resync: impl Fn() + Send + Sync + 'static,
    ) {
        let live = *self;
        let owner = Owner::current();
        let resync = Arc::new(resync);
        let started = StoredValue::new(false);
        Effect::new(move |_| {
            if started.get_value() {
                return;
            }
            if let (Some(me), Some(owner)) = (live.me.get(), owner.as_ref()) {
                started.set_value(true);
                let resync = resync.clone();
                owner.with(|| live.watch(Scope::User(me.id), view, move || resync()));
            }
        });
    }

    fn unwatch(&self, scope: Scope, id: u64) {
        let removed = self
            .watchers
            .try_update_value(|w| match w.get_mut(&scope) {
                Some(list) if list.iter().any(|x| x.id == id) => {
                    list.retain(|x| x.id != id);
                    if list.is_empty() {
                        w.remove(&scope);
                        true
                    } else {
                        false
                    }
                }
                _ => false,
            })
            .unwrap_or(false);
        if removed {
            self.send(ClientMsg::Unsubscribe { scope });
        }
    }

    /// Sends a command. It stays in `pending` until its event (or acknowledgement) arrives, and
    /// is resent with the same client id after a reconnect.
    /// Each feature's command is encoded here, in the code of the screen that sends it.
    pub fn send_command<C: CommandBody>(&self, command: C) -> ClientMsgId {
        let client_id = new_client_id();
        // Encoding plain data does not fail (no maps with non-string keys).
        let Ok(command) = Tagged::command(&command) else {
            return client_id;
        };
        self.pending.update(|p| {
            p.push(PendingCommand {
                client_id: client_id.clone(),
                command: command.clone(),
                error: None,
            })
        });
        self.send(ClientMsg::Command {
            client_id: client_id.clone(),
            command,
        });
        client_id
    }

    /// Tells the others watching `scope` that I am typing (ephemeral; call at most every
    /// couple of seconds while typing).
    pub fn typing(&self, scope: Scope) {
        self.send(ClientMsg::Typing { scope });
    }

    /// Drops a command from the pending list (answered, or a refusal the user dismissed).
    pub fn dismiss(&self, client_id: &ClientMsgId) {
        if self
            .pending
            .try_with_untracked(|p| p.iter().any(|x| &x.client_id == client_id))
            .unwrap_or(false)
        {
            self.pending
                .try_update(|p| p.retain(|x| &x.client_id != client_id));
        }
    }

    fn send(&self, msg: Outgoing) {
        self.outbox.try_with_value(|outbox| {
            if let Some(tx) = outbox {
                let _ = tx.unbounded_send(msg);
            }
        });
    }

    fn watchers_of(&self, scope: Scope) -> Vec<Watcher> {
        self.watchers
            .try_with_value(|w| w.get(&scope).cloned())
            .flatten()
            .unwrap_or_default()
    }

    /// Where a scope's subscription resumes: the least advanced of its views.
    fn head(&self, scope: Scope) -> Option<Seq> {
        self.watchers_of(scope)
            .iter()
            .filter_map(|w| (w.head)())
            .min()
    }

    #[cfg_attr(not(all(feature = "hydrate", not(feature = "ssr"))), allow(dead_code))]
    /// What to send first on a new connection: resume every watched scope, resend every
    /// command still pending.
    fn resume_messages(&self) -> Vec<Outgoing> {
        let scopes: Vec<Scope> = self.watchers.with_value(|w| w.keys().copied().collect());
        let heads: Vec<(Scope, Option<Seq>)> = scopes
            .into_iter()
            .map(|scope| (scope, self.head(scope)))
            .collect();
        let mut msgs: Vec<Outgoing> = heads
            .into_iter()
            .map(|(scope, after)| ClientMsg::Subscribe { scope, after })
            .collect();
        msgs.extend(self.pending.with_untracked(|pending| {
            pending
                .iter()
                .filter(|p| p.error.is_none())
                .map(|p| ClientMsg::Command {
                    client_id: p.client_id.clone(),
                    command: p.command.clone(),
                })
                .collect::<Vec<_>>()
        }));
        msgs
    }

    #[cfg_attr(not(all(feature = "hydrate", not(feature = "ssr"))), allow(dead_code))]
    /// Applies one frame from the server. Returns a message to send back, if any (a resubscribe
    /// after a gap).
    fn receive(&self, msg: Frame) -> Option<Outgoing> {
        match msg {
            ServerMsg::Welcome { protocol, user, .. } => {
                if self.me.with_untracked(|me| me.as_ref() != Some(&user)) {
                    self.me.set(Some(user));
                }
                let state = if protocol == xietong::PROTOCOL_VERSION {
                    ConnState::Connected
                } else {
                    ConnState::Outdated
                };
                self.status.set(state);
            }
            ServerMsg::Event(event) => {
                if let Some(id) = &event.client_id {
                    self.dismiss(id);
                }
                let mut gap = false;
                for watcher in self.watchers_of(event.scope) {
                    gap |= (watcher.apply)(&event) == Some(Applied::Gap);
                }
                if gap {
                    return Some(ClientMsg::Subscribe {
                        scope: event.scope,
                        after: self.head(event.scope),
                    });
                }
            }
            // Too far behind for a replay, or no longer allowed: refetch that scope's snapshot
            // (the refreshed view watches again).
            ServerMsg::Resync { scope, .. } | ServerMsg::Unsubscribed { scope, .. } => {
                let watchers = self.watchers_of(scope);
                if !watchers.is_empty() {
                    self.watchers.update_value(|w| {
                        w.remove(&scope);
                    });
                    for watcher in watchers {
                        (watcher.resync)();
                    }
                }
            }
            ServerMsg::Presence { online } => self.online.set(online),
            ServerMsg::PresenceChanged { joined, left } => self.online.update(|online| {
                online.retain(|u| !left.contains(&u.id) && !joined.iter().any(|j| j.id == u.id));
                online.extend(joined);
                online.sort_by_key(|u| u.id);
            }),
            ServerMsg::Typing { scope, user } => {
                for watcher in self.watchers_of(scope) {
                    (watcher.typing)(&user);
                }
            }
            ServerMsg::Error {
                message,
                client_id: Some(id),
                ..
            } => {
                self.pending.update(|p| {
                    if let Some(command) = p.iter_mut().find(|x| x.client_id == id) {
                        command.error = Some(message);
                    }
                });
            }
            ServerMsg::Ack { client_id, .. } => self.dismiss(&client_id),
            ServerMsg::Subscribed { .. } | ServerMsg::Pong | ServerMsg::Error { .. } => {}
        }
        None
    }
}

/// An event as the socket would hand it over, for the views' unit tests.
#[cfg(test)]
pub(crate) fn test_event(
    scope: Scope,
    seq: u64,
    actor: Option<xietong::UserId>,
    body: impl Into<xietong::EventBody>,
) -> LiveEvent {
    let body: xietong::EventBody = body.into();
    Event {
        scope,
        seq: Seq(seq),
        actor,
        at: 0,
        client_id: None,
        body: Tagged::encode(&body).expect("an event body encodes"),
    }
}

/// The browser's clock in milliseconds (the system clock off the browser).
pub fn now_ms() -> f64 {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        js_sys::Date::now()
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    }
}

/// A fresh client id for a command: random enough that two tabs never collide.
pub fn new_client_id() -> ClientMsgId {
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let a = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let b = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        ClientMsgId(format!("{:x}-{a:x}-{b:x}", js_sys::Date::now() as u64))
    }
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        ClientMsgId(format!("srv-{nanos:x}-{n:x}-{:x}", std::process::id()))
    }
}
