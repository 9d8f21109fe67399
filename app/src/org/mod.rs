//! The organisation: departments as a tree. Read by everyone signed in, changed by admins on
//! the admin page (`Departments`), live from the workspace scope.

use leptos::prelude::*;
use xietong::org::{Department, OrgSnapshot};
use xietong::{DepartmentId, Event, EventBody, Scope, Seq};

use crate::live::{Applied, ScopeView};
use crate::AppError;

mod departments;

pub use departments::DepartmentsAdmin;

#[server(prefix = "/api", endpoint = "departments", output = crate::codec::TextJson)]
pub async fn departments() -> Result<OrgSnapshot, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.departments(&user).await
}

/// The departments as this tab knows them: a snapshot plus the workspace events since.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgView {
    pub departments: Vec<Department>,
    pub head: Seq,
}

impl OrgView {
    pub fn from_snapshot(snapshot: OrgSnapshot) -> Self {
        OrgView {
            departments: snapshot.departments,
            head: snapshot.head,
        }
    }

    pub fn name(&self, id: DepartmentId) -> Option<&str> {
        self.departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.as_str())
    }
}

impl ScopeView for OrgView {
    fn head(&self, _scope: Scope) -> Seq {
        self.head
    }

    fn apply(&mut self, event: &Event) -> Applied {
        if let Some(outcome) = crate::live::advance(&mut self.head, event) {
            return outcome;
        }
        match &event.body {
            EventBody::DepartmentSaved { department } => {
                match self.departments.iter_mut().find(|d| d.id == department.id) {
                    Some(known) => *known = department.clone(),
                    None => self.departments.push(department.clone()),
                }
            }
            EventBody::DepartmentRemoved { department } => {
                self.departments.retain(|d| d.id != *department)
            }
            _ => {}
        }
        Applied::Applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xietong::org::Department;

    fn event(seq: u64, body: EventBody) -> Event {
        Event {
            scope: Scope::Workspace,
            seq: Seq(seq),
            actor: None,
            at: 0,
            client_id: None,
            body,
        }
    }

    fn dept(id: i64, name: &str, parent: Option<i64>) -> Department {
        Department {
            id: DepartmentId(id),
            name: name.into(),
            parent: parent.map(DepartmentId),
            head: None,
            order: id,
        }
    }

    /// Snapshot + events == the later snapshot, for departments.
    #[test]
    fn saved_and_removed_departments_follow_the_events() {
        let mut view = OrgView::from_snapshot(OrgSnapshot {
            departments: vec![dept(1, "总部", None)],
            head: Seq(4),
        });
        let saved = |d| EventBody::DepartmentSaved { department: d };
        assert_eq!(
            view.apply(&event(5, saved(dept(2, "技术部", Some(1))))),
            Applied::Applied
        );
        assert_eq!(
            view.apply(&event(6, saved(dept(2, "研发部", None)))),
            Applied::Applied
        );
        assert_eq!(
            view.apply(&event(6, saved(dept(2, "x", None)))),
            Applied::Duplicate
        );
        assert_eq!(
            view.apply(&event(8, saved(dept(3, "y", None)))),
            Applied::Gap
        );
        let removed = EventBody::DepartmentRemoved {
            department: DepartmentId(1),
        };
        assert_eq!(view.apply(&event(7, removed)), Applied::Applied);
        assert_eq!(
            view,
            OrgView::from_snapshot(OrgSnapshot {
                departments: vec![dept(2, "研发部", None)],
                head: Seq(7),
            })
        );
    }
}
