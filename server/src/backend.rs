//! The app's server functions call into this: accounts, sessions, the command path, reads.
//! Access is decided by the access module (inside commands and queries), never here.

use std::net::IpAddr;

use app::backend::{Backend, Session};
use app::AppError;
use xietong::chat::ThreadPage;
use xietong::{
    ChannelId, ClientMsgId, Command, CommandOutput, CurrentUser, HistoryPage, Message, MessageId,
    Seq, UserRef, WorkspaceSnapshot,
};

use crate::access::Denied;
use crate::auth::queries::{self as accounts, Admission};
use crate::auth::{self};
use crate::command::{Actor, CommandError, Submission};
use crate::config::SignupMode;
use crate::events::AppendError;
use crate::store::now_ms;
use crate::AppState;

pub struct ServerBackend {
    state: AppState,
}

impl ServerBackend {
    pub fn new(state: AppState) -> Self {
        ServerBackend { state }
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "request failed");
    AppError::Internal
}

/// A search's failure as the browser sees it: a query too long is the asker's to fix.
fn search_error(e: crate::search::SearchError) -> AppError {
    match e {
        crate::search::SearchError::TooLong => AppError::Invalid(e.to_string()),
        other => internal(other),
    }
}

impl From<CommandError> for AppError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Invalid(m) => AppError::Invalid(m),
            CommandError::NotFound(m) => AppError::NotFound(m),
            CommandError::Forbidden(m) => AppError::Forbidden(m),
            CommandError::Conflict(m) => AppError::Conflict(m),
            e @ CommandError::Store(_) if e.code() == xietong::ErrorCode::Conflict => {
                AppError::Conflict(e.public_message())
            }
            CommandError::Store(e) => internal(e),
        }
    }
}

impl From<AppendError> for AppError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Command(e) => e.into(),
            AppendError::ShuttingDown => AppError::Internal,
        }
    }
}

impl From<Denied> for AppError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotFound(_) => AppError::NotFound(d.to_string()),
            Denied::Forbidden(_) => AppError::Forbidden(d.to_string()),
            Denied::Store(e) => internal(e),
        }
    }
}

impl From<auth::AuthError> for AppError {
    fn from(e: auth::AuthError) -> Self {
        match e {
            auth::AuthError::Busy => AppError::RateLimited,
            other => internal(other),
        }
    }
}

/// An `AppError` as a plain HTTP answer, for the routes that are not server functions (imports,
/// file transfers): its status, and its JSON, which the browser reads back as an `AppError`.
#[derive(Debug)]
pub struct Refusal(pub AppError);

impl<E: Into<AppError>> From<E> for Refusal {
    fn from(e: E) -> Self {
        Refusal(e.into())
    }
}

impl axum::response::IntoResponse for Refusal {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.0.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.0)).into_response()
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        internal(e)
    }
}

impl ServerBackend {
    async fn start_session(&self, user: CurrentUser) -> Result<Session, AppError> {
        let token = auth::new_token();
        let expires = now_ms() + app::auth::cookie::SESSION_MAX_AGE_SECS * 1000;
        accounts::create_session(
            &self.state.store,
            &auth::token_hash(&token),
            user.id,
            expires,
        )
        .await
        .map_err(internal)?;
        Ok(Session { token, user })
    }

    /// Per-IP limit on log-in and sign-up: argon2 is expensive by design.
    fn admit(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        match ip {
            Some(ip) if !self.state.auth_per_ip.take(&ip) => Err(AppError::RateLimited),
            _ => Ok(()),
        }
    }
}

/// How long an invitation link stays valid.
const INVITE_DAYS: i64 = 7;

/// Verified against when the username does not exist, so both failures take as long.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

#[async_trait::async_trait]
impl Backend for ServerBackend {
    async fn sign_up(
        &self,
        ip: Option<IpAddr>,
        username: &str,
        password: &str,
        invite: Option<&str>,
    ) -> Result<Session, AppError> {
        let username = xietong::validate::username(username)?;
        let password = xietong::validate::password(password)?;
        let invite_hash = invite.map(auth::token_hash);
        let admission = match (self.state.config.signup, &invite_hash) {
            (SignupMode::Open, _) => Admission::Open,
            (SignupMode::Invite, Some(hash)) => Admission::Invite(hash),
            (SignupMode::Invite, None) => {
                return Err(AppError::Forbidden(
                    "Sign-up is by invitation: ask an administrator for a link".into(),
                ))
            }
            (SignupMode::Closed, _) => {
                return Err(AppError::Forbidden(
                    "Accounts are created by the administrator".into(),
                ))
            }
        };
        self.admit(ip)?;
        let hash = auth::hash_password(&self.state.passwords, password.to_owned()).await?;
        let user = match accounts::create_user(&self.state.store, &username, &hash, admission).await
        {
            Ok(user) => user,
            Err(accounts::AccountError::UsernameTaken) => return Err(AppError::UsernameTaken),
            Err(accounts::AccountError::BadInvite) => {
                return Err(AppError::Forbidden(
                    "This invitation is not valid (used, expired or mistyped)".into(),
                ))
            }
            Err(e) => return Err(internal(e)),
        };
        tracing::info!(user = %user.username, admin = user.is_admin, "account created");
        self.start_session(user).await
    }

    async fn log_in(
        &self,
        ip: Option<IpAddr>,
        username: &str,
        password: &str,
    ) -> Result<Session, AppError> {
        let throttle = &self.state.login_failures;
        if throttle.blocked(ip, username) {
            return Err(AppError::RateLimited);
        }
        self.admit(ip)?;
        let found = accounts::user_by_name(&self.state.store, username)
            .await
            .map_err(internal)?;
        let gate = &self.state.passwords;
        let (user, hash) = match found {
            Some(found) => found,
            None => {
                let dummy = DUMMY_HASH
                    .get_or_try_init(|| auth::hash_password(gate, "not a real password".into()))
                    .await?;
                let _ = auth::verify_password(gate, password.to_owned(), dummy.clone()).await?;
                throttle.failed(ip, username);
                return Err(AppError::BadCredentials);
            }
        };
        if !auth::verify_password(gate, password.to_owned(), hash).await? {
            throttle.failed(ip, username);
            return Err(AppError::BadCredentials);
        }
        throttle.succeeded(ip, username);
        self.start_session(user).await
    }

    async fn create_invite(&self, user: &CurrentUser) -> Result<String, AppError> {
        if !user.is_admin {
            return Err(AppError::Forbidden(
                "Only administrators invite people".into(),
            ));
        }
        let token = auth::new_token();
        let expires = now_ms() + INVITE_DAYS * 24 * 3600 * 1000;
        accounts::create_invite(
            &self.state.store,
            &auth::token_hash(&token),
            user.id,
            expires,
        )
        .await
        .map_err(internal)?;
        Ok(token)
    }

    async fn reset_password(
        &self,
        admin: &CurrentUser,
        user: xietong::UserId,
    ) -> Result<String, AppError> {
        crate::access::administer(admin)?;
        let password = auth::new_temporary_password();
        let hash = auth::hash_password(&self.state.passwords, password.clone()).await?;
        let ended = accounts::set_password(&self.state.store, user, &hash)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::NotFound("no such person".into()))?;
        for session in &ended {
            self.state.backplane.session_ended(session);
        }
        tracing::info!(admin = %admin.id, %user, sessions = ended.len(), "password reset");
        Ok(password)
    }

    async fn log_out(&self, token: &str) -> Result<(), AppError> {
        let hash = auth::token_hash(token);
        accounts::delete_session(&self.state.store, &hash)
            .await
            .map_err(internal)?;
        self.state.backplane.session_ended(&hash);
        Ok(())
    }

    async fn workspace(&self, user: &CurrentUser) -> Result<WorkspaceSnapshot, AppError> {
        crate::chat::queries::workspace(&self.state.store, user)
            .await
            .map_err(internal)
    }

    async fn command(
        &self,
        user: &CurrentUser,
        client_id: ClientMsgId,
        mut command: Command,
    ) -> Result<CommandOutput, AppError> {
        if !client_id.is_well_formed() {
            return Err(AppError::Invalid(
                "client_id must be 8 to 64 letters, digits, '-' or '_'".into(),
            ));
        }
        if !self.state.hub.take_command_token(user.id) {
            return Err(AppError::RateLimited);
        }
        crate::command::prepare(&self.state, user, &mut command).await?;
        let applied = self
            .state
            .log
            .run(Submission {
                actor: Actor::User(user.clone()),
                client_id: Some(client_id),
                command,
            })
            .await?;
        Ok(applied.output)
    }

    async fn history(
        &self,
        user: &CurrentUser,
        channel: Option<ChannelId>,
        before: Option<Seq>,
    ) -> Result<HistoryPage, AppError> {
        Ok(crate::chat::queries::history(
            &self.state.store,
            user,
            channel,
            before,
            xietong::limits::HISTORY_PAGE,
        )
        .await?)
    }

    async fn thread(
        &self,
        user: &CurrentUser,
        root: MessageId,
        before: Option<Seq>,
    ) -> Result<ThreadPage, AppError> {
        Ok(crate::chat::queries::thread(
            &self.state.store,
            user,
            root,
            before,
            xietong::limits::HISTORY_PAGE,
        )
        .await?)
    }

    async fn pinned(
        &self,
        user: &CurrentUser,
        channel: ChannelId,
    ) -> Result<Vec<Message>, AppError> {
        Ok(crate::chat::queries::pinned(&self.state.store, user, channel).await?)
    }

    async fn members(
        &self,
        user: &CurrentUser,
        channel: ChannelId,
    ) -> Result<Vec<UserRef>, AppError> {
        Ok(crate::chat::queries::channel_members(&self.state.store, user, channel).await?)
    }

    async fn edit_history(
        &self,
        user: &CurrentUser,
        message: MessageId,
    ) -> Result<Vec<String>, AppError> {
        Ok(crate::chat::queries::edit_history(&self.state.store, user, message).await?)
    }

    async fn organisation(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::org::OrgSnapshot, AppError> {
        Ok(crate::org::snapshot(&self.state.store, user).await?)
    }

    async fn cabinet(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::files::CabinetSnapshot, AppError> {
        Ok(crate::files::cabinet::snapshot(&self.state.store, user).await?)
    }

    async fn notification_settings(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::notify::MyNotificationSettings, AppError> {
        let outlets = self.state.hub.outlets();
        let mut mine = crate::notify::settings::mine(&self.state.store, user).await?;
        mine.outlets = [xietong::notify::Via::App]
            .into_iter()
            .chain(xietong::notify::Via::OUTSIDE)
            .filter(|v| outlets.has(*v))
            .collect();
        Ok(mine)
    }

    async fn delivery_log(
        &self,
        user: &CurrentUser,
    ) -> Result<Vec<xietong::notify::Delivery>, AppError> {
        Ok(crate::notify::outbox::log_for(&self.state.store, user).await?)
    }

    async fn notices(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::notices::NoticeBoard, AppError> {
        Ok(crate::notices::board(&self.state.store, user).await?)
    }

    async fn notice_text(
        &self,
        user: &CurrentUser,
        notice: xietong::NoticeId,
    ) -> Result<xietong::notices::Notice, AppError> {
        Ok(crate::notices::text(&self.state.store, user, notice).await?)
    }

    async fn notice_readers(
        &self,
        user: &CurrentUser,
        notice: xietong::NoticeId,
    ) -> Result<xietong::notices::NoticeReaders, AppError> {
        Ok(crate::notices::readers(&self.state.store, user, notice).await?)
    }

    async fn news(&self, user: &CurrentUser) -> Result<xietong::news::NewsBoard, AppError> {
        Ok(crate::news::board(&self.state.store, user).await?)
    }

    async fn story_comments(
        &self,
        user: &CurrentUser,
        story: xietong::StoryId,
    ) -> Result<xietong::news::StoryComments, AppError> {
        Ok(crate::news::comments(&self.state.store, user, story).await?)
    }

    async fn forum(&self, user: &CurrentUser) -> Result<xietong::forum::ForumBoard, AppError> {
        Ok(crate::forum::board(&self.state.store, user).await?)
    }

    async fn forum_topic(
        &self,
        user: &CurrentUser,
        topic: xietong::ForumTopicId,
        before: Option<xietong::ForumReplyId>,
    ) -> Result<xietong::forum::TopicPage, AppError> {
        Ok(crate::forum::topic_page(&self.state.store, user, topic, before).await?)
    }

    async fn mail(&self, user: &CurrentUser) -> Result<xietong::mail::Mailbox, AppError> {
        let outside_mail = self.state.hub.outlets().outside_mail;
        Ok(crate::mail::mailbox(&self.state.store, user, outside_mail).await?)
    }

    async fn mail_text(
        &self,
        user: &CurrentUser,
        mail: xietong::MailId,
    ) -> Result<xietong::mail::Mail, AppError> {
        Ok(crate::mail::text(&self.state.store, user, mail).await?)
    }

    async fn short_messages(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::short_messages::ShortMessages, AppError> {
        Ok(crate::short_messages::snapshot(&self.state.store, user).await?)
    }

    async fn my_fields(&self, user: &CurrentUser) -> Result<xietong::org::MyFields, AppError> {
        Ok(crate::org::fields::mine(&self.state.store, user).await?)
    }

    async fn my_contacts(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::contacts::MyContacts, AppError> {
        Ok(crate::contacts::snapshot(&self.state.store, user).await?)
    }

    async fn shared(
        &self,
        user: &CurrentUser,
        root: xietong::files::EntryId,
    ) -> Result<xietong::files::SharedSnapshot, AppError> {
        Ok(crate::files::sharing::shared(&self.state.store, user, root).await?)
    }

    async fn people(&self, _user: &CurrentUser) -> Result<Vec<UserRef>, AppError> {
        accounts::people(&self.state.store).await.map_err(internal)
    }

    async fn search(
        &self,
        user: &CurrentUser,
        query: &str,
    ) -> Result<Vec<xietong::search::SearchHit>, AppError> {
        // A search costs more than a message: it spends from the same per-user budget.
        if !self.state.hub.take_command_token(user.id) {
            return Err(AppError::RateLimited);
        }
        crate::search::search(&self.state.store, user, query)
            .await
            .map_err(search_error)
    }

    async fn search_files(
        &self,
        user: &CurrentUser,
        query: &str,
    ) -> Result<Vec<xietong::search::FileHit>, AppError> {
        if !self.state.hub.take_command_token(user.id) {
            return Err(AppError::RateLimited);
        }
        crate::files::search::search_files(&self.state.store, user, query)
            .await
            .map_err(search_error)
    }

    async fn search_items(
        &self,
        user: &CurrentUser,
        query: &str,
    ) -> Result<Vec<xietong::search::ItemHit>, AppError> {
        if !self.state.hub.take_command_token(user.id) {
            return Err(AppError::RateLimited);
        }
        crate::search::items::search_items(&self.state.store, user, query)
            .await
            .map_err(search_error)
    }

    fn https(&self) -> bool {
        self.state.config.https()
    }
}
