//! Passwords (argon2id), session tokens, the session cache and the session middleware.

pub mod limits;
pub mod queries;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("too many log-ins at once; try again shortly")]
    Busy,
}

/// Hashes a password with argon2id (default parameters), off the async runtime, when the gate
/// has room.
pub async fn hash_password(
    gate: &limits::PasswordGate,
    password: String,
) -> Result<String, AuthError> {
    gate.run(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await?
}

pub async fn verify_password(
    gate: &limits::PasswordGate,
    password: String,
    hash: String,
) -> Result<bool, AuthError> {
    if hash.is_empty() {
        // An imported account before its initial password is set: nothing matches.
        return Ok(false);
    }
    gate.run(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// A new random session token (256 bits, URL-safe).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A temporary password an admin hands over after a reset: 12 characters from an alphabet
/// without look-alikes (no 0/O, 1/l/I), about 70 bits.
pub fn new_temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// What is stored for a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The session of a request, once the middleware resolved it: its token hash and when it
/// expires (Unix milliseconds), so an open socket can end itself then.
#[derive(Clone)]
pub struct SessionKey {
    pub hash: Arc<str>,
    pub expires_at: i64,
}

/// Session lookups, cached: every page, server function and socket upgrade needs one, and the
/// database round trip dominated connection set-up. Entries live `SESSION_CACHE_TTL`; logging
/// out removes the entry on this node at once and on the other nodes through the backplane
/// (`Hub::end_session`), so the TTL only bounds how long a lost invalidation can matter.
pub struct SessionCache {
    entries: Mutex<HashMap<Arc<str>, (queries::SessionRow, Instant)>>,
    /// Sessions ended here recently: a lookup already under way when one ended must not put
    /// it back in the cache.
    ended: Mutex<HashMap<Arc<str>, Instant>>,
    /// Users all of whose sessions ended recently (deactivated): lookups that began before
    /// must not cache or return what they read.
    users_ended: Mutex<HashMap<xietong::UserId, Instant>>,
}

const SESSION_CACHE_TTL: Duration = Duration::from_secs(10);
const SESSION_CACHE_MAX: usize = 100_000;

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache {
            entries: Mutex::new(HashMap::new()),
            ended: Mutex::new(HashMap::new()),
            users_ended: Mutex::new(HashMap::new()),
        }
    }
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, (queries::SessionRow, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn recently_ended(&self, hash: &str) -> bool {
        let mut ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
        ended.retain(|_, at| at.elapsed() < SESSION_ENDED_MEMORY);
        ended.contains_key(hash)
    }

    /// The session's user, from the cache or the database.
    pub async fn lookup(
        &self,
        store: &crate::store::Store,
        hash: &str,
    ) -> Result<Option<queries::SessionRow>, crate::store::StoreError> {
        if self.recently_ended(hash) {
            return Ok(None);
        }
        let now = crate::store::now_ms();
        let cached = self.lock().get(hash).cloned();
        if let Some((row, at)) = cached {
            if at.elapsed() < SESSION_CACHE_TTL
                && row.expires_at > now
                && !self.user_ended_after(row.user.id, at)
            {
                return Ok(Some(row));
            }
        }
        let started = Instant::now();
        let found = queries::session(store, hash).await?;
        let stale = found
            .as_ref()
            .is_some_and(|row| self.user_ended_after(row.user.id, started));
        if self.recently_ended(hash) || stale {
            return Ok(None);
        }
        let mut entries = self.lock();
        if entries.len() >= SESSION_CACHE_MAX {
            entries.retain(|_, (_, at)| at.elapsed() < SESSION_CACHE_TTL);
        }
        match &found {
            Some(row) => {
                entries.insert(Arc::from(hash), (row.clone(), Instant::now()));
            }
            None => {
                entries.remove(hash);
            }
        }
        Ok(found)
    }

    /// Forgets every cached session of `user` (a deactivated account or a reset password), and
    /// refuses what a lookup already under way read before now.
    pub fn invalidate_user(&self, user: xietong::UserId) {
        {
            let mut users = self.users_ended.lock().unwrap_or_else(|p| p.into_inner());
            users.retain(|_, at| at.elapsed() < SESSION_ENDED_MEMORY);
            users.insert(user, Instant::now());
        }
        let mut entries = self.lock();
        let ended: Vec<Arc<str>> = entries
            .iter()
            .filter(|(_, (row, _))| row.user.id == user)
            .map(|(hash, _)| hash.clone())
            .collect();
        let mut memory = self.ended.lock().unwrap_or_else(|p| p.into_inner());
        for hash in ended {
            entries.remove(&hash);
            memory.insert(hash, Instant::now());
        }
    }

    /// Whether every session of `user` ended after `since` (a row read before is stale). A
    /// read only: lookups are on every request's path; old entries are pruned when one is added.
    fn user_ended_after(&self, user: xietong::UserId, since: Instant) -> bool {
        self.users_ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
            .is_some_and(|at| *at >= since)
    }

    /// Forgets a session that ended (logged out here or elsewhere, or found gone).
    pub fn invalidate(&self, hash: &str) {
        self.ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(Arc::from(hash), Instant::now());
        self.lock().remove(hash);
    }
}

/// How long an ended session is remembered against lookups that were already under way.
const SESSION_ENDED_MEMORY: Duration = Duration::from_secs(60);

/// How often open sockets' sessions are checked against the database.
pub const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Closes the sockets of sessions that no longer exist, whatever the reason (logged out on a
/// node whose message was lost, deleted by an admin, expired): every `SESSION_SWEEP_EVERY`,
/// one query for all sessions with an open socket on this node.
pub async fn sweep_sessions(
    hub: Arc<crate::hub::Hub>,
    sessions: Arc<SessionCache>,
    store: crate::store::Store,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(SESSION_SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let open = hub.sessions();
        if open.is_empty() {
            continue;
        }
        let hashes: Vec<&str> = open.iter().map(|s| &**s).collect();
        match queries::live_sessions(&store, &hashes).await {
            Ok(live) => {
                for session in open.iter().filter(|s| !live.iter().any(|l| **l == ***s)) {
                    sessions.invalidate(session);
                    hub.end_session(session);
                }
            }
            Err(e) => tracing::warn!(error = %e, "checking open sessions failed; retrying"),
        }
    }
}

/// Resolves the session cookie to a user and puts `CurrentUser` (and `SessionKey`) in the
/// request's extensions. Signed-out visitors asking for a page are sent to the login page.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    // Static files (the WASM bundle, CSS, icons) are public: no database round trip for them.
    let needs_session = path == "/ws" || path.starts_with("/api/") || is_page(path);
    if let Some(axum::extract::ConnectInfo(peer)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .copied()
    {
        let ip = client_ip(peer.ip(), req.headers(), &state.config.trusted_proxies);
        req.extensions_mut().insert(app::backend::ClientIp(ip));
    }
    let token = needs_session
        .then(|| app::auth::cookie::session_token(req.headers(), state.config.https()))
        .flatten();
    if let Some(token) = token {
        let hash = token_hash(&token);
        match state.sessions.lookup(&state.store, &hash).await {
            Ok(Some(session)) => {
                req.extensions_mut().insert(session.user);
                req.extensions_mut().insert(SessionKey {
                    hash: hash.into(),
                    expires_at: session.expires_at,
                });
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return (
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "database unavailable",
                )
                    .into_response();
            }
        }
    }
    let signed_in = req.extensions().get::<xietong::CurrentUser>().is_some();
    let path = req.uri().path();
    let is_auth_page = path == "/login" || path == "/signup";
    if req.method() == http::Method::GET && is_page(path) {
        if !signed_in && !is_auth_page {
            return Redirect::to("/login").into_response();
        }
        if signed_in && is_auth_page {
            return Redirect::to("/").into_response();
        }
        let user = req.extensions().get::<xietong::CurrentUser>().map(|u| u.id);
        let accepted = req
            .headers()
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let language = match page_language(&state, user, &accepted).await {
            Ok(language) => language,
            Err(e) => {
                tracing::error!(error = %e, "settings lookup failed");
                return (
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "database unavailable",
                )
                    .into_response();
            }
        };
        req.extensions_mut().insert(language);
    }
    next.run(req).await
}

/// The language a page renders in: the signed-in user's choice, else the browser's
/// (`Accept-Language`). The browser reads it back from `<html lang>` when it hydrates.
async fn page_language(
    state: &AppState,
    user: Option<xietong::UserId>,
    accepted: &str,
) -> Result<xietong::settings::Language, crate::store::StoreError> {
    if let Some(user) = user {
        let mut conn = state.store.pool().acquire().await?;
        if let Some(chosen) = crate::settings::of(&mut conn, user).await?.language {
            return Ok(chosen);
        }
    }
    Ok(xietong::settings::Language::preferred(accepted))
}

/// The address a request counts against: the peer's, or, when the peer is a trusted reverse
/// proxy, the right-most `X-Forwarded-For` entry that is not a trusted proxy (entries further
/// left were written by the client and prove nothing).
pub fn client_ip(
    peer: std::net::IpAddr,
    headers: &http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Garbage in a hop we cannot vouch for: stop at the last address we can.
            Err(_) => break,
        }
    }
    peer
}

/// Pages are every GET path that is not the API, the socket or a static file.
fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path == "/ws"
        || path.starts_with("/pkg/")
        // Share links: their own small pages, for people without an account.
        || path.starts_with("/share/")
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.')))
}

#[cfg(test)]
mod tests {
    use super::client_ip;

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        let headers = |v: &str| {
            let mut h = http::HeaderMap::new();
            h.insert("x-forwarded-for", v.parse().unwrap());
            h
        };
        // Not from a proxy: the header is the client's own claim.
        assert_eq!(
            client_ip(ip("198.51.100.7"), &headers("1.2.3.4"), &proxies),
            ip("198.51.100.7")
        );
        // Through two proxies: the right-most address that is not one of them.
        let chain = headers("6.6.6.6, 203.0.113.5, 10.0.0.2");
        assert_eq!(
            client_ip(ip("10.0.0.1"), &chain, &proxies),
            ip("203.0.113.5")
        );
        // Garbage where the client's address should be: counted as the proxy.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers("nonsense"), &proxies),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &http::HeaderMap::new(), &proxies),
            ip("10.0.0.1")
        );
    }

    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip() {
        let gate = limits::PasswordGate::default();
        let hash = hash_password(&gate, "correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&gate, "correct horse".into(), hash.clone())
            .await
            .unwrap());
        assert!(!verify_password(&gate, "wrong horse".into(), hash)
            .await
            .unwrap());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn pages_versus_assets() {
        assert!(is_page("/"));
        assert!(is_page("/c/1"));
        assert!(is_page("/login"));
        assert!(!is_page("/share/abc"));
        assert!(!is_page("/api/login"));
        assert!(!is_page("/pkg/xietong.wasm"));
        assert!(!is_page("/favicon.ico"));
        assert!(!is_page("/ws"));
    }
}
