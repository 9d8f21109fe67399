//! Channels and messages: the workspace frame, the channel page, the composer.

mod channel;
mod workspace;

pub use channel::ChannelPage;
pub use workspace::Workspace;

use leptos::prelude::*;
use xietong::{Channel, ChannelId, HistoryPage, Seq, WorkspaceSnapshot};

use crate::AppError;

#[server(prefix = "/api", endpoint = "workspace")]
pub async fn workspace() -> Result<WorkspaceSnapshot, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.workspace(&user).await
}

#[server(prefix = "/api", endpoint = "create_channel")]
pub async fn create_channel(name: String) -> Result<Channel, AppError> {
    let user = crate::backend::require_user()?;
    let name = xietong::validate::channel_name(&name)?;
    crate::backend::backend()?.create_channel(&user, name).await
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
