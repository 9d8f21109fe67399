//! The address book's own fields: an admin decides which exist (beyond name, title, mobile and
//! email) and whether people may hide theirs; each person fills in their own values. A hidden
//! value never leaves the database except to its owner: not in snapshots, not in events.

use xietong::org::{DefineField, FieldValue, MyFields, ProfileField, RemoveField, SetMyFields};
use xietong::{CommandOutput, CurrentUser, FieldId, Scope, UserId};

use crate::access::Denied;
use crate::command::{CommandError, Ctx};
use crate::store::{Conn, Store, StoreError};

/// Fields an admin may define, at most.
const MAX_FIELDS: usize = 30;

pub async fn all(conn: &mut Conn) -> Result<Vec<ProfileField>, StoreError> {
    let rows: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, name, hideable FROM profile_fields ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, hideable)| ProfileField {
            id: FieldId(id),
            name,
            hideable: hideable != 0,
        })
        .collect())
}

/// Everyone's values others may see (`only`: one person's), by user.
pub async fn visible_values(
    conn: &mut Conn,
    only: Option<UserId>,
) -> Result<Vec<(UserId, FieldValue)>, StoreError> {
    let filter = if only.is_some() {
        "AND user_id = $1"
    } else {
        "AND user_id <> $1"
    };
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(&format!(
        "SELECT user_id, field_id, value FROM person_field_values
         WHERE hidden = 0 {filter} ORDER BY user_id, field_id"
    ))
    .bind(only.map_or(0, |u| u.0))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user, field, value)| {
            (
                UserId(user),
                FieldValue {
                    field: FieldId(field),
                    value,
                },
            )
        })
        .collect())
}

/// The fields and the user's own values, hidden ones included.
pub async fn mine(store: &Store, user: &CurrentUser) -> Result<MyFields, Denied> {
    let mut tx = store.read().await?;
    let fields = all(&mut tx).await?;
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT field_id, value, hidden FROM person_field_values WHERE user_id = $1
         ORDER BY field_id",
    )
    .bind(user.id.0)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(MyFields {
        fields,
        hidden: rows
            .iter()
            .filter(|r| r.2 != 0)
            .map(|r| FieldId(r.0))
            .collect(),
        values: rows
            .into_iter()
            .map(|(field, value, _)| FieldValue {
                field: FieldId(field),
                value,
            })
            .collect(),
    })
}

pub async fn define(
    ctx: &mut Ctx<'_>,
    command: &DefineField,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let name = xietong::validate::profile_field(&command.name)?;
    if name.is_empty() {
        return Err(xietong::ValidationError::BadProfileField.into());
    }
    if all(ctx.conn()).await?.len() >= MAX_FIELDS {
        return Err(CommandError::Conflict(format!(
            "the address book has at most {MAX_FIELDS} fields of its own"
        )));
    }
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM profile_fields WHERE lower(name) = lower($1)")
            .bind(&name)
            .fetch_optional(ctx.conn())
            .await?;
    if taken.is_some() {
        return Err(CommandError::Conflict(format!(
            "a field named \"{name}\" exists"
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO profile_fields (name, hideable, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&name)
    .bind(i64::from(command.hideable))
    .bind(ctx.now())
    .fetch_one(ctx.conn())
    .await?;
    let field = ProfileField {
        id: FieldId(id),
        name,
        hideable: command.hideable,
    };
    ctx.append(
        Scope::Workspace,
        xietong::org::OrgEvent::FieldDefined { field },
    )
    .await?;
    Ok(CommandOutput::FieldChanged { field: FieldId(id) })
}

pub async fn remove(
    ctx: &mut Ctx<'_>,
    command: &RemoveField,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM profile_fields WHERE id = $1")
        .bind(command.field.0)
        .fetch_optional(ctx.conn())
        .await?;
    if found.is_none() {
        return Err(CommandError::NotFound("no such field".into()));
    }
    sqlx::query("DELETE FROM person_field_values WHERE field_id = $1")
        .bind(command.field.0)
        .execute(ctx.conn())
        .await?;
    sqlx::query("DELETE FROM profile_fields WHERE id = $1")
        .bind(command.field.0)
        .execute(ctx.conn())
        .await?;
    ctx.append(
        Scope::Workspace,
        xietong::org::OrgEvent::FieldRemoved {
            field: command.field,
        },
    )
    .await?;
    Ok(CommandOutput::FieldChanged {
        field: command.field,
    })
}

/// The actor's own values as a whole; then everyone sees the person as they now are.
pub async fn set_mine(
    ctx: &mut Ctx<'_>,
    command: &SetMyFields,
) -> Result<CommandOutput, CommandError> {
    let user = ctx.user()?.id;
    let fields = all(ctx.conn()).await?;
    sqlx::query("DELETE FROM person_field_values WHERE user_id = $1")
        .bind(user.0)
        .execute(ctx.conn())
        .await?;
    for value in &command.values {
        let Some(field) = fields.iter().find(|f| f.id == value.field) else {
            return Err(CommandError::NotFound(format!("no field {}", value.field)));
        };
        let text = xietong::validate::profile_field(&value.value)?;
        if text.is_empty() {
            continue;
        }
        let hidden = field.hideable && command.hidden.contains(&field.id);
        sqlx::query(
            "INSERT INTO person_field_values (user_id, field_id, value, hidden)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, field_id) DO UPDATE SET value = excluded.value,
                 hidden = excluded.hidden",
        )
        .bind(user.0)
        .bind(field.id.0)
        .bind(&text)
        .bind(i64::from(hidden))
        .execute(ctx.conn())
        .await?;
    }
    super::people::announce(ctx, user).await?;
    Ok(CommandOutput::PersonChanged {
        person: user,
        seq: None,
    })
}
