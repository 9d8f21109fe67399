//! Settings: a user's own (read on the workspace snapshot, changed by `update_settings`,
//! announced in the user's scope so every tab of theirs follows) and the workspace's, set by
//! an admin (`update_workspace_settings`, announced in the workspace scope).

use xietong::settings::{
    Language, UpdateSettings, UpdateWorkspaceSettings, UserSettings, WorkspaceSettings,
    MAX_WINDOW_MINUTES,
};
use xietong::{CommandOutput, EventBody, Scope, UserId};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// A user's settings (the defaults until they change one).
pub async fn of(conn: &mut Conn, user: UserId) -> Result<UserSettings, StoreError> {
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT read_receipts, language FROM user_settings WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row
        .map(|(read_receipts, language)| UserSettings {
            read_receipts: read_receipts != 0,
            language: language.as_deref().and_then(Language::from_tag),
        })
        .unwrap_or_default())
}

pub async fn update_settings(
    ctx: &mut Ctx<'_>,
    command: &UpdateSettings,
) -> Result<CommandOutput, CommandError> {
    let user = ctx.user()?.id;
    if of(ctx.conn(), user).await? == command.settings {
        return Ok(CommandOutput::SettingsSaved);
    }
    sqlx::query(
        "INSERT INTO user_settings (user_id, read_receipts, language) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET read_receipts = excluded.read_receipts,
                                             language = excluded.language",
    )
    .bind(user.0)
    .bind(i64::from(command.settings.read_receipts))
    .bind(command.settings.language.map(Language::tag))
    .execute(ctx.conn())
    .await?;
    ctx.append(
        Scope::User(user),
        EventBody::SettingsChanged {
            settings: command.settings.clone(),
        },
    )
    .await?;
    Ok(CommandOutput::SettingsSaved)
}

/// The workspace settings (no limits until an admin sets some).
pub async fn workspace(conn: &mut Conn) -> Result<WorkspaceSettings, StoreError> {
    let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT edit_window_minutes, delete_window_minutes FROM workspace_settings WHERE id = 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let minutes = |m: Option<i64>| m.and_then(|m| u32::try_from(m).ok());
    Ok(row
        .map(|(edit, delete)| WorkspaceSettings {
            edit_window_minutes: minutes(edit),
            delete_window_minutes: minutes(delete),
        })
        .unwrap_or_default())
}

/// Admins only: replaces the workspace settings and tells every tab.
pub async fn update_workspace_settings(
    ctx: &mut Ctx<'_>,
    command: &UpdateWorkspaceSettings,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let settings = &command.settings;
    for window in [settings.edit_window_minutes, settings.delete_window_minutes]
        .into_iter()
        .flatten()
    {
        if window > MAX_WINDOW_MINUTES {
            return Err(CommandError::Invalid(format!(
                "a time limit is at most {MAX_WINDOW_MINUTES} minutes"
            )));
        }
    }
    if workspace(ctx.conn()).await? == *settings {
        return Ok(CommandOutput::SettingsSaved);
    }
    sqlx::query(
        "INSERT INTO workspace_settings (id, edit_window_minutes, delete_window_minutes)
         VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET edit_window_minutes = excluded.edit_window_minutes,
                                        delete_window_minutes = excluded.delete_window_minutes",
    )
    .bind(settings.edit_window_minutes.map(i64::from))
    .bind(settings.delete_window_minutes.map(i64::from))
    .execute(ctx.conn())
    .await?;
    ctx.append(
        Scope::Workspace,
        EventBody::WorkspaceSettingsChanged {
            settings: settings.clone(),
        },
    )
    .await?;
    Ok(CommandOutput::SettingsSaved)
}
