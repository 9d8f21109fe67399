//! Channels and messages: the channel list in the sidebar, the channel page, the composer.

mod channel;
pub mod state;
mod workspace;

pub use channel::ChannelPage;
pub use workspace::ChannelSidebar;

use leptos::prelude::*;
use xietong::{Channel, ChannelId, HistoryPage, Seq, WorkspaceSnapshot};

use crate::AppError;

#[server(prefix = "/api", endpoint = "workspace")]
pub async fn workspace() -> Result<WorkspaceSnapshot, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.workspace(&user).await
}

/// The "New channel" form: a public channel, or a private one (`private` checked) with the
/// creator as its first member. Runs the `create_channel` command through the command path.
#[server(prefix = "/api", endpoint = "create_channel")]
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
#[server(prefix = "/api", endpoint = "history")]
pub async fn channel_history(
    channel: Option<ChannelId>,
    before: Option<Seq>,
) -> Result<HistoryPage, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .history(&user, channel, before)
        .await
}
