//! The app's server functions call into this: accounts, sessions, channels, history.

use app::backend::{Backend, Session};
use app::AppError;
use xietong::{Channel, ChannelId, CurrentUser, EventBody, HistoryPage, Seq, WorkspaceSnapshot};

use crate::auth;
use crate::events::AppendError;
use crate::store::{now_ms, Append, StoreError};
use crate::AppState;

pub struct ServerBackend(pub AppState);

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "request failed");
    AppError::Internal
}

impl From<AppendError> for AppError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Store(StoreError::ChannelNameTaken) => AppError::ChannelNameTaken,
            AppendError::Store(StoreError::NoSuchChannel) => AppError::NotFound,
            other => internal(other),
        }
    }
}

impl ServerBackend {
    async fn start_session(&self, user: CurrentUser) -> Result<Session, AppError> {
        let token = auth::new_token();
        let expires = now_ms() + app::auth::cookie::SESSION_MAX_AGE_SECS * 1000;
        self.0.store.create_session(&auth::token_hash(&token), user.id, expires).await.map_err(internal)?;
        Ok(Session { token, user })
    }
}

/// Verified against when the username does not exist, so both failures take as long.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

#[async_trait::async_trait]
impl Backend for ServerBackend {
    async fn sign_up(&self, username: &str, password: &str) -> Result<Session, AppError> {
        let username = xietong::validate::username(username)?;
        let password = xietong::validate::password(password)?;
        let hash = auth::hash_password(password.to_owned()).await.map_err(internal)?;
        let user = match self.0.store.create_user(username, &hash).await {
            Ok(user) => user,
            Err(StoreError::UsernameTaken) => return Err(AppError::UsernameTaken),
            Err(e) => return Err(internal(e)),
        };
        tracing::info!(user = %user.username, admin = user.is_admin, "account created");
        self.start_session(user).await
    }

    async fn log_in(&self, username: &str, password: &str) -> Result<Session, AppError> {
        let found = self.0.store.user_by_name(username).await.map_err(internal)?;
        let (user, hash) = match found {
            Some(found) => found,
            None => {
                let dummy = DUMMY_HASH
                    .get_or_try_init(|| auth::hash_password("not a real password".into()))
                    .await
                    .map_err(internal)?;
                let _ = auth::verify_password(password.to_owned(), dummy.clone()).await;
                return Err(AppError::BadCredentials);
            }
        };
        if !auth::verify_password(password.to_owned(), hash).await.map_err(internal)? {
            return Err(AppError::BadCredentials);
        }
        self.start_session(user).await
    }

    async fn log_out(&self, token: &str) -> Result<(), AppError> {
        let hash = auth::token_hash(token);
        self.0.store.delete_session(&hash).await.map_err(internal)?;
        self.0.hub.end_session(&hash);
        Ok(())
    }

    async fn workspace(&self, user: &CurrentUser) -> Result<WorkspaceSnapshot, AppError> {
        let (channels, head) = self.0.store.workspace().await.map_err(internal)?;
        Ok(WorkspaceSnapshot { me: user.clone(), channels, head })
    }

    async fn create_channel(&self, user: &CurrentUser, name: &str) -> Result<Channel, AppError> {
        let name = xietong::validate::channel_name(name)?;
        let committed = self
            .0
            .log
            .append(Append::CreateChannel { name: name.to_owned(), creator: Some(user.id) })
            .await?;
        match committed.event.body {
            EventBody::ChannelCreated { channel } => Ok(channel),
            _ => Err(AppError::Internal),
        }
    }

    async fn history(
        &self,
        _user: &CurrentUser,
        channel: Option<ChannelId>,
        before: Option<Seq>,
    ) -> Result<HistoryPage, AppError> {
        // Every channel is public to every member for now; private channels add a check here.
        self.0
            .store
            .history(channel, before, xietong::limits::HISTORY_PAGE)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)
    }

    fn secure_cookies(&self) -> bool {
        self.0.config.secure_cookies
    }
}
