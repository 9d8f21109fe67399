-- A user's own settings, and read receipts in direct conversations.

-- One row per user who changed a setting; no row means the defaults.
CREATE TABLE user_settings (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id),
    read_receipts INTEGER NOT NULL DEFAULT 1
);

-- The latest read receipt of each member of a direct conversation: `seq` is the
-- `messages_seen` event's own number in the channel's log.
CREATE TABLE read_receipts (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    seq        INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
