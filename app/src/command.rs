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

/// A text field that a command carries, as in "add department": the command's success clears
/// it, unless it was changed while the answer was on its way. The change's own event often
/// shows before the answer does, and a user (or a test) goes on to type the next one.
#[derive(Clone, Copy)]
pub struct SentText {
    pub value: RwSignal<String>,
    sent: StoredValue<Option<String>>,
}

impl SentText {
    pub fn new() -> Self {
        Self {
            value: RwSignal::new(String::new()),
            sent: StoredValue::new(None),
        }
    }

    /// The text to send, remembered so that its answer can clear it.
    pub fn send(&self) -> String {
        let text = self.value.get_untracked();
        self.sent.set_value(Some(text.clone()));
        text
    }

    /// Follows `action`'s answers. A success that `done` recognises clears the field if it
    /// still holds what was sent, and then runs `cleared` (the rest of the form); a refusal
    /// forgets what was sent, so a later success of another command cannot clear it.
    pub fn clear_on_success(
        self,
        action: Action<Command, Result<CommandOutput, AppError>>,
        done: fn(&CommandOutput) -> bool,
        cleared: impl Fn() + 'static,
    ) {
        Effect::new(move |_| {
            let succeeded = match &*action.value().read() {
                Some(Ok(output)) if done(output) => true,
                Some(Err(_)) => false,
                _ => return,
            };
            let sent = self.sent.try_update_value(Option::take).flatten();
            if succeeded && sent.is_some_and(|sent| self.value.with_untracked(|v| *v == sent)) {
                self.value.set(String::new());
                cleared();
            }
        });
    }
}

impl Default for SentText {
    fn default() -> Self {
        Self::new()
    }
}
