-- Mail to outside addresses: an outbox row for an email address that is no user's. Its
-- user_id is the sender (whose mail it is); `address` is where it goes.
-- Same meaning as migrations/sqlite/0029_outside_mail.sql.
ALTER TABLE outbox ADD COLUMN address TEXT;
-- A person's emails to outside addresses of the last day are counted (a daily cap).
CREATE INDEX outbox_outside ON outbox (user_id, created_at) WHERE address IS NOT NULL;
