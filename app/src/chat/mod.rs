//! Channels and messages: the channel list in the sidebar, the channel page, the composer.

mod channel;
mod header;
mod message;
mod notifications;
mod people;
pub mod state;
mod workspace;

pub use channel::ChannelPage;
pub use message::format_time;
pub use notifications::NotificationsButton;
pub use workspace::ChannelSidebar;

use leptos::prelude::*;
use xietong::chat::ThreadPage;
use xietong::{
    Channel, ChannelId, HistoryPage, Message, MessageId, Seq, UserId, UserRef, WorkspaceSnapshot,
};

use crate::AppError;

/// What every chat screen of a tab shares: my channel list and where I stand in each channel
/// (set once the sidebar's snapshot has loaded). Provided by the shell above the sidebar and
/// the page.
#[derive(Clone, Copy)]
pub struct ChatState {
    /// Reference-counted inside: the view is made in the sidebar's `Suspense`, whose owner can
    /// be disposed while another task of the same server render still reads it.
    pub workspace: RwSignal<Option<ArcRwSignal<state::WorkspaceView>>>,
}

impl ChatState {
    pub fn provide() {
        provide_context(ChatState {
            workspace: RwSignal::new(None),
        });
    }

    /// Reads my workspace view (tracked), `None` until it is loaded — or once the page that
    /// made it is gone: a server render can still be finishing a message after its frame was
    /// disposed, and reading then must not panic.
    pub fn read<T>(&self, f: impl FnOnce(&state::WorkspaceView) -> T) -> Option<T> {
        if self.workspace.is_disposed() {
            return None;
        }
        let view =
            read_shared(&ArcRwSignal::from(self.workspace), |view| view.clone()).flatten()?;
        read_shared(&view, f)
    }
}

/// Reads a signal (tracked) that another task of the same server render may be writing at
/// this very moment: on the server each `Suspense` body runs as a task of its own on the
/// thread pool (the sidebar's sets the workspace view while the page's messages read it), and
/// reactive_graph's reads do not wait for a writer on another thread but panic, saying the
/// value "has already been disposed" (1 of 200 first-screen loads in the benchmark). This one
/// waits for such a write to finish; `None` if the lock stays taken (a read inside this
/// thread's own write of it).
fn read_shared<S: 'static + Send + Sync, T>(
    signal: &ArcRwSignal<S>,
    f: impl FnOnce(&S) -> T,
) -> Option<T> {
    signal.track();
    for _ in 0..10_000 {
        if let Some(value) = signal.try_read_untracked() {
            return Some(f(&value));
        }
        std::thread::yield_now();
    }
    None
}

#[server(prefix = "/api", endpoint = "workspace", output = crate::codec::TextJson)]
pub async fn workspace() -> Result<WorkspaceSnapshot, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.workspace(&user).await
}

/// The "New channel" form: a public channel, or a private one (`private` checked) with the
/// creator as its first member. Runs the `create_channel` command through the command path.
#[server(prefix = "/api", endpoint = "create_channel", output = crate::codec::TextJson)]
pub async fn create_channel(name: String, private: Option<String>) -> Result<Channel, AppError> {
    use xietong::{ChannelKind, Command, CommandOutput};
    let user = crate::backend::require_user()?;
    let name = xietong::validate::channel_name(&name)?.to_owned();
    let kind = if private.is_some() {
        ChannelKind::Private
    } else {
        ChannelKind::Public
    };
    let command = Command::CreateChannel(xietong::chat::CreateChannel {
        name,
        kind,
        members: Vec::new(),
    });
    let output = crate::backend::backend()?
        .command(&user, crate::live::new_client_id(), command)
        .await?;
    match output {
        CommandOutput::ChannelCreated { channel } => Ok(channel),
        _ => Err(AppError::Internal),
    }
}

/// A page of a channel's history (`channel: None`: the default channel), newest
/// `HISTORY_PAGE` messages before `before`.
#[server(prefix = "/api", endpoint = "history", output = crate::codec::TextJson)]
pub async fn channel_history(
    channel: Option<ChannelId>,
    before: Option<Seq>,
) -> Result<HistoryPage, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .history(&user, channel, before)
        .await
}

/// A thread: its first message and a page of replies (the newest, or those before `before`).
#[server(prefix = "/api", endpoint = "thread", output = crate::codec::TextJson)]
pub async fn thread(root: MessageId, before: Option<Seq>) -> Result<ThreadPage, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.thread(&user, root, before).await
}

/// A channel's pinned messages, newest first.
#[server(prefix = "/api", endpoint = "pinned", output = crate::codec::TextJson)]
pub async fn pinned(channel: ChannelId) -> Result<Vec<Message>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.pinned(&user, channel).await
}

/// A channel's members.
#[server(prefix = "/api", endpoint = "members", output = crate::codec::TextJson)]
pub async fn members(channel: ChannelId) -> Result<Vec<UserRef>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.members(&user, channel).await
}

/// A message's earlier bodies, oldest first (for its author and admins).
#[server(prefix = "/api", endpoint = "edit_history", output = crate::codec::TextJson)]
pub async fn edit_history(message: MessageId) -> Result<Vec<String>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .edit_history(&user, message)
        .await
}

/// Everyone in the workspace (the people picker's list).
#[server(prefix = "/api", endpoint = "people", output = crate::codec::TextJson)]
pub async fn people() -> Result<Vec<UserRef>, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.people(&user).await
}

/// Opens the direct conversation with `with` (one person: a DM; several: a group DM),
/// starting it if it does not exist yet.
#[server(prefix = "/api", endpoint = "start_conversation", input = leptos::server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn start_conversation(with: Vec<UserId>) -> Result<Channel, AppError> {
    use xietong::{ChannelKind, Command, CommandOutput};
    let user = crate::backend::require_user()?;
    let mut people = with;
    people.retain(|id| *id != user.id);
    people.sort();
    people.dedup();
    if people.is_empty() {
        return Err(AppError::Invalid("Pick at least one person".into()));
    }
    let kind = if people.len() == 1 {
        ChannelKind::Direct
    } else {
        ChannelKind::GroupDirect
    };
    let command = Command::CreateChannel(xietong::chat::CreateChannel {
        name: String::new(),
        kind,
        members: people,
    });
    let output = crate::backend::backend()?
        .command(&user, crate::live::new_client_id(), command)
        .await?;
    match output {
        CommandOutput::ChannelCreated { channel } => Ok(channel),
        _ => Err(AppError::Internal),
    }
}
