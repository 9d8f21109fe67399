-- Commands (idempotent by user and client id), the event envelope, channel kinds and members.

-- Every applied command of a user with a client id, and what it returned: a retry is answered
-- from here instead of being applied twice, whatever the feature.
CREATE TABLE commands (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    output     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
) WITHOUT ROWID;

-- The envelope: who caused an event and with which client id.
ALTER TABLE events ADD COLUMN actor_id INTEGER;
ALTER TABLE events ADD COLUMN client_id TEXT;

-- Channels get a kind; names are unique among named (public and private) channels only, and a
-- direct conversation is found again by its sorted member ids (dm_key). SQLite cannot drop a
-- column constraint, so the table is rebuilt; messages keep referring to it by name.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE channels_rebuilt (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL COLLATE NOCASE,
    kind       TEXT NOT NULL DEFAULT 'public',
    dm_key     TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
INSERT INTO channels_rebuilt (id, name, kind, created_by, created_at)
    SELECT id, name, 'public', created_by, created_at FROM channels;
DROP TABLE channels;
ALTER TABLE channels_rebuilt RENAME TO channels;
CREATE UNIQUE INDEX channels_name ON channels (name) WHERE kind IN ('public', 'private');
CREATE UNIQUE INDEX channels_dm_key ON channels (dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE channel_members (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX channel_members_user ON channel_members (user_id);
