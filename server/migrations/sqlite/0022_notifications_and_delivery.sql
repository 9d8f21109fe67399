-- The notification centre and delivery (email, SMS, webhook), and 短信 short messages.
-- Same meaning as migrations/postgres/0022_notifications_and_delivery.sql.

-- Office modules' entries of the "Notifications" list: each is a `notified` event in the
-- user's scope, kept under that event's number beside chat's `notifications`.
CREATE TABLE notes (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    seq        INTEGER NOT NULL,
    module     TEXT NOT NULL,
    item_id    INTEGER NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    author_id  INTEGER REFERENCES users(id),
    urgent     INTEGER NOT NULL DEFAULT 0,
    href       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX notes_item ON notes (module, item_id);

-- A person's notification settings (JSON of xietong::notify::NotificationSettings); no row
-- means the defaults.
CREATE TABLE notification_settings (
    user_id  INTEGER PRIMARY KEY REFERENCES users(id),
    settings TEXT NOT NULL
);

-- Word going out by email, SMS or webhook. Rows are written in the same transaction as the
-- notification's event; any node's delivery worker claims a due row for a lease, hands it
-- over, and marks it sent (or schedules a retry). The admin's delivery log reads it.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    via         TEXT NOT NULL,
    module      TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    href        TEXT NOT NULL,
    sender      TEXT NOT NULL DEFAULT '',
    urgent      INTEGER NOT NULL DEFAULT 0,
    -- 'notice:5': not needed once the person has read notice 5 (an escalation).
    unless_read TEXT,
    state       TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    -- Who holds it while sending, and until when (a dead node's claim runs out).
    claim       TEXT,
    lease_until INTEGER,
    sent_at     INTEGER,
    error       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_unless_read ON outbox (unless_read, user_id);

-- 短信: a short message, and each person it reached (with when they read it).
CREATE TABLE short_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id  INTEGER NOT NULL REFERENCES users(id),
    audience   TEXT NOT NULL,
    body       TEXT NOT NULL,
    urgent     INTEGER NOT NULL DEFAULT 0,
    recipients INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX short_messages_sender ON short_messages (sender_id, id);

CREATE TABLE short_message_recipients (
    message_id INTEGER NOT NULL REFERENCES short_messages(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    read_at    INTEGER,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX short_message_recipients_user ON short_message_recipients (user_id, message_id);
