-- The "Notifications" list. Same tables and meaning as migrations/sqlite/0008_notifications.sql.
CREATE TABLE notifications (
    user_id    BIGINT NOT NULL REFERENCES users(id),
    seq        BIGINT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels(id),
    message_id BIGINT NOT NULL REFERENCES messages(id),
    kind       TEXT NOT NULL,
    author_id  BIGINT NOT NULL REFERENCES users(id),
    excerpt    TEXT NOT NULL,
    thread_id  BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);

CREATE TABLE notifications_seen (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    seq     BIGINT NOT NULL
);
