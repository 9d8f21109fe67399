-- A user's own settings, and read receipts in direct conversations. Same tables and meaning
-- as migrations/sqlite/0006_settings_and_receipts.sql.

CREATE TABLE user_settings (
    user_id       BIGINT PRIMARY KEY REFERENCES users(id),
    read_receipts BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE read_receipts (
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    user_id    BIGINT NOT NULL REFERENCES users(id),
    seq        BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
