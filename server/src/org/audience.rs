//! Audiences: who a share, a notice, an event … is for. Stored as `AudienceMember` strings
//! (`everyone`, `person:3`, `department:4`, `department_tree:4`, `role:2`) beside what they are
//! the audience of, and decided when asked, so a person who joins a department later is in
//! its audiences from then on.
//!
//! Two questions, both answered here for every module:
//! - "is this user in it?": [`keys_of`] lists the strings a user answers to; a module's query
//!   asks `member IN (keys)`.
//! - "who is in it?" (to tell them): [`resolve`].

use std::collections::{BTreeMap, BTreeSet};

use xietong::org::AudienceMember;
use xietong::{DepartmentId, UserId};

use crate::command::CommandError;
use crate::store::{Conn, StoreError};

/// The audience members `user` is in, as stored strings: everyone, themselves, their roles,
/// their departments, and every department at or above each of those (for the "with
/// sub-departments" kind). Nothing for a deactivated account.
pub async fn keys_of(conn: &mut Conn, user: UserId) -> Result<Vec<String>, StoreError> {
    let active: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND deactivated = 0")
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
    if active.is_none() {
        return Ok(Vec::new());
    }
    let mut keys = vec![
        AudienceMember::Everyone.to_string(),
        AudienceMember::Person(user).to_string(),
    ];
    let roles: Vec<i64> = sqlx::query_scalar("SELECT role_id FROM user_roles WHERE user_id = $1")
        .bind(user.0)
        .fetch_all(&mut *conn)
        .await?;
    keys.extend(roles.into_iter().map(|r| format!("role:{r}")));
    let own: Vec<i64> =
        sqlx::query_scalar("SELECT department_id FROM user_departments WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&mut *conn)
            .await?;
    keys.extend(own.iter().map(|d| format!("department:{d}")));
    // Their departments and every one above: UNION (not UNION ALL) stops at a repeat.
    let above: Vec<i64> = sqlx::query_scalar(
        "WITH RECURSIVE up(id, parent_id) AS (
             SELECT d.id, d.parent_id FROM departments d
             JOIN user_departments ud ON ud.department_id = d.id WHERE ud.user_id = $1
             UNION
             SELECT d.id, d.parent_id FROM departments d JOIN up ON d.id = up.parent_id
         )
         SELECT id FROM up",
    )
    .bind(user.0)
    .fetch_all(&mut *conn)
    .await?;
    keys.extend(above.iter().map(|d| format!("department_tree:{d}")));
    Ok(keys)
}

pub use crate::store::placeholders;

/// The active people in an audience.
pub async fn resolve(
    conn: &mut Conn,
    members: &[AudienceMember],
) -> Result<BTreeSet<UserId>, StoreError> {
    let mut out = BTreeSet::new();
    for member in members {
        let ids: Vec<i64> = match *member {
            AudienceMember::Everyone => {
                sqlx::query_scalar("SELECT id FROM users WHERE deactivated = 0")
                    .fetch_all(&mut *conn)
                    .await?
            }
            AudienceMember::Person(id) => {
                sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND deactivated = 0")
                    .bind(id.0)
                    .fetch_all(&mut *conn)
                    .await?
            }
            AudienceMember::Role(role) => {
                sqlx::query_scalar(
                    "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
                     WHERE r.role_id = $1 AND u.deactivated = 0",
                )
                .bind(role.0)
                .fetch_all(&mut *conn)
                .await?
            }
            AudienceMember::Department(d) => {
                sqlx::query_scalar(
                    "SELECT u.id FROM users u JOIN user_departments ud ON ud.user_id = u.id
                     WHERE ud.department_id = $1 AND u.deactivated = 0",
                )
                .bind(d.0)
                .fetch_all(&mut *conn)
                .await?
            }
            AudienceMember::DepartmentTree(d) => {
                sqlx::query_scalar(
                    "WITH RECURSIVE down(id) AS (
                         SELECT id FROM departments WHERE id = $1
                         UNION
                         SELECT d.id FROM departments d JOIN down ON d.parent_id = down.id
                     )
                     SELECT DISTINCT u.id FROM users u
                     JOIN user_departments ud ON ud.user_id = u.id
                     JOIN down ON down.id = ud.department_id
                     WHERE u.deactivated = 0",
                )
                .bind(d.0)
                .fetch_all(&mut *conn)
                .await?
            }
        };
        out.extend(ids.into_iter().map(UserId));
    }
    Ok(out)
}

/// The people in audience members that each carry a value (a share's permission, say): each
/// person with the greatest value of the members they are in.
pub async fn resolve_with<T: Ord + Copy>(
    conn: &mut Conn,
    members: &[(AudienceMember, T)],
) -> Result<BTreeMap<UserId, T>, StoreError> {
    let mut out: BTreeMap<UserId, T> = BTreeMap::new();
    for (member, value) in members {
        for user in resolve(conn, std::slice::from_ref(member)).await? {
            let best = out.entry(user).or_insert(*value);
            *best = (*best).max(*value);
        }
    }
    Ok(out)
}

/// An audience as given, checked: one to `MAX_AUDIENCE_MEMBERS` members, each naming a person,
/// department or role that exists; repeats dropped.
pub async fn checked(
    conn: &mut Conn,
    members: &[AudienceMember],
) -> Result<Vec<AudienceMember>, CommandError> {
    let unique: BTreeSet<AudienceMember> = members.iter().copied().collect();
    if unique.is_empty() || unique.len() > xietong::limits::MAX_AUDIENCE_MEMBERS {
        return Err(xietong::ValidationError::Audience.into());
    }
    for member in &unique {
        let (sql, id) = match *member {
            AudienceMember::Everyone => continue,
            AudienceMember::Person(id) => ("SELECT id FROM users WHERE id = $1", id.0),
            AudienceMember::Role(id) => ("SELECT id FROM roles WHERE id = $1", id.0),
            AudienceMember::Department(DepartmentId(id))
            | AudienceMember::DepartmentTree(DepartmentId(id)) => {
                ("SELECT id FROM departments WHERE id = $1", id)
            }
        };
        let found: Option<i64> = sqlx::query_scalar(sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(CommandError::NotFound(format!(
                "no such person, department or role: {member}"
            )));
        }
    }
    Ok(unique.into_iter().collect())
}

/// People named by id, checked: each exists; repeats dropped; at most `MAX_AUDIENCE_MEMBERS`.
pub async fn known_people(conn: &mut Conn, ids: &[UserId]) -> Result<Vec<UserId>, CommandError> {
    let unique: BTreeSet<UserId> = ids.iter().copied().collect();
    if unique.len() > xietong::limits::MAX_AUDIENCE_MEMBERS {
        return Err(CommandError::Invalid("too many people".into()));
    }
    let unique: Vec<UserId> = unique.into_iter().collect();
    let found = crate::auth::queries::user_refs(conn, &unique).await?;
    if found.len() != unique.len() {
        return Err(CommandError::Invalid("no such user".into()));
    }
    Ok(unique)
}

/// Replaces the people listed for `id` in `table` (a module's editors or moderators: columns
/// `key` and `user_id`). `table` and `key` are the caller's constants, never input.
pub async fn replace_listed(
    conn: &mut Conn,
    table: &str,
    key: &str,
    id: i64,
    people: &[UserId],
) -> Result<(), StoreError> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {key} = $1"))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for user in people {
        sqlx::query(&format!(
            "INSERT INTO {table} ({key}, user_id) VALUES ($1, $2)"
        ))
        .bind(id)
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Replaces the audience rows for `id` in `table` (columns `key` and `member`, one row per
/// member key, for `access` to look up). `table` and `key` are the caller's constants.
pub async fn replace_audience(
    conn: &mut Conn,
    table: &str,
    key: &str,
    id: i64,
    audience: &[AudienceMember],
) -> Result<(), StoreError> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {key} = $1"))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for member in audience {
        sqlx::query(&format!(
            "INSERT INTO {table} ({key}, member) VALUES ($1, $2)"
        ))
        .bind(id)
        .bind(member.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
