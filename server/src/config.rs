//! Command line and environment configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Who may create an account through the sign-up page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignupMode {
    /// Anyone who reaches the site (the first account becomes the admin).
    Open,
    /// Only with an invitation link made by an admin.
    Invite,
    /// Nobody: accounts come from `xietong admin create NAME`.
    Closed,
}

/// 协同 Xietong: a self-hosted, real-time team office.
#[derive(Parser, Debug, Clone)]
#[command(name = "xietong", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "XIETONG_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Directory for the embedded database (created if missing).
    #[arg(long, env = "XIETONG_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Directory for uploaded files (created if missing). Default: <data-dir>/files. Several
    /// nodes share one (a network file system) or each keeps its own only with one node.
    #[arg(long, env = "XIETONG_FILES_DIR")]
    pub files_dir: Option<PathBuf>,

    /// Keep file contents in an S3-compatible store (e.g. s3://bucket or s3://bucket/prefix),
    /// so nodes need no shared disk: the files directory then only stages uploads and caches.
    /// Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    #[arg(long, env = "XIETONG_S3_URL")]
    pub s3_url: Option<String>,

    /// The S3 endpoint for a store other than AWS (MinIO, Ceph, …), e.g. http://127.0.0.1:9000.
    #[arg(long, env = "XIETONG_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// The S3 region.
    #[arg(long, env = "XIETONG_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// The S3 access key id (better given in the environment than on the command line).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key: Option<String>,

    /// The S3 secret key (from the environment; never logged).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_key: Option<String>,

    /// Database URL; overrides --data-dir. Default: sqlite://<data-dir>/xietong.db
    #[arg(long, env = "XIETONG_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Redis URL (e.g. redis://127.0.0.1:6379): run as one of several nodes sharing the
    /// database; events and presence travel between nodes through Redis.
    #[arg(long, env = "XIETONG_REDIS_URL")]
    pub redis_url: Option<String>,

    /// With Redis: seconds after which a node that stopped refreshing its presence (it died)
    /// no longer counts; nodes refresh every third of it.
    #[arg(long, env = "XIETONG_PRESENCE_TTL", default_value_t = 15)]
    pub presence_ttl_secs: u64,

    /// The URL(s) users reach this server on (comma-separated), e.g. https://oa.example.com.
    /// Only these hosts (plus the bind address, and localhost when bound to loopback) are
    /// served; a browser's Origin must match one, scheme included. An https URL turns on
    /// Secure `__Host-` cookies and HSTS.
    #[arg(long = "public-url", env = "XIETONG_PUBLIC_URL", value_delimiter = ',')]
    pub public_url: Vec<url::Url>,

    /// Origins allowed to open /ws and send forms besides the server's own (comma-separated,
    /// e.g. https://chat.example.com).
    #[arg(
        long = "allowed-origins",
        env = "XIETONG_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Reverse proxies in front of Xietong (comma-separated IP addresses, e.g. 127.0.0.1 for a
    /// local nginx). A request from one of them is counted against the client address in its
    /// `X-Forwarded-For` (the right-most entry that is not itself a trusted proxy) for the
    /// per-address limits; from anyone else that header is ignored.
    #[arg(
        long = "trusted-proxies",
        env = "XIETONG_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Largest WebSocket frame accepted, in bytes; a larger one closes the connection (1009).
    #[arg(long, env = "XIETONG_MAX_FRAME_BYTES", default_value_t = xietong::limits::DEFAULT_MAX_FRAME_BYTES)]
    pub max_frame_bytes: usize,

    /// Frames queued per connection before it counts as too slow and is cut off (4008).
    #[arg(long, env = "XIETONG_OUTBOUND_QUEUE", default_value_t = 512)]
    pub outbound_queue: usize,

    /// Seconds without any frame from a client before its connection is closed (4002).
    #[arg(long, env = "XIETONG_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout_secs: u64,

    /// Commands (messages, …) a user may send per second across all their sockets on a node
    /// (sustained; bursts of 4x are allowed).
    #[arg(long, env = "XIETONG_POST_RATE", default_value_t = 20)]
    pub post_rate: u32,

    /// Sockets one user may have open at once on a node (tabs, devices).
    #[arg(long, env = "XIETONG_MAX_SOCKETS_PER_USER", default_value_t = 32)]
    pub max_sockets_per_user: usize,

    /// Seconds a write to a socket may take before the client counts as too slow (4008).
    #[arg(long, env = "XIETONG_WRITE_TIMEOUT", default_value_t = 10)]
    pub write_timeout_secs: u64,

    /// Log-in and sign-up attempts allowed per client IP address per minute (answered 429
    /// beyond).
    #[arg(long, env = "XIETONG_AUTH_RATE", default_value_t = 20)]
    pub auth_rate: u32,

    /// Who may sign up: open (anyone), invite (with a link an admin made) or closed (accounts
    /// come from `xietong admin create NAME`).
    #[arg(long, env = "XIETONG_SIGNUP", value_enum, default_value_t = SignupMode::Open)]
    pub signup: SignupMode,

    /// Mark cookies Secure (implied by an https --public-url).
    #[arg(long, env = "XIETONG_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// An SMTP server for notifications by email: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465`. Without it nothing goes out by email.
    #[arg(long, env = "XIETONG_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The From of notification emails.
    #[arg(long, env = "XIETONG_SMTP_FROM", default_value = "协同 Xietong <xietong@localhost>")]
    pub smtp_from: String,

    /// An SMS gateway for urgent notifications: a URL template with `{mobile}`, `{text}` and
    /// `{id}` (each percent-encoded), fetched with GET, or POSTed `--sms-body` when that is
    /// set. Any 2xx answer counts as sent. Without it no SMS goes out.
    #[arg(long, env = "XIETONG_SMS_URL", hide_env_values = true)]
    pub sms_url: Option<String>,

    /// A JSON body template for the SMS gateway (`{mobile}`, `{text}`, `{id}` JSON-escaped).
    #[arg(long, env = "XIETONG_SMS_BODY")]
    pub sms_body: Option<String>,

    /// Seconds a node may take to hand one notification over before another node may try it
    /// (a node that died mid-delivery).
    #[arg(long, env = "XIETONG_DELIVERY_LEASE", default_value_t = 60)]
    pub delivery_lease_secs: u64,

    /// Seconds before the first retry of a failed delivery (doubling each time, up to 64x).
    #[arg(long, env = "XIETONG_DELIVERY_RETRY", default_value_t = 15)]
    pub delivery_retry_secs: u64,

    /// Attempts before a delivery is given up as failed.
    #[arg(long, env = "XIETONG_DELIVERY_ATTEMPTS", default_value_t = 12)]
    pub delivery_attempts: u32,

    /// Let people's webhooks reach private and loopback addresses (an intranet robot). Off:
    /// only public addresses, so a webhook cannot probe the server's own network.
    #[arg(long, env = "XIETONG_WEBHOOK_PRIVATE")]
    pub webhook_private_ok: bool,

    /// Let internal mail also go to outside email addresses (a field "Outside addresses" in
    /// Compose), sent through `--smtp-url`, which it needs.
    #[arg(long, env = "XIETONG_MAIL_OUTSIDE")]
    pub mail_outside: bool,

    /// Directory holding the built site (pkg/ with the WASM, JS and CSS, and public files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Base name of the built bundle in <site-root>/pkg.
    #[arg(long, env = "LEPTOS_OUTPUT_NAME", default_value = "xietong")]
    pub output_name: String,

    /// Log filter (tracing EnvFilter syntax).
    #[arg(long, env = "XIETONG_LOG", default_value = "info,sqlx=warn")]
    pub log: String,
}

impl Config {
    pub fn files_dir(&self) -> PathBuf {
        self.files_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("xietong.db").display()))
    }

    /// Whether cookies are Secure (and named `__Host-…`): users reach the site over HTTPS.
    pub fn https(&self) -> bool {
        self.secure_cookies || self.public_url.iter().any(|u| u.scheme() == "https")
    }

    /// A configuration with defaults, for tests and tools.
    pub fn defaults() -> Config {
        Config::parse_from(["xietong"])
    }
}
