//! The organisation: departments as a tree. Departments are workspace-wide facts: everyone
//! signed in reads them (the address book, audience pickers); only admins change them. Their
//! events go to the workspace scope.

use serde::{Deserialize, Serialize};

use crate::ids::{DepartmentId, FieldId, RoleId, Seq, UserId};

/// One department. Siblings are shown by `order`, then name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    /// `None`: a top-level department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<DepartmentId>,
    /// Who leads it (set with the people administration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<UserId>,
    pub order: i64,
}

/// The organisation — departments, roles and people — and the workspace scope's head it was
/// read at (to watch from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSnapshot {
    pub departments: Vec<Department>,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// By username.
    #[serde(default)]
    pub people: Vec<Person>,
    /// The address book's own fields, as the admin defined them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ProfileField>,
    pub head: Seq,
}

/// A field of the address book an admin defined, beyond name, title, mobile and email: people
/// fill it in themselves; a `hideable` one each person may hide from others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProfileField {
    pub id: FieldId,
    pub name: String,
    #[serde(default)]
    pub hideable: bool,
}

/// A person's value of a field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldValue {
    pub field: FieldId,
    pub value: String,
}

/// Command (admins): a new address book field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefineField {
    pub name: String,
    #[serde(default)]
    pub hideable: bool,
}

/// Command (admins): removes a field, with everyone's values of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveField {
    pub field: FieldId,
}

/// Command: the actor's own values of the fields (empty: none), and which hideable ones they
/// hide from others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMyFields {
    pub values: Vec<FieldValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<FieldId>,
}

/// The fields and the signed-in user's own values (the hidden ones too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyFields {
    pub fields: Vec<ProfileField>,
    pub values: Vec<FieldValue>,
    pub hidden: Vec<FieldId>,
}

/// Command (admins): a new department, last among its siblings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDepartment {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<DepartmentId>,
}

/// Command (admins): a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameDepartment {
    pub department: DepartmentId,
    pub name: String,
}

/// Command (admins): under another parent (`None`: top level), last among its new siblings.
/// Refused when `parent` is the department itself or inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveDepartment {
    pub department: DepartmentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<DepartmentId>,
}

/// Command (admins): removes a department that has no sub-departments and no people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveDepartment {
    pub department: DepartmentId,
}

/// A role an admin defined. Roles (with departments and people) are what later modules
/// address: "everyone in HR may approve".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
}

/// A person as the organisation sees them: name, title, departments, roles, and whether the
/// account may sign in. Contact details (mobile, email) are not here: they come with the
/// address book and its per-field visibility.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Person {
    pub id: UserId,
    pub username: String,
    /// The real name shown beside the username (张伟), empty until set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub full_name: String,
    /// Position or title (职务), empty until set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Mobile number; empty when unset or when the person hides it from others.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mobile: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_department: Option<DepartmentId>,
    /// Other departments besides the main one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_departments: Vec<DepartmentId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleId>,
    pub is_admin: bool,
    /// False once deactivated: cannot sign in, and every session has ended.
    pub active: bool,
    /// The full name's pinyin, lowercase, no spaces (张伟 → `zhangwei`), computed by the server
    /// so the browser carries no pinyin tables. Empty for a name without Chinese characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pinyin: String,
    /// Its initials (张伟 → `zw`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub initials: String,
    /// Values of the admin's fields that others may see (hidden ones are left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldValue>,
}

impl Person {
    /// The name to show: the full name, else the username.
    pub fn display_name(&self) -> &str {
        if self.full_name.is_empty() {
            &self.username
        } else {
            &self.full_name
        }
    }

    /// Whether the address book's search `query` finds this person: by name or username (any
    /// part, without case), by pinyin (`zhangwei`, `zhang`) or by its initials (`zw`), by email,
    /// or by at least three digits of the mobile number (spaces and dashes ignored).
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return true;
        }
        let spaced: String = query.chars().filter(|c| !c.is_whitespace()).collect();
        let digits: String = spaced.chars().filter(|c| c.is_ascii_digit()).collect();
        self.full_name.to_lowercase().contains(&query)
            || self.username.to_lowercase().contains(&query)
            || (!self.email.is_empty() && self.email.to_lowercase().contains(&spaced))
            || (digits.len() >= 3
                && spaced
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+-()".contains(c))
                && self
                    .mobile
                    .chars()
                    .filter(|c| c.is_ascii_digit())
                    .collect::<String>()
                    .contains(&digits))
            || (!self.pinyin.is_empty() && self.pinyin.contains(&spaced))
            || (!self.initials.is_empty() && self.initials.starts_with(&spaced))
    }
}

/// Command (admins): a new role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRole {
    pub name: String,
}

/// Command (admins): removes a role (people who had it lose it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveRole {
    pub role: RoleId,
}

/// Command (admins): a person's name, title, departments and roles, as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatePerson {
    pub person: UserId,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub title: String,
    /// `None`: leave as it is (a hidden number is not shown to the admin either).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_department: Option<DepartmentId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_departments: Vec<DepartmentId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleId>,
}

/// Command (admins): deactivates (`active: false`) or reactivates an account. Deactivating
/// ends every session and socket of the person at once, on every node. An admin cannot
/// deactivate themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPersonActive {
    pub person: UserId,
    pub active: bool,
}

/// One person to add, as a row of an import file gives them. `department` is a path from the
/// top (`总部/技术部/前端组`); departments on it that do not exist yet are made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub full_name: String,
    pub username: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub email: String,
}

/// Command (admins): adds people in one go, every row or none. The accounts have no password
/// until the server sets an initial one (the import's result lists them once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPeople {
    pub rows: Vec<ImportRow>,
}

/// One row of an import file as checked before anything is written: its line in the file and
/// what is wrong with it (nothing: it can be imported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCheck {
    pub line: u32,
    pub row: ImportRow,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// What an import would do: every row with its problems, and the departments it would make.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub rows: Vec<ImportCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_departments: Vec<String>,
}

impl ImportPreview {
    pub fn bad_rows(&self) -> usize {
        self.rows.iter().filter(|r| !r.errors.is_empty()).count()
    }
}

/// An imported account and its initial password, shown once to the admin who imported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedPerson {
    pub username: String,
    pub full_name: String,
    pub password: String,
}

/// A department path as typed (`总部 / 技术部/前端组`, full-width or back slashes too) cut into
/// its names, blanks dropped.
pub fn path_names(path: &str) -> Vec<&str> {
    path.split(['/', '／', '\\'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The departments in tree order (each parent before its children, siblings by `order` then
/// name), each with its depth: what a tree view or an indented list shows.
pub fn tree_order(departments: &[Department]) -> Vec<(&Department, usize)> {
    let mut children: std::collections::BTreeMap<Option<DepartmentId>, Vec<&Department>> =
        Default::default();
    let known: std::collections::BTreeSet<DepartmentId> =
        departments.iter().map(|d| d.id).collect();
    for d in departments {
        // A parent that is not here (cannot happen on a consistent snapshot) shows at the top.
        let parent = d.parent.filter(|p| known.contains(p));
        children.entry(parent).or_default().push(d);
    }
    for siblings in children.values_mut() {
        siblings.sort_by(|a, b| (a.order, &a.name, a.id).cmp(&(b.order, &b.name, b.id)));
    }
    let mut out = Vec::with_capacity(departments.len());
    let mut stack: Vec<(&Department, usize)> = children
        .get(&None)
        .map(|top| top.iter().rev().map(|d| (*d, 0)).collect())
        .unwrap_or_default();
    while let Some((d, depth)) = stack.pop() {
        out.push((d, depth));
        if let Some(kids) = children.get(&Some(d.id)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

/// One entry of an audience (who a notice, a share, an event … is for): everyone, a person, a
/// department's own people, a department with everything below it, or a role. The server
/// resolves an audience when it checks access, so people who join a department later are in
/// it. On the wire and in the database it is a short string: `everyone`, `person:<id>`,
/// `department:<id>`, `department_tree:<id>`, `role:<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AudienceMember {
    Everyone,
    Person(UserId),
    /// The department's people (as main or other department), not its sub-departments'.
    Department(DepartmentId),
    /// The department's people and those of every department below it.
    DepartmentTree(DepartmentId),
    Role(RoleId),
}

impl std::fmt::Display for AudienceMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AudienceMember::Everyone => f.write_str("everyone"),
            AudienceMember::Person(id) => write!(f, "person:{id}"),
            AudienceMember::Department(id) => write!(f, "department:{id}"),
            AudienceMember::DepartmentTree(id) => write!(f, "department_tree:{id}"),
            AudienceMember::Role(id) => write!(f, "role:{id}"),
        }
    }
}

impl std::str::FromStr for AudienceMember {
    type Err = crate::ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "everyone" {
            return Ok(AudienceMember::Everyone);
        }
        let (kind, id) = s.split_once(':').ok_or(crate::ValidationError::Audience)?;
        let id: i64 = id
            .parse()
            .ok()
            .filter(|id| *id > 0)
            .ok_or(crate::ValidationError::Audience)?;
        Ok(match kind {
            "person" => AudienceMember::Person(UserId(id)),
            "department" => AudienceMember::Department(DepartmentId(id)),
            "department_tree" => AudienceMember::DepartmentTree(DepartmentId(id)),
            "role" => AudienceMember::Role(RoleId(id)),
            _ => return Err(crate::ValidationError::Audience),
        })
    }
}

impl Serialize for AudienceMember {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AudienceMember {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl AudienceMember {
    /// Whether `person` is in it, on the organisation as `org` holds it. The server decides
    /// access with its own query; this is what a browser shows ("who will see this").
    pub fn includes(&self, person: &Person, org: &OrgSnapshot) -> bool {
        let in_department = |d: DepartmentId| {
            person.main_department == Some(d) || person.other_departments.contains(&d)
        };
        match *self {
            AudienceMember::Everyone => person.active,
            AudienceMember::Person(id) => person.id == id,
            AudienceMember::Role(role) => person.roles.contains(&role),
            AudienceMember::Department(d) => in_department(d),
            AudienceMember::DepartmentTree(top) => person
                .main_department
                .iter()
                .chain(&person.other_departments)
                .any(|d| under(&org.departments, *d, top)),
        }
    }

    /// What a picker offers for `query` (by name, pinyin, initials; a department both alone
    /// and with its sub-departments; "everyone" only for an empty query or its `everyone_word`),
    /// without the ones already `chosen`, at most `limit`.
    pub fn search(
        org: &OrgSnapshot,
        query: &str,
        everyone_word: &str,
        chosen: &[AudienceMember],
        limit: usize,
    ) -> Vec<AudienceMember> {
        let q = query.trim().to_lowercase();
        let mut out = Vec::new();
        if q.is_empty() || everyone_word.to_lowercase().contains(&q) || "everyone".contains(&q) {
            out.push(AudienceMember::Everyone);
        }
        for (d, _) in tree_order(&org.departments) {
            if q.is_empty() || d.name.to_lowercase().contains(&q) {
                out.push(AudienceMember::DepartmentTree(d.id));
                out.push(AudienceMember::Department(d.id));
            }
        }
        for r in &org.roles {
            if q.is_empty() || r.name.to_lowercase().contains(&q) {
                out.push(AudienceMember::Role(r.id));
            }
        }
        for p in org.people.iter().filter(|p| p.active) {
            if p.matches(&q) {
                out.push(AudienceMember::Person(p.id));
            }
        }
        out.retain(|m| !chosen.contains(m));
        out.truncate(limit);
        out
    }
}

/// Whether department `d` is `top` or below it.
pub fn under(departments: &[Department], d: DepartmentId, top: DepartmentId) -> bool {
    let mut next = Some(d);
    let mut steps = 0;
    while let Some(id) = next {
        if id == top {
            return true;
        }
        next = departments
            .iter()
            .find(|x| x.id == id)
            .and_then(|x| x.parent);
        steps += 1;
        if steps > departments.len() {
            break;
        }
    }
    false
}

/// A department's path from the top, e.g. `总部/技术部/前端组`.
pub fn path(departments: &[Department], id: DepartmentId) -> String {
    let mut names = Vec::new();
    let mut next = Some(id);
    while let Some(id) = next {
        let Some(d) = departments.iter().find(|d| d.id == id) else {
            break;
        };
        names.push(d.name.as_str());
        next = d.parent;
        if names.len() > departments.len() {
            break; // a cycle (cannot happen on a consistent snapshot)
        }
    }
    names.reverse();
    names.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(id: i64, name: &str, parent: Option<i64>, order: i64) -> Department {
        Department {
            id: DepartmentId(id),
            name: name.into(),
            parent: parent.map(DepartmentId),
            head: None,
            order,
        }
    }

    #[test]
    fn tree_order_puts_parents_before_children_and_siblings_in_order() {
        let all = vec![
            dept(3, "前端组", Some(2), 1),
            dept(2, "技术部", Some(1), 2),
            dept(4, "财务部", Some(1), 1),
            dept(1, "总部", None, 1),
            dept(5, "分公司", None, 2),
        ];
        let order: Vec<(&str, usize)> = tree_order(&all)
            .into_iter()
            .map(|(d, depth)| (d.name.as_str(), depth))
            .collect();
        assert_eq!(
            order,
            vec![
                ("总部", 0),
                ("财务部", 1),
                ("技术部", 1),
                ("前端组", 2),
                ("分公司", 0)
            ]
        );
        assert_eq!(path(&all, DepartmentId(3)), "总部/技术部/前端组");
    }

    #[test]
    fn audience_members_read_back_and_include_the_right_people() {
        for m in [
            AudienceMember::Everyone,
            AudienceMember::Person(UserId(3)),
            AudienceMember::Department(DepartmentId(4)),
            AudienceMember::DepartmentTree(DepartmentId(4)),
            AudienceMember::Role(RoleId(2)),
        ] {
            assert_eq!(m.to_string().parse::<AudienceMember>().unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<AudienceMember>(&json).unwrap(), m);
        }
        for bad in [
            "",
            "everyone:1",
            "person:",
            "person:0",
            "person:-1",
            "team:1",
            "role:x",
        ] {
            assert!(bad.parse::<AudienceMember>().is_err(), "{bad:?}");
        }
        let org = OrgSnapshot {
            departments: vec![
                dept(1, "总部", None, 1),
                dept(2, "技术部", Some(1), 1),
                dept(3, "前端组", Some(2), 1),
            ],
            roles: vec![Role {
                id: RoleId(1),
                name: "HR".into(),
            }],
            people: Vec::new(),
            fields: Vec::new(),
            head: crate::Seq(0),
        };
        let mut person = Person {
            id: UserId(5),
            username: "li".into(),
            full_name: "李雷".into(),
            title: String::new(),
            mobile: String::new(),
            email: String::new(),
            main_department: Some(DepartmentId(3)),
            other_departments: Vec::new(),
            roles: vec![RoleId(1)],
            is_admin: false,
            active: true,
            pinyin: "lilei".into(),
            initials: "ll".into(),
            fields: Vec::new(),
        };
        assert!(AudienceMember::DepartmentTree(DepartmentId(1)).includes(&person, &org));
        assert!(AudienceMember::Department(DepartmentId(3)).includes(&person, &org));
        assert!(!AudienceMember::Department(DepartmentId(2)).includes(&person, &org));
        assert!(AudienceMember::Role(RoleId(1)).includes(&person, &org));
        assert!(AudienceMember::Everyone.includes(&person, &org));
        person.active = false;
        assert!(!AudienceMember::Everyone.includes(&person, &org));
        let found = AudienceMember::search(&org, "技术", "所有人", &[], 10);
        assert_eq!(
            found,
            vec![
                AudienceMember::DepartmentTree(DepartmentId(2)),
                AudienceMember::Department(DepartmentId(2))
            ]
        );
        let found = AudienceMember::search(&org, "所有", "所有人", &[], 10);
        assert_eq!(found, vec![AudienceMember::Everyone]);
    }

    #[test]
    fn people_are_found_by_name_pinyin_and_initials() {
        let person = Person {
            id: UserId(1),
            username: "zwei".into(),
            full_name: "张伟".into(),
            title: String::new(),
            mobile: "+86 138-0013-8000".into(),
            email: "Zhang.Wei@example.com".into(),
            main_department: None,
            other_departments: Vec::new(),
            roles: Vec::new(),
            is_admin: false,
            active: true,
            pinyin: "zhangwei".into(),
            initials: "zw".into(),
            fields: Vec::new(),
        };
        for found in [
            "张",
            "伟",
            "ZWEI",
            "zhangwei",
            "zhang wei",
            "zhang",
            "wei",
            "zw",
            "z",
            "",
            "13800138000",
            "138 0013",
            "8000",
            "zhang.wei@",
            "EXAMPLE.COM",
        ] {
            assert!(person.matches(found), "{found}");
        }
        for missed in [
            "李",
            "zhangw ei x",
            "wz",
            "w z x",
            "lisi",
            "99",
            "139",
            "b@c",
        ] {
            assert!(!person.matches(missed), "{missed}");
        }
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgEvent {
    /// In the workspace scope: a department as it now is (created, renamed or moved).
    DepartmentSaved { department: crate::org::Department },
    /// In the workspace scope: an empty department was removed.
    DepartmentRemoved {
        department: crate::ids::DepartmentId,
    },
    /// In the workspace scope: a role was created.
    RoleSaved { role: crate::org::Role },
    /// In the workspace scope: a role was removed (from everyone who had it).
    RoleRemoved { role: crate::ids::RoleId },
    /// In the workspace scope: an address book field was defined.
    FieldDefined { field: crate::org::ProfileField },
    /// In the workspace scope: a field was removed, with everyone's values of it.
    FieldRemoved { field: crate::ids::FieldId },
    /// In the workspace scope: a person as they now are (updated, deactivated, reactivated).
    PersonSaved { person: crate::org::Person },
}
