//! The personal file cabinet (个人文件柜): folders and files of one owner, versions (a file
//! saved again under the same name in the same folder keeps the old bytes as a version), and a
//! recycle bin. Its events go to the owner's user scope, so every tab of theirs follows, and to
//! the scope of every shared folder around the entry, so everyone it is shared with does.
//! Whoever a folder is shared with as "edit" works inside it as the owner does (upload, new
//! folders, rename, move, delete); sharing, links, restoring and emptying the recycle bin stay
//! the owner's.

use std::collections::{BTreeMap, HashSet};

use xietong::files::{
    CabinetSnapshot, CreateFolder, DeleteEntry, EmptyRecycleBin, Entry, EntryId, FileId, FileInfo,
    MoveEntry, Permission, RenameEntry, RestoreEntry, SaveUpload, Share, ShareLink, Usage,
};
use xietong::org::AudienceMember;
use xietong::{CommandOutput, CurrentUser, Scope, UserId};

use super::uploads::{take_completed, used_bytes};
use crate::access::{self, Denied};
use crate::command::{CommandError, Ctx};
use crate::store::{self, Conn, Store, StoreError};

type EntryRow = (
    i64,
    i64,
    Option<i64>,
    String,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
);
type FileRow = (i64, String, i64, String, i64, i64, Option<i64>);

const ENTRY_COLUMNS: &str =
    "id, owner_id, parent_id, name, is_folder, current_file_id, updated_at, deleted_at";
const FILE_COLUMNS: &str = "id, name, size, mime, owner_id, created_at, entry_id";
/// A share: entry, member, can_edit.
pub(super) type ShareRow = (i64, String, i64);
/// A link: entry, token, password hash, expires_at, created_at.
pub(super) type LinkRow = (i64, String, String, Option<i64>, i64);

/// What an entry carries besides its own row: its versions, shares and links.
#[derive(Default)]
pub(super) struct Extras {
    pub files: Vec<FileRow>,
    pub shares: Vec<ShareRow>,
    pub links: Vec<LinkRow>,
}

impl Extras {
    /// Those of the entries `filter` picks (a `WHERE` on `cabinet_entries e`, binding `$1`).
    pub(super) async fn load(conn: &mut Conn, filter: &str, bind: i64) -> Result<Self, StoreError> {
        let files = sqlx::query_as(&format!(
            "SELECT {} FROM files f JOIN cabinet_entries e ON e.id = f.entry_id WHERE {filter}",
            FILE_COLUMNS
                .split(", ")
                .map(|c| format!("f.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(bind)
        .fetch_all(&mut *conn)
        .await?;
        let shares = sqlx::query_as(&format!(
            "SELECT s.entry_id, s.member, s.can_edit FROM cabinet_shares s
             JOIN cabinet_entries e ON e.id = s.entry_id WHERE {filter}"
        ))
        .bind(bind)
        .fetch_all(&mut *conn)
        .await?;
        let links = sqlx::query_as(&format!(
            "SELECT l.entry_id, l.token, l.password_hash, l.expires_at, l.created_at
             FROM share_links l JOIN cabinet_entries e ON e.id = l.entry_id WHERE {filter}"
        ))
        .bind(bind)
        .fetch_all(&mut *conn)
        .await?;
        Ok(Extras {
            files,
            shares,
            links,
        })
    }
}

fn file_info((id, name, size, mime, by, at, _): &FileRow) -> FileInfo {
    FileInfo {
        id: FileId(*id),
        name: name.clone(),
        size: *size as u64,
        mime: mime.clone(),
        by: UserId(*by),
        at: *at,
    }
}

/// Entries with their versions, shares and links, from rows.
pub(super) fn entries(rows: Vec<EntryRow>, extras: Extras) -> Vec<Entry> {
    let mut versions: BTreeMap<i64, Vec<FileInfo>> = BTreeMap::new();
    for file in &extras.files {
        if let Some(entry) = file.6 {
            versions.entry(entry).or_default().push(file_info(file));
        }
    }
    let mut shares: BTreeMap<i64, Vec<Share>> = BTreeMap::new();
    for (entry, member, can_edit) in extras.shares {
        // A row this version cannot read is skipped rather than failing the whole cabinet.
        if let Ok(member) = member.parse::<AudienceMember>() {
            shares.entry(entry).or_default().push(Share {
                member,
                permission: if can_edit != 0 {
                    Permission::Edit
                } else {
                    Permission::View
                },
            });
        }
    }
    let mut links: BTreeMap<i64, Vec<ShareLink>> = BTreeMap::new();
    for (entry, token, password_hash, expires_at, created_at) in extras.links {
        links.entry(entry).or_default().push(ShareLink {
            token,
            has_password: !password_hash.is_empty(),
            expires_at,
            created_at,
        });
    }
    rows.into_iter()
        .map(
            |(id, owner, parent, name, is_folder, current, updated_at, deleted_at)| {
                let mut all = versions.remove(&id).unwrap_or_default();
                // Newest first.
                all.sort_by_key(|f| std::cmp::Reverse(f.id));
                let file = if is_folder != 0 {
                    None
                } else {
                    let at = all.iter().position(|f| Some(f.id.0) == current);
                    at.map(|i| all.remove(i))
                };
                let mut entry_shares = shares.remove(&id).unwrap_or_default();
                entry_shares.sort_by_key(|s| s.member);
                let mut entry_links = links.remove(&id).unwrap_or_default();
                entry_links.sort_by(|a, b| (a.created_at, &a.token).cmp(&(b.created_at, &b.token)));
                Entry {
                    id: EntryId(id),
                    owner: UserId(owner),
                    parent: parent.map(EntryId),
                    name,
                    older_versions: if file.is_some() { all } else { Vec::new() },
                    file,
                    updated_at,
                    deleted_at,
                    shares: entry_shares,
                    links: entry_links,
                }
            },
        )
        .collect()
}

pub(super) async fn entry(conn: &mut Conn, id: EntryId) -> Result<Option<Entry>, StoreError> {
    let rows: Vec<EntryRow> = sqlx::query_as(&format!(
        "SELECT {ENTRY_COLUMNS} FROM cabinet_entries WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await?;
    let extras = Extras::load(conn, "e.id = $1", id.0).await?;
    Ok(entries(rows, extras).pop())
}

/// The entries in and below `root` (itself included), not what is in the recycle bin.
pub(super) async fn subtree(conn: &mut Conn, root: EntryId) -> Result<Vec<Entry>, StoreError> {
    const TREE: &str = "WITH RECURSIVE down(id) AS (
             SELECT id FROM cabinet_entries WHERE id = $1 AND deleted_at IS NULL
             UNION
             SELECT c.id FROM cabinet_entries c JOIN down ON c.parent_id = down.id
             WHERE c.deleted_at IS NULL
         )";
    let rows: Vec<EntryRow> = sqlx::query_as(&format!(
        "{TREE} SELECT {} FROM cabinet_entries e JOIN down ON down.id = e.id ORDER BY e.id",
        ENTRY_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(root.0)
    .fetch_all(&mut *conn)
    .await?;
    let files: Vec<FileRow> = sqlx::query_as(&format!(
        "{TREE} SELECT {} FROM files f JOIN down ON down.id = f.entry_id",
        FILE_COLUMNS
            .split(", ")
            .map(|c| format!("f.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(root.0)
    .fetch_all(&mut *conn)
    .await?;
    let extras = Extras {
        files,
        ..Extras::default()
    };
    Ok(entries(rows, extras))
}

/// The cabinet of `user`, and the head of their user scope to watch from.
pub async fn snapshot(store: &Store, user: &CurrentUser) -> Result<CabinetSnapshot, Denied> {
    let mut tx = store.read().await?;
    let scope = Scope::User(user.id);
    access::check(&mut tx, user, scope, access::Need::Read).await?;
    let head = store::head(&mut tx, scope).await?;
    let rows: Vec<EntryRow> = sqlx::query_as(&format!(
        "SELECT {ENTRY_COLUMNS} FROM cabinet_entries WHERE owner_id = $1 ORDER BY id"
    ))
    .bind(user.id.0)
    .fetch_all(&mut *tx)
    .await?;
    let extras = Extras::load(&mut tx, "e.owner_id = $1", user.id.0).await?;
    let usage = usage(&mut tx, user.id).await?;
    let shared = super::sharing::shared_with(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(CabinetSnapshot {
        owner: user.id,
        entries: entries(rows, extras),
        usage,
        shared,
        head,
    })
}

pub(super) async fn usage(conn: &mut Conn, user: UserId) -> Result<Usage, StoreError> {
    let limits = crate::settings::workspace(conn).await?;
    Ok(Usage {
        used: used_bytes(conn, user).await?,
        quota: Some(limits.quota_bytes()),
    })
}

/// An entry of the actor's, for what only its owner does (sharing, restoring): not someone
/// else's (as unknown as a missing one).
pub(super) async fn own(ctx: &mut Ctx<'_>, id: EntryId) -> Result<Entry, CommandError> {
    let user = ctx.user()?.id;
    match entry(ctx.conn(), id).await? {
        Some(e) if e.owner == user => Ok(e),
        _ => Err(CommandError::NotFound("no such file or folder".into())),
    }
}

/// An entry the actor may change: their own, or inside something shared with them as "edit".
/// One they may only view is refused; one they cannot see is unknown.
async fn writable(ctx: &mut Ctx<'_>, id: EntryId) -> Result<Entry, CommandError> {
    let user = ctx.user()?;
    match access::cabinet_entry(ctx.conn(), user, id).await? {
        Some(Permission::Edit) => {}
        Some(Permission::View) => {
            return Err(CommandError::Forbidden(
                "this is shared with you to view, not to change".into(),
            ))
        }
        None => return Err(CommandError::NotFound("no such file or folder".into())),
    }
    entry(ctx.conn(), id)
        .await?
        .ok_or_else(|| CommandError::NotFound("no such file or folder".into()))
}

/// `writable`, for renaming, moving or deleting it: a shared entry itself (the folder someone
/// shared) stays where and as its owner put it.
async fn rearrangeable(ctx: &mut Ctx<'_>, id: EntryId) -> Result<Entry, CommandError> {
    let entry = writable(ctx, id).await?;
    if entry.owner != ctx.user()?.id && !entry.shares.is_empty() {
        return Err(CommandError::Forbidden(
            "only its owner renames, moves or deletes a shared file or folder".into(),
        ));
    }
    Ok(entry)
}

/// The cabinet a new entry goes in: `folder`'s owner's (a folder the actor may change, not in
/// the recycle bin), or the actor's own at the top.
async fn target_folder(ctx: &mut Ctx<'_>, id: Option<EntryId>) -> Result<UserId, CommandError> {
    let Some(id) = id else {
        return Ok(ctx.user()?.id);
    };
    let folder = writable(ctx, id).await?;
    if !folder.is_folder() {
        return Err(CommandError::Invalid("that is a file, not a folder".into()));
    }
    if in_recycle_bin(ctx.conn(), &folder).await? {
        return Err(CommandError::Invalid(
            "that folder is in the recycle bin".into(),
        ));
    }
    Ok(folder.owner)
}

/// Whether an entry or a folder around it is in the recycle bin.
async fn in_recycle_bin(conn: &mut Conn, entry: &Entry) -> Result<bool, StoreError> {
    if entry.deleted_at.is_some() {
        return Ok(true);
    }
    let mut next = entry.parent;
    let mut steps = 0;
    while let Some(id) = next {
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT parent_id, deleted_at FROM cabinet_entries WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await?;
        let Some((parent, deleted_at)) = row else {
            return Ok(false);
        };
        if deleted_at.is_some() {
            return Ok(true);
        }
        next = parent.map(EntryId);
        steps += 1;
        if steps > 10_000 {
            break;
        }
    }
    Ok(false)
}

/// The live entry named `name` (without case) in `parent`, other than `except`.
async fn named(
    conn: &mut Conn,
    owner: UserId,
    parent: Option<EntryId>,
    name: &str,
    except: Option<EntryId>,
) -> Result<Option<(i64, bool)>, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, is_folder FROM cabinet_entries
         WHERE owner_id = $1 AND COALESCE(parent_id, 0) = $2 AND lower(name) = lower($3)
           AND deleted_at IS NULL AND id <> $4",
    )
    .bind(owner.0)
    .bind(parent.map_or(0, |p| p.0))
    .bind(name)
    .bind(except.map_or(0, |e| e.0))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(id, folder)| (id, folder != 0)))
}

async fn require_free(
    conn: &mut Conn,
    owner: UserId,
    parent: Option<EntryId>,
    name: &str,
    except: Option<EntryId>,
) -> Result<(), CommandError> {
    if named(conn, owner, parent, name, except).await?.is_some() {
        return Err(CommandError::Conflict(format!(
            "\"{name}\" is already in that folder"
        )));
    }
    Ok(())
}

/// Announces an entry as it now is: to its owner (with their usage), to everyone following a
/// shared folder around it (and those in `also`: where it was before a move), and, when
/// `to_readers` and it is shared itself, to the "Shared with me" of everyone it is shared with.
pub(super) async fn saved(
    ctx: &mut Ctx<'_>,
    id: EntryId,
    also: &[EntryId],
    to_readers: bool,
) -> Result<CommandOutput, CommandError> {
    let entry = entry(ctx.conn(), id)
        .await?
        .ok_or_else(|| CommandError::NotFound("no such file or folder".into()))?;
    let usage = usage(ctx.conn(), entry.owner).await?;
    ctx.append(
        Scope::User(entry.owner),
        xietong::files::FilesEvent::EntrySaved {
            entry: entry.clone(),
            usage,
        },
    )
    .await?;
    super::sharing::follow(ctx, entry, also, to_readers).await?;
    Ok(CommandOutput::EntryChanged { entry: id })
}

pub async fn create_folder(
    ctx: &mut Ctx<'_>,
    command: &CreateFolder,
) -> Result<CommandOutput, CommandError> {
    let name = xietong::files::file_name(&command.name)?;
    let owner = target_folder(ctx, command.parent).await?;
    require_free(ctx.conn(), owner, command.parent, &name, None).await?;
    let at = ctx.now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO cabinet_entries (owner_id, parent_id, name, is_folder, updated_at)
         VALUES ($1, $2, $3, 1, $4) RETURNING id",
    )
    .bind(owner.0)
    .bind(command.parent.map(|p| p.0))
    .bind(&name)
    .bind(at)
    .fetch_one(ctx.conn())
    .await?;
    saved(ctx, EntryId(id), &[], false).await
}

/// A complete upload into a folder: a new file, or a new version of the file of that name.
/// The bytes count against the uploader's quota, wherever the folder is.
pub async fn save_upload(
    ctx: &mut Ctx<'_>,
    command: &SaveUpload,
) -> Result<CommandOutput, CommandError> {
    let uploader = ctx.user()?.id;
    // One quota check at a time per person, on every node.
    store::lock_scope(ctx.conn(), Scope::User(uploader)).await?;
    let owner = target_folder(ctx, command.parent).await?;
    let upload = take_completed(ctx.conn(), &command.upload, uploader).await?;
    // Two uploads started side by side may each have fit the quota but not both.
    let limits = crate::settings::workspace(ctx.conn()).await?;
    let used = used_bytes(ctx.conn(), uploader).await?;
    if used + upload.size > limits.quota_bytes() {
        return Err(CommandError::Conflict(format!(
            "not enough room for \"{}\": your quota is {}",
            upload.name,
            xietong::files::human_size(limits.quota_bytes())
        )));
    }
    let at = ctx.now();
    let entry = match named(ctx.conn(), owner, command.parent, &upload.name, None).await? {
        Some((_, true)) => {
            return Err(CommandError::Conflict(format!(
                "a folder named \"{}\" is there",
                upload.name
            )))
        }
        Some((id, false)) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO cabinet_entries (owner_id, parent_id, name, is_folder, updated_at)
                 VALUES ($1, $2, $3, 0, $4) RETURNING id",
            )
            .bind(owner.0)
            .bind(command.parent.map(|p| p.0))
            .bind(&upload.name)
            .bind(at)
            .fetch_one(ctx.conn())
            .await?
        }
    };
    let file: i64 = sqlx::query_scalar(
        "INSERT INTO files (hash, name, size, mime, owner_id, entry_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&upload.hash)
    .bind(&upload.name)
    .bind(upload.size as i64)
    .bind(&upload.mime)
    .bind(uploader.0)
    .bind(entry)
    .bind(at)
    .fetch_one(ctx.conn())
    .await?;
    sqlx::query("UPDATE cabinet_entries SET current_file_id = $1, updated_at = $2 WHERE id = $3")
        .bind(file)
        .bind(at)
        .bind(entry)
        .execute(ctx.conn())
        .await?;
    saved(ctx, EntryId(entry), &[], false).await
}

pub async fn rename(
    ctx: &mut Ctx<'_>,
    command: &RenameEntry,
) -> Result<CommandOutput, CommandError> {
    let entry = rearrangeable(ctx, command.entry).await?;
    let name = xietong::files::file_name(&command.name)?;
    if name == entry.name {
        return Ok(CommandOutput::EntryChanged { entry: entry.id });
    }
    require_free(ctx.conn(), entry.owner, entry.parent, &name, Some(entry.id)).await?;
    let at = ctx.now();
    sqlx::query("UPDATE cabinet_entries SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(&name)
        .bind(at)
        .bind(entry.id.0)
        .execute(ctx.conn())
        .await?;
    saved(ctx, entry.id, &[], true).await
}

pub async fn move_to(
    ctx: &mut Ctx<'_>,
    command: &MoveEntry,
) -> Result<CommandOutput, CommandError> {
    let entry = rearrangeable(ctx, command.entry).await?;
    if entry.parent == command.parent {
        return Ok(CommandOutput::EntryChanged { entry: entry.id });
    }
    // Within one cabinet: someone it is shared with moves things inside the owner's.
    if command.parent.is_none() && entry.owner != ctx.user()?.id {
        return Err(CommandError::Forbidden(
            "only the owner can move this to the top of their files".into(),
        ));
    }
    if target_folder(ctx, command.parent).await? != entry.owner {
        return Err(CommandError::Invalid(
            "files move within one person's cabinet".into(),
        ));
    }
    // Whoever followed it where it was sees it leave, and stops following what is shared
    // inside it unless they may read it where it goes.
    let was_in = super::sharing::shared_around(ctx.conn(), entry.id).await?;
    let could_follow = super::sharing::followers_below(ctx.conn(), entry.id).await?;
    // Not into itself or anything inside it.
    let mut next = command.parent;
    while let Some(id) = next {
        if id == entry.id {
            return Err(CommandError::Invalid(
                "a folder cannot go inside itself".into(),
            ));
        }
        next = sqlx::query_scalar::<_, Option<i64>>(
            "SELECT parent_id FROM cabinet_entries WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(ctx.conn())
        .await?
        .flatten()
        .map(EntryId);
    }
    require_free(
        ctx.conn(),
        entry.owner,
        command.parent,
        &entry.name,
        Some(entry.id),
    )
    .await?;
    let at = ctx.now();
    sqlx::query("UPDATE cabinet_entries SET parent_id = $1, updated_at = $2 WHERE id = $3")
        .bind(command.parent.map(|p| p.0))
        .bind(at)
        .bind(entry.id.0)
        .execute(ctx.conn())
        .await?;
    super::sharing::revoke_lost(ctx, entry.id, could_follow).await?;
    saved(ctx, entry.id, &was_in, false).await
}

pub async fn delete(
    ctx: &mut Ctx<'_>,
    command: &DeleteEntry,
) -> Result<CommandOutput, CommandError> {
    let entry = rearrangeable(ctx, command.entry).await?;
    if entry.deleted_at.is_some() {
        return Ok(CommandOutput::EntryChanged { entry: entry.id });
    }
    // In the recycle bin nobody but its owner follows what is shared in it.
    let could_follow = super::sharing::followers_below(ctx.conn(), entry.id).await?;
    let at = ctx.now();
    sqlx::query("UPDATE cabinet_entries SET deleted_at = $1 WHERE id = $2")
        .bind(at)
        .bind(entry.id.0)
        .execute(ctx.conn())
        .await?;
    super::sharing::revoke_lost(ctx, entry.id, could_follow).await?;
    saved(ctx, entry.id, &[], true).await
}

/// Back where it was; at the top when that folder is gone or in the recycle bin itself, and
/// with " (2)" (or the next free number) added when its name was taken meanwhile.
pub async fn restore(
    ctx: &mut Ctx<'_>,
    command: &RestoreEntry,
) -> Result<CommandOutput, CommandError> {
    let entry = own(ctx, command.entry).await?;
    if entry.deleted_at.is_none() {
        return Ok(CommandOutput::EntryChanged { entry: entry.id });
    }
    let mut parent = entry.parent;
    if let Some(id) = parent {
        let usable = match self::entry(ctx.conn(), id).await? {
            Some(folder) => !in_recycle_bin(ctx.conn(), &folder).await?,
            None => false,
        };
        if !usable {
            parent = None;
        }
    }
    let mut name = entry.name.clone();
    let mut n = 2;
    while named(ctx.conn(), entry.owner, parent, &name, Some(entry.id))
        .await?
        .is_some()
    {
        name = numbered(&entry.name, n);
        n += 1;
    }
    let at = ctx.now();
    sqlx::query(
        "UPDATE cabinet_entries SET deleted_at = NULL, parent_id = $1, name = $2, updated_at = $3
         WHERE id = $4",
    )
    .bind(parent.map(|p| p.0))
    .bind(&name)
    .bind(at)
    .bind(entry.id.0)
    .execute(ctx.conn())
    .await?;
    saved(ctx, entry.id, &[], true).await
}

/// `报告.docx` → `报告 (2).docx`.
fn numbered(name: &str, n: u32) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Deletes for good what is in the recycle bin, with everything inside deleted folders.
pub async fn empty_recycle_bin(
    ctx: &mut Ctx<'_>,
    _command: &EmptyRecycleBin,
) -> Result<CommandOutput, CommandError> {
    let owner = ctx.user()?.id;
    let rows: Vec<(i64, Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT id, parent_id, deleted_at FROM cabinet_entries WHERE owner_id = $1")
            .bind(owner.0)
            .fetch_all(ctx.conn())
            .await?;
    let mut doomed: HashSet<i64> = rows.iter().filter(|r| r.2.is_some()).map(|r| r.0).collect();
    // Everything below a deleted folder goes with it.
    loop {
        let before = doomed.len();
        for (id, parent, _) in &rows {
            if parent.is_some_and(|p| doomed.contains(&p)) {
                doomed.insert(*id);
            }
        }
        if doomed.len() == before {
            break;
        }
    }
    if doomed.is_empty() {
        return Ok(CommandOutput::RecycleBinEmptied { purged: 0 });
    }
    let mut ids: Vec<i64> = doomed.into_iter().collect();
    ids.sort_unstable();
    // In this order over all of them: no entry is deleted while another still points at it.
    let statements = [
        "DELETE FROM cabinet_shares WHERE entry_id IN",
        "DELETE FROM share_links WHERE entry_id IN",
        "UPDATE cabinet_entries SET current_file_id = NULL, parent_id = NULL WHERE id IN",
        "DELETE FROM files WHERE entry_id IN",
        "DELETE FROM cabinet_entries WHERE id IN",
    ];
    for statement in statements {
        for chunk in ids.chunks(200) {
            // Ids the server read itself, not input: listed inline.
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            sqlx::query(&format!("{statement} ({})", list.join(",")))
                .execute(ctx.conn())
                .await?;
        }
    }
    let usage = usage(ctx.conn(), owner).await?;
    let purged = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    ctx.append(
        Scope::User(owner),
        xietong::files::FilesEvent::EntriesPurged {
            entries: ids.into_iter().map(EntryId).collect(),
            usage,
        },
    )
    .await?;
    Ok(CommandOutput::RecycleBinEmptied { purged })
}

#[cfg(test)]
mod tests {
    #[test]
    fn restored_names_are_numbered_before_the_extension() {
        assert_eq!(super::numbered("报告.docx", 2), "报告 (2).docx");
        assert_eq!(super::numbered("Folder", 3), "Folder (3)");
        assert_eq!(super::numbered(".env", 2), ".env (2)");
    }
}
