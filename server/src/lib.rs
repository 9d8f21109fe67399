//! The Xietong server, top-down: configuration → storage → auth → hub and transport → features.

pub mod access;
pub mod assets;
pub mod auth;
pub mod backend;
pub mod backplane;
pub mod chat;
pub mod command;
pub mod config;
pub mod contacts;
pub mod events;
pub mod files;
pub mod forum;
pub mod guard;
pub mod hub;
pub mod mail;
pub mod news;
pub mod notices;
pub mod notify;
pub mod org;
pub mod rate;
pub mod search;
pub mod settings;
pub mod short_messages;
pub mod store;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::backend::SharedBackend;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;

use auth::limits::{IpLimiter, LoginThrottle, PasswordGate};
use auth::SessionCache;
use backplane::Backplane;
pub use config::Config;
use events::EventLog;
use hub::Hub;
use store::{Store, StoreError};

/// Largest HTTP request body accepted (forms, server-function calls).
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;

/// Longest any HTTP response may take to start; nothing legitimate comes near it, and no
/// request can hang a connection forever.
pub const RESPONSE_DEADLINE: Duration = Duration::from_secs(30);

/// The same for the routes that move a file's bytes (shorter than an upload's writing lease).
pub const FILE_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Everything a request handler can reach, behind one `Arc`: axum clones the state for each
/// middleware and handler of every request. Cloned field by field (13 fields, some holding
/// several `Arc`s of their own) and dropped again, it took about 8 % of the server's samples
/// while accepting WebSocket connections (README, "Connects", session 25).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub hub: Arc<Hub>,
    pub log: EventLog,
    pub backplane: Backplane,
    pub sessions: Arc<SessionCache>,
    pub sites: Arc<guard::Sites>,
    pub passwords: Arc<PasswordGate>,
    pub auth_per_ip: Arc<IpLimiter>,
    pub login_failures: Arc<LoginThrottle>,
    pub files: Arc<files::FileStore>,
    pub leptos_options: LeptosOptions,
    /// The browser's code, under its build's path.
    pub bundle: Arc<assets::Bundle>,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("creating the default channel failed: {0}")]
    Seed(#[from] events::AppendError),
    #[error(transparent)]
    Backplane(#[from] backplane::BackplaneError),
    #[error(transparent)]
    Files(#[from] files::FilesError),
    #[error(transparent)]
    Delivery(#[from] notify::send::SetupError),
}

/// A running server: its address, and the handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl Running {
    /// Stops accepting, closes every connection (1001), drains the event log, closes the
    /// database.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.stop.cancel();
        self.task.await.unwrap_or(Ok(()))
    }

    /// Runs until the server stops by itself (an error) or `shutdown` is called elsewhere.
    pub async fn wait(self) -> Result<(), ServerError> {
        self.task.await.unwrap_or(Ok(()))
    }

    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }
}

/// Why `xietong admin create` failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Invalid(#[from] xietong::ValidationError),
    #[error("cannot hash the password: {0}")]
    Hash(#[from] auth::AuthError),
    #[error("cannot create the account: {0}")]
    Account(#[from] auth::queries::AccountError),
}

/// Creates an administrator account in the configured database (the command line's
/// `xietong admin create NAME`).
pub async fn create_admin(
    config: &Config,
    name: &str,
    password: &str,
) -> Result<xietong::CurrentUser, AdminError> {
    let username = xietong::validate::username(name)?;
    let password = xietong::validate::password(password)?;
    let data_dir = config
        .database_url
        .is_none()
        .then_some(config.data_dir.as_path());
    let store = Store::open(&config.database_url(), data_dir).await?;
    let hash = auth::hash_password(&PasswordGate::default(), password.to_owned()).await?;
    let user =
        auth::queries::create_user(&store, &username, &hash, auth::queries::Admission::Admin).await;
    store.close().await;
    Ok(user?)
}

/// Opens the database, binds the address and starts serving.
pub async fn start(config: Config) -> Result<Running, ServerError> {
    let url = config.database_url();
    let data_dir = config
        .database_url
        .is_none()
        .then_some(config.data_dir.as_path());
    let store = Store::open(&url, data_dir).await?;
    let mut file_store = files::FileStore::open(&config.files_dir())?;
    if let Some(url) = &config.s3_url {
        let credentials = config
            .s3_access_key
            .as_deref()
            .zip(config.s3_secret_key.as_deref());
        file_store = file_store.with_s3(
            url,
            config.s3_endpoint.as_deref(),
            &config.s3_region,
            credentials,
        )?;
        file_store.check_remote().await?;
    }
    let files = Arc::new(file_store);
    auth::queries::fold_usernames(&store).await?;
    let stop = CancellationToken::new();
    let hub = Hub::new(
        config.outbound_queue,
        config.max_sockets_per_user,
        config.post_rate,
    );
    let sessions = Arc::new(SessionCache::default());
    let backplane = match &config.redis_url {
        Some(redis_url) => {
            let ttl = Duration::from_secs(config.presence_ttl_secs);
            Backplane::redis(
                redis_url,
                &url,
                hub.clone(),
                sessions.clone(),
                store.clone(),
                ttl,
                stop.child_token(),
            )
            .await?
        }
        None => Backplane::local(hub.clone(), sessions.clone()),
    };
    let (log, log_task) = EventLog::start(store.clone(), backplane.clone(), stop.child_token());
    if !chat::queries::any_channel(&store).await? {
        let seeded = log
            .run(command::Submission {
                actor: command::Actor::System,
                client_id: None,
                command: xietong::Command::CreateChannel(xietong::chat::CreateChannel {
                    name: "general".into(),
                    kind: xietong::ChannelKind::Public,
                    members: Vec::new(),
                }),
            })
            .await;
        match seeded {
            // Another node seeded it first.
            Err(events::AppendError::Command(command::CommandError::Conflict(_))) => {}
            other => {
                other?;
            }
        }
    }
    tokio::spawn(
        hub.clone()
            .run_presence(Duration::from_millis(250), stop.child_token()),
    );
    // Messages stored before the search index existed (after an upgrade) join it in the
    // background; search finds them as they are done.
    let indexing = store.clone();
    tokio::spawn(async move {
        match search::backfill(&indexing).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "search index: earlier messages added"),
            Err(e) => tracing::warn!(error = %e, "search index: earlier messages not added"),
        }
        match search::items::backfill(&indexing).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(items = n, "search index: earlier mail and notices added"),
            Err(e) => {
                tracing::warn!(error = %e, "search index: earlier mail and notices not added")
            }
        }
    });
    tokio::spawn(auth::sweep_sessions(
        hub.clone(),
        sessions.clone(),
        store.clone(),
        stop.child_token(),
    ));
    tokio::spawn(files::sweep_now_and_then(
        store.clone(),
        files.clone(),
        stop.child_token(),
    ));
    tokio::spawn(files::text::index_now_and_then(
        store.clone(),
        files.clone(),
        stop.child_token(),
    ));

    let listener = listen(config.bind).map_err(|source| ServerError::Bind {
        addr: config.bind,
        source,
    })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    // Notifications out by email, SMS and webhook: commands write outbox rows for the ways
    // this deployment has; this node's worker hands them over.
    hub.set_outlets(notify::Outlets::of(&config));
    let site = config
        .public_url
        .first()
        .map(|u| u.as_str().to_owned())
        .unwrap_or_else(|| format!("http://{addr}"));
    let sender = notify::send::Sender::new(&config, site)?;
    tokio::spawn(
        Arc::new(notify::outbox::Worker::new(store.clone(), sender, &config))
            .run(stop.child_token()),
    );
    tokio::spawn(notices::release_now_and_then(
        store.clone(),
        log.clone(),
        stop.child_token(),
    ));
    tokio::spawn(news::release_now_and_then(
        store.clone(),
        log.clone(),
        stop.child_token(),
    ));
    let bundle = assets::Bundle::load(&config.site_root, &config.output_name);
    let leptos_options = LeptosOptions::builder()
        .output_name(config.output_name.clone())
        .site_root(config.site_root.clone())
        .site_pkg_dir(bundle.pkg_dir())
        .site_addr(addr)
        .build();
    let sites = Arc::new(guard::Sites::new(&config, addr));
    let auth_per_ip = Arc::new(IpLimiter::per_minute(config.auth_rate));
    let state = AppState(Arc::new(Services {
        config: Arc::new(config),
        store: store.clone(),
        hub: hub.clone(),
        log,
        backplane,
        sessions,
        sites,
        passwords: Arc::new(PasswordGate::default()),
        auth_per_ip,
        login_failures: Arc::new(LoginThrottle::default()),
        files,
        leptos_options,
        bundle: Arc::new(bundle),
    }));
    let router = router(state);

    tracing::info!(%addr, database = %store::redact_url(&url), "Xietong is listening on http://{addr}");
    let task = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let shutdown = {
                let stop = stop.clone();
                let hub = hub.clone();
                async move {
                    stop.cancelled().await;
                    hub.close_all(xietong::wire::close::GOING_AWAY);
                }
            };
            // No Nagle: a chat frame or a small response must not wait for the previous
            // segment's ACK (up to 40 ms with delayed ACKs).
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::warn!(error = %e, "cannot set TCP_NODELAY");
                }
            });
            let served = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Serve);
            stop.cancel();
            let _ = log_task.await;
            store.close().await;
            served
        })
    };
    Ok(Running { addr, stop, task })
}

/// Connections the kernel completes and queues before the server accepts them; it caps this at
/// `net.core.somaxconn` (4096 on current Linux). `TcpListener::bind` asks for 128: a reconnect
/// wave of a few hundred clients (a node restarting, a network blip) overflowed that whenever
/// the accept loop fell behind for a moment, and each SYN dropped cost its client a 1 s
/// retransmit (README, "Connects and the listen queue").
const LISTEN_BACKLOG: u32 = 4096;

/// The listening socket, as `TcpListener::bind` makes it (address reuse on Unix) but with
/// [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    #[cfg(target_os = "linux")]
    if let Some(cap) = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|cap| *cap < LISTEN_BACKLOG)
    {
        tracing::info!(
            queue = cap,
            "net.core.somaxconn caps the listen queue below {LISTEN_BACKLOG}; \
             raise it for large reconnect waves"
        );
    }
    socket.listen(LISTEN_BACKLOG)
}

/// Server functions answer errors with 500 whatever they are; this gives each the status of
/// its kind (400 invalid, 401, 403, 404, 409, 429; 500 only for real faults).
async fn api_error_status(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let response = next.run(req).await;
    if !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "error response too large",
            )
                .into_response()
        }
    };
    if let Ok(error) = serde_json::from_slice::<app::AppError>(&bytes) {
        parts.status = http::StatusCode::from_u16(error.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        // A plain HTML form post (the page's code not loaded yet): Leptos sends the browser
        // back to the form's page; it goes back with the error, which the page shows.
        if let Some(back) = parts
            .headers
            .get(http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| form_page_with_error(l, &bytes))
        {
            if let Ok(location) = http::HeaderValue::from_str(&back) {
                parts.status = http::StatusCode::SEE_OTHER;
                parts.headers.insert(http::header::LOCATION, location);
                parts.headers.remove("serverfnerror");
                return axum::response::Response::from_parts(parts, axum::body::Body::empty());
            }
        }
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The form's page (path and query of `referer`, any earlier error dropped) with `error`
/// (the failed server function's JSON error) added to its query. `None` for anything that is
/// not a path on this site.
fn form_page_with_error(referer: &str, error: &[u8]) -> Option<String> {
    let uri: http::Uri = referer.parse().ok()?;
    let path = uri.path();
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    let mut query: Vec<String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        // Leptos's own `__path`/`__err` (base64) go: the page reads `error`.
        .filter(|p| {
            !p.is_empty()
                && !["error=", "__path=", "__err="]
                    .iter()
                    .any(|k| p.starts_with(k))
        })
        .map(str::to_owned)
        .collect();
    let error = std::str::from_utf8(error).ok()?;
    let encoded = xietong::files::percent_encode(error);
    query.push(format!("error={encoded}"));
    Some(format!("{path}?{}", query.join("&")))
}

/// The app's routes, generated once per process. Generating runs the app with a process-wide
/// switch on (Leptos's `SuppressResourceLoad`) that parks, for good, every resource first polled
/// meanwhile on any thread: a second server started in the same process (the tests start
/// dozens) left a render of the first waiting out the response deadline.
fn app_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(backend::ServerBackend::new(state.clone()));
    let routes = app_routes();
    let options = state.leptos_options.clone();
    let bundle = state.bundle.clone();
    let context = move || {
        provide_context(backend.clone());
        bundle.provide_split_manifest();
        // The page's hydration script carries it; the Content-Security-Policy names it.
        leptos::nonce::provide_nonce();
    };
    // Forms and server-function calls are small; nothing legitimate comes near this.
    let small = Router::new()
        .merge(state.bundle.routes())
        .route("/ws", get(ws::upgrade))
        .route("/contacts/export/{format}", get(org::export::export))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_REQUEST_BODY_BYTES,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::SERVICE_UNAVAILABLE,
            RESPONSE_DEADLINE,
        ));
    // Routes that take or give a file, each with its own limit.
    let files = Router::new()
        .route(
            "/admin/import/preview",
            axum::routing::post(org::import::preview_file),
        )
        .route(
            "/admin/import/apply",
            axum::routing::post(org::import::apply_file),
        )
        .route(
            "/contacts/mine/import",
            axum::routing::post(contacts::vcard::import),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            xietong::limits::MAX_IMPORT_FILE_BYTES,
        ))
        // Streamed bodies: the handler counts the bytes of each piece itself.
        .route("/files/uploads", axum::routing::post(files::uploads::start))
        .route(
            "/files/uploads/{id}",
            get(files::uploads::status)
                .put(files::uploads::put_piece)
                .delete(files::uploads::cancel),
        )
        .route("/files/{id}/download", get(files::download::download))
        .route("/files/{id}/thumbnail", get(files::thumbnail::thumbnail))
        // Share links: no session; the link (and its password) is the permission.
        .route("/contacts/mine/{kind}", get(contacts::vcard::export))
        .route("/share/{token}", get(files::links::open))
        .route(
            "/share/{token}/download",
            get(files::links::download).post(files::links::unlock),
        )
        // A piece on a slow link, or hashing a large file, takes longer than a page may.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::SERVICE_UNAVAILABLE,
            FILE_DEADLINE,
        ));
    files
        .merge(small)
        .layer(axum::middleware::from_fn(api_error_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::resolve_session,
        ))
        // Before anything else: is this our host, and (for writes) our site?
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check_request,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::X_CONTENT_TYPE_OPTIONS,
            http::HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::X_FRAME_OPTIONS,
            http::HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::REFERRER_POLICY,
            http::HeaderValue::from_static("same-origin"),
        ))
        .layer(tower::util::option_layer(state.config.https().then(|| {
            SetResponseHeaderLayer::if_not_present(
                http::header::STRICT_TRANSPORT_SECURITY,
                http::HeaderValue::from_static("max-age=31536000"),
            )
        })))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

#[cfg(all(test, target_os = "linux"))]
mod listen_tests {
    use std::time::Duration;

    /// A wave of connects waits in the kernel's listen queue until the server accepts it. With
    /// `TcpListener::bind`'s queue of 128, connects past it wait on SYN retransmits, which keep
    /// failing while nobody accepts; any the client saw complete whose last ACK the kernel
    /// dropped would be missing from the accepts.
    #[tokio::test]
    async fn a_wave_of_connects_waits_in_the_listen_queue() {
        const WAVE: usize = 400;
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .expect("/proc/sys/net/core/somaxconn");
        let somaxconn: usize = somaxconn.trim().parse().expect("a number");
        assert!(
            somaxconn > WAVE,
            "net.core.somaxconn is {somaxconn}: the kernel caps every listen queue there \
             (sysctl -w net.core.somaxconn=4096)"
        );
        let listener = super::listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = (0..WAVE).map(|_| {
            tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
        });
        let results = futures::future::join_all(connects).await;
        let failures: Vec<String> = results
            .iter()
            .filter_map(|r| match r {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("no answer in 5 s".to_owned()),
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{} of {WAVE} connects failed before the first accept, first: {}",
            failures.len(),
            failures[0]
        );
        let mut accepted = 0;
        while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(2), listener.accept()).await
        {
            accepted += 1;
            if accepted == WAVE {
                break;
            }
        }
        assert_eq!(accepted, WAVE, "connections the server could accept");
    }
}
