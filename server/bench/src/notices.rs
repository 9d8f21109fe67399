//! The notice benchmark: one notice to N people (10,000 by default), each with the app open
//! (one WebSocket each, subscribed to their user scope) and an email address. It measures the
//! time from "Publish" until every connected person has the notice, and until every email has
//! been handed to the SMTP server. Baselines in the same run, same server and same sockets:
//! one chat message to the same N subscribers (one event, serialised once: the hub's floor)
//! and the same N emails sent straight with lettre to the same SMTP server at the same
//! concurrency (the SMTP floor).
//!
//! People and their sessions are written straight into the database (argon2 for 10,000
//! sign-ups would take minutes and measure nothing of this); the SMTP server is a minimal
//! in-process one that accepts and counts messages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use sha2::Digest;
use sqlx::any::AnyPoolOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::client::{self, Endpoint};
use crate::target::{Kind, Paths, Target};

#[derive(Debug, Clone, Serialize)]
pub struct NoticeResult {
    pub people: usize,
    /// Publish → the command's answer.
    pub publish_ack_ms: f64,
    /// Publish → the last connected person has the notice (`notice_saved`).
    pub all_connected_ms: f64,
    /// Publish → the last email accepted by the SMTP server.
    pub all_emails_ms: f64,
    /// Baseline: a chat message → the last of the same sockets has it.
    pub chat_message_all_ms: f64,
    /// Baseline: the same number of emails straight through lettre, same concurrency.
    pub smtp_floor_ms: f64,
    pub connected_vs_chat: f64,
    pub emails_vs_floor: f64,
    /// Server memory with everyone connected, before the chat message and the notice.
    pub server_rss_connected_mb: f64,
    pub server_rss_mb: f64,
}

/// A minimal SMTP server: accepts every message and counts it.
async fn smtp_sink() -> std::io::Result<(u16, Arc<AtomicU64>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let count = counted.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line == "." {
                            in_data = false;
                            count.fetch_add(1, Ordering::Relaxed);
                            b"250 OK\r\n"
                        } else {
                            continue;
                        }
                    } else {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 OK\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((port, count))
}

fn token_hash(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `people` users (the first an admin) with email addresses and one session each.
async fn seed(database: &str, people: usize) -> Result<Vec<(i64, String)>, String> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(database)
        .await
        .map_err(|e| e.to_string())?;
    let now = client::now_micros() as i64 / 1000;
    let mut out = Vec::with_capacity(people);
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    for i in 0..people {
        let name = format!("p{i:05}");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash, is_admin, created_at, email)
             VALUES ($1, $1, 'none', $2, $3, $4) RETURNING id",
        )
        .bind(&name)
        .bind(i64::from(i == 0))
        .bind(now)
        .bind(format!("{name}@bench.test"))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
        let token = format!("bench-session-{i}-{now}");
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(id)
        .bind(now)
        .bind(now + 86_400_000)
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
        out.push((id, format!("xietong_session={token}")));
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    pool.close().await;
    Ok(out)
}

async fn command(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    command: xietong::Command,
) -> Result<xietong::CommandOutput, String> {
    let body = serde_json::json!({
        "client_id": format!("bench-{}", client::now_micros()),
        "command": command,
    });
    let response = http
        .post(format!("{base}/api/command"))
        .header("cookie", cookie)
        .header("origin", base)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// What every socket has seen: per socket, whether the chat probe and the notice arrived.
/// Each socket is read all the time by its own task (as a browser would), so none falls
/// behind on presence frames while the others connect.
struct Seen {
    chat: Vec<std::sync::atomic::AtomicBool>,
    notice: Vec<std::sync::atomic::AtomicBool>,
    subscribed_count: AtomicU64,
    chat_count: AtomicU64,
    notice_count: AtomicU64,
    closed: AtomicU64,
}

impl Seen {
    fn new(n: usize) -> Arc<Seen> {
        Arc::new(Seen {
            chat: (0..n).map(|_| Default::default()).collect(),
            notice: (0..n).map(|_| Default::default()).collect(),
            subscribed_count: AtomicU64::new(0),
            chat_count: AtomicU64::new(0),
            notice_count: AtomicU64::new(0),
            closed: AtomicU64::new(0),
        })
    }
}

/// Reads socket `i` until it closes, noting what arrives.
fn read_on(seen: Arc<Seen>, i: usize, mut ws: client::Ws) {
    tokio::spawn(async move {
        let mut subscribed = 0;
        loop {
            let Ok(text) = client::next_text(&mut ws).await else {
                seen.closed.fetch_add(1, Ordering::Relaxed);
                return;
            };
            if text.starts_with("{\"subscribed\"") {
                subscribed += 1;
                if subscribed == 2 {
                    seen.subscribed_count.fetch_add(1, Ordering::Relaxed);
                }
            }
            if text.contains("benchmark-chat-probe") && !seen.chat[i].swap(true, Ordering::Relaxed)
            {
                seen.chat_count.fetch_add(1, Ordering::Relaxed);
            }
            if text.contains("\"notice_saved\"") && !seen.notice[i].swap(true, Ordering::Relaxed) {
                seen.notice_count.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
}

async fn until(
    count: &AtomicU64,
    seen: &Seen,
    n: usize,
    what: &str,
    deadline: Duration,
) -> Result<(), String> {
    let end = Instant::now() + deadline;
    while count.load(Ordering::Relaxed) < n as u64 {
        if seen.closed.load(Ordering::Relaxed) > 0 {
            return Err(format!(
                "{} sockets were closed while waiting for {what}",
                seen.closed.load(Ordering::Relaxed)
            ));
        }
        if Instant::now() > end {
            return Err(format!(
                "{} of {n} sockets had {what} after {deadline:?}",
                count.load(Ordering::Relaxed)
            ));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}

async fn smtp_floor(port: u16, count: &AtomicU64, n: usize) -> Result<Duration, String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    let before = count.load(Ordering::Relaxed);
    let started = Instant::now();
    let results: Vec<Result<(), String>> = futures::stream::iter(0..n)
        .map(|i| {
            let transport = transport.clone();
            async move {
                let message = Message::builder()
                    .from(
                        "协同 Xietong <xietong@bench.test>"
                            .parse()
                            .map_err(|e| format!("{e}"))?,
                    )
                    .to(format!("p{i:05} <p{i:05}@bench.test>")
                        .parse()
                        .map_err(|e| format!("{e}"))?)
                    .subject("[Notices] 关于年终总结的通知")
                    .body("请各部门于本周五前提交年终总结。".to_owned())
                    .map_err(|e| e.to_string())?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let elapsed = started.elapsed();
    if count.load(Ordering::Relaxed) - before < n as u64 {
        return Err("the SMTP floor lost messages".into());
    }
    Ok(elapsed)
}

pub async fn run(paths: &Paths, people: usize) -> Result<NoticeResult, String> {
    let (smtp_port, emails) = smtp_sink().await.map_err(|e| e.to_string())?;
    let target = Target::start_with_args(
        Kind::Xietong,
        paths,
        &["--smtp-url", &format!("smtp://127.0.0.1:{smtp_port}")],
    )
    .await
    .map_err(|e| e.to_string())?;
    let database = format!(
        "sqlite://{}/xietong.db",
        target.data_dir().ok_or("no data dir")?.display()
    );
    let started = Instant::now();
    let users = seed(&database, people + 1).await?;
    eprintln!(
        "seeded {} people in {:.1} s",
        users.len(),
        started.elapsed().as_secs_f64()
    );
    let endpoint = Endpoint {
        kind: Kind::Xietong,
        ports: target.ports.clone(),
        cookies: users.iter().skip(1).map(|(_, c)| c.clone()).collect(),
        pad: String::new(),
    };
    let started = Instant::now();
    let seen = Seen::new(people);
    for (i, (id, _)) in users.iter().skip(1).enumerate() {
        let mut ws = endpoint.connect(i).await.map_err(|e| e.to_string())?;
        for scope in [format!("user:{id}"), "channel:1".to_owned()] {
            let frame = serde_json::json!({ "subscribe": { "scope": scope } }).to_string();
            client::send_text(&mut ws, frame)
                .await
                .map_err(|e| e.to_string())?;
        }
        read_on(seen.clone(), i, ws);
    }
    until(
        &seen.subscribed_count,
        &seen,
        people,
        "their subscriptions",
        Duration::from_secs(120),
    )
    .await?;
    eprintln!(
        "{people} people connected and subscribed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rss_connected = target.rss() as f64 / (1024.0 * 1024.0);
    let http = reqwest::Client::new();
    let base = endpoint.base();
    let admin = users[0].1.clone();

    // Baseline: one chat message to the same sockets.
    let started = Instant::now();
    command(
        &http,
        &base,
        &admin,
        xietong::Command::PostMessage(xietong::chat::PostMessage {
            channel: xietong::ChannelId(1),
            body: "benchmark-chat-probe".into(),
            thread: None,
            attachments: Vec::new(),
        }),
    )
    .await?;
    until(
        &seen.chat_count,
        &seen,
        people,
        "the chat message",
        Duration::from_secs(120),
    )
    .await?;
    let chat_message_all = started.elapsed();

    // The notice, to everyone.
    let fields = xietong::notices::NoticeFields {
        kind: xietong::NoticeTypeId(1),
        title: "关于年终总结的通知".into(),
        body: "请各部门于本周五前提交年终总结。\n\n**逾期不候。**".into(),
        audience: vec![xietong::org::AudienceMember::Everyone],
        valid_from: None,
        valid_until: None,
        pinned_until: None,
        requires_ack: true,
        urgent: false,
        escalate_after_minutes: None,
    };
    let id = match command(
        &http,
        &base,
        &admin,
        xietong::Command::SaveNotice(xietong::notices::SaveNotice {
            notice: None,
            fields,
            revision_note: String::new(),
            attachments: Vec::new(),
            remove_attachments: Vec::new(),
        }),
    )
    .await?
    {
        xietong::CommandOutput::NoticeChanged { notice, .. } => notice,
        other => return Err(format!("{other:?}")),
    };
    let emails_before = emails.load(Ordering::Relaxed);
    let started = Instant::now();
    command(
        &http,
        &base,
        &admin,
        xietong::Command::PublishNotice(xietong::notices::PublishNotice { notice: id }),
    )
    .await?;
    let publish_ack = started.elapsed();
    until(
        &seen.notice_count,
        &seen,
        people,
        "the notice",
        Duration::from_secs(300),
    )
    .await?;
    let all_connected = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(900);
    while emails.load(Ordering::Relaxed) - emails_before < people as u64 {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} of {people} emails in 15 minutes",
                emails.load(Ordering::Relaxed) - emails_before
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_emails = started.elapsed();
    let rss = target.rss() as f64 / (1024.0 * 1024.0);
    target.stop().await;
    let floor = smtp_floor(smtp_port, &emails, people).await?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(NoticeResult {
        people,
        publish_ack_ms: ms(publish_ack),
        all_connected_ms: ms(all_connected),
        all_emails_ms: ms(all_emails),
        chat_message_all_ms: ms(chat_message_all),
        smtp_floor_ms: ms(floor),
        connected_vs_chat: ms(all_connected) / ms(chat_message_all),
        emails_vs_floor: ms(all_emails) / ms(floor),
        server_rss_connected_mb: rss_connected,
        server_rss_mb: rss,
    })
}

pub fn print(r: &NoticeResult) {
    println!("\nXietong notice benchmark: one notice to {} people, each connected and with an email address\n", r.people);
    println!("| | ms | vs its baseline |");
    println!("| --- | --- | --- |");
    println!(
        "| baseline: a chat message reaches all {} sockets | {:.0} | 1.00× |",
        r.people, r.chat_message_all_ms
    );
    println!(
        "| notice: published (the command answered) | {:.0} | |",
        r.publish_ack_ms
    );
    println!(
        "| notice: every connected person has it | {:.0} | {:.2}× the chat message |",
        r.all_connected_ms, r.connected_vs_chat
    );
    println!(
        "| baseline: {} emails straight through lettre, 16 at a time | {:.0} | 1.00× |",
        r.people, r.smtp_floor_ms
    );
    println!(
        "| notice: every email handed to SMTP | {:.0} | {:.2}× the floor |",
        r.all_emails_ms, r.emails_vs_floor
    );
    println!(
        "\nserver memory: {:.0} MiB with everyone connected, {:.0} MiB after the notice went out",
        r.server_rss_connected_mb, r.server_rss_mb
    );
}
