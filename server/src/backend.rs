//! The app's server functions call into this: accounts, sessions, channels, history.

use app::backend::{Backend, Session};
use app::AppError;
use xietong::{Channel, ChannelId, CurrentUser, EventBody, HistoryPage, Seq, WorkspaceSnapshot};

use crate::auth;
use crate::events::AppendError;
use crate::store::{now_ms, Append, StoreError};
use crate::AppState;

pub struct ServerBackend {
    state: AppState,
    login_failures: LoginThrottle,
}

impl ServerBackend {
    pub fn new(state: AppState) -> Self {
        ServerBackend {
            state,
            login_failures: LoginThrottle::default(),
        }
    }
}

/// Failed log-ins allowed per username per window, before further attempts are refused
/// (argon2 makes each guess slow; this bounds how many a botnet gets per account).
const MAX_LOGIN_FAILURES: u32 = 10;
const LOGIN_FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Default)]
struct LoginThrottle(
    std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
);

impl LoginThrottle {
    fn key(username: &str) -> String {
        username.trim().to_lowercase()
    }

    fn blocked(&self, username: &str) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&Self::key(username)) {
            Some((_, since)) if since.elapsed() > LOGIN_FAILURE_WINDOW => {
                map.remove(&Self::key(username));
                false
            }
            Some((count, _)) => *count >= MAX_LOGIN_FAILURES,
            None => false,
        }
    }

    fn failed(&self, username: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() <= LOGIN_FAILURE_WINDOW);
        }
        map.entry(Self::key(username))
            .or_insert((0, std::time::Instant::now()))
            .0 += 1;
    }

    fn succeeded(&self, username: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&Self::key(username));
    }
}

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
        self.state
            .store
            .create_session(&auth::token_hash(&token), user.id, expires)
            .await
            .map_err(internal)?;
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
        let hash = auth::hash_password(password.to_owned())
            .await
            .map_err(internal)?;
        let user = match self.state.store.create_user(username, &hash).await {
            Ok(user) => user,
            Err(StoreError::UsernameTaken) => return Err(AppError::UsernameTaken),
            Err(e) => return Err(internal(e)),
        };
        tracing::info!(user = %user.username, admin = user.is_admin, "account created");
        self.start_session(user).await
    }

    async fn log_in(&self, username: &str, password: &str) -> Result<Session, AppError> {
        if self.login_failures.blocked(username) {
            return Err(AppError::RateLimited);
        }
        let found = self
            .state
            .store
            .user_by_name(username)
            .await
            .map_err(internal)?;
        let (user, hash) = match found {
            Some(found) => found,
            None => {
                let dummy = DUMMY_HASH
                    .get_or_try_init(|| auth::hash_password("not a real password".into()))
                    .await
                    .map_err(internal)?;
                let _ = auth::verify_password(password.to_owned(), dummy.clone()).await;
                self.login_failures.failed(username);
                return Err(AppError::BadCredentials);
            }
        };
        if !auth::verify_password(password.to_owned(), hash)
            .await
            .map_err(internal)?
        {
            self.login_failures.failed(username);
            return Err(AppError::BadCredentials);
        }
        self.login_failures.succeeded(username);
        self.start_session(user).await
    }

    async fn log_out(&self, token: &str) -> Result<(), AppError> {
        let hash = auth::token_hash(token);
        self.state
            .store
            .delete_session(&hash)
            .await
            .map_err(internal)?;
        self.state.hub.end_session(&hash);
        Ok(())
    }

    async fn workspace(&self, user: &CurrentUser) -> Result<WorkspaceSnapshot, AppError> {
        let (channels, head) = self.state.store.workspace().await.map_err(internal)?;
        Ok(WorkspaceSnapshot {
            me: user.clone(),
            channels,
            head,
        })
    }

    async fn create_channel(&self, user: &CurrentUser, name: &str) -> Result<Channel, AppError> {
        let name = xietong::validate::channel_name(name)?;
        let committed = self
            .state
            .log
            .append(Append::CreateChannel {
                name: name.to_owned(),
                creator: Some(user.id),
            })
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
        self.state
            .store
            .history(channel, before, xietong::limits::HISTORY_PAGE)
            .await
            .map_err(internal)?
            .ok_or(AppError::NotFound)
    }

    fn secure_cookies(&self) -> bool {
        self.state.config.secure_cookies
    }
}
