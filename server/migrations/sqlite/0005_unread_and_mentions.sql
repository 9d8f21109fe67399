-- Unread counts and mentions: where each reader stands in a channel, the unread messages
-- counted for them (pruned when read), who follows each thread, and whom a message mentions.

-- Message mentions, resolved when posted: user ids as "3,17"; `mentions_all` for @channel/@all/@here.
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN mentions_all INTEGER NOT NULL DEFAULT 0;

-- Read up to `last_read` (a seq of the channel's log).
CREATE TABLE channel_reads (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    last_read  INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

-- One row per message counted unread for a user (written with its `message_unread` event);
-- rows up to `last_read` are deleted when the user reads the channel.
CREATE TABLE unread_messages (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    seq        INTEGER NOT NULL,
    mention    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, channel_id, seq)
) WITHOUT ROWID;

-- Who follows a thread (by taking part in it): its replies count as unread for them.
CREATE TABLE thread_followers (
    root_id INTEGER NOT NULL REFERENCES messages(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (root_id, user_id)
) WITHOUT ROWID;
