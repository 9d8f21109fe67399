//! Sharing cabinet entries: with an audience as view or edit (`ShareEntry`, `Unshare`), and by
//! link (`CreateShareLink`, `DeleteShareLink`; served by `links`). Who may read what is decided
//! by the access module (`access::cabinet_entry`); this module keeps everyone who follows a
//! shared entry up to date:
//! - changes inside a shared folder go to the folder's scope (`Scope::Shared`), which everyone
//!   it is shared with may follow;
//! - the "Shared with me" list of each person lives in their user scope (`SharedWithYou`,
//!   `ShareWithdrawn`);
//! - unsharing ends the live subscriptions of those who lost access (`SharingChanged`).

use std::collections::{BTreeMap, BTreeSet};

use xietong::files::{
    CabinetSnapshot, CreateShareLink, DeleteShareLink, Entry, EntryId, Permission, ShareEntry,
    SharedItem, SharedSnapshot, Unshare, Usage,
};
use xietong::org::AudienceMember;
use xietong::{CommandOutput, CurrentUser, Scope, UserId};

use super::cabinet::{self, own, saved};
use crate::access::{self, Denied};
use crate::command::{CommandError, Ctx};
use crate::org::audience;
use crate::store::{self, Conn, Store, StoreError};

/// A link password is at least this long (and at most `MAX_PASSWORD_CHARS`).
pub const MIN_LINK_PASSWORD_CHARS: usize = 4;

/// The shared entries at or above `entry` (nearest first): the scopes that follow it.
pub async fn shared_around(conn: &mut Conn, entry: EntryId) -> Result<Vec<EntryId>, StoreError> {
    let Some(chain) = access::entry_chain(conn, entry).await? else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT DISTINCT entry_id FROM cabinet_shares WHERE entry_id IN ({})",
        audience::placeholders(1, chain.ids.len())
    );
    let mut query = sqlx::query_scalar::<_, i64>(&sql);
    for id in &chain.ids {
        query = query.bind(*id);
    }
    let shared: BTreeSet<i64> = query.fetch_all(&mut *conn).await?.into_iter().collect();
    Ok(chain
        .ids
        .into_iter()
        .filter(|id| shared.contains(id))
        .map(EntryId)
        .collect())
}

/// Who may follow each shared scope at or below `entry` (nobody but the owner, for what is in
/// the recycle bin): taken before a change that may take access away, and handed to
/// `revoke_lost` after it.
pub async fn followers_below(
    conn: &mut Conn,
    entry: EntryId,
) -> Result<BTreeMap<EntryId, BTreeSet<UserId>>, StoreError> {
    let shared: Vec<i64> = sqlx::query_scalar(
        "WITH RECURSIVE down(id) AS (
             SELECT id FROM cabinet_entries WHERE id = $1
             UNION
             SELECT c.id FROM cabinet_entries c JOIN down ON c.parent_id = down.id
         )
         SELECT DISTINCT s.entry_id FROM cabinet_shares s JOIN down ON down.id = s.entry_id",
    )
    .bind(entry.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = BTreeMap::new();
    for id in shared {
        let id = EntryId(id);
        let chain = access::entry_chain(conn, id).await?;
        let readers = match chain {
            Some(chain) if !chain.in_recycle_bin => {
                let Some(found) = cabinet::entry(conn, id).await? else {
                    continue;
                };
                all_readers(conn, &found).await?
            }
            _ => BTreeSet::new(),
        };
        out.insert(id, readers);
    }
    Ok(out)
}

/// Ends the live following of every shared scope at or below `entry` for those who could
/// follow it `before` and may not now.
pub async fn revoke_lost(
    ctx: &mut Ctx<'_>,
    entry: EntryId,
    before: BTreeMap<EntryId, BTreeSet<UserId>>,
) -> Result<(), CommandError> {
    if before.is_empty() {
        return Ok(());
    }
    let after = followers_below(ctx.conn(), entry).await?;
    for (scope, could) in before {
        let can = after.get(&scope).cloned().unwrap_or_default();
        let revoked: Vec<UserId> = could.difference(&can).copied().collect();
        if !revoked.is_empty() {
            ctx.append(
                Scope::Shared(scope),
                xietong::files::FilesEvent::SharingChanged {
                    entry: scope,
                    revoked,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// The people an entry's own shares reach (its owner left out), each with their permission.
async fn direct_readers(
    conn: &mut Conn,
    entry: &Entry,
) -> Result<BTreeMap<UserId, Permission>, StoreError> {
    let members: Vec<(AudienceMember, Permission)> = entry
        .shares
        .iter()
        .map(|s| (s.member, s.permission))
        .collect();
    let mut readers = audience::resolve_with(conn, &members).await?;
    readers.remove(&entry.owner);
    Ok(readers)
}

/// The people who may read an entry through its shares or those of the folders above it.
async fn all_readers(conn: &mut Conn, entry: &Entry) -> Result<BTreeSet<UserId>, StoreError> {
    let mut members = Vec::new();
    for id in shared_around(conn, entry.id).await? {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT member FROM cabinet_shares WHERE entry_id = $1")
                .bind(id.0)
                .fetch_all(&mut *conn)
                .await?;
        members.extend(rows.iter().filter_map(|m| m.parse::<AudienceMember>().ok()));
    }
    let mut readers = audience::resolve(conn, &members).await?;
    readers.remove(&entry.owner);
    Ok(readers)
}

async fn owner_name(conn: &mut Conn, owner: UserId) -> Result<String, StoreError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT username, full_name FROM users WHERE id = $1")
            .bind(owner.0)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match row {
        Some((_, full)) if !full.is_empty() => full,
        Some((username, _)) => username,
        None => String::new(),
    })
}

/// Tells `readers` about `entry` in their "Shared with me": there with this permission, or
/// (`None`) gone.
async fn tell_readers(
    ctx: &mut Ctx<'_>,
    entry: &Entry,
    readers: impl IntoIterator<Item = (UserId, Option<Permission>)>,
) -> Result<(), CommandError> {
    let name = owner_name(ctx.conn(), entry.owner).await?;
    for (reader, permission) in readers {
        let body = match permission {
            Some(permission) => xietong::files::FilesEvent::SharedWithYou {
                item: SharedItem {
                    entry: entry.clone().for_reader(),
                    owner_name: name.clone(),
                    permission,
                },
            },
            None => xietong::files::FilesEvent::ShareWithdrawn { entry: entry.id },
        };
        ctx.append(Scope::User(reader), body).await?;
    }
    Ok(())
}

/// After an entry changed: everyone following a shared folder around it (and the scopes in
/// `also`) gets it as it now is; with `to_readers`, the people it is shared with directly see
/// it in (or, deleted, out of) their "Shared with me".
pub async fn follow(
    ctx: &mut Ctx<'_>,
    entry: Entry,
    also: &[EntryId],
    to_readers: bool,
) -> Result<(), CommandError> {
    let mut scopes = shared_around(ctx.conn(), entry.id).await?;
    for extra in also {
        if !scopes.contains(extra) {
            scopes.push(*extra);
        }
    }
    for root in scopes {
        ctx.append(
            Scope::Shared(root),
            xietong::files::FilesEvent::EntrySaved {
                entry: entry.clone().for_reader(),
                usage: Usage::default(),
            },
        )
        .await?;
    }
    if to_readers && !entry.shares.is_empty() {
        let readers = direct_readers(ctx.conn(), &entry).await?;
        let gone = access::entry_chain(ctx.conn(), entry.id)
            .await?
            .is_none_or(|c| c.in_recycle_bin);
        let told: Vec<(UserId, Option<Permission>)> = readers
            .into_iter()
            .map(|(u, p)| (u, (!gone).then_some(p)))
            .collect();
        tell_readers(ctx, &entry, told).await?;
    }
    Ok(())
}

/// An entry of the actor's that can be shared: theirs, not in the recycle bin.
async fn shareable(ctx: &mut Ctx<'_>, id: EntryId) -> Result<Entry, CommandError> {
    let entry = own(ctx, id).await?;
    let chain = access::entry_chain(ctx.conn(), id).await?;
    if chain.is_none_or(|c| c.in_recycle_bin) {
        return Err(CommandError::Invalid("that is in the recycle bin".into()));
    }
    Ok(entry)
}

/// Tells the people whose access to `entry` changed: new or changed permission, or gone.
async fn tell_changes(
    ctx: &mut Ctx<'_>,
    entry: &Entry,
    before: &BTreeMap<UserId, Permission>,
    after: &BTreeMap<UserId, Permission>,
) -> Result<(), CommandError> {
    let mut changes: Vec<(UserId, Option<Permission>)> = after
        .iter()
        .filter(|(u, p)| before.get(u) != Some(p))
        .map(|(u, p)| (*u, Some(*p)))
        .collect();
    changes.extend(
        before
            .keys()
            .filter(|u| !after.contains_key(u))
            .map(|u| (*u, None)),
    );
    tell_readers(ctx, entry, changes).await
}

pub async fn share(ctx: &mut Ctx<'_>, command: &ShareEntry) -> Result<CommandOutput, CommandError> {
    let entry = shareable(ctx, command.entry).await?;
    let members = audience::checked(ctx.conn(), &command.audience).await?;
    let before = direct_readers(ctx.conn(), &entry).await?;
    let can_edit = i64::from(command.permission == Permission::Edit);
    for member in &members {
        sqlx::query(
            "INSERT INTO cabinet_shares (entry_id, member, can_edit, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (entry_id, member) DO UPDATE SET can_edit = excluded.can_edit",
        )
        .bind(entry.id.0)
        .bind(member.to_string())
        .bind(can_edit)
        .bind(ctx.now())
        .execute(ctx.conn())
        .await?;
    }
    let count: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM cabinet_shares WHERE entry_id = $1",
    )
    .bind(entry.id.0)
    .fetch_one(ctx.conn())
    .await?;
    if count as usize > xietong::limits::MAX_AUDIENCE_MEMBERS {
        return Err(xietong::ValidationError::Audience.into());
    }
    let output = saved(ctx, entry.id, &[], false).await?;
    let entry = cabinet::entry(ctx.conn(), entry.id)
        .await?
        .ok_or_else(|| CommandError::NotFound("no such file or folder".into()))?;
    let after = direct_readers(ctx.conn(), &entry).await?;
    tell_changes(ctx, &entry, &before, &after).await?;
    Ok(output)
}

pub async fn unshare(ctx: &mut Ctx<'_>, command: &Unshare) -> Result<CommandOutput, CommandError> {
    let entry = own(ctx, command.entry).await?;
    let before = direct_readers(ctx.conn(), &entry).await?;
    let could_follow = followers_below(ctx.conn(), entry.id).await?;
    let removed = sqlx::query("DELETE FROM cabinet_shares WHERE entry_id = $1 AND member = $2")
        .bind(entry.id.0)
        .bind(command.member.to_string())
        .execute(ctx.conn())
        .await?
        .rows_affected();
    if removed == 0 {
        return Ok(CommandOutput::EntryChanged { entry: entry.id });
    }
    let entry = cabinet::entry(ctx.conn(), entry.id)
        .await?
        .ok_or_else(|| CommandError::NotFound("no such file or folder".into()))?;
    // Those who lost access stop following it (and what is shared inside it) before anything
    // else about it is said there.
    revoke_lost(ctx, entry.id, could_follow).await?;
    let output = saved(ctx, entry.id, &[], false).await?;
    let after = direct_readers(ctx.conn(), &entry).await?;
    tell_changes(ctx, &entry, &before, &after).await?;
    Ok(output)
}

/// Before a `CreateShareLink` is queued: its password is hashed (argon2, slow on purpose) off
/// the write path, so the command carries only the hash. Only for the entry's owner: nobody
/// else spends the server's hashing on it (the command checks again when it runs).
pub async fn prepare_link(
    state: &crate::AppState,
    user: &CurrentUser,
    command: &mut CreateShareLink,
) -> Result<(), CommandError> {
    if command.password.is_empty() {
        return Ok(());
    }
    let length = command.password.chars().count();
    if !(MIN_LINK_PASSWORD_CHARS..=xietong::limits::MAX_PASSWORD_CHARS).contains(&length) {
        return Err(xietong::ValidationError::LinkPassword.into());
    }
    let mut conn = state.store.read().await?;
    let owner = access::entry_chain(&mut conn, command.entry)
        .await?
        .map(|c| c.owner);
    drop(conn);
    if owner != Some(user.id) {
        return Err(CommandError::NotFound("no such file or folder".into()));
    }
    let password = std::mem::take(&mut command.password);
    let hash = crate::auth::hash_password(&state.passwords, password)
        .await
        .map_err(|e| match e {
            crate::auth::AuthError::Busy => {
                CommandError::Conflict("the server is busy; try again in a moment".into())
            }
            other => CommandError::Invalid(other.to_string()),
        })?;
    command.password_hash = Some(hash);
    Ok(())
}

pub async fn create_link(
    ctx: &mut Ctx<'_>,
    command: &CreateShareLink,
) -> Result<CommandOutput, CommandError> {
    let entry = shareable(ctx, command.entry).await?;
    if entry.is_folder() {
        return Err(CommandError::Invalid(
            "share links are for files; share a folder with people instead".into(),
        ));
    }
    if !command.password.is_empty() {
        // Only `prepare_link` may have left a password, hashed: a plain one never is stored.
        return Err(CommandError::Invalid(
            "the link password was not prepared".into(),
        ));
    }
    if command.expires_at.is_some_and(|at| at <= ctx.now()) {
        return Err(CommandError::Invalid("the expiry is in the past".into()));
    }
    if entry.links.len() >= xietong::limits::MAX_SHARE_LINKS {
        return Err(CommandError::Conflict(format!(
            "a file has at most {} share links",
            xietong::limits::MAX_SHARE_LINKS
        )));
    }
    let token = crate::auth::new_token();
    sqlx::query(
        "INSERT INTO share_links (token, entry_id, password_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&token)
    .bind(entry.id.0)
    .bind(command.password_hash.clone().unwrap_or_default())
    .bind(command.expires_at)
    .bind(ctx.now())
    .execute(ctx.conn())
    .await?;
    saved(ctx, entry.id, &[], false).await?;
    Ok(CommandOutput::ShareLinkCreated {
        entry: entry.id,
        token,
    })
}

pub async fn delete_link(
    ctx: &mut Ctx<'_>,
    command: &DeleteShareLink,
) -> Result<CommandOutput, CommandError> {
    let entry = own(ctx, command.entry).await?;
    let removed = sqlx::query("DELETE FROM share_links WHERE token = $1 AND entry_id = $2")
        .bind(&command.token)
        .bind(entry.id.0)
        .execute(ctx.conn())
        .await?
        .rows_affected();
    if removed == 0 {
        return Ok(CommandOutput::EntryChanged { entry: entry.id });
    }
    saved(ctx, entry.id, &[], false).await
}

/// "Shared with me": every entry shared with `user` directly (through any audience they are
/// in), not their own, not in the recycle bin, by entry id.
pub async fn shared_with(conn: &mut Conn, user: UserId) -> Result<Vec<SharedItem>, StoreError> {
    let keys = audience::keys_of(&mut *conn, user).await?;
    let mut best: BTreeMap<i64, i64> = BTreeMap::new();
    if !keys.is_empty() {
        let sql = format!(
            "SELECT s.entry_id, s.can_edit FROM cabinet_shares s
             JOIN cabinet_entries e ON e.id = s.entry_id
             WHERE e.owner_id <> $1 AND s.member IN ({})",
            audience::placeholders(2, keys.len())
        );
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql).bind(user.0);
        for key in &keys {
            query = query.bind(key.as_str());
        }
        for (entry, can_edit) in query.fetch_all(&mut *conn).await? {
            let b = best.entry(entry).or_insert(can_edit);
            *b = (*b).max(can_edit);
        }
    }
    let mut items = Vec::new();
    for (id, can_edit) in best {
        let chain = access::entry_chain(&mut *conn, EntryId(id)).await?;
        if chain.is_none_or(|c| c.in_recycle_bin) {
            continue;
        }
        let Some(entry) = cabinet::entry(&mut *conn, EntryId(id)).await? else {
            continue;
        };
        let owner_name = owner_name(&mut *conn, entry.owner).await?;
        items.push(SharedItem {
            entry: entry.for_reader(),
            owner_name,
            permission: if can_edit != 0 {
                Permission::Edit
            } else {
                Permission::View
            },
        });
    }
    Ok(items)
}

/// A shared entry with everything inside it, as `user` (who it is shared with, or its owner)
/// sees it, and the head of its scope to follow it from.
pub async fn shared(
    store: &Store,
    user: &CurrentUser,
    root: EntryId,
) -> Result<SharedSnapshot, Denied> {
    let mut tx = store.read().await?;
    let Some(permission) = access::cabinet_entry(&mut tx, user, root).await? else {
        return Err(Denied::NotFound("shared file or folder"));
    };
    let scope = Scope::Shared(root);
    let head = store::head(&mut tx, scope).await?;
    let entries: Vec<Entry> = cabinet::subtree(&mut tx, root)
        .await?
        .into_iter()
        .map(Entry::for_reader)
        .collect();
    let Some(owner) = entries.iter().find(|e| e.id == root).map(|e| e.owner) else {
        return Err(Denied::NotFound("shared file or folder"));
    };
    let owner_name = owner_name(&mut tx, owner).await?;
    tx.commit().await?;
    Ok(SharedSnapshot {
        root,
        owner_name,
        permission,
        cabinet: CabinetSnapshot {
            owner,
            entries,
            usage: Usage::default(),
            shared: Vec::new(),
            head,
        },
    })
}
