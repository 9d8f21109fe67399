-- Address book fields an admin defines, and each person's values of them (a hideable field's
-- value may be hidden from others). Same meaning as migrations/postgres/0021_profile_fields.sql.
CREATE TABLE profile_fields (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    hideable   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX profile_fields_name ON profile_fields (lower(name));

CREATE TABLE person_field_values (
    user_id  INTEGER NOT NULL REFERENCES users(id),
    field_id INTEGER NOT NULL REFERENCES profile_fields(id),
    value    TEXT NOT NULL,
    hidden   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, field_id)
);
CREATE INDEX person_field_values_field ON person_field_values (field_id);
