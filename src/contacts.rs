//! Personal contacts (个人通讯簿): people from outside the organisation a user keeps for
//! themselves, in groups of their own. Only their owner sees them; their events go to the
//! owner's user scope, so every tab of theirs follows. They come in and go out as vCard (and
//! out as CSV) too.

use serde::{Deserialize, Serialize};

use crate::ids::{ContactGroupId, ContactId, Seq};
use crate::ValidationError;

/// What a user writes about a contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactFields {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub company: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mobile: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<ContactGroupId>,
}

impl ContactFields {
    /// The fields as stored: normalised, each checked (a name is required).
    pub fn checked(&self) -> Result<ContactFields, ValidationError> {
        let name = crate::validate::profile_field(&self.name)
            .map_err(|_| ValidationError::ContactFields)?;
        if name.is_empty() {
            return Err(ValidationError::ContactFields);
        }
        let note = self.note.trim().to_owned();
        if note.chars().count() > crate::limits::MAX_CONTACT_NOTE_CHARS
            || note
                .chars()
                .any(|c| (c.is_control() && c != '\n') || crate::validate::is_invisible_format(c))
        {
            return Err(ValidationError::ContactFields);
        }
        Ok(ContactFields {
            name,
            company: crate::validate::profile_field(&self.company)?,
            title: crate::validate::profile_field(&self.title)?,
            mobile: crate::validate::mobile(&self.mobile)?,
            email: crate::validate::email(&self.email)?,
            note,
            group: self.group,
        })
    }
}

/// A contact as stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    #[serde(flatten)]
    pub fields: ContactFields,
    pub updated_at: i64,
}

/// A group of one's contacts (a contact is in one group or none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactGroup {
    pub id: ContactGroupId,
    pub name: String,
}

/// Command: a new contact (`contact: None`) or new fields for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactId>,
    pub fields: ContactFields,
}

/// Command: deletes a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveContact {
    pub contact: ContactId,
}

/// Command: a new group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateContactGroup {
    pub name: String,
}

/// Command: deletes a group; its contacts stay, in no group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveContactGroup {
    pub group: ContactGroupId,
}

/// Command: adds contacts in one go (a vCard file's), every one or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportContacts {
    pub contacts: Vec<ContactFields>,
}

/// One's contacts and groups, and the head of one's user scope to follow them from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyContacts {
    pub contacts: Vec<Contact>,
    pub groups: Vec<ContactGroup>,
    pub head: Seq,
}

impl MyContacts {
    /// Applies one of the owner's contact events.
    pub fn apply(&mut self, body: &ContactsEvent) {
        use ContactsEvent as E;
        match body {
            E::ContactSaved { contact } => {
                match self.contacts.iter_mut().find(|c| c.id == contact.id) {
                    Some(known) => *known = contact.clone(),
                    None => {
                        self.contacts.push(contact.clone());
                        self.contacts.sort_by_key(|c| c.id);
                    }
                }
            }
            E::ContactRemoved { contact } => self.contacts.retain(|c| c.id != *contact),
            E::ContactGroupSaved { group } => {
                match self.groups.iter_mut().find(|g| g.id == group.id) {
                    Some(known) => *known = group.clone(),
                    None => {
                        self.groups.push(group.clone());
                        self.groups.sort_by_key(|g| g.id);
                    }
                }
            }
            E::ContactGroupRemoved { group } => {
                self.groups.retain(|g| g.id != *group);
                for c in &mut self.contacts {
                    if c.fields.group == Some(*group) {
                        c.fields.group = None;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_fields_are_checked_and_normalised() {
        let fields = ContactFields {
            name: " 王经理 ".into(),
            mobile: "+86 139-0000-1111".into(),
            email: "wang@example.com".into(),
            ..Default::default()
        };
        assert_eq!(fields.checked().unwrap().name, "王经理");
        for bad in [
            ContactFields::default(),
            ContactFields {
                name: "a".into(),
                email: "no-at".into(),
                ..Default::default()
            },
            ContactFields {
                name: "a".into(),
                note: "x".repeat(1001),
                ..Default::default()
            },
        ] {
            assert!(bad.checked().is_err(), "{bad:?}");
        }
    }
}

/// What happens in this feature: its part of [`crate::EventBody`], the body of its
/// events. Each variant is one kind, the one key of the body's JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactsEvent {
    /// In a user scope: one of the user's own contacts as it now is.
    ContactSaved { contact: crate::contacts::Contact },
    /// In a user scope: a contact was deleted.
    ContactRemoved { contact: crate::ids::ContactId },
    /// In a user scope: a contact group as it now is.
    ContactGroupSaved {
        group: crate::contacts::ContactGroup,
    },
    /// In a user scope: a contact group was deleted (its contacts are in no group now).
    ContactGroupRemoved { group: crate::ids::ContactGroupId },
}
