//! Settings: a user's own (read on the workspace snapshot, changed by `update_settings`,
//! announced in the user's scope so every tab of theirs follows) and the workspace's, set by
//! an admin (`update_workspace_settings`, announced in the workspace scope).

use xietong::settings::{
    Language, UpdateSettings, UpdateWorkspaceSettings, UserSettings, WorkspaceSettings,
    MAX_WINDOW_MINUTES,
};
use xietong::{CommandOutput, Scope, UserId};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// A user's settings (the defaults until they change one).
pub async fn of(conn: &mut Conn, user: UserId) -> Result<UserSettings, StoreError> {
    let row: Option<(i64, Option<String>, i64)> = sqlx::query_as(
        "SELECT read_receipts, language, hide_mobile FROM user_settings WHERE user_id = $1",
    )
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .map(|(read_receipts, language, hide_mobile)| UserSettings {
            read_receipts: read_receipts != 0,
            language: language.as_deref().and_then(Language::from_tag),
            hide_mobile: hide_mobile != 0,
        })
        .unwrap_or_default())
}

pub async fn update_settings(
    ctx: &mut Ctx<'_>,
    command: &UpdateSettings,
) -> Result<CommandOutput, CommandError> {
    let user = ctx.user()?.id;
    let before = of(ctx.conn(), user).await?;
    if before == command.settings {
        return Ok(CommandOutput::SettingsSaved);
    }
    sqlx::query(
        "INSERT INTO user_settings (user_id, read_receipts, language, hide_mobile)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET read_receipts = excluded.read_receipts,
                                             language = excluded.language,
                                             hide_mobile = excluded.hide_mobile",
    )
    .bind(user.0)
    .bind(i64::from(command.settings.read_receipts))
    .bind(command.settings.language.map(Language::tag))
    .bind(i64::from(command.settings.hide_mobile))
    .execute(ctx.conn())
    .await?;
    if before.hide_mobile != command.settings.hide_mobile {
        // Everyone's address book shows (or stops showing) the number at once.
        crate::org::people::announce(ctx, user).await?;
    }
    ctx.append(
        Scope::User(user),
        xietong::settings::SettingsEvent::SettingsChanged {
            settings: command.settings.clone(),
        },
    )
    .await?;
    Ok(CommandOutput::SettingsSaved)
}

/// The workspace settings (no limits until an admin sets some).
pub async fn workspace(conn: &mut Conn) -> Result<WorkspaceSettings, StoreError> {
    type Row = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT edit_window_minutes, delete_window_minutes, max_file_mb, quota_mb
         FROM workspace_settings WHERE id = 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let number = |m: Option<i64>| m.and_then(|m| u32::try_from(m).ok());
    Ok(row
        .map(|(edit, delete, max_file, quota)| WorkspaceSettings {
            edit_window_minutes: number(edit),
            delete_window_minutes: number(delete),
            max_file_mb: number(max_file),
            quota_mb: number(quota),
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
    if settings.max_file_mb == Some(0) {
        return Err(CommandError::Invalid(
            "the largest file must be at least 1 MB".into(),
        ));
    }
    sqlx::query(
        "INSERT INTO workspace_settings
             (id, edit_window_minutes, delete_window_minutes, max_file_mb, quota_mb)
         VALUES (1, $1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET edit_window_minutes = excluded.edit_window_minutes,
                                        delete_window_minutes = excluded.delete_window_minutes,
                                        max_file_mb = excluded.max_file_mb,
                                        quota_mb = excluded.quota_mb",
    )
    .bind(settings.edit_window_minutes.map(i64::from))
    .bind(settings.delete_window_minutes.map(i64::from))
    .bind(settings.max_file_mb.map(i64::from))
    .bind(settings.quota_mb.map(i64::from))
    .execute(ctx.conn())
    .await?;
    ctx.append(
        Scope::Workspace,
        xietong::settings::SettingsEvent::WorkspaceSettingsChanged {
            settings: settings.clone(),
        },
    )
    .await?;
    Ok(CommandOutput::SettingsSaved)
}
