-- Instant messaging on messages: threads, edits (with their history), deletes, pins, reactions.

-- A reply names its thread's first message; the root counts its replies.
ALTER TABLE messages ADD COLUMN thread_id INTEGER REFERENCES messages(id);
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_thread ON messages (thread_id, seq) WHERE thread_id IS NOT NULL;
CREATE INDEX messages_pinned ON messages (channel_id, seq) WHERE pinned = 1;

-- Every earlier body of an edited or deleted message, newest last.
CREATE TABLE message_edits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  INTEGER NOT NULL REFERENCES messages(id),
    body        TEXT NOT NULL,
    replaced_at INTEGER NOT NULL,
    replaced_by INTEGER NOT NULL REFERENCES users(id)
);
CREATE INDEX message_edits_message ON message_edits (message_id);

-- One row per (message, emoji, user). `seq` is the channel event that added it (users in
-- reaction order); `emoji_since` the event at which that emoji appeared on the message, kept
-- while anyone's reaction with it remains (emoji in order of appearance), so a fresh read
-- orders reactions exactly as a browser that applied the events does.
CREATE TABLE message_reactions (
    message_id  INTEGER NOT NULL REFERENCES messages(id),
    emoji       TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    seq         INTEGER NOT NULL,
    emoji_since INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;
