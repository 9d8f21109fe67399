//! Importing people from a spreadsheet: CSV (UTF-8, or GB18030 as Excel and WPS save it on a
//! Chinese system) or an Excel workbook (xlsx/xls, first sheet). The first row names the
//! columns, in English or Chinese. A preview checks every row against the database before
//! anything is written; the import itself is one command, so it applies whole or not at all.
//! Accounts come without a password; the server then gives each an initial one, shown once.

use std::collections::{BTreeMap, HashSet};

use app::AppError;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use xietong::limits::{MAX_IMPORT_FILE_BYTES, MAX_IMPORT_ROWS};
use xietong::org::{
    path_names, Department, ImportCheck, ImportPeople, ImportPreview, ImportRow, ImportedPerson,
};
use xietong::{ClientMsgId, Command, CommandOutput, CurrentUser, DepartmentId, Scope};

use crate::backend::Refusal;
use crate::command::{Actor, CommandError, Ctx, Submission};
use crate::store::{Conn, StoreError};
use crate::AppState;

/// Why a file could not be read as a list of people.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MB", MAX_IMPORT_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("at most {MAX_IMPORT_ROWS} people per import; this file has {0}")]
    TooManyRows(usize),
    #[error("the spreadsheet could not be read: {0}")]
    Unreadable(String),
    #[error("the first row must name the columns; missing: {0}")]
    MissingColumns(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
}

/// The columns an import reads, and the headings (English or Chinese, any case) that name them.
const COLUMNS: [(Column, &[&str]); 6] = [
    (Column::FullName, &["name", "full name", "姓名", "名字"]),
    (
        Column::Username,
        &[
            "username",
            "user name",
            "login",
            "用户名",
            "账号",
            "帐号",
            "登录名",
        ],
    ),
    (
        Column::Department,
        &["department", "department path", "部门", "所属部门"],
    ),
    (
        Column::Title,
        &["title", "position", "职务", "职位", "岗位"],
    ),
    (
        Column::Mobile,
        &[
            "mobile",
            "phone",
            "mobile phone",
            "手机",
            "手机号",
            "手机号码",
            "电话",
        ],
    ),
    (
        Column::Email,
        &["email", "e-mail", "mail", "邮箱", "电子邮件", "电子邮箱"],
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    FullName,
    Username,
    Department,
    Title,
    Mobile,
    Email,
}

/// Reads an import file into rows, each with its line number in the file (blank rows
/// skipped). Spreadsheets are recognised by their bytes, not their name.
pub fn parse(bytes: &[u8]) -> Result<Vec<(u32, ImportRow)>, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.len() > MAX_IMPORT_FILE_BYTES {
        return Err(ImportError::TooLarge);
    }
    let table = if bytes.starts_with(b"PK\x03\x04") {
        xlsx_rows(bytes)?
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        workbook_rows(bytes)?
    } else {
        csv_rows(bytes)?
    };
    rows_from_table(table)
}

/// A sheet's rows, each with its line number as the spreadsheet shows it.
type Table = Vec<(u32, Vec<String>)>;

fn line(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Columns read from a sheet; cells further right are not ours.
const MAX_COLUMNS: u32 = 64;

/// An xlsx sheet, read cell by cell (a sheet claiming a million rows by a million columns
/// costs nothing until its cells are there, and reading stops past the row limit).
fn xlsx_rows(bytes: &[u8]) -> Result<Table, ImportError> {
    use calamine::Reader;
    let unreadable = |e: calamine::XlsxError| ImportError::Unreadable(e.to_string());
    let mut workbook: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ImportError::Unreadable("the workbook has no sheet".into()))?;
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(unreadable)?;
    let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        if column >= MAX_COLUMNS {
            continue;
        }
        if !rows.contains_key(&row) && rows.len() > MAX_IMPORT_ROWS + 1 {
            return Err(ImportError::TooManyRows(rows.len()));
        }
        let value = cell_text(&calamine::Data::from(cell.get_value().clone()));
        let cells = rows.entry(row).or_default();
        if cells.len() <= column as usize {
            cells.resize(column as usize + 1, String::new());
        }
        cells[column as usize] = value;
    }
    Ok(rows
        .into_iter()
        .map(|(row, cells)| (line(row as usize), cells))
        .collect())
}

fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        // A mobile number typed into a number cell: 13800138000, not 1.38e10.
        calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        calamine::Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// An old binary workbook (xls): small by the format's own limits (65,536 × 256).
fn workbook_rows(bytes: &[u8]) -> Result<Table, ImportError> {
    use calamine::Reader;
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ImportError::Unreadable("the workbook has no sheet".into()))?
        .map_err(|e| ImportError::Unreadable(e.to_string()))?;
    // Row numbers as the spreadsheet shows them, blank leading rows included.
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .iter()
                .take(MAX_COLUMNS as usize)
                .map(cell_text)
                .collect();
            (line(first_row + i), cells)
        })
        .collect())
}

fn csv_rows(bytes: &[u8]) -> Result<Table, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        // Not UTF-8: what Excel and WPS write for "CSV" on a Chinese Windows.
        Err(_) => encoding_rs::GB18030.decode(bytes).0,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut table = Vec::new();
    // Newlines before `counted`, counted once as the reader moves on.
    let (mut counted, mut newlines) = (0usize, 0usize);
    let bytes = text.as_bytes();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Unreadable(e.to_string()))?;
        if table.len() > MAX_IMPORT_ROWS + 1 {
            return Err(ImportError::TooManyRows(table.len()));
        }
        // The line it starts on: the reader skips blank lines (its position is where it began
        // looking), the admin counts them.
        let start = record
            .position()
            .map_or(0, |p| p.byte() as usize)
            .clamp(counted, bytes.len());
        newlines += bytes[counted..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted = start;
        let blank = bytes[start..]
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r'))
            .filter(|b| **b == b'\n')
            .count();
        let at = newlines + blank + 1;
        table.push((
            u32::try_from(at).unwrap_or(u32::MAX),
            record.iter().map(str::to_owned).collect(),
        ));
    }
    Ok(table)
}

fn rows_from_table(table: Table) -> Result<Vec<(u32, ImportRow)>, ImportError> {
    let blank = |row: &[String]| row.iter().all(|c| c.trim().is_empty());
    let Some(header_at) = table.iter().position(|(_, row)| !blank(row)) else {
        return Err(ImportError::Empty);
    };
    let mut at: BTreeMap<usize, Column> = BTreeMap::new();
    for (i, heading) in table[header_at].1.iter().enumerate() {
        let heading = heading.trim().to_lowercase();
        if let Some((column, _)) = COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&heading.as_str()))
        {
            at.insert(i, *column);
        }
    }
    let missing: Vec<&str> = [(Column::FullName, "name"), (Column::Username, "username")]
        .into_iter()
        .filter(|(c, _)| !at.values().any(|v| v == c))
        .map(|(_, name)| name)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns(missing.join(", ")));
    }
    let mut rows = Vec::new();
    for (line, cells) in table.iter().skip(header_at + 1) {
        if blank(cells) {
            continue;
        }
        let mut row = ImportRow::default();
        for (i, column) in &at {
            let value = cells
                .get(*i)
                .map(|c| c.trim().to_owned())
                .unwrap_or_default();
            match column {
                Column::FullName => row.full_name = value,
                Column::Username => row.username = value,
                Column::Department => row.department = value,
                Column::Title => row.title = value,
                Column::Mobile => row.mobile = value,
                Column::Email => row.email = value,
            }
        }
        rows.push((*line, row));
    }
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(ImportError::TooManyRows(rows.len()));
    }
    Ok(rows)
}

/// The departments as an import sees them: by lowercased path from the top.
struct Tree {
    by_path: BTreeMap<String, DepartmentId>,
}

impl Tree {
    fn new(departments: &[Department]) -> Tree {
        let by_path = departments
            .iter()
            .map(|d| (xietong::org::path(departments, d.id).to_lowercase(), d.id))
            .collect();
        Tree { by_path }
    }
}

/// A row normalised and checked: the values to store, or what is wrong.
struct Checked {
    row: ImportRow,
    /// The department's names from the top (empty: none).
    path: Vec<String>,
    errors: Vec<String>,
}

/// Checks every row against the database and against each other (a username twice in the
/// file). Also returns the department paths that would be made, parents first.
async fn check(
    conn: &mut Conn,
    rows: &[(u32, ImportRow)],
) -> Result<(Vec<Checked>, Vec<String>), StoreError> {
    let departments = super::departments::all(conn).await?;
    let tree = Tree::new(&departments);
    let mut seen_usernames: HashSet<String> = HashSet::new();
    let mut new_departments: Vec<String> = Vec::new();
    let mut checked = Vec::with_capacity(rows.len());
    for (_, row) in rows {
        let mut errors = Vec::new();
        let mut out = ImportRow::default();
        match xietong::validate::profile_field(&row.full_name) {
            Ok(name) if !name.is_empty() => out.full_name = name,
            Ok(_) => errors.push("the name is missing".to_owned()),
            Err(e) => errors.push(format!("name: {e}")),
        }
        match xietong::validate::username(&row.username) {
            Ok(username) => {
                let key = xietong::validate::username_fold(&username);
                let taken: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM users WHERE username_key = $1")
                        .bind(&key)
                        .fetch_optional(&mut *conn)
                        .await?;
                if taken.is_some() {
                    errors.push(format!("the username \"{username}\" is taken"));
                } else if !seen_usernames.insert(key) {
                    errors.push(format!("the username \"{username}\" is in the file twice"));
                }
                out.username = username;
            }
            Err(e) => errors.push(format!("username: {e}")),
        }
        match xietong::validate::profile_field(&row.title) {
            Ok(title) => out.title = title,
            Err(e) => errors.push(format!("title: {e}")),
        }
        if !row.mobile.trim().is_empty() {
            match xietong::validate::mobile(&row.mobile) {
                Ok(mobile) => out.mobile = mobile,
                Err(e) => errors.push(format!("mobile: {e}")),
            }
        }
        if !row.email.trim().is_empty() {
            match xietong::validate::email(&row.email) {
                Ok(email) => out.email = email,
                Err(e) => errors.push(format!("email: {e}")),
            }
        }
        let mut path = Vec::new();
        for name in path_names(&row.department) {
            match xietong::validate::department_name(name) {
                Ok(name) => path.push(name),
                Err(e) => {
                    errors.push(format!("department: {e}"));
                    break;
                }
            }
        }
        out.department = path.join("/");
        if errors.is_empty() {
            for depth in 1..=path.len() {
                let prefix = path[..depth].join("/");
                let key = prefix.to_lowercase();
                if !tree.by_path.contains_key(&key)
                    && !new_departments.iter().any(|d| d.to_lowercase() == key)
                {
                    new_departments.push(prefix);
                }
            }
        }
        checked.push(Checked {
            row: out,
            path,
            errors,
        });
    }
    Ok((checked, new_departments))
}

/// The preview the admin sees before importing.
pub async fn preview(
    conn: &mut Conn,
    rows: &[(u32, ImportRow)],
) -> Result<ImportPreview, StoreError> {
    let (checked, new_departments) = check(conn, rows).await?;
    Ok(ImportPreview {
        rows: rows
            .iter()
            .zip(checked)
            .map(|((line, _), c)| ImportCheck {
                line: *line,
                row: c.row,
                errors: c.errors,
            })
            .collect(),
        new_departments,
    })
}

/// The command: checks every row again inside the transaction and adds all of them, or
/// refuses with the first problems found and writes nothing.
pub async fn import_people(
    ctx: &mut Ctx<'_>,
    command: &ImportPeople,
) -> Result<CommandOutput, CommandError> {
    ctx.require_admin().await?;
    if command.rows.is_empty() {
        return Err(CommandError::Invalid("nobody to import".into()));
    }
    if command.rows.len() > MAX_IMPORT_ROWS {
        return Err(CommandError::Invalid(format!(
            "at most {MAX_IMPORT_ROWS} people per import"
        )));
    }
    let numbered: Vec<(u32, ImportRow)> = command
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (u32::try_from(i + 1).unwrap_or(u32::MAX), r.clone()))
        .collect();
    let (checked, _) = check(ctx.conn(), &numbered).await?;
    let problems: Vec<String> = checked
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.errors.iter().map(move |e| format!("row {}: {e}", i + 1)))
        .take(5)
        .collect();
    if !problems.is_empty() {
        return Err(CommandError::Invalid(format!(
            "nothing was imported: {}",
            problems.join("; ")
        )));
    }
    let departments = super::departments::all(ctx.conn()).await?;
    let mut tree = Tree::new(&departments);
    let mut people = Vec::with_capacity(checked.len());
    let at = ctx.now();
    for Checked { row, path, .. } in checked {
        let mut department = None;
        for depth in 1..=path.len() {
            let key = path[..depth].join("/").to_lowercase();
            department = Some(match tree.by_path.get(&key) {
                Some(id) => *id,
                None => {
                    let (created, _) =
                        super::departments::create_in(ctx, &path[depth - 1], department).await?;
                    tree.by_path.insert(key, created);
                    created
                }
            });
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash, is_admin, created_at,
                                full_name, title, mobile, email)
             VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&row.username)
        .bind(xietong::validate::username_fold(&row.username))
        .bind(false)
        .bind(at)
        .bind(&row.full_name)
        .bind(&row.title)
        .bind(&row.mobile)
        .bind(&row.email)
        .fetch_one(ctx.conn())
        .await?;
        if let Some(department) = department {
            sqlx::query(
                "INSERT INTO user_departments (user_id, department_id, main) VALUES ($1, $2, 1)",
            )
            .bind(id)
            .bind(department.0)
            .execute(ctx.conn())
            .await?;
        }
        let person = super::people::person(ctx.conn(), xietong::UserId(id)).await?;
        people.push(person.id);
        ctx.append(
            Scope::Workspace,
            xietong::org::OrgEvent::PersonSaved { person },
        )
        .await?;
    }
    Ok(CommandOutput::PeopleImported { people })
}

#[derive(serde::Deserialize)]
pub struct ApplyParams {
    /// Makes a retried import (a lost answer) a no-op rather than a second run.
    client_id: String,
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Store(e) => e.into(),
            ImportError::Auth(e) => e.into(),
            other => AppError::Invalid(other.to_string()),
        }
    }
}

/// `POST /admin/import/preview`: the file's rows, checked. Admins only; nothing is written.
pub async fn preview_file(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    body: Bytes,
) -> Result<Json<ImportPreview>, Refusal> {
    let user = admin(user)?;
    let rows = parse_off_runtime(body).await?;
    let mut tx = state.store.read().await?;
    let preview = preview(&mut tx, &rows).await?;
    tx.commit().await.map_err(StoreError::Db)?;
    tracing::info!(admin = %user.id, rows = preview.rows.len(), bad = preview.bad_rows(), "import previewed");
    Ok(Json(preview))
}

/// `POST /admin/import/apply?client_id=…`: imports the file (every row or none), then gives
/// each new account an initial password and returns them, once.
pub async fn apply_file(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Query(params): Query<ApplyParams>,
    body: Bytes,
) -> Result<Json<Vec<ImportedPerson>>, Refusal> {
    let user = admin(user)?;
    let client_id = ClientMsgId(params.client_id);
    if !client_id.is_well_formed() {
        return Err(AppError::Invalid(
            "client_id must be 8 to 64 letters, digits, '-' or '_'".into(),
        )
        .into());
    }
    let rows = parse_off_runtime(body).await?;
    let applied = state
        .log
        .run(Submission {
            actor: Actor::User(user.clone()),
            client_id: Some(client_id),
            command: Command::ImportPeople(ImportPeople {
                rows: rows.into_iter().map(|(_, row)| row).collect(),
            }),
        })
        .await?;
    let CommandOutput::PeopleImported { people } = applied.output else {
        return Err(AppError::Internal.into());
    };
    let passwords = initial_passwords(&state, &people).await.map_err(|e| {
        tracing::error!(error = %e, "setting initial passwords failed");
        AppError::Conflict(
            "The people were imported, but their passwords could not be set: import the same file again, or reset their passwords".into(),
        )
    })?;
    tracing::info!(admin = %user.id, people = people.len(), "people imported");
    Ok(Json(passwords))
}

/// Gives every account in `people` that has no password yet a random one (hashed off the
/// writer, as many at a time as the password gate allows). A retry of the same import sets
/// only what the first run did not.
async fn initial_passwords(
    state: &AppState,
    people: &[xietong::UserId],
) -> Result<Vec<ImportedPerson>, ImportError> {
    use futures::stream::{StreamExt, TryStreamExt};
    let hashed: Vec<(xietong::UserId, String, String)> =
        futures::stream::iter(people.iter().copied())
            .map(|id| async move {
                let password = crate::auth::new_temporary_password();
                let hash = crate::auth::hash_password(&state.passwords, password.clone()).await?;
                Ok::<_, ImportError>((id, password, hash))
            })
            .buffered(4)
            .try_collect()
            .await?;
    let mut out = Vec::new();
    let mut tx = state.store.write().await?;
    for (id, password, hash) in hashed {
        let row: Option<(String, String)> = sqlx::query_as(
            "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = ''
             RETURNING username, full_name",
        )
        .bind(&hash)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::Db)?;
        if let Some((username, full_name)) = row {
            out.push(ImportedPerson {
                username,
                full_name,
                password,
            });
        }
    }
    tx.commit().await.map_err(StoreError::Db)?;
    Ok(out)
}

/// Spreadsheets take real work to read: not on the async runtime.
async fn parse_off_runtime(body: Bytes) -> Result<Vec<(u32, ImportRow)>, AppError> {
    tokio::task::spawn_blocking(move || parse(&body))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(AppError::from)
}

fn admin(user: Option<Extension<CurrentUser>>) -> Result<CurrentUser, AppError> {
    let Some(Extension(user)) = user else {
        return Err(AppError::Unauthorized);
    };
    crate::access::administer(&user)?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_in_gb18030_with_chinese_headings_is_read() {
        let text = "姓名,账号,部门,职务,手机\n张伟,zhangwei,总部/技术部,工程师,13800138000\n\n李娜,lina,,,\n";
        let (bytes, _, _) = encoding_rs::GB18030.encode(text);
        let rows = parse(&bytes).expect("readable");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.full_name, "张伟");
        assert_eq!(rows[0].1.department, "总部/技术部");
        assert_eq!(rows[0].1.mobile, "13800138000");
        assert_eq!(rows[1].0, 4, "the blank line still counts");
        assert_eq!(rows[1].1.username, "lina");
    }

    #[test]
    fn a_file_without_the_name_columns_is_refused() {
        let err = parse(b"foo,bar\n1,2\n").unwrap_err();
        assert!(matches!(err, ImportError::MissingColumns(_)), "{err}");
        assert!(matches!(parse(b""), Err(ImportError::Empty)));
    }
}
