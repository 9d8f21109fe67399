//! People and roles: a person's real name, title, departments and roles, set by an admin, and
//! deactivation (the account can no longer sign in; its sessions and sockets end everywhere).

use std::collections::BTreeMap;

use xietong::org::{CreateRole, Person, RemoveRole, Role, SetPersonActive, UpdatePerson};
use xietong::{CommandOutput, DepartmentId, RoleId, Scope, UserId};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

pub async fn roles(conn: &mut Conn) -> Result<Vec<Role>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM roles ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| Role {
            id: RoleId(id),
            name,
        })
        .collect())
}

/// Everyone (`only: None`) or one person, by username.
pub async fn people(conn: &mut Conn, only: Option<UserId>) -> Result<Vec<Person>, StoreError> {
    let filter = if only.is_some() {
        "WHERE u.id = $1"
    } else {
        "WHERE u.id <> $1"
    };
    // A hidden mobile number never leaves the database: not in snapshots, not in events.
    let rows: Vec<PersonRow> = sqlx::query_as(&format!(
        "SELECT u.id, u.username, u.full_name, u.title,
                CASE WHEN s.hide_mobile = 1 THEN '' ELSE u.mobile END, u.email,
                CASE WHEN u.is_admin THEN 1 ELSE 0 END, u.deactivated
         FROM users u LEFT JOIN user_settings s ON s.user_id = u.id {filter}
         ORDER BY u.username"
    ))
    .bind(only.map_or(0, |u| u.0))
    .fetch_all(&mut *conn)
    .await?;
    let member_filter = if only.is_some() {
        "WHERE user_id = $1"
    } else {
        "WHERE user_id <> $1"
    };
    let departments: Vec<(i64, i64, i64)> = sqlx::query_as(&format!(
        "SELECT user_id, department_id, main FROM user_departments {member_filter}
         ORDER BY user_id, main DESC, department_id"
    ))
    .bind(only.map_or(0, |u| u.0))
    .fetch_all(&mut *conn)
    .await?;
    let roles: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT user_id, role_id FROM user_roles {member_filter} ORDER BY user_id, role_id"
    ))
    .bind(only.map_or(0, |u| u.0))
    .fetch_all(&mut *conn)
    .await?;
    let mut by_id: BTreeMap<i64, Person> = BTreeMap::new();
    let mut order = Vec::with_capacity(rows.len());
    for (id, username, full_name, title, mobile, email, is_admin, deactivated) in rows {
        order.push(id);
        by_id.insert(
            id,
            Person {
                id: UserId(id),
                username,
                full_name,
                title,
                mobile,
                email,
                main_department: None,
                other_departments: Vec::new(),
                roles: Vec::new(),
                is_admin: is_admin != 0,
                active: deactivated == 0,
                pinyin: String::new(),
                initials: String::new(),
                fields: Vec::new(),
            },
        );
    }
    for (user, value) in super::fields::visible_values(conn, only).await? {
        if let Some(person) = by_id.get_mut(&user.0) {
            person.fields.push(value);
        }
    }
    for (user, department, main) in departments {
        if let Some(person) = by_id.get_mut(&user) {
            if main != 0 {
                person.main_department = Some(DepartmentId(department));
            } else {
                person.other_departments.push(DepartmentId(department));
            }
        }
    }
    for (user, role) in roles {
        if let Some(person) = by_id.get_mut(&user) {
            person.roles.push(RoleId(role));
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .map(spelled)
        .collect())
}

/// Fills in the pinyin of a person's full name and its initials (the first reading of each
/// character; letters and digits kept as they are).
fn spelled(mut person: Person) -> Person {
    use pinyin::ToPinyin;
    let (mut full, mut initials) = (String::new(), String::new());
    let mut any_chinese = false;
    for c in person.full_name.chars() {
        match c.to_pinyin() {
            Some(p) => {
                any_chinese = true;
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if c.is_alphanumeric() => full.extend(c.to_lowercase()),
            None => {}
        }
    }
    if any_chinese {
        person.pinyin = full;
        person.initials = initials;
    } else {
        person.pinyin.clear();
        person.initials.clear();
    }
    person
}

/// Appends the person as they now are (after a change made elsewhere, such as hiding their
/// mobile number in their settings).
pub async fn announce(ctx: &mut Ctx<'_>, id: UserId) -> Result<(), CommandError> {
    let person = person(ctx.conn(), id).await?;
    saved(ctx, person).await.map(|_| ())
}

pub(crate) async fn person(conn: &mut Conn, id: UserId) -> Result<Person, CommandError> {
    people(conn, Some(id))
        .await?
        .pop()
        .ok_or_else(|| CommandError::NotFound("no such person".into()))
}

type PersonRow = (i64, String, String, String, String, String, i64, i64);

/// Most other departments, and most roles, one person has.
const MAX_LISTED: usize = 50;

async fn saved(ctx: &mut Ctx<'_>, person: Person) -> Result<CommandOutput, CommandError> {
    let id = person.id;
    let seq = ctx
        .append(
            Scope::Workspace,
            xietong::org::OrgEvent::PersonSaved { person },
        )
        .await?;
    Ok(CommandOutput::PersonChanged {
        person: id,
        seq: Some(seq),
    })
}

pub async fn create_role(
    ctx: &mut Ctx<'_>,
    command: &CreateRole,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let name = xietong::validate::role_name(&command.name)?;
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM roles WHERE lower(name) = lower($1)")
            .bind(&name)
            .fetch_optional(ctx.conn())
            .await?;
    if taken.is_some() {
        return Err(CommandError::Conflict(format!(
            "a role named \"{name}\" exists"
        )));
    }
    let at = ctx.now();
    let id: i64 =
        sqlx::query_scalar("INSERT INTO roles (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(&name)
            .bind(at)
            .fetch_one(ctx.conn())
            .await?;
    let role = Role {
        id: RoleId(id),
        name,
    };
    ctx.append(Scope::Workspace, xietong::org::OrgEvent::RoleSaved { role })
        .await?;
    Ok(CommandOutput::RoleChanged { role: RoleId(id) })
}

pub async fn remove_role(
    ctx: &mut Ctx<'_>,
    command: &RemoveRole,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM roles WHERE id = $1")
        .bind(command.role.0)
        .fetch_optional(ctx.conn())
        .await?;
    if found.is_none() {
        return Err(CommandError::NotFound("no such role".into()));
    }
    sqlx::query("DELETE FROM user_roles WHERE role_id = $1")
        .bind(command.role.0)
        .execute(ctx.conn())
        .await?;
    sqlx::query("DELETE FROM roles WHERE id = $1")
        .bind(command.role.0)
        .execute(ctx.conn())
        .await?;
    ctx.append(
        Scope::Workspace,
        xietong::org::OrgEvent::RoleRemoved { role: command.role },
    )
    .await?;
    Ok(CommandOutput::RoleChanged { role: command.role })
}

pub async fn update_person(
    ctx: &mut Ctx<'_>,
    command: &UpdatePerson,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    if command.other_departments.len() > MAX_LISTED || command.roles.len() > MAX_LISTED {
        return Err(CommandError::Invalid(format!(
            "at most {MAX_LISTED} departments and {MAX_LISTED} roles per person"
        )));
    }
    let before = person(ctx.conn(), command.person).await?;
    let full_name = xietong::validate::profile_field(&command.full_name)?;
    let title = xietong::validate::profile_field(&command.title)?;
    let mobile = command
        .mobile
        .as_deref()
        .map(xietong::validate::mobile)
        .transpose()?;
    let email = command
        .email
        .as_deref()
        .map(xietong::validate::email)
        .transpose()?;
    let mut others: Vec<DepartmentId> = command
        .other_departments
        .iter()
        .copied()
        .filter(|d| Some(*d) != command.main_department)
        .collect();
    others.sort();
    others.dedup();
    let mut roles = command.roles.clone();
    roles.sort();
    roles.dedup();
    for department in command.main_department.iter().chain(&others) {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM departments WHERE id = $1")
            .bind(department.0)
            .fetch_optional(ctx.conn())
            .await?;
        if found.is_none() {
            return Err(CommandError::NotFound(format!(
                "no department {department}"
            )));
        }
    }
    for role in &roles {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM roles WHERE id = $1")
            .bind(role.0)
            .fetch_optional(ctx.conn())
            .await?;
        if found.is_none() {
            return Err(CommandError::NotFound(format!("no role {role}")));
        }
    }
    let mobile_changed = mobile.is_some();
    let after = spelled(Person {
        full_name,
        title,
        email: email.unwrap_or_else(|| before.email.clone()),
        main_department: command.main_department,
        other_departments: others,
        roles,
        ..before.clone()
    });
    let id = after.id.0;
    if let Some(mobile) = &mobile {
        sqlx::query("UPDATE users SET mobile = $1 WHERE id = $2")
            .bind(mobile)
            .bind(id)
            .execute(ctx.conn())
            .await?;
    }
    // What others see of the number (nothing, when it is hidden).
    let after = Person {
        mobile: if mobile_changed {
            person(ctx.conn(), after.id).await?.mobile
        } else {
            before.mobile.clone()
        },
        ..after
    };
    if after == before {
        return Ok(CommandOutput::PersonChanged {
            person: before.id,
            seq: None,
        });
    }
    sqlx::query("UPDATE users SET full_name = $1, title = $2, email = $3 WHERE id = $4")
        .bind(&after.full_name)
        .bind(&after.title)
        .bind(&after.email)
        .bind(id)
        .execute(ctx.conn())
        .await?;
    sqlx::query("DELETE FROM user_departments WHERE user_id = $1")
        .bind(id)
        .execute(ctx.conn())
        .await?;
    let memberships = after
        .main_department
        .iter()
        .map(|d| (d, 1i64))
        .chain(after.other_departments.iter().map(|d| (d, 0i64)));
    for (department, main) in memberships {
        sqlx::query(
            "INSERT INTO user_departments (user_id, department_id, main) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(department.0)
        .bind(main)
        .execute(ctx.conn())
        .await?;
    }
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
        .bind(id)
        .execute(ctx.conn())
        .await?;
    for role in &after.roles {
        sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)")
            .bind(id)
            .bind(role.0)
            .execute(ctx.conn())
            .await?;
    }
    saved(ctx, after).await
}

/// Deactivating deletes the person's sessions in the same transaction; its `person_saved`
/// event (`active: false`) makes every node close their sockets (`EventBody::ends_sessions_of`).
pub async fn set_active(
    ctx: &mut Ctx<'_>,
    command: &SetPersonActive,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    if !command.active && ctx.user().ok().map(|u| u.id) == Some(command.person) {
        return Err(CommandError::Invalid(
            "you cannot deactivate your own account".into(),
        ));
    }
    let mut person = person(ctx.conn(), command.person).await?;
    if person.active == command.active {
        return Ok(CommandOutput::PersonChanged {
            person: person.id,
            seq: None,
        });
    }
    sqlx::query("UPDATE users SET deactivated = $1 WHERE id = $2")
        .bind(i64::from(!command.active))
        .bind(person.id.0)
        .execute(ctx.conn())
        .await?;
    if !command.active {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(person.id.0)
            .execute(ctx.conn())
            .await?;
        // Invitations they made and nobody used die with their access.
        sqlx::query("DELETE FROM invites WHERE created_by = $1 AND used_by IS NULL")
            .bind(person.id.0)
            .execute(ctx.conn())
            .await?;
    }
    person.active = command.active;
    saved(ctx, person).await
}
