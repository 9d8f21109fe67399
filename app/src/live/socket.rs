//! The browser side of `/ws` (hydrate only): connect, resume, pump frames, reconnect with
//! backoff.

use futures::channel::mpsc;
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use gloo_timers::future::{IntervalStream, TimeoutFuture};
use leptos::prelude::*;
use leptos::task::spawn_local;
use xietong::wire::close;

use super::{ConnState, Frame, Live, Outgoing};

/// Keepalive: a ping this often; a connection silent for `DEAD_AFTER_PINGS` pings is dead.
const PING_EVERY_MS: u32 = 15_000;
const DEAD_AFTER_PINGS: u32 = 3;
const MAX_BACKOFF_MS: u32 = 5_000;
/// A connection that has not said `welcome` by then is abandoned and retried.
const CONNECT_TIMEOUT_MS: u32 = 10_000;

pub fn start(live: Live) {
    spawn_local(run(live));
}

fn ws_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}

enum Ended {
    /// The connection dropped; reconnect. `was_live` when it had got as far as `Welcome`.
    Dropped { was_live: bool },
    /// The session is over: go to the login page.
    SessionEnded,
}

async fn run(live: Live) {
    let Some(url) = ws_url() else { return };
    let mut failures: u32 = 0;
    while !live.is_stopped() {
        let ended = match WebSocket::open(&url) {
            Ok(ws) => connection(live, ws).await,
            Err(_) => Ended::Dropped { was_live: false },
        };
        if live.is_stopped() {
            return;
        }
        match ended {
            Ended::SessionEnded => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().set_href("/login");
                }
                return;
            }
            Ended::Dropped { was_live } => {
                failures = if was_live { 1 } else { failures + 1 };
            }
        }
        // A refused upgrade looks like any failed connect from here; after a few, ask over HTTP
        // whether the session is still valid, and go to the login page if it is not.
        if failures >= 3
            && matches!(
                crate::auth::who_am_i().await,
                Err(crate::AppError::Unauthorized)
            )
        {
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/login");
            }
            return;
        }
        live.status.set(ConnState::Reconnecting);
        // 250 ms, 500 ms, 1 s … capped, with jitter so a restarted server is not stampeded.
        let base = (250u32 << failures.min(5)).min(MAX_BACKOFF_MS);
        let jitter = (js_sys::Math::random() * f64::from(base) / 2.0) as u32;
        TimeoutFuture::new(base / 2 + jitter).await;
    }
}

async fn connection(live: Live, ws: WebSocket) -> Ended {
    let (mut sink, stream) = ws.split();
    let mut stream = stream.fuse();
    // Nothing is sent before the server's `welcome`: a send on a socket that never opens would
    // wait forever. The outbox is handed to the page only then, and the resume goes first.
    let (tx, mut outbox) = mpsc::unbounded::<Outgoing>();
    let mut tx = Some(tx);
    let mut connect_deadline = TimeoutFuture::new(CONNECT_TIMEOUT_MS).fuse();
    let mut pings = IntervalStream::new(PING_EVERY_MS).fuse();
    let mut silent_pings = 0u32;
    let mut was_live = false;

    let ended = loop {
        futures::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    silent_pings = 0;
                    let Ok(msg) = serde_json::from_str::<Frame>(&text) else { continue };
                    if matches!(msg, Frame::Welcome { .. }) && !was_live {
                        was_live = true;
                        let mut failed = false;
                        for resume in live.resume_messages() {
                            if sink.send(Message::Text(resume.to_json())).await.is_err() {
                                failed = true;
                                break;
                            }
                        }
                        if failed {
                            break Ended::Dropped { was_live };
                        }
                        live.outbox.set_value(tx.take());
                    }
                    if let Some(reply) = live.receive(msg) {
                        if sink.send(Message::Text(reply.to_json())).await.is_err() {
                            break Ended::Dropped { was_live };
                        }
                    }
                }
                Some(Ok(Message::Bytes(_))) => silent_pings = 0,
                Some(Err(WebSocketError::ConnectionClose(event))) if event.code == close::SESSION_ENDED => {
                    break Ended::SessionEnded;
                }
                Some(Err(_)) | None => break Ended::Dropped { was_live },
            },
            out = outbox.next() => {
                let Some(msg) = out else { break Ended::Dropped { was_live } };
                if sink.send(Message::Text(msg.to_json())).await.is_err() {
                    break Ended::Dropped { was_live };
                }
            }
            _ = connect_deadline => {
                if !was_live {
                    break Ended::Dropped { was_live };
                }
            }
            _ = pings.next() => {
                silent_pings += 1;
                if silent_pings > DEAD_AFTER_PINGS || live.is_stopped() {
                    break Ended::Dropped { was_live };
                }
                if was_live && sink.send(Message::Text(Outgoing::Ping.to_json())).await.is_err() {
                    break Ended::Dropped { was_live };
                }
            }
        }
    };
    live.outbox.set_value(None);
    // Closing a socket that never opened must not hold up the reconnect either.
    let _ = futures::future::select(Box::pin(sink.close()), TimeoutFuture::new(1_000)).await;
    ended
}
