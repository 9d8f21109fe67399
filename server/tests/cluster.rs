//! Several `xietong` processes sharing PostgreSQL and Redis act as one workspace.
//! Uses the machine's PostgreSQL (`XIETONG_TEST_POSTGRES`) and Redis (`XIETONG_TEST_REDIS`).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use sqlx::Connection;
use xietong::{ClientMsg, Scope, Seq, ServerMsg};

const GENERAL_SCOPE: Scope = Scope::Channel(GENERAL);

fn redis_url() -> String {
    std::env::var("XIETONG_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn admin_url() -> String {
    std::env::var("XIETONG_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

struct Cluster {
    database: String,
    redis: String,
    args: Vec<String>,
    nodes: Vec<Option<(Child, u16)>>,
    files: tempfile::TempDir,
}

/// Waits (10 s at most) until something listens on `port`; panics with `failure()` otherwise.
fn wait_for_port(port: u16, failure: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{}", failure());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    async fn start(n: usize) -> Cluster {
        Cluster::start_with(n, &redis_url(), &[]).await
    }

    async fn start_with(n: usize, redis: &str, args: &[&str]) -> Cluster {
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        // Tests run in parallel: the counter keeps two clusters started in one millisecond apart.
        let name = format!(
            "xietong_cluster_{}_{}_{}",
            std::process::id(),
            xietong_server::store::now_ms(),
            STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL for the cluster tests");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let (server, _) = admin_url()
            .rsplit_once('/')
            .map(|(s, d)| (s.to_owned(), d.to_owned()))
            .unwrap();
        let mut cluster = Cluster {
            database: format!("{server}/{name}"),
            redis: redis.to_owned(),
            args: args.iter().map(|a| a.to_string()).collect(),
            nodes: Vec::new(),
            files: tempfile::tempdir().unwrap(),
        };
        for _ in 0..n {
            // One after the other: the first applies the migrations and creates `general`.
            let node = cluster.spawn_node().await;
            cluster.nodes.push(Some(node));
        }
        cluster
    }

    async fn spawn_node(&self) -> (Child, u16) {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_xietong"))
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                &self.database,
                "--redis-url",
                &self.redis,
            ])
            .args(&self.args)
            // One files directory for every node, as in production.
            .arg("--files-dir")
            .arg(self.files.path())
            // Every test user signs up from 127.0.0.1.
            .args(["--auth-rate", "100000"])
            .args(["--log", "warn", "--site-root", "/nonexistent"])
            .stdout(Stdio::null())
            .spawn()
            .expect("node starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if http()
                .get(format!("http://127.0.0.1:{port}/login"))
                .send()
                .await
                .is_ok()
            {
                return (child, port);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("node on {port} did not start");
    }

    fn port(&self, i: usize) -> u16 {
        self.nodes[i].as_ref().expect("node running").1
    }

    fn base(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.port(i))
    }

    async fn connect(&self, i: usize, cookie: &str) -> Client {
        Client::connect(
            &format!("ws://127.0.0.1:{}/ws", self.port(i)),
            Some(cookie),
            Some(&self.base(i)),
        )
        .await
        .expect("connects")
    }

    /// Signs a new user up on node `i` and connects them there.
    async fn join(&self, i: usize, name: &str) -> (String, Client) {
        let cookie = auth_request(&self.base(i), "signup", name, PASSWORD)
            .await
            .expect("sign-up works");
        let client = self.connect(i, &cookie).await;
        (cookie, client)
    }

    /// SIGKILL: no goodbye to anyone.
    /// Who a session cookie belongs to, asked of node `i`.
    async fn whoami(&self, i: usize, cookie: &str) -> xietong::CurrentUser {
        http()
            .post(format!("{}/api/whoami", self.base(i)))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn kill(&mut self, i: usize) {
        if let Some((mut child, _)) = self.nodes[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn stop(mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
        let name = self
            .database
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url()).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
}

/// Reads events until `count` have arrived; returns (seq, body) in arrival order.
async fn collect(client: &mut Client, count: usize) -> Vec<(u64, String)> {
    let mut got = Vec::new();
    while got.len() < count {
        let e = client.next_event().await;
        got.push((e.seq.0, body_of(&e).to_owned()));
    }
    got
}

/// Who a client sees online: the snapshot it got on connect plus the changes since.
type Online = std::collections::BTreeMap<xietong::UserId, String>;

async fn until_online(client: &mut Client, online: &mut Online, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    if names(online) == want {
        return;
    }
    loop {
        assert!(Instant::now() < deadline, "presence never showed {want:?}");
        let msg = client.recv().await;
        if apply_presence(online, &msg) && names(online) == want {
            return;
        }
    }
}

#[tokio::test]
async fn three_nodes_are_one_workspace_and_a_killed_node_costs_nothing() {
    let mut cluster = Cluster::start(3).await;
    let (_, mut a) = cluster.join(0, "alice").await;
    let (bob, mut b) = cluster.join(1, "bob").await;
    let (_, mut c) = cluster.join(2, "carol").await;

    // Presence is workspace-wide.
    until_online(&mut a, &mut Online::new(), &["alice", "bob", "carol"]).await;

    for client in [&mut a, &mut b, &mut c] {
        client.subscribe(GENERAL_SCOPE, None).await;
    }
    // Everyone posts at once, each through their own node.
    for i in 0..20 {
        a.post(GENERAL, &format!("a{i}")).await;
        b.post(GENERAL, &format!("b{i}")).await;
        c.post(GENERAL, &format!("c{i}")).await;
    }
    let (seen_a, seen_b, seen_c) = (
        collect(&mut a, 60).await,
        collect(&mut b, 60).await,
        collect(&mut c, 60).await,
    );
    assert_eq!(
        seen_a.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=60).collect::<Vec<_>>(),
        "gapless, in order"
    );
    assert_eq!(seen_a, seen_b, "the same order on every node");
    assert_eq!(seen_a, seen_c, "the same order on every node");

    // Kill bob's node while alice keeps posting; bob reconnects to another node and resumes.
    cluster.kill(1);
    drop(b);
    for i in 0..10 {
        a.post(GENERAL, &format!("after-kill {i}")).await;
    }
    let mut b = cluster.connect(2, &bob).await;
    let (replayed, _) = b.subscribe(GENERAL_SCOPE, Some(Seq(60))).await;
    let mut resumed: Vec<(u64, String)> = replayed
        .iter()
        .map(|e| (e.seq.0, body_of(e).to_owned()))
        .collect();
    if resumed.len() < 10 {
        resumed.extend(collect(&mut b, 10 - resumed.len()).await);
    }
    let expected: Vec<(u64, String)> = (0..10)
        .map(|i| (61 + i as u64, format!("after-kill {i}")))
        .collect();
    assert_eq!(resumed, expected, "exactly what was missed, once, in order");
    assert_eq!(collect(&mut c, 10).await, expected);

    // Nothing more (no duplicate) is queued for bob: the next frame answers his ping.
    b.send(&ClientMsg::Ping).await;
    assert_eq!(b.recv_skip_presence().await, ServerMsg::Pong);
    cluster.stop().await;
}

#[tokio::test]
async fn an_unreachable_redis_at_start_up_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_xietong"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--redis-url",
            "redis://127.0.0.1:1",
        ])
        .arg("--data-dir")
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach Redis at redis://127.0.0.1:1"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_dead_nodes_users_drop_out_of_presence() {
    let mut cluster = Cluster::start_with(2, &redis_url(), &["--presence-ttl-secs", "3"]).await;
    let (_, mut a) = cluster.join(0, "alice").await;
    let (_, _dave) = cluster.join(1, "dave").await;
    let mut online = Online::new();
    until_online(&mut a, &mut online, &["alice", "dave"]).await;
    cluster.kill(1);
    // The dead node cannot say goodbye: its presence key expires (3 s here) and dave goes.
    until_online(&mut a, &mut online, &["alice"]).await;
    cluster.stop().await;
}

/// A throwaway Redis on a free port, which the test may stop and start again.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        wait_for_port(port, || "redis-server did not start".into());
        OwnRedis {
            port,
            child: Some(child),
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn restarting_redis_during_traffic_loses_nothing() {
    let mut redis = OwnRedis::start(free_port());
    let cluster = Cluster::start_with(2, &redis.url(), &[]).await;
    let (_, mut a) = cluster.join(0, "alice").await;
    let (_, mut b) = cluster.join(1, "bob").await;
    a.subscribe(GENERAL_SCOPE, None).await;
    b.subscribe(GENERAL_SCOPE, None).await;
    for i in 0..10 {
        a.post(GENERAL, &format!("before {i}")).await;
    }
    assert_eq!(collect(&mut b, 10).await.len(), 10);
    redis.kill();
    for i in 0..10 {
        a.post(GENERAL, &format!("during {i}")).await;
    }
    let port = redis.port;
    let new_redis = OwnRedis::start(port);
    // Bob's node missed the "during" ones on Redis; it recovers them from the database.
    let during: Vec<(u64, String)> = (0..10)
        .map(|i| (11 + i as u64, format!("during {i}")))
        .collect();
    assert_eq!(
        collect(&mut b, 10).await,
        during,
        "every message once, in order"
    );
    // Once both nodes listen on the new Redis again, hints travel again: each new message
    // reaches the other node well within the 3 s database sweep.
    let events_channel = format!("{}:events", namespace(&cluster.database));
    let client = redis::Client::open(new_redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, listeners): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&events_channel)
            .query_async(&mut conn)
            .await
            .unwrap();
        if listeners >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the nodes never resubscribed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..10 {
        a.post(GENERAL, &format!("after {i}")).await;
        let event = tokio::time::timeout(Duration::from_millis(1000), b.next_event())
            .await
            .unwrap_or_else(|_| panic!("\"after {i}\" took longer than 1 s: Redis unused"));
        assert_eq!(
            (event.seq.0, body_of(&event)),
            (21 + i as u64, format!("after {i}").as_str())
        );
    }
    cluster.stop().await;
}

/// nginx (Debian's package) with the repository's configuration in front of three nodes.
struct Nginx {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// nginx on `port`, which the nodes know as their `--public-url`.
    fn start(node_ports: &[u16], port: u16) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let site =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf"))
                .unwrap();
        let upstream: String = node_ports
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"))
            .collect();
        let start = site.find("    server 127.0.0.1:3001").unwrap();
        let end = site.find("}\n\n# WebSocket upgrade").unwrap();
        let site = format!("{}{}{}", &site[..start], upstream, &site[end..])
            .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
        let d = dir.path().display();
        let main = format!(
            "worker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\nevents {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{site}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
        let child = Command::new("nginx")
            .args([
                "-p",
                &d.to_string(),
                "-c",
                &format!("{d}/nginx.conf"),
                "-g",
                "daemon off;",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx is installed (Debian package nginx)");
        wait_for_port(port, || {
            let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            format!("nginx did not start: {log}")
        });
        Nginx {
            port,
            child,
            _dir: dir,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn connect(&self, cookie: &str) -> Client {
        Client::connect(
            &format!("ws://127.0.0.1:{}/ws", self.port),
            Some(cookie),
            Some(&self.base()),
        )
        .await
        .expect("connects through nginx")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM via `nginx -s stop`, so the master takes its workers down with it.
        let d = self._dir.path().display().to_string();
        let _ = Command::new("nginx")
            .args(["-p", &d, "-c", &format!("{d}/nginx.conf"), "-s", "stop"])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn behind_nginx_a_killed_node_costs_no_message() {
    let nginx_port = free_port();
    let public_url = format!("http://127.0.0.1:{nginx_port}");
    let mut cluster = Cluster::start_with(3, &redis_url(), &["--public-url", &public_url]).await;
    let ports: Vec<u16> = (0..3).map(|i| cluster.port(i)).collect();
    let nginx = Nginx::start(&ports, nginx_port);
    let names = ["alice", "bob", "carol"];
    let mut cookies = Vec::new();
    for name in names {
        cookies.push(
            auth_request(&nginx.base(), "signup", name, PASSWORD)
                .await
                .expect("sign-up through nginx"),
        );
    }
    let mut clients = Vec::new();
    for cookie in &cookies {
        let mut client = nginx.connect(cookie).await;
        client.subscribe(GENERAL_SCOPE, None).await;
        clients.push(client);
    }
    for i in 0..10 {
        clients[0].post(GENERAL, &format!("m{i}")).await;
    }
    for client in clients.iter_mut() {
        assert_eq!(collect(client, 10).await.last().map(|(s, _)| *s), Some(10));
    }
    cluster.kill(0);
    // Every client reconnects through nginx (those on the dead node must; the others may) and
    // resumes from what it has; then posting goes on.
    let mut clients = Vec::new();
    for cookie in &cookies {
        let mut client = nginx.connect(cookie).await;
        let (replayed, _) = client.subscribe(GENERAL_SCOPE, Some(Seq(10))).await;
        assert!(replayed.is_empty());
        clients.push(client);
    }
    for i in 10..20 {
        clients[1].post(GENERAL, &format!("m{i}")).await;
    }
    let expected: Vec<(u64, String)> = (10..20).map(|i| (i as u64 + 1, format!("m{i}"))).collect();
    for client in clients.iter_mut() {
        assert_eq!(collect(client, 10).await, expected);
    }
    cluster.stop().await;
}

/// The Redis namespace of a cluster (as the nodes derive it from their database URL).
fn namespace(database: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(database.as_bytes());
    format!(
        "xietong:{:02x}{:02x}{:02x}{:02x}",
        digest[0], digest[1], digest[2], digest[3]
    )
}

/// Anyone who can PUBLISH on Redis still cannot inject an event, an author or a sequence
/// number: nodes deliver what the database holds, and the real next message still arrives.
#[tokio::test]
async fn a_forged_redis_publish_injects_nothing() {
    let cluster = Cluster::start(2).await;
    let (_, mut alice) = cluster.join(0, "alice").await;
    let (_, mut bob) = cluster.join(1, "bob").await;
    bob.subscribe(GENERAL_SCOPE, None).await;
    let channel = format!("{}:events", namespace(&cluster.database));
    let forged_event = serde_json::json!({
        "node": "forger",
        "event": {"scope": "channel:1", "seq": 1, "body": {"message_posted": {"message": {
            "id": 999, "channel": 1, "seq": 1, "author": {"id": 1, "username": "alice"},
            "body": "forged", "created_at": 1}}}}
    });
    let forged_hint = serde_json::json!({"node": "forger", "scope": "channel:1", "seq": 1});
    let client = redis::Client::open(redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    for payload in [forged_event.to_string(), forged_hint.to_string()] {
        let receivers: i64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(payload)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(receivers >= 1, "no node listens on {channel}");
    }
    // Nothing reaches bob (a ping round trip after the publishes proves the queue is empty).
    tokio::time::sleep(Duration::from_millis(300)).await;
    bob.send(&ClientMsg::Ping).await;
    let next = bob.recv_skip_presence().await;
    assert_eq!(next, ServerMsg::Pong, "bob received {next:?}");
    alice.post(GENERAL, "real").await;
    let event = bob.next_event().await;
    assert_eq!((event.seq, body_of(&event)), (Seq(1), "real"));
    cluster.stop().await;
}

/// Logging out on one node closes that session's sockets on the others (4001).
#[tokio::test]
async fn logging_out_on_one_node_ends_the_session_everywhere() {
    let cluster = Cluster::start(2).await;
    let (cookie, _on_0) = cluster.join(0, "alice").await;
    let mut on_1 = cluster.connect(1, &cookie).await;
    let response = http()
        .post(format!("{}/api/logout", cluster.base(0)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection() || response.status().is_success());
    assert_eq!(
        on_1.close_code().await,
        Some(xietong::wire::close::SESSION_ENDED)
    );
    cluster.stop().await;
}

/// A node dies while a client is posting to it: the client reconnects elsewhere and resends
/// what was not acknowledged (same client ids), and every message is stored and delivered
/// exactly once, in one gapless order.
#[tokio::test]
async fn a_node_killed_mid_traffic_loses_and_doubles_nothing() {
    use futures::StreamExt;
    let mut cluster = Cluster::start(3).await;
    let (alice, mut sender) = cluster.join(0, "alice").await;
    let (_, mut observer) = cluster.join(2, "bob").await;
    observer.subscribe(GENERAL_SCOPE, None).await;
    let total = 100;
    let mut unacked: Vec<(xietong::ClientMsgId, String)> = Vec::new();
    for i in 0..total {
        let body = format!("m{i:03}");
        let id = sender.post(GENERAL, &body).await;
        unacked.push((id, body));
    }
    let mut acked = 0;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), sender.ws.next()).await;
        let text = match frame {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => t,
            Ok(Some(Ok(_))) => continue,
            _ => break, // the node is gone
        };
        if let Ok(ServerMsg::Ack { client_id, .. }) =
            serde_json::from_str::<ServerMsg>(text.as_str())
        {
            unacked.retain(|(id, _)| *id != client_id);
            acked += 1;
            if acked == 30 {
                cluster.kill(0);
            }
        }
    }
    assert!(
        acked >= 30 && !unacked.is_empty(),
        "acked {acked} before the kill"
    );
    // Reconnect to another node and resend the rest with the same client ids.
    let mut sender = cluster.connect(1, &alice).await;
    for (id, body) in &unacked {
        sender.send(&post_command(id.clone(), GENERAL, body)).await;
    }
    let mut waiting: std::collections::HashSet<_> =
        unacked.iter().map(|(id, _)| id.clone()).collect();
    while !waiting.is_empty() {
        match sender.recv_skip_presence().await {
            ServerMsg::Ack { client_id, .. } => {
                waiting.remove(&client_id);
            }
            ServerMsg::Error { message, .. } => panic!("a resent post failed: {message}"),
            _ => {}
        }
    }
    let mut seen: Vec<(u64, String)> = collect(&mut observer, total).await;
    seen.sort();
    assert_eq!(
        seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=total as u64).collect::<Vec<_>>(),
        "gapless"
    );
    let mut bodies: Vec<String> = seen.into_iter().map(|(_, b)| b).collect();
    bodies.sort();
    let expected: Vec<String> = (0..total).map(|i| format!("m{i:03}")).collect();
    assert_eq!(bodies, expected, "every message exactly once");
    observer.send(&ClientMsg::Ping).await;
    assert_eq!(observer.recv_skip_presence().await, ServerMsg::Pong);
    cluster.stop().await;
}

/// "NAME is typing…" reaches readers connected to another node; a forged typing notice on the
/// backplane names nobody who may not read the channel.
#[tokio::test]
async fn typing_reaches_the_other_nodes_readers_and_forgeries_do_not() {
    let cluster = Cluster::start(2).await;
    let (_, mut alice) = cluster.join(0, "alice").await;
    let (_, mut bob) = cluster.join(1, "bob").await;
    alice.subscribe(GENERAL_SCOPE, None).await;
    bob.subscribe(GENERAL_SCOPE, None).await;
    alice
        .send(&ClientMsg::Typing {
            scope: GENERAL_SCOPE,
        })
        .await;
    match bob.recv_skip_presence().await {
        ServerMsg::Typing { scope, user } => {
            assert_eq!(scope, GENERAL_SCOPE);
            assert_eq!(user.username, "alice");
        }
        other => panic!("bob expected alice typing, got {other:?}"),
    }

    // A private channel carol is not in: a forged notice claiming she types there, and one
    // for a user who does not exist, reach no one.
    let (carol_cookie, _carol) = cluster.join(1, "carol").await;
    let carol_id = cluster.whoami(1, &carol_cookie).await.id;
    let create = alice
        .command(xietong::Command::CreateChannel(
            xietong::chat::CreateChannel {
                name: "secret".into(),
                kind: xietong::ChannelKind::Private,
                members: vec![],
            },
        ))
        .await;
    let private_scope = match alice.answer(&create).await {
        Ok((xietong::CommandOutput::ChannelCreated { channel }, _)) => Scope::Channel(channel.id),
        other => panic!("creating the private channel: {other:?}"),
    };
    alice.subscribe(private_scope, None).await;
    let control = format!("{}:control", namespace(&cluster.database));
    let client = redis::Client::open(redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    for (scope, user) in [(private_scope, carol_id.0), (GENERAL_SCOPE, 424_242)] {
        let forged = serde_json::json!({
            "type": "typing", "node": "forger", "scope": scope.to_string(), "user": user
        });
        let _: i64 = redis::cmd("PUBLISH")
            .arg(&control)
            .arg(forged.to_string())
            .query_async(&mut redis)
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    alice.send(&ClientMsg::Ping).await;
    let next = alice.recv_skip_presence().await;
    assert_eq!(next, ServerMsg::Pong, "alice received {next:?}");
    cluster.stop().await;
}

/// Presence read from Redis is a hint: a forged node entry can name only real accounts, and
/// shows them under their real names.
#[tokio::test]
async fn forged_presence_in_redis_shows_no_made_up_names() {
    let cluster = Cluster::start(2).await;
    let (_, mut alice) = cluster.join(0, "alice").await;
    let (carol_cookie, carol) = cluster.join(1, "carol").await;
    let carol_id = cluster.whoami(1, &carol_cookie).await.id;
    drop(carol);
    let mut online = Online::new();
    until_online(&mut alice, &mut online, &["alice"]).await;

    let ns = namespace(&cluster.database);
    let forged = serde_json::json!([
        {"id": carol_id.0, "username": "CEO"},
        {"id": 987_654, "username": "ghost"}
    ]);
    let client = redis::Client::open(redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        + 60_000;
    let _: () = redis::pipe()
        .cmd("SET")
        .arg(format!("{ns}:presence:forger"))
        .arg(forged.to_string())
        .ignore()
        .cmd("ZADD")
        .arg(format!("{ns}:nodes"))
        .arg(expires)
        .arg("forger")
        .ignore()
        .cmd("PUBLISH")
        .arg(format!("{ns}:presence"))
        .arg("changed")
        .ignore()
        .query_async(&mut redis)
        .await
        .unwrap();
    // Carol's real name, and no ghost.
    until_online(&mut alice, &mut online, &["alice", "carol"]).await;
    cluster.stop().await;
}

/// Deactivating a person on one node closes their sockets on every node (4001), and their
/// session is refused everywhere from then on.
#[tokio::test]
async fn deactivating_a_person_ends_their_sockets_on_every_node() {
    let cluster = Cluster::start(2).await;
    let (_admin, mut admin_on_0) = cluster.join(0, "alice").await; // the first account: admin
    let (bob, mut bob_on_1) = cluster.join(1, "bob").await;
    let bob_id = {
        let me = http()
            .post(format!("{}/api/whoami", cluster.base(1)))
            .header("cookie", &bob)
            .send()
            .await
            .unwrap();
        me.json::<xietong::CurrentUser>().await.unwrap().id
    };
    let id = admin_on_0
        .command(xietong::Command::SetPersonActive(
            xietong::org::SetPersonActive {
                person: bob_id,
                active: false,
            },
        ))
        .await;
    admin_on_0.answer(&id).await.expect("deactivated");
    assert_eq!(
        bob_on_1.close_code().await,
        Some(xietong::wire::close::SESSION_ENDED)
    );
    for node in 0..2 {
        let me = http()
            .post(format!("{}/api/whoami", cluster.base(node)))
            .header("cookie", &bob)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 401, "node {node}");
    }
    cluster.stop().await;
}

/// A node relays another node's events by reading only what it has not fanned out yet. Each
/// hint used to re-read up to 64 events and queue them all again for every reader there, which
/// cost CPU per delivery and overflowed a reader's outbound queue (cut off as too slow) once a
/// channel held more events than the queue.
#[tokio::test]
async fn a_relayed_event_is_queued_once_for_each_reader() {
    let cluster = Cluster::start_with(
        2,
        &redis_url(),
        &["--outbound-queue", "32", "--post-rate", "10000"],
    )
    .await;
    let (_, mut alice) = cluster.join(0, "alice").await;
    let (_, mut bob) = cluster.join(1, "bob").await;
    bob.subscribe(GENERAL_SCOPE, None).await;
    for i in 0..100 {
        let id = alice.post(GENERAL, &format!("m{i}")).await;
        alice.answer(&id).await.expect("stored");
    }
    let seen = collect(&mut bob, 100).await;
    assert_eq!(
        seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>(),
        "gapless, in order, never cut off"
    );
    bob.send(&ClientMsg::Ping).await;
    assert_eq!(bob.recv_skip_presence().await, ServerMsg::Pong);
    cluster.stop().await;
}
