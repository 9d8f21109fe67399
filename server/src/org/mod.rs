//! The organisation: departments as a tree, roles, and the people in them (admins change it;
//! everyone signed in reads it). Its events go to the workspace scope, so every open address
//! book and admin page follows.

pub mod audience;
pub mod departments;
pub mod export;
pub mod fields;
pub mod import;
pub mod people;

use xietong::org::OrgSnapshot;
use xietong::{CurrentUser, Scope};

use crate::access::{self, Denied};
use crate::store::{self, Store};

/// The whole organisation and the workspace head it was read at, from one snapshot.
pub async fn snapshot(store: &Store, user: &CurrentUser) -> Result<OrgSnapshot, Denied> {
    let mut tx = store.read().await?;
    // Workspace-wide facts: whoever may read the workspace scope reads them.
    access::check(&mut tx, user, Scope::Workspace, access::Need::Read).await?;
    let head = store::head(&mut tx, Scope::Workspace).await?;
    let departments = departments::all(&mut tx).await?;
    let roles = people::roles(&mut tx).await?;
    let people = people::people(&mut tx, None).await?;
    let fields = fields::all(&mut tx).await?;
    tx.commit().await?;
    Ok(OrgSnapshot {
        departments,
        roles,
        people,
        fields,
        head,
    })
}
