-- Personal contacts (个人通讯簿): people outside the organisation a user keeps for themselves,
-- in groups of their own. Same meaning as migrations/postgres/0020_personal_contacts.sql.
CREATE TABLE contact_groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX contact_groups_name ON contact_groups (owner_id, lower(name));

CREATE TABLE personal_contacts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    company    TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL DEFAULT '',
    mobile     TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    group_id   INTEGER REFERENCES contact_groups(id),
    updated_at INTEGER NOT NULL
);
CREATE INDEX personal_contacts_owner ON personal_contacts (owner_id);
