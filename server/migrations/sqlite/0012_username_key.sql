-- Usernames are unique and found regardless of case, in every script: `username_key` is the
-- name folded by the server (Rust's Unicode lowercase, the same on both engines), where the
-- database's own lower() folds ASCII only (SQLite; PostgreSQL under the C locale). Rows from
-- before get lower(username) here and the server's fold at start-up (auth::fold_usernames).
ALTER TABLE users ADD COLUMN username_key TEXT;
UPDATE users SET username_key = lower(username);
CREATE UNIQUE INDEX users_username_key ON users (username_key);
