//! Load-generator clients: connect (as a signed-in user for Xietong), publish probes, receive
//! and check every delivery.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use xietong::{ChannelId, ClientMsg, ClientMsgId, Scope, Seq};

use crate::target::Kind;

pub type Ws = WebSocketStream<TcpStream>;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect: {0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Protocol(String),
}

/// What a publisher embeds in every message: who sent it, its number, when.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Probe {
    /// Publisher id (unique per run).
    pub p: u32,
    /// The publisher's sequence number, from 0.
    pub c: u64,
    /// Send time, microseconds since the epoch.
    pub t: u64,
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// How to reach one server under test.
#[derive(Clone)]
pub struct Endpoint {
    pub kind: Kind,
    /// Connection `i` goes to `ports[i % len]` (several for a Xietong cluster).
    pub ports: Vec<u16>,
    /// Session cookies (Xietong): connection i uses `cookies[i % len]`, like tabs of a user.
    pub cookies: Vec<String>,
    /// Baselines get probes padded to the size of Xietong's event frame, so bytes match.
    pub pad: String,
}

/// `IP_BIND_ADDRESS_NO_PORT` (Linux): the port is chosen at `connect`, where only the whole
/// address pair must be unused, not at `bind`. Chosen at `bind`, each new port is checked
/// against every socket on it from any address, TIME_WAIT ones included: with about 15,000
/// such sockets left by earlier connections the harness spent a core in the kernel and opened
/// 200 connections a second, while the server under test sat idle.
#[cfg(target_os = "linux")]
fn defer_port_choice(socket: &TcpSocket) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option value of the size passed.
    let done = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn defer_port_choice(_socket: &TcpSocket) -> std::io::Result<()> {
    Ok(())
}

impl Endpoint {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[0])
    }

    /// Opens connection number `index`. Source addresses rotate over 127.0.0.x every 20,000
    /// connections (one address pair has ~28k ephemeral ports).
    pub async fn connect(&self, index: usize) -> Result<Ws, ClientError> {
        let last_octet = u8::try_from(1 + index / 20_000)
            .ok()
            .filter(|octet| *octet < 255)
            .ok_or_else(|| {
                ClientError::Protocol(format!("connection {index}: no 127.0.0.x left"))
            })?;
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet));
        let port = self.ports[index % self.ports.len()];
        let socket = TcpSocket::new_v4()?;
        defer_port_choice(&socket)?;
        socket.bind(SocketAddr::new(source, 0))?;
        let stream = socket
            .connect(SocketAddr::from(([127, 0, 0, 1], port)))
            .await?;
        stream.set_nodelay(true)?;
        let path = if self.kind == Kind::Xietong {
            "/ws"
        } else {
            "/"
        };
        let mut request = format!("ws://127.0.0.1:{port}{path}").into_client_request()?;
        request.headers_mut().insert(
            "origin",
            HeaderValue::from_str(&format!("http://127.0.0.1:{port}"))
                .map_err(|e| ClientError::Protocol(e.to_string()))?,
        );
        if !self.cookies.is_empty() {
            let cookie = &self.cookies[index % self.cookies.len()];
            request.headers_mut().insert(
                "cookie",
                HeaderValue::from_str(cookie).map_err(|e| ClientError::Protocol(e.to_string()))?,
            );
        }
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0);
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        if self.kind == Kind::Xietong {
            match next_text(&mut ws).await? {
                text if text.starts_with("{\"welcome\":") => {}
                other => {
                    return Err(ClientError::Protocol(format!(
                        "expected welcome, got {other}"
                    )))
                }
            }
        }
        Ok(ws)
    }

    /// The frame a publisher sends for a probe.
    pub fn publish_frame(&self, probe: Probe, channel: ChannelId) -> String {
        #[derive(Serialize)]
        struct Padded<'a> {
            #[serde(flatten)]
            probe: Probe,
            x: &'a str,
        }
        match self.kind {
            Kind::Xietong => ClientMsg::Command {
                client_id: ClientMsgId(format!("bench-{}-{}", probe.p, probe.c)),
                command: xietong::Command::PostMessage(xietong::chat::PostMessage {
                    channel,
                    body: serde_json::to_string(&probe).unwrap_or_default(),
                    thread: None,
                    attachments: Vec::new(),
                }),
            }
            .to_json(),
            _ => serde_json::to_string(&Padded {
                probe,
                x: &self.pad,
            })
            .unwrap_or_default(),
        }
    }
}

/// A delivery, parsed: the scope sequence number (Xietong) and the probe. A scanner rather than
/// a full JSON parse, equally cheap for every server's frames, so that the load generator's own
/// CPU (which shares the machine) does not tilt the comparison.
pub fn parse_delivery(kind: Kind, text: &str) -> Option<(Option<Seq>, Probe)> {
    match kind {
        Kind::Xietong => {
            if !text.starts_with("{\"event\":") {
                return None;
            }
            // The probe is a JSON string inside the message body, so its quotes are escaped.
            let seq = scan_u64(text, "\"seq\":")?;
            let probe = Probe {
                p: scan_u64(text, "\\\"p\\\":")? as u32,
                c: scan_u64(text, "\\\"c\\\":")?,
                t: scan_u64(text, "\\\"t\\\":")?,
            };
            Some((Some(Seq(seq)), probe))
        }
        _ => Some((
            None,
            Probe {
                p: scan_u64(text, "\"p\":")? as u32,
                c: scan_u64(text, "\"c\":")?,
                t: scan_u64(text, "\"t\":")?,
            },
        )),
    }
}

/// The unsigned integer right after the first occurrence of `key`.
fn scan_u64(text: &str, key: &str) -> Option<u64> {
    let start = text.find(key)? + key.len();
    let digits = &text[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

pub async fn next_text(ws: &mut Ws) -> Result<String, ClientError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None => {
                return Err(ClientError::Protocol("closed".into()))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

pub async fn send_text(ws: &mut Ws, text: String) -> Result<(), ClientError> {
    ws.send(Message::Text(text.into())).await?;
    Ok(())
}

/// Xietong: subscribes to a channel (from `after`, or live from now).
pub fn subscribe_frame(channel: ChannelId, after: Option<Seq>) -> String {
    ClientMsg::<xietong::Command>::Subscribe {
        scope: Scope::Channel(channel),
        after,
    }
    .to_json()
}

/// Per-receiver delivery accounting.
pub struct RecvStats {
    pub latency_us: Histogram<u64>,
    pub delivered: u64,
    pub duplicates: u64,
    pub reordered: u64,
    /// Xietong only: the last channel sequence number applied, and jumps seen in it.
    pub last_seq: Seq,
    pub seq_gaps: u64,
    pub resyncs: u64,
    /// Per publisher: which of its sequence numbers arrived (a bit set), and the highest.
    seen: HashMap<u32, (Vec<u64>, u64)>,
}

impl Default for RecvStats {
    fn default() -> Self {
        RecvStats {
            latency_us: new_histogram(),
            delivered: 0,
            duplicates: 0,
            reordered: 0,
            last_seq: Seq::ZERO,
            seq_gaps: 0,
            resyncs: 0,
            seen: HashMap::new(),
        }
    }
}

pub fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 120 s, 3 significant digits.
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

impl RecvStats {
    pub fn record(&mut self, seq: Option<Seq>, probe: Probe, now_us: u64) {
        if let Some(seq) = seq {
            if seq <= self.last_seq {
                self.duplicates += 1;
                return;
            }
            if seq.0 != self.last_seq.0 + 1 && self.last_seq != Seq::ZERO {
                self.seq_gaps += seq.0 - self.last_seq.0 - 1;
            }
            self.last_seq = seq;
        }
        let (bits, max) = self.seen.entry(probe.p).or_insert_with(|| (Vec::new(), 0));
        let word = (probe.c / 64) as usize;
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        let mask = 1u64 << (probe.c % 64);
        if bits[word] & mask != 0 {
            self.duplicates += 1;
            return;
        }
        bits[word] |= mask;
        if probe.c < *max {
            self.reordered += 1;
        }
        *max = (*max).max(probe.c);
        self.delivered += 1;
        let _ = self
            .latency_us
            .record(now_us.saturating_sub(probe.t).max(1));
    }

    /// How many of `published` (publisher → count) never arrived.
    pub fn missing(&self, published: &HashMap<u32, u64>) -> u64 {
        published
            .iter()
            .map(|(p, count)| {
                let got = self
                    .seen
                    .get(p)
                    .map(|(bits, _)| bits.iter().map(|w| u64::from(w.count_ones())).sum::<u64>())
                    .unwrap_or(0);
                count.saturating_sub(got)
            })
            .sum()
    }

    /// A few (publisher, number) pairs that never arrived, for diagnosis.
    pub fn missing_sample(&self, published: &HashMap<u32, u64>, limit: usize) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        for (p, count) in published {
            for c in 0..*count {
                let got = self.seen.get(p).is_some_and(|(bits, _)| {
                    bits.get((c / 64) as usize)
                        .is_some_and(|w| w & (1 << (c % 64)) != 0)
                });
                if !got && out.len() < limit {
                    out.push((*p, c));
                }
            }
        }
        out
    }

    /// Starts a new measurement window; keeps the channel position.
    pub fn reset(&mut self) {
        let last_seq = self.last_seq;
        *self = RecvStats::default();
        self.last_seq = last_seq;
    }
}

pub type SharedStats = Arc<Mutex<RecvStats>>;

pub fn lock(stats: &SharedStats) -> std::sync::MutexGuard<'_, RecvStats> {
    stats.lock().unwrap_or_else(|p| p.into_inner())
}

/// Signs up a user over the public sign-up endpoint; returns the `Cookie` header value.
pub async fn sign_up(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Result<String, ClientError> {
    let response = http
        .post(format!("{base}/api/signup"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await?;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("xietong_session=") && !v.starts_with("xietong_session=;"))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .ok_or_else(|| {
            ClientError::Protocol(format!(
                "sign-up of {username} set no session (status {})",
                response.status()
            ))
        })
}

/// Creates a channel through the public server function; returns its id.
pub async fn create_channel(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    name: &str,
) -> Result<ChannelId, ClientError> {
    let channel: xietong::Channel = http
        .post(format!("{base}/api/create_channel"))
        .header("cookie", cookie)
        .header("accept", "application/json")
        .form(&[("name", name)])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(channel.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner reads exactly what a full parse of the same frames reads.
    #[test]
    fn scanning_a_delivery_matches_parsing_it() {
        let probe = Probe {
            p: 7,
            c: 1234,
            t: 1_764_000_000_123_456,
        };
        let body = serde_json::to_string(&probe).unwrap();
        let frame = xietong::ServerMsg::Event(xietong::Event {
            scope: Scope::Channel(ChannelId(2)),
            seq: Seq(99),
            actor: Some(xietong::UserId(1)),
            at: 1,
            client_id: None,
            body: xietong::chat::ChatEvent::MessagePosted {
                message: xietong::Message {
                    id: xietong::MessageId(5),
                    channel: ChannelId(2),
                    seq: Seq(99),
                    author: xietong::UserRef {
                        id: xietong::UserId(1),
                        username: "u".into(),
                    },
                    body,
                    created_at: 1,
                    client_id: None,
                    ..Default::default()
                },
            }
            .into(),
        })
        .to_json();
        let (seq, got) = parse_delivery(Kind::Xietong, &frame).unwrap();
        assert_eq!(seq, Some(Seq(99)));
        assert_eq!((got.p, got.c, got.t), (probe.p, probe.c, probe.t));
        let plain = r#"{"p":7,"c":1234,"t":1764000000123456,"x":"xxxx"}"#;
        let (seq, got) = parse_delivery(Kind::BareRust, plain).unwrap();
        assert_eq!(seq, None);
        assert_eq!((got.p, got.c, got.t), (probe.p, probe.c, probe.t));
        assert!(parse_delivery(Kind::Xietong, r#"{"ack":{}}"#).is_none());
    }
}
