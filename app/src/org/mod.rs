//! The organisation: departments as a tree, roles and people. Read by everyone signed in,
//! changed by admins on the admin page ("Departments", "Roles", "People"), live from the
//! workspace scope.

use leptos::prelude::*;
use xietong::org::OrgEvent;
use xietong::org::{Department, OrgSnapshot, Person, ProfileField, Role};
use xietong::{DepartmentId, Scope, Seq};

use crate::live::{Applied, Live, LiveEvent, ScopeView};
use crate::AppError;

pub mod audience;
mod departments;
pub mod fields;
pub mod groups;
mod import;
mod people;

pub use audience::AudiencePicker;
pub use departments::DepartmentsAdmin;
pub use fields::FieldsAdmin;
pub use import::ImportPeople;
pub use people::{selected_ids, PeopleAdmin, PeopleSelect, RolesAdmin};

#[server(prefix = "/api", endpoint = "organisation", output = crate::codec::TextJson)]
pub async fn organisation() -> Result<OrgSnapshot, AppError> {
    let user = crate::backend::require_user()?;
    crate::backend::backend()?.organisation(&user).await
}

/// The organisation as this tab knows it: a snapshot plus the workspace events since.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgView {
    pub departments: Vec<Department>,
    pub roles: Vec<Role>,
    /// By username.
    pub people: Vec<Person>,
    /// The address book's own fields.
    pub fields: Vec<ProfileField>,
    pub head: Seq,
}

impl OrgView {
    pub fn from_snapshot(snapshot: OrgSnapshot) -> Self {
        OrgView {
            departments: snapshot.departments,
            roles: snapshot.roles,
            people: snapshot.people,
            fields: snapshot.fields,
            head: snapshot.head,
        }
    }

    pub fn role_name(&self, id: xietong::RoleId) -> Option<&str> {
        self.roles
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.as_str())
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

    fn apply(&mut self, event: &LiveEvent) -> Applied {
        if let Some(outcome) = crate::live::advance(&mut self.head, event) {
            return outcome;
        }
        let Some(org) = crate::live::decode::<OrgEvent>(&event.body) else {
            return Applied::Applied;
        };
        match &org {
            OrgEvent::DepartmentSaved { department } => {
                match self.departments.iter_mut().find(|d| d.id == department.id) {
                    Some(known) => *known = department.clone(),
                    None => self.departments.push(department.clone()),
                }
            }
            OrgEvent::DepartmentRemoved { department } => {
                self.departments.retain(|d| d.id != *department)
            }
            OrgEvent::RoleSaved { role } => match self.roles.iter_mut().find(|r| r.id == role.id) {
                Some(known) => *known = role.clone(),
                None => self.roles.push(role.clone()),
            },
            OrgEvent::RoleRemoved { role } => {
                self.roles.retain(|r| r.id != *role);
                for person in &mut self.people {
                    person.roles.retain(|r| r != role);
                }
            }
            OrgEvent::FieldDefined { field } => {
                match self.fields.iter_mut().find(|f| f.id == field.id) {
                    Some(known) => *known = field.clone(),
                    None => self.fields.push(field.clone()),
                }
            }
            OrgEvent::FieldRemoved { field } => {
                self.fields.retain(|f| f.id != *field);
                for person in &mut self.people {
                    person.fields.retain(|v| v.field != *field);
                }
            }
            OrgEvent::PersonSaved { person } => {
                match self.people.iter_mut().find(|p| p.id == person.id) {
                    Some(known) => *known = person.clone(),
                    None => {
                        let at = self
                            .people
                            .partition_point(|p| p.username < person.username);
                        self.people.insert(at, person.clone());
                    }
                }
            }
        }
        Applied::Applied
    }
}

/// The organisation, live: loads the snapshot and watches the workspace scope, then shows
/// `content` with it (the admin page's sections share one).
#[component]
pub fn WithOrganisation<F, V>(content: F) -> impl IntoView
where
    F: Fn(RwSignal<OrgView>) -> V + Send + Sync + Copy + 'static,
    V: IntoView + 'static,
{
    let snapshot = Resource::new(|| (), |_| organisation());
    let t = crate::i18n::office();
    view! {
        <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(found) => {
                        let view = RwSignal::new(OrgView::from_snapshot(found));
                        expect_context::<Live>().watch(Scope::Workspace, view, move || snapshot.refetch());
                        content(view).into_any()
                    }
                    Err(e) => view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// An office module's page (notices, news, forum, mail): its heading, then what `show` makes
/// of the module's snapshot and the organisation once both are loaded (each module's pickers
/// need the organisation); a failure to load shows in their place.
pub fn office_page<T, Fut>(
    class: &'static str,
    title: &'static str,
    load: fn() -> Fut,
    show: fn(T, StoredValue<OrgSnapshot>) -> AnyView,
) -> AnyView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    Fut: std::future::Future<Output = Result<T, crate::AppError>> + Send + 'static,
{
    let t = crate::i18n::office();
    let found = Resource::new(|| (), move |_| load());
    let org = Resource::new(|| (), |_| organisation());
    view! {
        <div class=format!("{class} page")>
            <h1>{title}</h1>
            <Suspense fallback=move || view! { <p class="loading">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match (found.await, org.await) {
                        (Ok(found), Ok(org)) => show(found, StoredValue::new(org)),
                        (Err(e), _) | (_, Err(e)) => {
                            view! { <p role="alert" class="error">{e.text(t)}</p> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xietong::org::Department;

    fn event(seq: u64, body: OrgEvent) -> LiveEvent {
        crate::live::test_event(Scope::Workspace, seq, None, body)
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
            roles: Vec::new(),
            people: Vec::new(),
            fields: Vec::new(),
            head: Seq(4),
        });
        let saved = |d| OrgEvent::DepartmentSaved { department: d };
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
        let removed = OrgEvent::DepartmentRemoved {
            department: DepartmentId(1),
        };
        assert_eq!(view.apply(&event(7, removed)), Applied::Applied);
        assert_eq!(
            view,
            OrgView::from_snapshot(OrgSnapshot {
                departments: vec![dept(2, "研发部", None)],
                roles: Vec::new(),
                people: Vec::new(),
                fields: Vec::new(),
                head: Seq(7),
            })
        );
    }
}
