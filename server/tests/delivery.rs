//! Notifications going out: by email through a real SMTP server (aiosmtpd, installed by
//! `.ci/setup.sh --test`), by SMS and webhook to a stand-in gateway this test runs (a real
//! HTTP server), with the outbox's promises: nothing sent twice when a node is SIGKILLed
//! mid-delivery, nothing lost when the SMTP server is down for a minute, quiet hours and
//! preferences honoured, user text escaped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hmac::{Hmac, Mac};
use xietong::notify::{
    Delivery, DeliveryState, Module, ModuleDelivery, NotificationSettings, QuietHours,
    SaveNotificationSettings, Via, Webhook, WebhookKind,
};
use xietong::org::{AudienceMember, UpdatePerson};
use xietong::short_messages::SendShortMessage;
use xietong::{Command, CommandOutput, EventBody, Scope, UserId};

/// The aiosmtpd sink: every accepted message is a JSON line in `out`.
struct SmtpSink {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> String {
    let cache = std::env::var("XIETONG_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/xietong",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    std::env::var("XIETONG_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{cache}/tools/moto/bin/python"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpSink {
    fn start(dir: &Path, port: u16, hold_first_secs: u32) -> SmtpSink {
        let out = dir.join(format!("smtp-{port}.jsonl"));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/smtp_sink.py");
        let mut child = Process::new(python())
            .args([
                script,
                "--port",
                &port.to_string(),
                "--out",
                &out.display().to_string(),
                "--hold-first",
                &hold_first_secs.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} (run .ci/setup.sh --test): {e}", python()));
        // It prints "ready" once it listens.
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        SmtpSink { child, port, out }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn messages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn data_started(&self) -> usize {
        std::fs::read_to_string(format!("{}.events", self.out.display()))
            .unwrap_or_default()
            .lines()
            .count()
    }

    async fn wait_for(&self, n: usize, within: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} emails arrived within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A stand-in SMS gateway and webhook receiver: records every request (path with query,
/// headers, body) and answers 200.
#[derive(Clone, Default)]
struct Gateway {
    seen: Arc<Mutex<Vec<(String, http::HeaderMap, String)>>>,
}

impl Gateway {
    async fn start() -> (Gateway, String) {
        let gateway = Gateway::default();
        let seen = gateway.seen.clone();
        let app = axum::Router::new().fallback(
            move |uri: http::Uri, headers: http::HeaderMap, body: String| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push((uri.to_string(), headers, body));
                    "ok"
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (gateway, base)
    }

    fn requests_to(&self, prefix: &str) -> Vec<(String, http::HeaderMap, String)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(uri, _, _)| uri.starts_with(prefix))
            .cloned()
            .collect()
    }

    async fn wait_for(&self, prefix: &str, n: usize) -> Vec<(String, http::HeaderMap, String)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.requests_to(prefix);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} requests to {prefix}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn run(server_base: &str, cookie: &str, command: Command) -> CommandOutput {
    let body = serde_json::json!({
        "client_id": format!("cmd-{}", rand_id()),
        "command": command,
    });
    let response = http()
        .post(format!("{server_base}/api/command"))
        .header("cookie", cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn rand_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn whoami(base: &str, cookie: &str) -> xietong::CurrentUser {
    http()
        .post(format!("{base}/api/whoami"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn delivery_log(base: &str, admin: &str) -> Vec<Delivery> {
    let response = http()
        .post(format!("{base}/api/delivery_log"))
        .header("cookie", admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn set_contact(base: &str, admin: &str, person: UserId, email: &str, mobile: &str) {
    run(
        base,
        admin,
        Command::UpdatePerson(UpdatePerson {
            person,
            full_name: String::new(),
            title: String::new(),
            mobile: Some(mobile.into()),
            email: Some(email.into()),
            main_department: None,
            other_departments: Vec::new(),
            roles: Vec::new(),
        }),
    )
    .await;
}

fn short_message(to: &[UserId], text: &str, urgent: bool) -> Command {
    Command::SendShortMessage(SendShortMessage {
        to: to.iter().map(|u| AudienceMember::Person(*u)).collect(),
        text: text.into(),
        urgent,
    })
}

/// A MIME part's decoded text (base64, quoted-printable or plain).
fn part(message: &str, content_type: &str) -> String {
    let start = message
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in {message}"));
    let rest = &message[start..];
    let (headers, body) = rest.split_once("\r\n\r\n").unwrap();
    let body = body.split("\r\n--").next().unwrap();
    if headers.contains("Content-Transfer-Encoding: base64") {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap();
        String::from_utf8(bytes).unwrap()
    } else if headers.contains("quoted-printable") {
        let joined = body.replace("=\r\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_owned()
    }
}

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A short message reaches its recipient in the app at once and by email through the SMTP
/// server; the HTML part escapes what the sender wrote; someone who turned email off for
/// short messages gets none; someone in quiet hours gets theirs later (the delivery log says
/// it waits), unless it is urgent.
#[tokio::test]
async fn email_goes_out_through_a_real_smtp_server() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), free_port(), 0);
    let smtp = sink.url();
    let server = TestServer::start_with(dir.path(), |c| {
        c.smtp_url = Some(smtp);
        c.smtp_from = "协同 Office <office@example.com>".into();
    })
    .await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let dave = server.sign_up("dave").await;
    let ids: Vec<UserId> =
        futures::future::join_all([&bob, &carol, &dave].map(|c| whoami(&base, c)))
            .await
            .into_iter()
            .map(|u| u.id)
            .collect();
    let (bob_id, carol_id, dave_id) = (ids[0], ids[1], ids[2]);
    for (id, name) in [(bob_id, "bob"), (carol_id, "carol"), (dave_id, "dave")] {
        set_contact(
            &base,
            &alice,
            id,
            &format!("{name}@example.com"),
            "13800000000",
        )
        .await;
    }
    // Carol wants no email about short messages; dave is in quiet hours all day but a minute.
    let mut no_email = ModuleDelivery::default_for(Module::ShortMessages);
    no_email.email = false;
    run(
        &base,
        &carol,
        Command::SaveNotificationSettings(SaveNotificationSettings {
            settings: NotificationSettings {
                modules: vec![no_email],
                ..Default::default()
            },
        }),
    )
    .await;
    let now_minute = ((xietong_server::store::now_ms() / 60_000) % (24 * 60)) as u16;
    let quiet = QuietHours {
        from: now_minute,
        until: (now_minute + 24 * 60 - 1) % (24 * 60),
        utc_offset_minutes: 0,
    };
    run(
        &base,
        &dave,
        Command::SaveNotificationSettings(SaveNotificationSettings {
            settings: NotificationSettings {
                quiet_hours: Some(quiet),
                ..Default::default()
            },
        }),
    )
    .await;

    let mut bob_tab = server.connect(&bob).await;
    bob_tab.subscribe(Scope::User(bob_id), None).await;
    let text = "<script>alert('x')</script> 下午三点开会 & bring slides";
    let out = run(
        &base,
        &alice,
        short_message(&[bob_id, carol_id, dave_id], text, false),
    )
    .await;
    assert!(
        matches!(out, CommandOutput::ShortMessageSent { recipients: 3, .. }),
        "{out:?}"
    );
    // In the app at once: the message and its notification.
    let mut got_message = false;
    let mut got_note = false;
    while !(got_message && got_note) {
        match bob_tab.next_event_in(Scope::User(bob_id)).await.body {
            EventBody::ShortMessages(
                xietong::short_messages::ShortMessageEvent::ShortMessageReceived { message },
            ) => {
                assert_eq!(message.text, text.trim());
                got_message = true;
            }
            EventBody::Notify(xietong::notify::NotifyEvent::Notified { note }) => {
                assert_eq!(note.module, Module::ShortMessages);
                assert_eq!(
                    note.from.as_ref().map(|f| f.username.as_str()),
                    Some("alice")
                );
                got_note = true;
            }
            _ => {}
        }
    }
    let mails = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails[0]["to"], serde_json::json!(["bob@example.com"]));
    let data = mails[0]["data"].as_str().unwrap();
    assert!(data.contains("Message-ID: <xietong-outbox-"), "{data}");
    assert!(data.contains("office@example.com"), "{data}");
    // The HTML part carries the text escaped, never as markup.
    let html = part(data, "text/html");
    assert!(html.contains("下午三点开会"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(part(data, "text/plain").contains("<script>alert('x')</script> 下午三点开会"));
    // Carol (email off) and dave (quiet hours) get nothing now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    let log = delivery_log(&base, &alice).await;
    let row = |who: &str| log.iter().find(|d| d.to.username == who).cloned();
    assert_eq!(
        row("bob").map(|d| (d.via, d.state)),
        Some((Via::Email, DeliveryState::Sent))
    );
    assert!(row("carol").is_none(), "{log:?}");
    let dave_row = row("dave").expect("dave's email waits");
    assert_eq!(dave_row.state, DeliveryState::Pending);
    assert!(dave_row.due_at > xietong_server::store::now_ms() + 60 * 60_000);
    // An urgent one is not held back by quiet hours.
    run(
        &base,
        &alice,
        short_message(&[dave_id], "服务器宕机，速回", true),
    )
    .await;
    let mails = sink.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails[1]["to"], serde_json::json!(["dave@example.com"]));
    // Only admins read the delivery log.
    let response = http()
        .post(format!("{base}/api/delivery_log"))
        .header("cookie", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    server.stop().await;
}

/// An urgent short message goes out by SMS through the gateway's URL template, and to each
/// recipient's webhook: signed generic JSON, and a DingTalk robot's body with its signature
/// in the URL. Non-urgent ones send no SMS. A webhook to a private address is refused unless
/// the deployment allows it.
#[tokio::test]
async fn sms_and_webhooks_go_to_the_gateway() {
    let (gateway, gw) = Gateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sms = format!("{gw}/sms/send?to={{mobile}}&text={{text}}&id={{id}}");
    let server = TestServer::start_with(dir.path(), |c| {
        c.sms_url = Some(sms);
        c.webhook_private_ok = true;
    })
    .await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let bob_id = whoami(&base, &bob).await.id;
    let carol_id = whoami(&base, &carol).await.id;
    set_contact(&base, &alice, bob_id, "bob@example.com", "+8613812345678").await;
    set_contact(&base, &alice, carol_id, "carol@example.com", "13900000000").await;
    run(
        &base,
        &bob,
        Command::SaveNotificationSettings(SaveNotificationSettings {
            settings: NotificationSettings {
                webhook: Some(Webhook {
                    url: format!("{gw}/hook/bob"),
                    kind: WebhookKind::Generic,
                    secret: "bob-secret".into(),
                }),
                ..Default::default()
            },
        }),
    )
    .await;
    let mut no_sms = ModuleDelivery::default_for(Module::ShortMessages);
    no_sms.sms = false;
    run(
        &base,
        &carol,
        Command::SaveNotificationSettings(SaveNotificationSettings {
            settings: NotificationSettings {
                modules: vec![no_sms],
                webhook: Some(Webhook {
                    url: format!("{gw}/hook/carol?access_token=abc"),
                    kind: WebhookKind::DingTalk,
                    secret: "SECdingtalk".into(),
                }),
                ..Default::default()
            },
        }),
    )
    .await;

    run(
        &base,
        &alice,
        short_message(&[bob_id, carol_id], "机房着火 \"urgent\"", true),
    )
    .await;
    let texts = gateway.wait_for("/sms/", 1).await;
    let (uri, _, _) = &texts[0];
    let url = reqwest::Url::parse(&format!("http://x{uri}")).unwrap();
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["to"], "+8613812345678");
    assert!(query["text"].contains("机房着火"), "{query:?}");
    assert!(query["id"].parse::<i64>().is_ok());
    // Bob's webhook: generic JSON, signed over "{timestamp}.{body}".
    let hooks = gateway.wait_for("/hook/bob", 1).await;
    let (_, headers, body) = &hooks[0];
    let timestamp = headers["x-xietong-timestamp"].to_str().unwrap();
    let signature = headers["x-xietong-signature"].to_str().unwrap();
    assert_eq!(
        signature,
        format!(
            "sha256={}",
            hmac_hex(b"bob-secret", format!("{timestamp}.{body}").as_bytes())
        )
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["module"], "short_messages");
    assert_eq!(json["urgent"], true);
    assert_eq!(json["from"], "alice");
    // Carol's: a DingTalk robot's body, signed in the URL; and no SMS for her.
    let hooks = gateway.wait_for("/hook/carol", 1).await;
    let (uri, _, body) = &hooks[0];
    assert!(
        uri.contains("access_token=abc") && uri.contains("&timestamp=") && uri.contains("&sign="),
        "{uri}"
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["msgtype"], "text");
    assert!(json["text"]["content"]
        .as_str()
        .unwrap()
        .contains("机房着火 \"urgent\""));
    // Not urgent: webhooks, but no SMS.
    run(&base, &alice, short_message(&[bob_id], "午饭吃什么", false)).await;
    gateway.wait_for("/hook/bob", 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(gateway.requests_to("/sms/").len(), 1);
    server.stop().await;

    // Without --webhook-private-ok, a webhook to this machine is refused, and the log says so.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bob_id = whoami(&base, &bob).await.id;
    run(
        &base,
        &bob,
        Command::SaveNotificationSettings(SaveNotificationSettings {
            settings: NotificationSettings {
                webhook: Some(Webhook {
                    url: format!("{gw}/hook/private"),
                    kind: WebhookKind::WeCom,
                    secret: String::new(),
                }),
                ..Default::default()
            },
        }),
    )
    .await;
    run(&base, &alice, short_message(&[bob_id], "hi", false)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = delivery_log(&base, &alice).await;
        if let Some(d) = log
            .iter()
            .find(|d| d.via == Via::Webhook && d.state == DeliveryState::Failed)
        {
            assert!(d.error.contains("private"), "{d:?}");
            break;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(gateway.requests_to("/hook/private").is_empty());
    server.stop().await;
}

/// A node of its own (the real binary) on a SQLite file.
struct Node {
    child: Child,
    port: u16,
}

impl Node {
    fn start(data: &Path, port: u16, smtp: &str) -> Node {
        let child = Process::new(env!("CARGO_BIN_EXE_xietong"))
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
                &data.display().to_string(),
                "--smtp-url",
                smtp,
                "--delivery-lease-secs",
                "3",
                "--delivery-retry-secs",
                "1",
                "--auth-rate",
                "1000",
            ])
            .env("XIETONG_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the node did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Node { child, port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown, no last writes.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The node is SIGKILLed while the SMTP server holds its DATA: the email was not delivered,
/// the row's lease runs out, the restarted node delivers it, and it arrives exactly once.
#[tokio::test]
async fn a_node_killed_mid_delivery_delivers_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), free_port(), 8);
    let data = dir.path().join("data");
    let port = free_port();
    let mut node = Node::start(&data, port, &sink.url());
    let base = node.base();
    let alice = auth_request(&base, "signup", "alice", PASSWORD)
        .await
        .unwrap();
    let bob = auth_request(&base, "signup", "bob", PASSWORD)
        .await
        .unwrap();
    let bob_id = whoami(&base, &bob).await.id;
    set_contact(&base, &alice, bob_id, "bob@example.com", "").await;
    run(&base, &alice, short_message(&[bob_id], "只送一次", false)).await;
    // The node is in the middle of handing it over…
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.data_started() == 0 {
        assert!(Instant::now() < deadline, "delivery never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    node.kill();
    assert!(
        sink.messages().is_empty(),
        "nothing was delivered before the kill"
    );
    let mut node = Node::start(&data, port, &sink.url());
    let mails = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(mails[0]["to"], serde_json::json!(["bob@example.com"]));
    // Time for any second copy to show (several leases and polls).
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    let log = delivery_log(&node.base(), &alice).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].state, DeliveryState::Sent);
    assert_eq!(log[0].attempts, 2, "{log:?}");
    node.kill();
}

/// The SMTP server is down for a minute: the email waits (the delivery log shows the failed
/// attempts and why), no request is slowed, and it is delivered once the server is back.
#[tokio::test]
async fn an_smtp_server_down_for_a_minute_delays_but_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = TestServer::start_with(dir.path(), |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.delivery_retry_secs = 1;
    })
    .await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bob_id = whoami(&base, &bob).await.id;
    set_contact(&base, &alice, bob_id, "bob@example.com", "").await;
    let down_since = Instant::now();
    let started = Instant::now();
    run(
        &base,
        &alice,
        short_message(&[bob_id], "等服务器恢复", false),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "sending waited for SMTP"
    );
    // Failed attempts show in the log.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = delivery_log(&base, &alice).await;
        if let Some(d) = log.iter().find(|d| d.attempts >= 2) {
            // Waiting for its next try, or in it.
            assert!(
                matches!(d.state, DeliveryState::Pending | DeliveryState::Sending),
                "{d:?}"
            );
            assert!(!d.error.is_empty(), "{d:?}");
            break;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Pages are served meanwhile.
    let started = Instant::now();
    let response = http().get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(down_since.elapsed())).await;
    let sink = SmtpSink::start(dir.path(), port, 0);
    let mails = sink.wait_for(1, Duration::from_secs(90)).await;
    assert_eq!(mails[0]["to"], serde_json::json!(["bob@example.com"]));
    // The sink has the mail once the SMTP exchange ends; the worker records it as sent just
    // after, so the log may still say "sending" for a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = delivery_log(&base, &alice).await;
        if log[0].state == DeliveryState::Sent {
            break;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}

/// Escalation: an urgent notice that asks to be read within a minute goes out by email and
/// SMS to those who have not read it by then, and to nobody who has.
#[tokio::test]
async fn an_unread_notice_escalates_to_email_and_sms_after_its_minutes() {
    use xietong::notices::*;
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), free_port(), 0);
    let (gateway, gw) = Gateway::start().await;
    let smtp = sink.url();
    let sms = format!("{gw}/sms?to={{mobile}}&text={{text}}");
    let server = TestServer::start_with(dir.path(), |c| {
        c.smtp_url = Some(smtp);
        c.sms_url = Some(sms);
    })
    .await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let carol = server.sign_up("carol").await;
    let bob_id = whoami(&base, &bob).await.id;
    let carol_id = whoami(&base, &carol).await.id;
    set_contact(&base, &alice, bob_id, "bob@example.com", "13800000001").await;
    set_contact(&base, &alice, carol_id, "carol@example.com", "13800000002").await;
    let fields = NoticeFields {
        kind: xietong::NoticeTypeId(1),
        title: "消防演练".into(),
        body: "今天下午三点全体参加。".into(),
        audience: vec![
            AudienceMember::Person(bob_id),
            AudienceMember::Person(carol_id),
        ],
        valid_from: None,
        valid_until: None,
        pinned_until: None,
        requires_ack: false,
        urgent: true,
        escalate_after_minutes: Some(1),
    };
    let id = match run(
        &base,
        &alice,
        Command::SaveNotice(SaveNotice {
            notice: None,
            fields,
            revision_note: String::new(),
            attachments: Vec::new(),
            remove_attachments: Vec::new(),
        }),
    )
    .await
    {
        CommandOutput::NoticeChanged { notice, .. } => notice,
        other => panic!("{other:?}"),
    };
    run(
        &base,
        &alice,
        Command::PublishNotice(PublishNotice { notice: id }),
    )
    .await;
    // Nothing goes out before the minute; bob reads it in time.
    run(&base, &bob, Command::ReadNotice(ReadNotice { notice: id })).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(sink.messages().is_empty());
    assert!(gateway.requests_to("/sms").is_empty());
    let mails = sink.wait_for(1, Duration::from_secs(90)).await;
    assert_eq!(mails[0]["to"], serde_json::json!(["carol@example.com"]));
    let texts = gateway.wait_for("/sms", 1).await;
    assert!(texts[0].0.contains("13800000002"), "{texts:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(gateway.requests_to("/sms").len(), 1);
    let log = delivery_log(&base, &alice).await;
    let bobs: Vec<_> = log
        .iter()
        .filter(|d| d.to.username == "bob")
        .map(|d| d.state)
        .collect();
    assert_eq!(
        bobs,
        [DeliveryState::Cancelled, DeliveryState::Cancelled],
        "{log:?}"
    );
    server.stop().await;
}

async fn mailbox(server: &TestServer, cookie: &str) -> xietong::mail::Mailbox {
    server
        .server_fn(cookie, "mail", "")
        .await
        .json()
        .await
        .unwrap()
}

/// Mail to an outside address leaves through the real SMTP server where the deployment allows
/// it: the mail as its sender wrote it (escaped in the HTML part), signed with who sent it,
/// answers going to the sender; each address once; the admin's log shows where it went but
/// not its subject. Where the deployment does not allow it, sending is refused and nothing
/// leaves.
#[tokio::test]
async fn mail_goes_to_outside_addresses_over_smtp_where_allowed() {
    use xietong::mail::{MailFields, SaveMail};
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), free_port(), 0);
    let smtp = sink.url();
    let server = TestServer::start_with(dir.path(), |c| {
        c.smtp_url = Some(smtp);
        c.smtp_from = "协同 Office <office@example.com>".into();
        c.mail_outside = true;
    })
    .await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let alice_id = whoami(&base, &alice).await.id;
    let bob_id = whoami(&base, &bob).await.id;
    set_contact(&base, &alice, alice_id, "alice@corp.example", "13800000001").await;
    let mail = |outside: Vec<String>| {
        Command::SaveMail(SaveMail {
            mail: None,
            fields: MailFields {
                to: vec![AudienceMember::Person(bob_id)],
                subject: "合同草案 <v2>".into(),
                body: "<b>请审阅</b> & 回复".into(),
                outside,
                ..Default::default()
            },
            attachments: Vec::new(),
            forward_files: Vec::new(),
            in_reply_to: None,
            send: true,
        })
    };
    assert!(mailbox(&server, &alice).await.outside_mail);
    run(
        &base,
        &alice,
        mail(vec![
            "partner@example.org".into(),
            "PARTNER@example.org".into(),
        ]),
    )
    .await;
    let sent = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(sent[0]["to"], serde_json::json!(["partner@example.org"]));
    let data = sent[0]["data"].as_str().unwrap();
    assert!(
        data.contains("Reply-To:") && data.contains("alice@corp.example"),
        "{data}"
    );
    let plain = part(data, "text/plain");
    assert!(plain.contains("<b>请审阅</b> & 回复"), "{plain}");
    let html = part(data, "text/html");
    assert!(
        html.contains("&lt;b&gt;请审阅") && !html.contains("<b>请审阅"),
        "{html}"
    );
    assert!(
        html.contains("<strong>alice</strong>"),
        "who sent it: {html}"
    );
    // Bob sees where else it went.
    let bobs = mailbox(&server, &bob).await;
    assert_eq!(bobs.mail[0].outside, ["partner@example.org"]);
    // Once: the same address in another case is the same address.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.messages().len(), 1);
    let log = delivery_log(&base, &alice).await;
    let row = log
        .iter()
        .find(|d| d.address.is_some())
        .expect("a row for the outside address");
    assert_eq!(row.address.as_deref(), Some("partner@example.org"));
    assert_eq!(row.state, DeliveryState::Sent);
    assert!(
        row.title.is_empty(),
        "a mail's subject is not for the admin's log: {row:?}"
    );
    server.stop().await;

    // A deployment that keeps mail inside refuses it.
    let inside_dir = tempfile::tempdir().unwrap();
    let smtp = sink.url();
    let server = TestServer::start_with(inside_dir.path(), |c| c.smtp_url = Some(smtp)).await;
    let base = server.base();
    let alice = server.sign_up("alice").await;
    let bob = server.sign_up("bob").await;
    let bob_id = whoami(&base, &bob).await.id;
    let command = Command::SaveMail(SaveMail {
        mail: None,
        fields: MailFields {
            to: vec![AudienceMember::Person(bob_id)],
            subject: "x".into(),
            outside: vec!["partner@example.org".into()],
            ..Default::default()
        },
        attachments: Vec::new(),
        forward_files: Vec::new(),
        in_reply_to: None,
        send: true,
    });
    let response = http()
        .post(format!("{base}/api/command"))
        .header("cookie", &alice)
        .json(&serde_json::json!({ "client_id": "outside-1", "command": command }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "{}", response.text().await.unwrap());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.messages().len(), 1);
    server.stop().await;
}
