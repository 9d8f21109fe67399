//! The live connection: one WebSocket per tab, shared by every live part of the page through
//! context. It keeps the views that are open up to date, resumes them after a reconnect from
//! their last sequence numbers, and resends posts that were not acknowledged.

mod presence;
#[cfg(feature = "hydrate")]
mod socket;
pub mod state;

pub use presence::{ConnectionStatus, OnlineList};

use std::collections::HashMap;

use leptos::prelude::*;
use xietong::{ChannelId, ClientMsg, ClientMsgId, Event, Scope, ServerMsg, UserRef};

use state::{Applied, ChannelView, WorkspaceView};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    Reconnecting,
    /// The server speaks another protocol version: the page must be reloaded.
    Outdated,
}

/// A post not yet acknowledged; shown greyed out until its event arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPost {
    pub client_id: ClientMsgId,
    pub channel: ChannelId,
    pub body: String,
    /// Set when the server refused it.
    pub error: Option<String>,
}

/// Where a scope's events go.
#[derive(Clone, Copy)]
enum Sink {
    Workspace(RwSignal<WorkspaceView>),
    Channel(RwSignal<ChannelView>),
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl Sink {
    /// Applies an event; `None` when the view is gone.
    fn apply(&self, event: &Event) -> Option<Applied> {
        match self {
            Sink::Workspace(view) => view.try_update(|v| v.apply(event)),
            Sink::Channel(view) => view.try_update(|v| v.apply(event)),
        }
    }

    fn head(&self) -> Option<xietong::Seq> {
        match self {
            Sink::Workspace(view) => view.try_with_untracked(|v| v.head),
            Sink::Channel(view) => view.try_with_untracked(|v| v.head),
        }
    }
}

/// The tab's live service. Cheap to copy; get it with `expect_context::<Live>()`.
#[derive(Clone, Copy)]
pub struct Live {
    pub status: RwSignal<ConnState>,
    pub online: RwSignal<Vec<UserRef>>,
    pub pending: RwSignal<Vec<PendingPost>>,
    /// Minutes east of UTC for showing times; 0 while server-rendering, the browser's after.
    pub utc_offset_minutes: RwSignal<i32>,
    sinks: StoredValue<HashMap<Scope, Sink>>,
    outbox: StoredValue<Option<futures::channel::mpsc::UnboundedSender<ClientMsg>>>,
    stopped: StoredValue<bool>,
}

impl Live {
    /// Creates the service and provides it to the component tree below. In the browser it also
    /// opens the socket; it stops when the providing component is cleaned up.
    pub fn provide() -> Live {
        let live = Live {
            status: RwSignal::new(ConnState::Connecting),
            online: RwSignal::new(Vec::new()),
            pending: RwSignal::new(Vec::new()),
            utc_offset_minutes: RwSignal::new(0),
            sinks: StoredValue::new(HashMap::new()),
            outbox: StoredValue::new(None),
            stopped: StoredValue::new(false),
        };
        provide_context(live);
        #[cfg(feature = "hydrate")]
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

    /// Keeps the workspace view live from its snapshot's head.
    pub fn watch_workspace(&self, view: RwSignal<WorkspaceView>) {
        self.watch(Scope::Workspace, Sink::Workspace(view));
    }

    /// Keeps a channel view live from its snapshot's head; stops watching the channel watched
    /// before (one channel is open per tab).
    pub fn watch_channel(&self, view: RwSignal<ChannelView>) {
        let Some(id) = view.try_with_untracked(|v| v.channel.id) else {
            return;
        };
        let stale: Vec<Scope> = self.sinks.with_value(|sinks| {
            sinks
                .keys()
                .filter(|s| matches!(s, Scope::Channel(c) if *c != id))
                .copied()
                .collect()
        });
        for scope in stale {
            self.sinks.update_value(|sinks| {
                sinks.remove(&scope);
            });
            self.send(ClientMsg::Unsubscribe { scope });
        }
        self.watch(Scope::Channel(id), Sink::Channel(view));
    }

    fn watch(&self, scope: Scope, sink: Sink) {
        let after = sink.head();
        self.sinks.update_value(|sinks| {
            sinks.insert(scope, sink);
        });
        self.send(ClientMsg::Subscribe { scope, after });
    }

    /// Sends a message to a channel. It shows as pending until the server's event for it
    /// arrives, and is resent (same client id, so stored once) after a reconnect.
    pub fn post(&self, channel: ChannelId, body: String) {
        let client_id = new_client_id();
        self.pending.update(|p| {
            p.push(PendingPost {
                client_id: client_id.clone(),
                channel,
                body: body.clone(),
                error: None,
            })
        });
        self.send(ClientMsg::Post {
            client_id,
            channel,
            body,
        });
    }

    /// Drops a refused post from the pending list.
    pub fn dismiss(&self, client_id: &ClientMsgId) {
        self.pending
            .update(|p| p.retain(|x| &x.client_id != client_id));
    }

    fn send(&self, msg: ClientMsg) {
        self.outbox.with_value(|outbox| {
            if let Some(tx) = outbox {
                let _ = tx.unbounded_send(msg);
            }
        });
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    /// What to send first on a new connection: resume every watched scope, resend every post
    /// still pending.
    fn resume_messages(&self) -> Vec<ClientMsg> {
        let mut msgs: Vec<ClientMsg> = self
            .sinks
            .with_value(|sinks| {
                sinks
                    .iter()
                    .map(|(scope, sink)| (*scope, sink.head()))
                    .collect::<Vec<_>>()
            })
            .into_iter()
            .map(|(scope, after)| ClientMsg::Subscribe { scope, after })
            .collect();
        msgs.extend(self.pending.with_untracked(|pending| {
            pending
                .iter()
                .filter(|p| p.error.is_none())
                .map(|p| ClientMsg::Post {
                    client_id: p.client_id.clone(),
                    channel: p.channel,
                    body: p.body.clone(),
                })
                .collect::<Vec<_>>()
        }));
        msgs
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    /// Applies one frame from the server. Returns a message to send back, if any (a resubscribe
    /// after a gap).
    fn receive(&self, msg: ServerMsg) -> Option<ClientMsg> {
        match msg {
            ServerMsg::Welcome { protocol, .. } => {
                let state = if protocol == xietong::PROTOCOL_VERSION {
                    ConnState::Connected
                } else {
                    ConnState::Outdated
                };
                self.status.set(state);
            }
            ServerMsg::Event(event) => {
                if let xietong::EventBody::MessagePosted { message } = &event.body {
                    if let Some(id) = &message.client_id {
                        if self
                            .pending
                            .with_untracked(|p| p.iter().any(|x| &x.client_id == id))
                        {
                            self.dismiss(id);
                        }
                    }
                }
                let sink = self
                    .sinks
                    .with_value(|sinks| sinks.get(&event.scope).copied());
                if let Some(sink) = sink {
                    if sink.apply(&event) == Some(Applied::Gap) {
                        return Some(ClientMsg::Subscribe {
                            scope: event.scope,
                            after: sink.head(),
                        });
                    }
                }
            }
            ServerMsg::Resync { scope, .. } => {
                // Too far behind for a replay: the simplest correct refetch is a reload.
                reload_page(scope);
            }
            ServerMsg::Presence { online } => self.online.set(online),
            ServerMsg::Error {
                message,
                client_id: Some(id),
                ..
            } => {
                self.pending.update(|p| {
                    if let Some(post) = p.iter_mut().find(|x| x.client_id == id) {
                        post.error = Some(message);
                    }
                });
            }
            // The event (sent before the ack) has replaced the pending copy already when the
            // channel is open; this clears it when it is not.
            ServerMsg::Ack { client_id, .. } => self.dismiss(&client_id),
            ServerMsg::Subscribed { .. } | ServerMsg::Pong | ServerMsg::Error { .. } => {}
        }
        None
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn reload_page(_scope: Scope) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

fn new_client_id() -> ClientMsgId {
    #[cfg(feature = "hydrate")]
    {
        let a = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let b = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        ClientMsgId(format!("{:x}-{a:x}-{b:x}", js_sys::Date::now() as u64))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        ClientMsgId(String::from("server-rendered"))
    }
}
