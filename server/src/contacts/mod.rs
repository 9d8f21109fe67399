//! Personal contacts (个人通讯簿): each user's own people from outside the organisation, in
//! groups of their own; only their owner reads or changes them (their events go to the owner's
//! user scope). A vCard file comes in through `POST /contacts/mine/import`; they go out as
//! vCard or CSV from `GET /contacts/mine/{vcard|csv}`.

pub mod vcard;

use xietong::contacts::{
    Contact, ContactFields, ContactGroup, CreateContactGroup, ImportContacts, MyContacts,
    RemoveContact, RemoveContactGroup, SaveContact,
};
use xietong::{CommandOutput, ContactGroupId, ContactId, CurrentUser, Scope, UserId};

use crate::access::{self, Denied};
use crate::command::{CommandError, Ctx};
use crate::store::{self, Conn, Store, StoreError};

type ContactRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
);
const COLUMNS: &str = "id, name, company, title, mobile, email, note, group_id, updated_at";

fn contact(
    (id, name, company, title, mobile, email, note, group, updated_at): ContactRow,
) -> Contact {
    Contact {
        id: ContactId(id),
        fields: ContactFields {
            name,
            company,
            title,
            mobile,
            email,
            note,
            group: group.map(ContactGroupId),
        },
        updated_at,
    }
}

/// A user's contacts and groups, and the head of their user scope to follow from.
pub async fn snapshot(store: &Store, user: &CurrentUser) -> Result<MyContacts, Denied> {
    let mut tx = store.read().await?;
    let scope = Scope::User(user.id);
    access::check(&mut tx, user, scope, access::Need::Read).await?;
    let head = store::head(&mut tx, scope).await?;
    let contacts = all(&mut tx, user.id).await?;
    let groups: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM contact_groups WHERE owner_id = $1 ORDER BY id")
            .bind(user.id.0)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(MyContacts {
        contacts,
        groups: groups
            .into_iter()
            .map(|(id, name)| ContactGroup {
                id: ContactGroupId(id),
                name,
            })
            .collect(),
        head,
    })
}

pub async fn all(conn: &mut Conn, owner: UserId) -> Result<Vec<Contact>, StoreError> {
    let rows: Vec<ContactRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM personal_contacts WHERE owner_id = $1 ORDER BY id"
    ))
    .bind(owner.0)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(contact).collect())
}

/// A group of the actor's (someone else's is as unknown as a missing one).
async fn own_group(ctx: &mut Ctx<'_>, group: Option<ContactGroupId>) -> Result<(), CommandError> {
    let Some(group) = group else { return Ok(()) };
    let owner = ctx.user()?.id;
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM contact_groups WHERE id = $1 AND owner_id = $2")
            .bind(group.0)
            .bind(owner.0)
            .fetch_optional(ctx.conn())
            .await?;
    found
        .map(|_| ())
        .ok_or_else(|| CommandError::NotFound("no such contact group".into()))
}

async fn count(ctx: &mut Ctx<'_>) -> Result<usize, CommandError> {
    let owner = ctx.user()?.id;
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM personal_contacts WHERE owner_id = $1",
    )
    .bind(owner.0)
    .fetch_one(ctx.conn())
    .await?;
    Ok(n.max(0) as usize)
}

/// Writes a contact (new when `id` is `None`) and announces it.
async fn write(
    ctx: &mut Ctx<'_>,
    id: Option<ContactId>,
    fields: &ContactFields,
) -> Result<ContactId, CommandError> {
    let owner = ctx.user()?.id;
    let fields = fields.checked()?;
    own_group(ctx, fields.group).await?;
    let at = ctx.now();
    let id = match id {
        Some(id) => {
            let changed = sqlx::query(
                "UPDATE personal_contacts SET name = $1, company = $2, title = $3, mobile = $4,
                 email = $5, note = $6, group_id = $7, updated_at = $8
                 WHERE id = $9 AND owner_id = $10",
            )
            .bind(&fields.name)
            .bind(&fields.company)
            .bind(&fields.title)
            .bind(&fields.mobile)
            .bind(&fields.email)
            .bind(&fields.note)
            .bind(fields.group.map(|g| g.0))
            .bind(at)
            .bind(id.0)
            .bind(owner.0)
            .execute(ctx.conn())
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(CommandError::NotFound("no such contact".into()));
            }
            id
        }
        None => ContactId(
            sqlx::query_scalar(
                "INSERT INTO personal_contacts
                 (owner_id, name, company, title, mobile, email, note, group_id, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(owner.0)
            .bind(&fields.name)
            .bind(&fields.company)
            .bind(&fields.title)
            .bind(&fields.mobile)
            .bind(&fields.email)
            .bind(&fields.note)
            .bind(fields.group.map(|g| g.0))
            .bind(at)
            .fetch_one(ctx.conn())
            .await?,
        ),
    };
    let contact = Contact {
        id,
        fields,
        updated_at: at,
    };
    ctx.append(
        Scope::User(owner),
        xietong::contacts::ContactsEvent::ContactSaved { contact },
    )
    .await?;
    Ok(id)
}

pub async fn save(ctx: &mut Ctx<'_>, command: &SaveContact) -> Result<CommandOutput, CommandError> {
    if command.contact.is_none() && count(ctx).await? >= xietong::limits::MAX_CONTACTS {
        return Err(CommandError::Conflict(format!(
            "at most {} contacts each",
            xietong::limits::MAX_CONTACTS
        )));
    }
    let id = write(ctx, command.contact, &command.fields).await?;
    Ok(CommandOutput::ContactChanged { contact: id })
}

pub async fn remove(
    ctx: &mut Ctx<'_>,
    command: &RemoveContact,
) -> Result<CommandOutput, CommandError> {
    let owner = ctx.user()?.id;
    let removed = sqlx::query("DELETE FROM personal_contacts WHERE id = $1 AND owner_id = $2")
        .bind(command.contact.0)
        .bind(owner.0)
        .execute(ctx.conn())
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(CommandError::NotFound("no such contact".into()));
    }
    ctx.append(
        Scope::User(owner),
        xietong::contacts::ContactsEvent::ContactRemoved {
            contact: command.contact,
        },
    )
    .await?;
    Ok(CommandOutput::ContactChanged {
        contact: command.contact,
    })
}

pub async fn create_group(
    ctx: &mut Ctx<'_>,
    command: &CreateContactGroup,
) -> Result<CommandOutput, CommandError> {
    let owner = ctx.user()?.id;
    let name = xietong::validate::profile_field(&command.name)?;
    if name.is_empty() {
        return Err(xietong::ValidationError::BadProfileField.into());
    }
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM contact_groups WHERE owner_id = $1 AND lower(name) = lower($2)",
    )
    .bind(owner.0)
    .bind(&name)
    .fetch_optional(ctx.conn())
    .await?;
    if taken.is_some() {
        return Err(CommandError::Conflict(format!(
            "you have a group named \"{name}\""
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_groups (owner_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(owner.0)
    .bind(&name)
    .bind(ctx.now())
    .fetch_one(ctx.conn())
    .await
    .map_err(|e| match e {
        // The same name made at the same moment on another node.
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            CommandError::Conflict(format!("you have a group named \"{name}\""))
        }
        other => other.into(),
    })?;
    let group = ContactGroup {
        id: ContactGroupId(id),
        name,
    };
    ctx.append(
        Scope::User(owner),
        xietong::contacts::ContactsEvent::ContactGroupSaved { group },
    )
    .await?;
    Ok(CommandOutput::ContactGroupChanged {
        group: ContactGroupId(id),
    })
}

pub async fn remove_group(
    ctx: &mut Ctx<'_>,
    command: &RemoveContactGroup,
) -> Result<CommandOutput, CommandError> {
    let owner = ctx.user()?.id;
    own_group(ctx, Some(command.group)).await?;
    sqlx::query(
        "UPDATE personal_contacts SET group_id = NULL WHERE group_id = $1 AND owner_id = $2",
    )
    .bind(command.group.0)
    .bind(owner.0)
    .execute(ctx.conn())
    .await?;
    sqlx::query("DELETE FROM contact_groups WHERE id = $1 AND owner_id = $2")
        .bind(command.group.0)
        .bind(owner.0)
        .execute(ctx.conn())
        .await?;
    ctx.append(
        Scope::User(owner),
        xietong::contacts::ContactsEvent::ContactGroupRemoved {
            group: command.group,
        },
    )
    .await?;
    Ok(CommandOutput::ContactGroupChanged {
        group: command.group,
    })
}

/// Every contact or none: the first that fails names its place in the file.
pub async fn import(
    ctx: &mut Ctx<'_>,
    command: &ImportContacts,
) -> Result<CommandOutput, CommandError> {
    let max = xietong::limits::MAX_CONTACTS;
    if command.contacts.is_empty() {
        return Err(CommandError::Invalid("the file holds no contacts".into()));
    }
    if count(ctx).await? + command.contacts.len() > max {
        return Err(CommandError::Conflict(format!(
            "at most {max} contacts each"
        )));
    }
    let mut ids = Vec::with_capacity(command.contacts.len());
    for (i, fields) in command.contacts.iter().enumerate() {
        let id = write(ctx, None, fields).await.map_err(|e| match e {
            CommandError::Invalid(why) => {
                CommandError::Invalid(format!("contact {} ({}): {why}", i + 1, fields.name))
            }
            other => other,
        })?;
        ids.push(id);
    }
    Ok(CommandOutput::ContactsImported { contacts: ids })
}
