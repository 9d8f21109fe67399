//! What the server binary provides to the server functions (server side only). The app never
//! touches the database itself: the server implements this over its store, hub and event log.

use std::sync::Arc;

use leptos::prelude::*;
use xietong::{Channel, ChannelId, CurrentUser, HistoryPage, Seq, WorkspaceSnapshot};

use crate::AppError;

/// A signed-in session: the cookie token and its user.
pub struct Session {
    pub token: String,
    pub user: CurrentUser,
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn sign_up(&self, username: &str, password: &str) -> Result<Session, AppError>;
    async fn log_in(&self, username: &str, password: &str) -> Result<Session, AppError>;
    async fn log_out(&self, token: &str) -> Result<(), AppError>;
    async fn workspace(&self, user: &CurrentUser) -> Result<WorkspaceSnapshot, AppError>;
    async fn create_channel(&self, user: &CurrentUser, name: &str) -> Result<Channel, AppError>;
    /// A page of history; `channel: None` is the default channel (`general`).
    async fn history(
        &self,
        user: &CurrentUser,
        channel: Option<ChannelId>,
        before: Option<Seq>,
    ) -> Result<HistoryPage, AppError>;
    /// Whether cookies get the `Secure` attribute (the site is served over HTTPS).
    fn secure_cookies(&self) -> bool;
}

pub type SharedBackend = Arc<dyn Backend>;

pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or(AppError::Internal)
}

/// The user the server's session middleware found for this request.
pub fn current_user() -> Option<CurrentUser> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

pub fn require_user() -> Result<CurrentUser, AppError> {
    current_user().ok_or(AppError::Unauthorized)
}
