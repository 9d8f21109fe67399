//! `/ws`: the upgrade checks and one task per connection.
//!
//! The connection task owns its socket. It reads client frames, writes the hub's outbound queue,
//! and keeps, per subscribed scope, the last sequence number it sent: events at or below it are
//! dropped (replay overlap), and a jump is filled from the database first. So a client receives
//! each scope's events gapless, in order, exactly once, whatever order they reached the hub in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::SinkExt;
use http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;
use xietong::limits::{MAX_REPLAY_EVENTS, MAX_SUBSCRIPTIONS};
use xietong::wire::close;
use xietong::{
    ClientMsg, ClientMsgId, Command, CurrentUser, ErrorCode, Scope, Seq, SeqOrder, ServerMsg,
};

use crate::access::{self, Denied, Need};
use crate::auth::SessionKey;
use crate::command::{Actor, Submission};
use crate::events::AppendError;
use crate::hub::{ConnHandle, Outbound, Published};
use crate::rate::TokenBucket;
use crate::store::StoreError;
use crate::AppState;

/// Stored events read and sent per step of a replay: a client far behind is served page by
/// page, each page under the write deadline, never all at once from memory.
const REPLAY_PAGE: u64 = 200;

/// Typing notices a connection may send per second; more are dropped.
const TYPING_RATE: f64 = 3.0;

/// Most queued frames written together after the item that woke the connection.
const MAX_FRAMES_PER_WRITE: usize = 64;

/// Per-connection socket read buffer.
const READ_BUFFER_BYTES: usize = 2 * 1024;

/// `GET /ws`: 401 without a session, 403 from a foreign origin.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Option<Extension<CurrentUser>>,
    session: Option<Extension<SessionKey>>,
    ws: WebSocketUpgrade,
) -> Response {
    let (Some(Extension(user)), Some(Extension(session))) = (user, session) else {
        return (StatusCode::UNAUTHORIZED, "log in first").into_response();
    };
    if !crate::guard::ws_origin_allowed(&state.sites, &headers) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let limit = state.config.max_frame_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        // The library default (128 KiB, filled on every read) would be most of an idle
        // connection's memory; chat frames are small and a larger one just takes more reads.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(socket, state, user, session))
}

/// Why a connection ended, and the close frame to send (if any).
struct Closing(Option<(u16, &'static str)>);

struct Connection {
    state: AppState,
    conn: ConnHandle,
    user: CurrentUser,
    /// Per subscribed scope: the last sequence number sent to this client.
    sent: HashMap<Scope, Seq>,
    typing: TokenBucket,
    last_heard: Instant,
    /// When the session ends by itself (Unix ms).
    session_expires_at: i64,
    /// Frames queued on the socket but not yet flushed.
    unflushed: bool,
}

async fn serve(mut socket: WebSocket, state: AppState, user: CurrentUser, session: SessionKey) {
    let registered = state.hub.register(user.user_ref(), session.hash.clone());
    let (conn, mut rx) = match registered {
        Ok(registered) => registered,
        Err(e) => {
            let frame = Message::Close(Some(CloseFrame {
                code: close::TOO_MANY_CONNECTIONS,
                reason: Utf8Bytes::from(e.to_string()),
            }));
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
            return;
        }
    };
    let mut connection = Connection {
        state: state.clone(),
        conn: conn.clone(),
        user,
        sent: HashMap::new(),
        typing: TokenBucket::new(TYPING_RATE, TYPING_RATE),
        last_heard: Instant::now(),
        session_expires_at: session.expires_at,
        unflushed: false,
    };
    let Closing(close_frame) = connection.run(&mut socket, &mut rx).await;
    state.hub.unregister(conn.id);
    if let Some((code, reason)) = close_frame {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }));
        // A client that is behind gets its close code once it reads what is queued before it,
        // within the write deadline; shutdown does not wait that long.
        let wait = if code == close::TOO_SLOW {
            Duration::from_secs(state.config.write_timeout_secs.max(1))
        } else {
            Duration::from_secs(1)
        };
        let _ = tokio::time::timeout(wait, socket.send(frame)).await;
    }
}

impl Connection {
    async fn run(&mut self, socket: &mut WebSocket, rx: &mut mpsc::Receiver<Outbound>) -> Closing {
        // Encoded before the first await, so the messages are not part of the state every
        // connection holds while it waits.
        let greeting = {
            let welcome = ServerMsg::Welcome {
                protocol: xietong::PROTOCOL_VERSION,
                user: self.user.clone(),
                max_frame_bytes: self.state.config.max_frame_bytes,
            };
            [
                Utf8Bytes::from(welcome.to_json()),
                self.state.hub.presence_frame(),
            ]
        };
        for text in greeting {
            if let Err(closing) = self.send(socket, text).await {
                return closing;
            }
        }
        if let Err(closing) = self.flush(socket).await {
            return closing;
        }
        let idle = Duration::from_secs(self.state.config.idle_timeout_secs.max(1));
        let mut keepalive = tokio::time::interval((idle / 3).max(Duration::from_millis(500)));
        keepalive.tick().await;
        let kill = self.conn.kill.clone();
        // Made once, not per loop step: each fresh `cancelled()` would register and unregister
        // a waiter under the token's lock on every wake-up.
        let killed = kill.cancelled();
        tokio::pin!(killed);
        let until_expiry =
            Duration::from_millis((self.session_expires_at - crate::store::now_ms()).max(0) as u64);
        let expiry = tokio::time::sleep(until_expiry);
        tokio::pin!(expiry);
        loop {
            let step = tokio::select! {
                _ = &mut expiry => return Closing(Some((close::SESSION_ENDED, "session expired"))),
                _ = &mut killed => return self.killed(),
                incoming = socket.recv() => match incoming {
                    None => return Closing(None),
                    Some(Err(e)) => return Closing(read_error_close(&e)),
                    Some(Ok(message)) => {
                        self.last_heard = Instant::now();
                        // Boxed, like the replay below: what a client frame can start (a
                        // subscription's access check and replay, a command) is a 4.3 KB
                        // future, and unboxed it sized the state machine every idle
                        // connection holds (6.9 KB then, 4.2 KB with both boxed; README,
                        // "Idle connections and the write path", session 23).
                        Box::pin(self.on_client_frame(socket, message)).await
                    }
                },
                outbound = rx.recv() => match outbound {
                    Some(item) => self.deliver_queued(socket, item, rx).await,
                    None => return Closing(None),
                },
                _ = keepalive.tick() => {
                    if self.last_heard.elapsed() > idle {
                        return Closing(Some((close::IDLE_TIMEOUT, "idle timeout")));
                    }
                    self.send_message(socket, Message::Ping(Default::default())).await
                }
            };
            if let Err(closing) = step {
                return closing;
            }
            if let Err(closing) = self.flush(socket).await {
                return closing;
            }
        }
    }

    /// Delivers one queued item and whatever else is already waiting (up to a bound), so a
    /// burst goes out in one write instead of one system call per frame.
    async fn deliver_queued(
        &mut self,
        socket: &mut WebSocket,
        first: Outbound,
        rx: &mut mpsc::Receiver<Outbound>,
    ) -> Result<(), Closing> {
        let mut frames = first.frames();
        self.still_wanted()?;
        self.deliver(socket, first).await?;
        while frames < MAX_FRAMES_PER_WRITE {
            match rx.try_recv() {
                Ok(item) => {
                    frames += item.frames();
                    self.still_wanted()?;
                    self.deliver(socket, item).await?
                }
                Err(_) => break,
            }
        }
        Ok(())
    }

    async fn send(&mut self, socket: &mut WebSocket, text: Utf8Bytes) -> Result<(), Closing> {
        self.send_message(socket, Message::Text(text)).await
    }

    /// Queues a frame on the socket (written at the latest by `flush` at the end of the loop
    /// step), unless the hub cuts the connection off meanwhile or the write misses its
    /// deadline: a client that stopped reading would otherwise hold the task (and what it is
    /// sending) on a full TCP buffer forever.
    async fn send_message(
        &mut self,
        socket: &mut WebSocket,
        message: Message,
    ) -> Result<(), Closing> {
        self.unflushed = true;
        self.guarded(socket.feed(message)).await
    }

    async fn flush(&mut self, socket: &mut WebSocket) -> Result<(), Closing> {
        if !self.unflushed {
            return Ok(());
        }
        self.unflushed = false;
        self.guarded(socket.flush()).await
    }

    /// Runs a socket write under the write deadline and the hub's kill switch. Most writes only
    /// fill the socket's buffer and are done at the first poll: those skip the timer and the
    /// kill watch, which would otherwise be set up and torn down for every frame of every
    /// subscriber (the run loop still watches the kill switch between steps, and
    /// `still_wanted` before each queued item and replay page).
    async fn guarded(
        &self,
        write: impl std::future::Future<Output = Result<(), axum::Error>>,
    ) -> Result<(), Closing> {
        use futures::FutureExt;
        let mut write = std::pin::pin!(write);
        if let Some(done) = write.as_mut().now_or_never() {
            return done.map_err(|_| Closing(None));
        }
        tokio::select! {
            done = tokio::time::timeout(self.write_deadline(), write) => match done {
                Ok(done) => done.map_err(|_| Closing(None)),
                Err(_) => Err(Closing(Some((close::TOO_SLOW, "too slow: reconnect and resume")))),
            },
            _ = self.conn.kill.cancelled() => Err(self.killed()),
        }
    }

    fn write_deadline(&self) -> Duration {
        Duration::from_secs(self.state.config.write_timeout_secs.max(1))
    }

    /// How a connection the hub cut off closes: the code it was given, and why.
    fn killed(&self) -> Closing {
        let code = self
            .conn
            .close_code
            .load(std::sync::atomic::Ordering::Relaxed);
        let reason = match code {
            close::TOO_SLOW => "too slow: reconnect and resume",
            close::SESSION_ENDED => "session ended",
            close::GOING_AWAY => "server shutting down",
            _ => "closed by server",
        };
        Closing(Some((code, reason)))
    }

    /// Ends the work at hand once the hub has cut the connection off: checked before each
    /// queued item and replay page, since a write that does not wait never looks at the kill
    /// switch (`guarded`), and once per item keeps its lock off the per-frame path.
    fn still_wanted(&self) -> Result<(), Closing> {
        if self.conn.kill.is_cancelled() {
            return Err(self.killed());
        }
        Ok(())
    }

    async fn send_msg(&mut self, socket: &mut WebSocket, msg: &ServerMsg) -> Result<(), Closing> {
        self.send(socket, msg.to_json().into()).await
    }

    async fn on_client_frame(
        &mut self,
        socket: &mut WebSocket,
        message: Message,
    ) -> Result<(), Closing> {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                let err = ServerMsg::error(
                    ErrorCode::BadFrame,
                    "binary frames are not supported; send JSON text",
                );
                return self.send_msg(socket, &err).await;
            }
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Close(_) => return Err(Closing(None)),
        };
        let msg = match serde_json::from_str::<ClientMsg>(text.as_str()) {
            Ok(msg) => msg,
            Err(e) => {
                let err =
                    ServerMsg::error(ErrorCode::BadFrame, format!("not a valid message: {e}"));
                return self.send_msg(socket, &err).await;
            }
        };
        match msg {
            ClientMsg::Ping => self.send_msg(socket, &ServerMsg::Pong).await,
            ClientMsg::Typing { scope } => {
                // Only where this connection reads (access was checked on subscribe), and a few
                // per second: typing is a hint, so extra ones are dropped without an error.
                let in_a_channel = matches!(scope, Scope::Channel(_));
                if in_a_channel && self.sent.contains_key(&scope) && self.typing.take() {
                    self.state.backplane.typing(scope, self.conn.id, &self.user);
                }
                Ok(())
            }
            ClientMsg::Subscribe { scope, after } => self.subscribe(socket, scope, after).await,
            ClientMsg::Unsubscribe { scope } => {
                self.state.hub.unsubscribe(self.conn.id, scope);
                self.sent.remove(&scope);
                Ok(())
            }
            ClientMsg::Command { client_id, command } => {
                let reply = self.command(client_id, command).await;
                match reply {
                    Some(err) => self.send_msg(socket, &err).await,
                    None => Ok(()),
                }
            }
        }
    }

    /// Queues a command. Queuing happens here, in order (one client's commands keep their
    /// order); waiting for the commit happens in its own task so this connection keeps reading
    /// and writing meanwhile. The ack (or error) comes back through the outbound queue, after
    /// the command's events.
    async fn command(&mut self, client_id: ClientMsgId, mut command: Command) -> Option<ServerMsg> {
        let refuse = |code, message: String| ServerMsg::Error {
            code,
            message,
            client_id: Some(client_id.clone()),
        };
        if !client_id.is_well_formed() {
            return Some(refuse(
                ErrorCode::Invalid,
                "client_id must be 8 to 64 letters, digits, '-' or '_'".into(),
            ));
        }
        if !self.state.hub.take_command_token(self.user.id) {
            return Some(refuse(
                ErrorCode::RateLimited,
                "too many requests; slow down".into(),
            ));
        }
        if let Err(e) = crate::command::prepare(&self.state, &self.user, &mut command).await {
            return Some(refuse(e.code(), e.public_message()));
        }
        let submission = Submission {
            actor: Actor::User(self.user.clone()),
            client_id: Some(client_id.clone()),
            command,
        };
        let submitted = match self.state.log.submit(submission).await {
            Ok(submitted) => submitted,
            Err(_) => {
                return Some(refuse(
                    ErrorCode::Internal,
                    "the server is shutting down; retry".into(),
                ))
            }
        };
        let tx = self.conn.outlet.tx.clone();
        tokio::spawn(async move {
            let reply = match submitted.outcome().await {
                Ok(applied) => ServerMsg::Ack {
                    client_id,
                    duplicate: applied.duplicate,
                    output: applied.output,
                },
                Err(AppendError::Command(e)) => {
                    if e.code() == ErrorCode::Internal {
                        tracing::error!(error = %e, "a command failed");
                    }
                    ServerMsg::Error {
                        code: e.code(),
                        message: e.public_message(),
                        client_id: Some(client_id),
                    }
                }
                Err(AppendError::ShuttingDown) => ServerMsg::Error {
                    code: ErrorCode::Internal,
                    message: "the server is shutting down; retry".into(),
                    client_id: Some(client_id),
                },
            };
            let _ = tx.send(Outbound::Frame(reply.to_json().into())).await;
        });
        None
    }

    async fn subscribe(
        &mut self,
        socket: &mut WebSocket,
        scope: Scope,
        after: Option<Seq>,
    ) -> Result<(), Closing> {
        if !self.sent.contains_key(&scope) && self.sent.len() >= MAX_SUBSCRIPTIONS {
            let err = ServerMsg::error(
                ErrorCode::RateLimited,
                format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"),
            );
            return self.send_msg(socket, &err).await;
        }
        if !self.state.hub.take_subscribe_token(self.user.id) {
            let err = ServerMsg::error(ErrorCode::RateLimited, "too many subscriptions; slow down");
            return self.send_msg(socket, &err).await;
        }
        // Join the fan-out before checking access and reading the head: a removal committed
        // after this point reaches this connection as a revocation, and whatever is committed
        // after the head read arrives through the queue.
        self.state.hub.subscribe(&self.conn, scope);
        if let Err(err) = self.authorize(scope).await {
            self.state.hub.unsubscribe(self.conn.id, scope);
            self.sent.remove(&scope);
            return self.send_msg(socket, &err).await;
        }
        let head = match self.state.store.head(scope).await {
            Ok(head) => head,
            Err(e) => return self.internal(socket, e).await,
        };
        let position = match after {
            None => head,
            Some(after) if after > head || head.0 - after.0 > MAX_REPLAY_EVENTS => {
                self.sent.insert(scope, head);
                return self
                    .send_msg(socket, &ServerMsg::Resync { scope, head })
                    .await;
            }
            Some(after) => after,
        };
        self.sent.insert(scope, position);
        self.catch_up(socket, scope, head).await?;
        let head = self.sent.get(&scope).copied().unwrap_or(head);
        self.send_msg(socket, &ServerMsg::Subscribed { scope, head })
            .await
    }

    async fn authorize(&self, scope: Scope) -> Result<(), ServerMsg> {
        let checked = match self.state.store.pool().acquire().await {
            Ok(mut conn) => access::check(&mut conn, &self.user, scope, Need::Read).await,
            Err(e) => Err(Denied::Store(StoreError::Db(e))),
        };
        checked.map_err(|denied| match denied {
            Denied::NotFound(_) => ServerMsg::error(ErrorCode::NotFound, denied.to_string()),
            Denied::Forbidden(_) => ServerMsg::error(ErrorCode::Forbidden, denied.to_string()),
            Denied::Store(e) => {
                tracing::error!(error = %e, "access check failed");
                ServerMsg::error(ErrorCode::Internal, "could not check access; retry")
            }
        })
    }

    /// Sends the stored events of `scope` after what this client has, up to `until`, a page at
    /// a time.
    async fn catch_up(
        &mut self,
        socket: &mut WebSocket,
        scope: Scope,
        until: Seq,
    ) -> Result<(), Closing> {
        loop {
            let Some(&from) = self.sent.get(&scope) else {
                return Ok(());
            };
            if until <= from {
                return Ok(());
            }
            self.still_wanted()?;
            let page = (until.0 - from.0).min(REPLAY_PAGE);
            let events = match self.state.store.events_after(scope, from, page).await {
                Ok(events) => events,
                Err(e) => return self.internal(socket, e).await,
            };
            if events.is_empty() {
                return Ok(());
            }
            for event in events {
                let seq = event.seq;
                let revoked = event.body.revoked_readers().contains(&self.user.id);
                self.send_msg(socket, &ServerMsg::Event(event)).await?;
                self.sent.insert(scope, seq);
                if revoked {
                    return self.end_subscription(socket, scope).await;
                }
            }
            self.flush(socket).await?;
        }
    }

    async fn deliver(&mut self, socket: &mut WebSocket, item: Outbound) -> Result<(), Closing> {
        match item {
            Outbound::Frame(text) => self.send(socket, text).await,
            Outbound::Ephemeral { scope, text } => {
                // A scoped one only while subscribed: the subscription is where access was
                // checked (and a refused or ended one leaves nothing behind).
                if scope.is_some_and(|s| !self.sent.contains_key(&s)) {
                    return Ok(());
                }
                self.send(socket, text).await
            }
            Outbound::Revoked(scope) => self.end_subscription(socket, scope).await,
            Outbound::Events { scope, events } => {
                let sent = self.deliver_events(socket, scope, &events).await;
                self.conn.outlet.delivered(events.len());
                sent
            }
        }
    }

    /// Sends a run of stored events of `scope`, skipping what this connection already sent and
    /// filling a gap before them from the database.
    async fn deliver_events(
        &mut self,
        socket: &mut WebSocket,
        scope: Scope,
        events: &[Published],
    ) -> Result<(), Closing> {
        // The position is read from `sent` once per run and written back once, not hashed twice
        // per event (that was about 6 % of a saturated server's samples); a replay or a
        // revocation reads or changes `sent`, so the position goes back before either.
        let Some(&(mut last)) = self.sent.get(&scope) else {
            return Ok(());
        };
        for event in events {
            match last.classify(event.seq) {
                SeqOrder::Duplicate => continue,
                SeqOrder::Gap => {
                    self.sent.insert(scope, last);
                    // Boxed: a replay's database reads are rare here and large, and would
                    // otherwise be part of every connection's resident state.
                    Box::pin(self.catch_up(socket, scope, Seq(event.seq.0 - 1))).await?;
                    if !self.sent.contains_key(&scope) {
                        // The replay ended the subscription (a removal in between).
                        return Ok(());
                    }
                }
                SeqOrder::Next => {}
            }
            self.send(socket, event.text.clone()).await?;
            last = event.seq;
            if event
                .revokes
                .as_ref()
                .is_some_and(|r| r.contains(&self.user.id))
            {
                self.sent.insert(scope, last);
                return self.end_subscription(socket, scope).await;
            }
        }
        self.sent.insert(scope, last);
        Ok(())
    }

    /// The user lost read access to `scope` (an event said so, however it reached this
    /// connection: live, replayed, or filled in from the database): stop and say so, once.
    async fn end_subscription(
        &mut self,
        socket: &mut WebSocket,
        scope: Scope,
    ) -> Result<(), Closing> {
        self.state.hub.unsubscribe(self.conn.id, scope);
        if self.sent.remove(&scope).is_none() {
            return Ok(());
        }
        let msg = ServerMsg::Unsubscribed {
            scope,
            reason: "you no longer have access".into(),
        };
        self.send_msg(socket, &msg).await
    }

    async fn internal(&mut self, socket: &mut WebSocket, e: StoreError) -> Result<(), Closing> {
        tracing::error!(error = %e, "database error while serving a connection");
        self.send_msg(
            socket,
            &ServerMsg::error(ErrorCode::Internal, "database error; retry"),
        )
        .await
    }
}

/// A read error's close frame: 1009 for an oversized frame, nothing otherwise (the transport is
/// already broken).
fn read_error_close(e: &axum::Error) -> Option<(u16, &'static str)> {
    let text = e.to_string();
    if text.contains("too long") || text.contains("Space limit") || text.contains("too big") {
        Some((close::TOO_BIG, "frame too large"))
    } else {
        None
    }
}
