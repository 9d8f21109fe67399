//! `/ws`: the upgrade checks and one task per connection.
//!
//! The connection task owns its socket. It reads client frames, writes the hub's outbound queue,
//! and keeps, per subscribed scope, the last sequence number it sent: events at or below it are
//! dropped (replay overlap), and a jump is filled from the database first. So a client receives
//! each scope's events gapless, in order, exactly once, whatever order they reached the hub in.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::SinkExt;
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, StatusCode};
use tokio::sync::mpsc;
use xietong::limits::{MAX_REPLAY_EVENTS, MAX_SUBSCRIPTIONS};
use xietong::wire::close;
use xietong::{
    ClientMsg, ClientMsgId, CurrentUser, ErrorCode, EventBody, Scope, Seq, SeqOrder, ServerMsg,
};

use crate::auth::SessionKey;
use crate::events::AppendError;
use crate::hub::{ConnHandle, Outbound};
use crate::store::{Append, StoreError};
use crate::AppState;

/// Most queued frames written together after the one that woke the connection.
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
    let (Some(Extension(user)), Some(Extension(SessionKey(session)))) = (user, session) else {
        return (StatusCode::UNAUTHORIZED, "log in first").into_response();
    };
    if !origin_allowed(&headers, &state.config.allowed_origins) {
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

/// The server's own origin (the request's `Host`) and the configured ones are allowed; a
/// request without `Origin` is not (every browser sends one).
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    if origin_host.is_some() && origin_host == host {
        return true;
    }
    allowed
        .iter()
        .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Why a connection ended, and the close frame to send (if any).
struct Closing(Option<(u16, &'static str)>);

struct Connection {
    state: AppState,
    conn: ConnHandle,
    user: CurrentUser,
    /// Per subscribed scope: the last sequence number sent to this client.
    sent: HashMap<Scope, Seq>,
    posts: TokenBucket,
    last_heard: Instant,
    /// Frames queued on the socket but not yet flushed.
    unflushed: bool,
}

async fn serve(mut socket: WebSocket, state: AppState, user: CurrentUser, session: Arc<str>) {
    let (conn, mut rx) = state.hub.register(user.user_ref(), session);
    let rate = f64::from(state.config.post_rate.max(1));
    let mut connection = Connection {
        state: state.clone(),
        conn: conn.clone(),
        user,
        sent: HashMap::new(),
        posts: TokenBucket::new(rate, rate * 4.0),
        last_heard: Instant::now(),
        unflushed: false,
    };
    let Closing(close_frame) = connection.run(&mut socket, &mut rx).await;
    state.hub.unregister(conn.id);
    if let Some((code, reason)) = close_frame {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }));
        let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
    }
}

impl Connection {
    async fn run(&mut self, socket: &mut WebSocket, rx: &mut mpsc::Receiver<Outbound>) -> Closing {
        let welcome = ServerMsg::Welcome {
            protocol: xietong::PROTOCOL_VERSION,
            user: self.user.clone(),
            max_frame_bytes: self.state.config.max_frame_bytes,
        };
        let presence = ServerMsg::Presence {
            online: self.state.hub.online(),
        };
        for msg in [welcome, presence] {
            if self.send(socket, msg.to_json().into()).await.is_err() {
                return Closing(None);
            }
        }
        if self.flush(socket).await.is_err() {
            return Closing(None);
        }
        let idle = Duration::from_secs(self.state.config.idle_timeout_secs.max(1));
        let mut keepalive = tokio::time::interval((idle / 3).max(Duration::from_millis(500)));
        keepalive.tick().await;
        let kill = self.conn.kill.clone();
        loop {
            let step = tokio::select! {
                _ = kill.cancelled() => {
                    let code = self.conn.close_code.load(std::sync::atomic::Ordering::Relaxed);
                    let reason = match code {
                        close::TOO_SLOW => "too slow: reconnect and resume",
                        close::SESSION_ENDED => "session ended",
                        close::GOING_AWAY => "server shutting down",
                        _ => "closed",
                    };
                    return Closing(Some((code, reason)));
                }
                incoming = socket.recv() => match incoming {
                    None => return Closing(None),
                    Some(Err(e)) => return Closing(read_error_close(&e)),
                    Some(Ok(message)) => {
                        self.last_heard = Instant::now();
                        self.on_client_frame(socket, message).await
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
        self.deliver(socket, first).await?;
        for _ in 0..MAX_FRAMES_PER_WRITE {
            match rx.try_recv() {
                Ok(item) => self.deliver(socket, item).await?,
                Err(_) => break,
            }
        }
        Ok(())
    }

    async fn send(&mut self, socket: &mut WebSocket, text: Utf8Bytes) -> Result<(), Closing> {
        self.send_message(socket, Message::Text(text)).await
    }

    /// Queues a frame on the socket (written at the latest by `flush` at the end of the loop
    /// step), unless the hub cuts the connection off meanwhile: a client that stopped reading
    /// would otherwise hold the task on a full TCP buffer forever.
    async fn send_message(
        &mut self,
        socket: &mut WebSocket,
        message: Message,
    ) -> Result<(), Closing> {
        self.unflushed = true;
        tokio::select! {
            sent = socket.feed(message) => sent.map_err(|_| Closing(None)),
            _ = self.conn.kill.cancelled() => Err(self.killed()),
        }
    }

    async fn flush(&mut self, socket: &mut WebSocket) -> Result<(), Closing> {
        if !self.unflushed {
            return Ok(());
        }
        self.unflushed = false;
        tokio::select! {
            flushed = socket.flush() => flushed.map_err(|_| Closing(None)),
            _ = self.conn.kill.cancelled() => Err(self.killed()),
        }
    }

    fn killed(&self) -> Closing {
        Closing(Some((
            self.conn
                .close_code
                .load(std::sync::atomic::Ordering::Relaxed),
            "closed by server",
        )))
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
            ClientMsg::Subscribe { scope, after } => self.subscribe(socket, scope, after).await,
            ClientMsg::Unsubscribe { scope } => {
                self.state.hub.unsubscribe(self.conn.id, scope);
                self.sent.remove(&scope);
                Ok(())
            }
            ClientMsg::Post {
                client_id,
                channel,
                body,
            } => {
                let reply = self.post(client_id, channel, body).await;
                match reply {
                    Some(err) => self.send_msg(socket, &err).await,
                    None => Ok(()),
                }
            }
        }
    }

    /// Validates and queues a post. Queuing happens here, in order (one client's posts keep
    /// their order); waiting for the commit happens in its own task so this connection keeps
    /// reading and writing meanwhile. The ack (or error) comes back through the outbound queue,
    /// after the event itself.
    async fn post(
        &mut self,
        client_id: ClientMsgId,
        channel: xietong::ChannelId,
        body: String,
    ) -> Option<ServerMsg> {
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
        let body = match xietong::validate::message_body(&body) {
            Ok(body) => body.to_owned(),
            Err(e) => return Some(refuse(ErrorCode::Invalid, e.to_string())),
        };
        if !self.posts.take() {
            return Some(refuse(
                ErrorCode::RateLimited,
                "too many messages; slow down".into(),
            ));
        }
        let append = Append::PostMessage {
            channel,
            author: self.user.user_ref(),
            body,
            client_id: client_id.clone(),
        };
        let submitted = match self.state.log.submit(append).await {
            Ok(submitted) => submitted,
            Err(_) => {
                return Some(refuse(
                    ErrorCode::Internal,
                    "the server is shutting down; retry".into(),
                ))
            }
        };
        let tx = self.conn.tx.clone();
        tokio::spawn(async move {
            let refuse = |code, message: &str| ServerMsg::Error {
                code,
                message: message.into(),
                client_id: Some(client_id.clone()),
            };
            let reply = match submitted.outcome().await {
                Ok(committed) => match committed.event.body {
                    EventBody::MessagePosted { message } => ServerMsg::Ack {
                        client_id: client_id.clone(),
                        message_id: message.id,
                        scope: committed.event.scope,
                        seq: committed.event.seq,
                        duplicate: committed.duplicate,
                    },
                    _ => refuse(ErrorCode::Internal, "unexpected event"),
                },
                Err(AppendError::Store(StoreError::NoSuchChannel)) => {
                    refuse(ErrorCode::NotFound, "no such channel")
                }
                Err(e) => {
                    tracing::error!(error = %e, "storing a message failed");
                    refuse(
                        ErrorCode::Internal,
                        "the message could not be stored; retry",
                    )
                }
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
        if let Err(err) = self.authorize(scope).await {
            return self.send_msg(socket, &err).await;
        }
        if !self.sent.contains_key(&scope) && self.sent.len() >= MAX_SUBSCRIPTIONS {
            let err = ServerMsg::error(
                ErrorCode::RateLimited,
                format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"),
            );
            return self.send_msg(socket, &err).await;
        }
        // Join the fan-out before reading the head: whatever is committed after this point
        // arrives through the queue, everything before is at or below the head.
        self.state.hub.subscribe(&self.conn, scope);
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
        match scope {
            // Every signed-in member sees the workspace scope and every (public) channel.
            Scope::Workspace => Ok(()),
            Scope::Channel(id) => match self.state.store.channel(id).await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(ServerMsg::error(
                    ErrorCode::NotFound,
                    format!("no channel {id}"),
                )),
                Err(e) => {
                    tracing::error!(error = %e, "channel lookup failed");
                    Err(ServerMsg::error(
                        ErrorCode::Internal,
                        "could not check the channel",
                    ))
                }
            },
        }
    }

    /// Sends the stored events of `scope` after what this client has, up to `until`.
    async fn catch_up(
        &mut self,
        socket: &mut WebSocket,
        scope: Scope,
        until: Seq,
    ) -> Result<(), Closing> {
        let Some(&from) = self.sent.get(&scope) else {
            return Ok(());
        };
        if until <= from {
            return Ok(());
        }
        let events = match self
            .state
            .store
            .events_after(scope, from, until.0 - from.0)
            .await
        {
            Ok(events) => events,
            Err(e) => return self.internal(socket, e).await,
        };
        for event in events {
            let seq = event.seq;
            self.send_msg(socket, &ServerMsg::Event(event)).await?;
            self.sent.insert(scope, seq);
        }
        Ok(())
    }

    async fn deliver(&mut self, socket: &mut WebSocket, item: Outbound) -> Result<(), Closing> {
        match item {
            Outbound::Frame(text) => self.send(socket, text).await,
            Outbound::Event { scope, seq, text } => {
                let Some(&last) = self.sent.get(&scope) else {
                    return Ok(());
                };
                match last.classify(seq) {
                    SeqOrder::Duplicate => Ok(()),
                    SeqOrder::Gap => {
                        self.catch_up(socket, scope, Seq(seq.0 - 1)).await?;
                        self.send(socket, text).await?;
                        self.sent.insert(scope, seq);
                        Ok(())
                    }
                    SeqOrder::Next => {
                        self.send(socket, text).await?;
                        self.sent.insert(scope, seq);
                        Ok(())
                    }
                }
            }
        }
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

/// Per-connection rate limit for posts.
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(rate: f64, burst: f64) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
