-- Commands (idempotent by user and client id), the event envelope, channel kinds and members.
-- Same tables and meaning as migrations/sqlite/0002_commands_and_access.sql.

CREATE TABLE commands (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    output     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

ALTER TABLE events ADD COLUMN actor_id BIGINT;
ALTER TABLE events ADD COLUMN client_id TEXT;

ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
ALTER TABLE channels ADD COLUMN dm_key TEXT;
DROP INDEX channels_name;
CREATE UNIQUE INDEX channels_name ON channels (lower(name)) WHERE kind IN ('public', 'private');
CREATE UNIQUE INDEX channels_dm_key ON channels (dm_key) WHERE dm_key IS NOT NULL;

CREATE TABLE channel_members (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members (user_id);
