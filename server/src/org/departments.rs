//! Departments as a tree (admins change it; everyone signed in reads it).
//! Its events go to the workspace scope, so every open address book and admin page follows.

use xietong::org::{
    CreateDepartment, Department, MoveDepartment, RemoveDepartment, RenameDepartment,
};
use xietong::{CommandOutput, DepartmentId, Scope, Seq, UserId};

use crate::command::{CommandError, Ctx};
use crate::store::{Conn, StoreError};

type DepartmentRow = (i64, String, Option<i64>, Option<i64>, i64);

const COLUMNS: &str = "id, name, parent_id, head_user_id, sort_order";

fn department((id, name, parent, head, order): DepartmentRow) -> Department {
    Department {
        id: DepartmentId(id),
        name,
        parent: parent.map(DepartmentId),
        head: head.map(UserId),
        order,
    }
}

pub async fn all(conn: &mut Conn) -> Result<Vec<Department>, StoreError> {
    let rows: Vec<DepartmentRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM departments ORDER BY id"))
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(department).collect())
}

async fn one(conn: &mut Conn, id: DepartmentId) -> Result<Department, CommandError> {
    let row: Option<DepartmentRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM departments WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(department)
        .ok_or_else(|| CommandError::NotFound("no such department".into()))
}

/// Refuses a name a sibling already has (names compare without case).
async fn require_free_name(
    conn: &mut Conn,
    parent: Option<DepartmentId>,
    name: &str,
    except: Option<DepartmentId>,
) -> Result<(), CommandError> {
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM departments
         WHERE COALESCE(parent_id, 0) = $1 AND lower(name) = lower($2) AND id <> $3",
    )
    .bind(parent.map_or(0, |p| p.0))
    .bind(name)
    .bind(except.map_or(0, |d| d.0))
    .fetch_optional(&mut *conn)
    .await?;
    match taken {
        Some(_) => Err(CommandError::Conflict(format!(
            "a department named \"{name}\" is already there"
        ))),
        None => Ok(()),
    }
}

/// The order that puts a department last among `parent`'s children.
async fn last_order(conn: &mut Conn, parent: Option<DepartmentId>) -> Result<i64, CommandError> {
    let max: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(MAX(sort_order) AS BIGINT) FROM departments WHERE COALESCE(parent_id, 0) = $1",
    )
    .bind(parent.map_or(0, |p| p.0))
    .fetch_one(&mut *conn)
    .await?;
    Ok(max.unwrap_or(0) + 1)
}

async fn saved(ctx: &mut Ctx<'_>, department: Department) -> Result<CommandOutput, CommandError> {
    let id = department.id;
    let seq = ctx
        .append(
            Scope::Workspace,
            xietong::org::OrgEvent::DepartmentSaved { department },
        )
        .await?;
    Ok(CommandOutput::DepartmentChanged {
        department: id,
        seq: Some(seq),
    })
}

pub async fn create(
    ctx: &mut Ctx<'_>,
    command: &CreateDepartment,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let (department, seq) = create_in(ctx, &command.name, command.parent).await?;
    Ok(CommandOutput::DepartmentChanged {
        department,
        seq: Some(seq),
    })
}

/// Makes a department last among `parent`'s children and announces it (for commands that
/// already checked the actor is an admin).
pub async fn create_in(
    ctx: &mut Ctx<'_>,
    name: &str,
    parent: Option<DepartmentId>,
) -> Result<(DepartmentId, Seq), CommandError> {
    let name = xietong::validate::department_name(name)?;
    if let Some(parent) = parent {
        one(ctx.conn(), parent).await?;
    }
    require_free_name(ctx.conn(), parent, &name, None).await?;
    let order = last_order(ctx.conn(), parent).await?;
    let at = ctx.now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO departments (name, parent_id, sort_order, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&name)
    .bind(parent.map(|p| p.0))
    .bind(order)
    .bind(at)
    .fetch_one(ctx.conn())
    .await?;
    let department = Department {
        id: DepartmentId(id),
        name,
        parent,
        head: None,
        order,
    };
    let seq = ctx
        .append(
            Scope::Workspace,
            xietong::org::OrgEvent::DepartmentSaved { department },
        )
        .await?;
    Ok((DepartmentId(id), seq))
}

pub async fn rename(
    ctx: &mut Ctx<'_>,
    command: &RenameDepartment,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let name = xietong::validate::department_name(&command.name)?;
    let mut department = one(ctx.conn(), command.department).await?;
    if department.name == name {
        return Ok(unchanged(department.id));
    }
    require_free_name(ctx.conn(), department.parent, &name, Some(department.id)).await?;
    sqlx::query("UPDATE departments SET name = $1 WHERE id = $2")
        .bind(&name)
        .bind(department.id.0)
        .execute(ctx.conn())
        .await?;
    department.name = name;
    saved(ctx, department).await
}

pub async fn move_to(
    ctx: &mut Ctx<'_>,
    command: &MoveDepartment,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let mut department = one(ctx.conn(), command.department).await?;
    if department.parent == command.parent {
        return Ok(unchanged(department.id));
    }
    // The new parent must exist and must not be the department or anything inside it.
    let mut ancestor = command.parent;
    let mut steps = 0;
    while let Some(id) = ancestor {
        // The tree has no loops (moves run one at a time); the bound is a second guard.
        steps += 1;
        if steps > 10_000 {
            return Err(CommandError::Invalid(
                "the department tree is too deep".into(),
            ));
        }
        if id == department.id {
            return Err(CommandError::Invalid(
                "a department cannot move into itself or one of its sub-departments".into(),
            ));
        }
        ancestor = one(ctx.conn(), id).await?.parent;
    }
    require_free_name(
        ctx.conn(),
        command.parent,
        &department.name,
        Some(department.id),
    )
    .await?;
    let order = last_order(ctx.conn(), command.parent).await?;
    sqlx::query("UPDATE departments SET parent_id = $1, sort_order = $2 WHERE id = $3")
        .bind(command.parent.map(|p| p.0))
        .bind(order)
        .bind(department.id.0)
        .execute(ctx.conn())
        .await?;
    department.parent = command.parent;
    department.order = order;
    saved(ctx, department).await
}

pub async fn remove(
    ctx: &mut Ctx<'_>,
    command: &RemoveDepartment,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    let department = one(ctx.conn(), command.department).await?;
    let children: i64 =
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM departments WHERE parent_id = $1")
            .bind(department.id.0)
            .fetch_one(ctx.conn())
            .await?;
    let people: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM user_departments WHERE department_id = $1",
    )
    .bind(department.id.0)
    .fetch_one(ctx.conn())
    .await?;
    if children > 0 || people > 0 {
        return Err(CommandError::Conflict(format!(
            "\"{}\" is not empty: move or remove its sub-departments and people first",
            department.name
        )));
    }
    sqlx::query("DELETE FROM departments WHERE id = $1")
        .bind(department.id.0)
        .execute(ctx.conn())
        .await?;
    let seq = ctx
        .append(
            Scope::Workspace,
            xietong::org::OrgEvent::DepartmentRemoved {
                department: department.id,
            },
        )
        .await?;
    Ok(CommandOutput::DepartmentChanged {
        department: department.id,
        seq: Some(seq),
    })
}

fn unchanged(department: DepartmentId) -> CommandOutput {
    CommandOutput::DepartmentChanged {
        department,
        seq: None,
    }
}
