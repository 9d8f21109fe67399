//! Passwords (argon2id), session tokens and the session middleware.

use std::sync::Arc;

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
}

/// Hashes a password with argon2id (default parameters), off the async runtime.
pub async fn hash_password(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await?
}

pub async fn verify_password(password: String, hash: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || {
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

/// What is stored for a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The session of a request, once the middleware resolved it.
#[derive(Clone)]
pub struct SessionKey(pub Arc<str>);

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
    let token = needs_session
        .then(|| app::auth::cookie::session_token(req.headers()))
        .flatten();
    if let Some(token) = token {
        let hash = token_hash(&token);
        match state.store.session_user(&hash).await {
            Ok(Some(user)) => {
                req.extensions_mut().insert(user);
                req.extensions_mut().insert(SessionKey(hash.into()));
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
    }
    next.run(req).await
}

/// Pages are every GET path that is not the API, the socket or a static file.
fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path == "/ws"
        || path.starts_with("/pkg/")
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), hash.clone())
            .await
            .unwrap());
        assert!(!verify_password("wrong horse".into(), hash).await.unwrap());
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
        assert!(!is_page("/api/login"));
        assert!(!is_page("/pkg/xietong.wasm"));
        assert!(!is_page("/favicon.ico"));
        assert!(!is_page("/ws"));
    }
}
