//! A user's own settings: read on the workspace snapshot, changed by the `update_settings`
//! command, announced in the user's scope so every tab of theirs follows.

use xietong::settings::{UpdateSettings, UserSettings};
use xietong::{CommandOutput, EventBody, Scope, UserId};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// A user's settings (the defaults until they change one).
pub async fn of(conn: &mut Conn, user: UserId) -> Result<UserSettings, StoreError> {
    let read_receipts: Option<i64> =
        sqlx::query_scalar("SELECT read_receipts FROM user_settings WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(UserSettings {
        read_receipts: read_receipts.is_none_or(|on| on != 0),
    })
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
        "INSERT INTO user_settings (user_id, read_receipts) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET read_receipts = excluded.read_receipts",
    )
    .bind(user.0)
    .bind(i64::from(command.settings.read_receipts))
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
