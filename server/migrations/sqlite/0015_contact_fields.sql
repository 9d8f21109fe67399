-- Contact details for the address book, and whether a person hides their mobile number from
-- others. Same meaning as migrations/postgres/0015_contact_fields.sql.
ALTER TABLE users ADD COLUMN mobile TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE user_settings ADD COLUMN hide_mobile INTEGER NOT NULL DEFAULT 0;
