//! What the server binary provides to the server functions (server side only). The app never
//! touches the database itself: the server implements this over its store, access module and
//! command path.

use std::net::IpAddr;
use std::sync::Arc;

use leptos::prelude::*;
use xietong::chat::ThreadPage;
use xietong::{
    ChannelId, ClientMsgId, Command, CommandOutput, CurrentUser, HistoryPage, Message, MessageId,
    Seq, UserRef, WorkspaceSnapshot,
};

use crate::AppError;

/// A signed-in session: the cookie token and its user.
pub struct Session {
    pub token: String,
    pub user: CurrentUser,
}

/// The address a request came from, put in the request's extensions by the server.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Creates an account, as the configured sign-up mode allows (`invite`: the token of an
    /// invitation link).
    async fn sign_up(
        &self,
        ip: Option<IpAddr>,
        username: &str,
        password: &str,
        invite: Option<&str>,
    ) -> Result<Session, AppError>;
    /// A new invitation token (admins only).
    async fn create_invite(&self, user: &CurrentUser) -> Result<String, AppError>;
    async fn log_in(
        &self,
        ip: Option<IpAddr>,
        username: &str,
        password: &str,
    ) -> Result<Session, AppError>;
    /// Sets a new random password for `user` (admins only), ends all their sessions, and
    /// returns the password for the admin to hand over.
    async fn reset_password(
        &self,
        admin: &CurrentUser,
        user: xietong::UserId,
    ) -> Result<String, AppError>;
    async fn log_out(&self, token: &str) -> Result<(), AppError>;
    async fn workspace(&self, user: &CurrentUser) -> Result<WorkspaceSnapshot, AppError>;
    /// Runs a command through the same path as the socket's `command` frames.
    async fn command(
        &self,
        user: &CurrentUser,
        client_id: ClientMsgId,
        command: Command,
    ) -> Result<CommandOutput, AppError>;
    /// A page of history; `channel: None` is the default channel (`general`).
    async fn history(
        &self,
        user: &CurrentUser,
        channel: Option<ChannelId>,
        before: Option<Seq>,
    ) -> Result<HistoryPage, AppError>;
    /// A thread (its root message's id) and a page of its replies: the newest, or those
    /// before `before`.
    async fn thread(
        &self,
        user: &CurrentUser,
        root: MessageId,
        before: Option<Seq>,
    ) -> Result<ThreadPage, AppError>;
    /// A channel's pinned messages, newest first.
    async fn pinned(
        &self,
        user: &CurrentUser,
        channel: ChannelId,
    ) -> Result<Vec<Message>, AppError>;
    /// A channel's members (for a channel the user may read).
    async fn members(
        &self,
        user: &CurrentUser,
        channel: ChannelId,
    ) -> Result<Vec<UserRef>, AppError>;
    /// A message's earlier bodies, oldest first (its author and admins).
    async fn edit_history(
        &self,
        user: &CurrentUser,
        message: MessageId,
    ) -> Result<Vec<String>, AppError>;
    /// Everyone in the workspace, by username (people pickers).
    async fn people(&self, user: &CurrentUser) -> Result<Vec<UserRef>, AppError>;
    /// Messages matching a search (words, `from:`, `in:`) among those the user may read.
    async fn search(
        &self,
        user: &CurrentUser,
        query: &str,
    ) -> Result<Vec<xietong::search::SearchHit>, AppError>;
    /// Files found by name or by the text inside them, that the user may read.
    async fn search_files(
        &self,
        user: &CurrentUser,
        query: &str,
    ) -> Result<Vec<xietong::search::FileHit>, AppError>;
    /// Office items (mail one holds, notices published to one) found by their words.
    async fn search_items(
        &self,
        user: &CurrentUser,
        query: &str,
    ) -> Result<Vec<xietong::search::ItemHit>, AppError>;
    /// The organisation: departments, roles, people (every signed-in user reads it).
    async fn organisation(&self, user: &CurrentUser)
        -> Result<xietong::org::OrgSnapshot, AppError>;
    /// The signed-in user's file cabinet.
    async fn cabinet(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::files::CabinetSnapshot, AppError>;
    /// The address book's fields and the signed-in user's own values of them.
    async fn my_fields(&self, user: &CurrentUser) -> Result<xietong::org::MyFields, AppError>;
    /// The signed-in user's own contacts and contact groups.
    async fn my_contacts(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::contacts::MyContacts, AppError>;
    /// A shared entry and what is inside, as the signed-in user may see it.
    async fn shared(
        &self,
        user: &CurrentUser,
        root: xietong::files::EntryId,
    ) -> Result<xietong::files::SharedSnapshot, AppError>;
    /// The signed-in user's notification settings.
    async fn notification_settings(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::notify::MyNotificationSettings, AppError>;
    /// The newest deliveries by email, SMS and webhook (admins only).
    async fn delivery_log(
        &self,
        user: &CurrentUser,
    ) -> Result<Vec<xietong::notify::Delivery>, AppError>;
    /// The signed-in user's notice board: published to them, theirs, waiting for their review.
    async fn notices(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::notices::NoticeBoard, AppError>;
    /// A notice with its text (for someone who may read it).
    async fn notice_text(
        &self,
        user: &CurrentUser,
        notice: xietong::NoticeId,
    ) -> Result<xietong::notices::Notice, AppError>;
    /// Who has read a notice (its author or an admin).
    async fn notice_readers(
        &self,
        user: &CurrentUser,
        notice: xietong::NoticeId,
    ) -> Result<xietong::notices::NoticeReaders, AppError>;
    /// The news page: columns, published stories one may read, and those one edits.
    async fn news(&self, user: &CurrentUser) -> Result<xietong::news::NewsBoard, AppError>;
    /// One story's comments (for someone who may read it).
    async fn story_comments(
        &self,
        user: &CurrentUser,
        story: xietong::StoryId,
    ) -> Result<xietong::news::StoryComments, AppError>;
    /// The forum: sections, and the topics of those one reads.
    async fn forum(&self, user: &CurrentUser) -> Result<xietong::forum::ForumBoard, AppError>;
    /// One topic with its replies (for someone who may read its section).
    async fn forum_topic(
        &self,
        user: &CurrentUser,
        topic: xietong::ForumTopicId,
        before: Option<xietong::ForumReplyId>,
    ) -> Result<xietong::forum::TopicPage, AppError>;
    /// The signed-in user's mailbox: their folders and the mail they hold.
    async fn mail(&self, user: &CurrentUser) -> Result<xietong::mail::Mailbox, AppError>;
    /// A mail one holds, with its text.
    async fn mail_text(
        &self,
        user: &CurrentUser,
        mail: xietong::MailId,
    ) -> Result<xietong::mail::Mail, AppError>;
    /// The signed-in user's short messages, received and sent.
    async fn short_messages(
        &self,
        user: &CurrentUser,
    ) -> Result<xietong::short_messages::ShortMessages, AppError>;
    /// Whether users reach the site over HTTPS (cookies are then Secure and `__Host-`).
    fn https(&self) -> bool;
}

pub type SharedBackend = Arc<dyn Backend>;

pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or(AppError::Internal)
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The user the server's session middleware found for this request.
pub fn current_user() -> Option<CurrentUser> {
    parts().and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

pub fn require_user() -> Result<CurrentUser, AppError> {
    current_user().ok_or(AppError::Unauthorized)
}

pub fn client_ip() -> Option<IpAddr> {
    parts().and_then(|parts| parts.extensions.get::<ClientIp>().map(|ip| ip.0))
}
