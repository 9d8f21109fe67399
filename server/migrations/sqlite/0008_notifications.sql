-- The "Notifications" list: each `message_unread` event that carried a notice (a mention, a
-- direct message, a reply in a followed thread), keyed by that event's seq in the user's scope.
CREATE TABLE notifications (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    seq        INTEGER NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    message_id INTEGER NOT NULL REFERENCES messages(id),
    kind       TEXT NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    excerpt    TEXT NOT NULL,
    thread_id  INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;

-- How far each user has looked at their notifications.
CREATE TABLE notifications_seen (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    seq     INTEGER NOT NULL
);
