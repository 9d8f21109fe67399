-- Same meaning as migrations/sqlite/0015_contact_fields.sql.
ALTER TABLE users ADD COLUMN mobile TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE user_settings ADD COLUMN hide_mobile BIGINT NOT NULL DEFAULT 0;
