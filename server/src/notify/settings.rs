//! A person's notification settings: per module, which ways (in app, email, SMS, webhook);
//! quiet hours; their webhook. Kept as JSON (one row per person who changed them), changed by
//! `save_notification_settings`, announced in their user scope so every tab follows.

use xietong::notify::{NotificationSettings, SaveNotificationSettings};
use xietong::{CommandOutput, Scope, UserId};

use super::SettingsByUser;
use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

/// People whose settings are read per query.
const CHUNK: usize = 500;

/// One person's settings.
pub async fn of(conn: &mut Conn, user: UserId) -> Result<NotificationSettings, StoreError> {
    Ok(of_many(conn, &[user])
        .await?
        .remove(&user)
        .unwrap_or_default())
}

/// The settings of those of `users` who changed theirs (the others have the defaults). A
/// stored value this version cannot read counts as the defaults.
pub async fn of_many(conn: &mut Conn, users: &[UserId]) -> Result<SettingsByUser, StoreError> {
    let mut out = SettingsByUser::new();
    for chunk in users.chunks(CHUNK) {
        let sql = format!(
            "SELECT user_id, settings FROM notification_settings WHERE user_id IN ({})",
            crate::org::audience::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for user in chunk {
            query = query.bind(user.0);
        }
        for (user, json) in query.fetch_all(&mut *conn).await? {
            match serde_json::from_str(&json) {
                Ok(settings) => {
                    out.insert(UserId(user), settings);
                }
                Err(e) => tracing::warn!(user, error = %e, "unreadable notification settings"),
            }
        }
    }
    Ok(out)
}

pub async fn save(
    ctx: &mut Ctx<'_>,
    command: &SaveNotificationSettings,
) -> Result<CommandOutput, CommandError> {
    let user = ctx.user()?.id;
    command.settings.validate()?;
    if of(ctx.conn(), user).await? == command.settings {
        return Ok(CommandOutput::NotificationSettingsSaved);
    }
    let json = serde_json::to_string(&command.settings).map_err(StoreError::CorruptEvent)?;
    sqlx::query(
        "INSERT INTO notification_settings (user_id, settings) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings",
    )
    .bind(user.0)
    .bind(&json)
    .execute(ctx.conn())
    .await?;
    ctx.append(
        Scope::User(user),
        xietong::notify::NotifyEvent::NotificationSettingsChanged {
            settings: command.settings.clone(),
        },
    )
    .await?;
    Ok(CommandOutput::NotificationSettingsSaved)
}

/// My notification settings, as the settings page loads them.
pub async fn mine(
    store: &crate::store::Store,
    user: &xietong::CurrentUser,
) -> Result<xietong::notify::MyNotificationSettings, crate::access::Denied> {
    let mut tx = store.read().await?;
    let scope = Scope::User(user.id);
    crate::access::check(&mut tx, user, scope, crate::access::Need::Read).await?;
    let head = crate::store::head(&mut tx, scope).await?;
    let settings = of(&mut tx, user.id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(xietong::notify::MyNotificationSettings {
        head,
        settings,
        outlets: Vec::new(),
    })
}
