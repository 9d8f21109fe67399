//! The one write path for the browser: every command goes to the server either over the live
//! socket (`Live::send_command`) or through this server function, and both end in the same
//! server-side command path (idempotent by user and client id).

use leptos::prelude::*;
use xietong::{ClientMsgId, Command, CommandOutput};

use crate::AppError;

#[server(prefix = "/api", endpoint = "command", input = leptos::server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn run_command(
    client_id: ClientMsgId,
    command: Command,
) -> Result<CommandOutput, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?
        .command(&user, client_id, command)
        .await
}

/// Runs one command through the command path and reports its refusal, if any.
pub fn command_action() -> Action<Command, Result<CommandOutput, AppError>> {
    Action::new(|command: &Command| run_command(crate::live::new_client_id(), command.clone()))
}
