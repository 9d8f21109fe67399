-- Instant messaging on messages: threads, edits (with their history), deletes, pins, reactions.
-- Same tables and meaning as migrations/sqlite/0004_messages_im.sql.

ALTER TABLE messages ADD COLUMN thread_id BIGINT REFERENCES messages(id);
ALTER TABLE messages ADD COLUMN reply_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN pinned BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_thread ON messages (thread_id, seq) WHERE thread_id IS NOT NULL;
CREATE INDEX messages_pinned ON messages (channel_id, seq) WHERE pinned = 1;

CREATE TABLE message_edits (
    id          BIGSERIAL PRIMARY KEY,
    message_id  BIGINT NOT NULL REFERENCES messages(id),
    body        TEXT NOT NULL,
    replaced_at BIGINT NOT NULL,
    replaced_by BIGINT NOT NULL REFERENCES users(id)
);
CREATE INDEX message_edits_message ON message_edits (message_id);

CREATE TABLE message_reactions (
    message_id  BIGINT NOT NULL REFERENCES messages(id),
    emoji       TEXT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    seq         BIGINT NOT NULL,
    emoji_since BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);
