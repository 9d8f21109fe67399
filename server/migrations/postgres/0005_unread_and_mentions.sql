-- Unread counts and mentions. Same tables and meaning as
-- migrations/sqlite/0005_unread_and_mentions.sql.

ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN mentions_all BIGINT NOT NULL DEFAULT 0;

CREATE TABLE channel_reads (
    user_id    BIGINT NOT NULL REFERENCES users(id),
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    last_read  BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

CREATE TABLE unread_messages (
    user_id    BIGINT NOT NULL REFERENCES users(id),
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    seq        BIGINT NOT NULL,
    mention    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, channel_id, seq)
);

CREATE TABLE thread_followers (
    root_id BIGINT NOT NULL REFERENCES messages(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (root_id, user_id)
);
