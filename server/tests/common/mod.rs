//! A real server on an ephemeral port and real WebSocket/HTTP clients for the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use xietong::{ChannelId, ClientMsg, ClientMsgId, Scope, Seq, ServerMsg};
use xietong_server::{Config, Running};

pub const PASSWORD: &str = "correct horse battery";
pub const GENERAL: ChannelId = ChannelId(1);

pub struct TestServer {
    pub running: Running,
    pub dir: std::path::PathBuf,
    database_url: String,
}

impl TestServer {
    pub async fn start(dir: &std::path::Path) -> TestServer {
        Self::start_with(dir, |_| {}).await
    }

    pub async fn start_with(dir: &std::path::Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.join("data");
        config.database_url = postgres_database_for(dir).await;
        config.site_root = dir.join("site").display().to_string();
        config.post_rate = 10_000;
        // Every test user signs up from 127.0.0.1.
        config.auth_rate = 100_000;
        tweak(&mut config);
        let database_url = config.database_url();
        let running = xietong_server::start(config).await.expect("server starts");
        TestServer {
            running,
            dir: dir.to_owned(),
            database_url,
        }
    }

    /// Stops the server and removes its PostgreSQL database (if the run uses PostgreSQL).
    pub async fn stop(self) {
        let dir = self.dir.clone();
        self.running.shutdown().await.unwrap();
        drop_postgres_database_for(&dir).await;
    }

    /// Stops the server, keeping its database for a restart on the same `dir`.
    pub async fn stop_keep_data(self) {
        self.running.shutdown().await.unwrap();
    }

    /// The database the server uses (to open it directly after `stop_keep_data`).
    pub fn running_database_url(&self) -> String {
        self.database_url.clone()
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.running.addr)
    }

    pub fn origin(&self) -> String {
        self.base()
    }

    /// Signs up through the public server-function endpoint; returns the `Cookie` header value.
    pub async fn sign_up(&self, username: &str) -> String {
        auth_request(&self.base(), "signup", username, PASSWORD)
            .await
            .expect("sign-up works")
    }

    pub async fn log_in(&self, username: &str, password: &str) -> Option<String> {
        auth_request(&self.base(), "login", username, password).await
    }

    /// Who a session cookie belongs to (`/api/whoami`).
    pub async fn whoami(&self, cookie: &str) -> xietong::CurrentUser {
        http()
            .post(format!("{}/api/whoami", self.base()))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn connect(&self, cookie: &str) -> Client {
        Client::connect(&self.ws_url(), Some(cookie), Some(&self.origin()))
            .await
            .expect("ws connects")
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Tests speak plain HTTP; each client would otherwise load its own copy of the root
        // certificates (reqwest has TLS for the S3 store), which the memory checks would count.
        .tls_built_in_root_certs(false)
        .build()
        .unwrap()
}

/// POSTs a form to a server function.
pub async fn post_form(base: &str, endpoint: &str, body: &str) -> reqwest::Response {
    http()
        .post(format!("{base}/api/{endpoint}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent")
}

impl TestServer {
    /// Calls a server function as the signed-in `cookie`, with a form body.
    pub async fn server_fn(&self, cookie: &str, endpoint: &str, form: &str) -> reqwest::Response {
        http()
            .post(format!("{}/api/{endpoint}", self.base()))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("request sent")
    }
}

/// POSTs the login/signup form; the session cookie when it succeeded.
pub async fn auth_request(
    base: &str,
    endpoint: &str,
    username: &str,
    password: &str,
) -> Option<String> {
    let body = format!(
        "username={}&password={}",
        urlencode(username),
        urlencode(password)
    );
    let response = http()
        .post(format!("{base}/api/{endpoint}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request sent");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("xietong_session=") && !v.starts_with("xietong_session=;"))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    counter: u64,
}

/// The HTTP status of a refused handshake.
pub async fn handshake_status(url: &str, cookie: Option<&str>, origin: Option<&str>) -> u16 {
    match Client::connect(url, cookie, origin).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("unexpected handshake error: {e}"),
    }
}

impl Client {
    pub async fn connect(
        url: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request()?;
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", HeaderValue::from_str(cookie).unwrap());
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        let mut client = Client { ws, counter: 0 };
        match client.recv().await {
            ServerMsg::Welcome { .. } => {}
            other => panic!("expected welcome, got {other:?}"),
        }
        Ok(client)
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        self.ws
            .send(Message::Text(msg.to_json().into()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("send");
    }

    /// The next server message (skipping WebSocket pings); panics after 10 s or on close.
    pub async fn recv(&mut self) -> ServerMsg {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s")
                .expect("stream open")
                .expect("frame ok");
            match frame {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("valid server JSON")
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next message that is not presence (presence arrives whenever someone connects).
    pub async fn recv_skip_presence(&mut self) -> ServerMsg {
        loop {
            match self.recv().await {
                ServerMsg::Presence { .. } | ServerMsg::PresenceChanged { .. } => continue,
                other => return other,
            }
        }
    }

    /// Subscribes and returns the events replayed before `Subscribed`, and the head.
    pub async fn subscribe(
        &mut self,
        scope: Scope,
        after: Option<Seq>,
    ) -> (Vec<xietong::Event>, Seq) {
        self.send(&ClientMsg::Subscribe { scope, after }).await;
        let mut events = Vec::new();
        loop {
            match self.recv_skip_presence().await {
                ServerMsg::Event(e) => events.push(e),
                ServerMsg::Subscribed { head, .. } => return (events, head),
                other => panic!("expected replay or subscribed, got {other:?}"),
            }
        }
    }

    pub fn next_client_id(&mut self) -> ClientMsgId {
        self.counter += 1;
        ClientMsgId(format!("test-{:08}-{}", self.counter, std::process::id()))
    }

    pub async fn post(&mut self, channel: ChannelId, body: &str) -> ClientMsgId {
        let client_id = self.next_client_id();
        self.send(&post_command(client_id.clone(), channel, body))
            .await;
        client_id
    }

    /// Sends a command; its client id.
    pub async fn command(&mut self, command: xietong::Command) -> ClientMsgId {
        let client_id = self.next_client_id();
        self.send(&ClientMsg::Command {
            client_id: client_id.clone(),
            command,
        })
        .await;
        client_id
    }

    /// Reads until the answer to `client_id` (skipping events and presence): the ack's output,
    /// or the error's code.
    pub async fn answer(
        &mut self,
        client_id: &ClientMsgId,
    ) -> Result<(xietong::CommandOutput, bool), xietong::ErrorCode> {
        loop {
            match self.recv().await {
                ServerMsg::Ack {
                    client_id: id,
                    output,
                    duplicate,
                } if &id == client_id => return Ok((output, duplicate)),
                ServerMsg::Error {
                    client_id: Some(id),
                    code,
                    ..
                } if &id == client_id => return Err(code),
                _ => continue,
            }
        }
    }

    /// The next event of a scope, skipping anything else.
    pub async fn next_event(&mut self) -> xietong::Event {
        loop {
            if let ServerMsg::Event(e) = self.recv().await {
                return e;
            }
        }
    }

    /// The next event of `scope`, skipping anything else (events of other scopes too).
    pub async fn next_event_in(&mut self, scope: Scope) -> xietong::Event {
        loop {
            let event = self.next_event().await;
            if event.scope == scope {
                return event;
            }
        }
    }

    /// Reads until the server closes; the close code, if a close frame came.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(Duration::from_secs(15), self.ws.next())
                .await
                .expect("closed within 15 s")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}

/// Who is online, as a client sees it: the snapshot on connect, then the changes. Applies
/// `msg` if it is presence; returns whether it was.
pub fn apply_presence(
    online: &mut std::collections::BTreeMap<xietong::UserId, String>,
    msg: &ServerMsg,
) -> bool {
    match msg {
        ServerMsg::Presence { online: all } => {
            *online = all.iter().map(|u| (u.id, u.username.clone())).collect();
            true
        }
        ServerMsg::PresenceChanged { joined, left } => {
            for id in left {
                online.remove(id);
            }
            for u in joined {
                online.insert(u.id, u.username.clone());
            }
            true
        }
        _ => false,
    }
}

/// The usernames in a presence view, sorted.
pub fn names(online: &std::collections::BTreeMap<xietong::UserId, String>) -> Vec<String> {
    let mut names: Vec<String> = online.values().cloned().collect();
    names.sort();
    names
}

/// The socket frame that posts `body` to `channel`.
pub fn post_command(client_id: ClientMsgId, channel: ChannelId, body: &str) -> ClientMsg {
    ClientMsg::Command {
        client_id,
        command: xietong::Command::PostMessage(xietong::chat::PostMessage {
            channel,
            body: body.to_owned(),
            thread: None,
            attachments: Vec::new(),
        }),
    }
}

/// The sequence number an ack reports for a posted message.
pub fn acked_seq(msg: &ServerMsg) -> Option<(Seq, bool)> {
    match msg {
        ServerMsg::Ack {
            output: xietong::CommandOutput::MessagePosted { seq, .. },
            duplicate,
            ..
        } => Some((*seq, *duplicate)),
        _ => None,
    }
}

pub fn body_of(event: &xietong::Event) -> &str {
    match &event.body {
        xietong::EventBody::Chat(xietong::chat::ChatEvent::MessagePosted { message }) => {
            &message.body
        }
        other => panic!("not a message: {other:?}"),
    }
}

/// With `XIETONG_TEST_BACKEND=postgres`, every test server runs on a PostgreSQL database of its
/// own (named after its temporary directory, so a restart on the same directory finds it).
pub async fn postgres_database_for(dir: &std::path::Path) -> Option<String> {
    use sqlx::Connection;
    if std::env::var("XIETONG_TEST_BACKEND").as_deref() != Ok("postgres") {
        return None;
    }
    let admin_url = postgres_admin_url();
    let name = database_name(dir);
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is needed for XIETONG_TEST_BACKEND=postgres ({admin_url}): {e}")
        });
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await
        .unwrap();
    if exists.is_none() {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let (server, _) = admin_url
        .rsplit_once('/')
        .expect("XIETONG_TEST_POSTGRES ends in /<database>");
    Some(format!("{server}/{name}"))
}

pub async fn drop_postgres_database_for(dir: &std::path::Path) {
    use sqlx::Connection;
    if std::env::var("XIETONG_TEST_BACKEND").as_deref() != Ok("postgres") {
        return;
    }
    if let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            database_name(dir)
        ))
        .execute(&mut admin)
        .await;
    }
}

fn postgres_admin_url() -> String {
    std::env::var("XIETONG_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn database_name(dir: &std::path::Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut hasher);
    format!("xietong_it_{}_{:x}", std::process::id(), hasher.finish())
}

/// An upload of `bytes` as `cookie`, complete; its id.
pub async fn uploaded(server: &TestServer, cookie: &str, name: &str, bytes: &[u8]) -> String {
    let started: xietong::files::Upload = http()
        .post(format!("{}/files/uploads", server.base()))
        .header("cookie", cookie)
        .json(&xietong::files::StartUpload {
            name: name.into(),
            size: bytes.len() as u64,
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let done: xietong::files::Upload = http()
        .put(format!(
            "{}/files/uploads/{}?offset=0",
            server.base(),
            started.id
        ))
        .header("cookie", cookie)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(done.complete);
    done.id
}

/// A PNG of `w`×`h` pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Runs a command over the socket; its output (it must be applied).
pub async fn run(client: &mut Client, command: xietong::Command) -> xietong::CommandOutput {
    let id = client.command(command).await;
    client
        .answer(&id)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .0
}

/// Runs a command that must be refused; the refusal's code.
pub async fn refused(client: &mut Client, command: xietong::Command) -> xietong::ErrorCode {
    let id = client.command(command).await;
    client.answer(&id).await.expect_err("refused")
}

/// The next event in `scope` that `pick` accepts (within 20 s).
pub async fn wait_event<T>(
    client: &mut Client,
    scope: Scope,
    pick: impl Fn(&xietong::EventBody) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let event = client.next_event_in(scope).await;
            if let Some(found) = pick(&event.body) {
                return found;
            }
        }
    })
    .await
    .expect("the event arrived")
}

/// The status of downloading a stored file as `cookie`.
pub async fn download_status(
    server: &TestServer,
    cookie: &str,
    file: xietong::files::FileId,
) -> u16 {
    http()
        .get(format!("{}/files/{file}/download", server.base()))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
