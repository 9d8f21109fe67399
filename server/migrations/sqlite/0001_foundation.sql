-- Accounts, sessions, channels, messages and the per-scope event log.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Only a SHA-256 of the cookie token is stored, so a leaked database holds no usable session.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);

-- The head (last sequence number handed out) of every scope's log. Incremented in the same
-- transaction that writes the event, so sequence numbers are gapless.
CREATE TABLE scope_heads (
    scope TEXT PRIMARY KEY,
    head  INTEGER NOT NULL
);

-- One ordered log per scope: what clients replay on reconnect.
CREATE TABLE events (
    scope      TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, seq)
) WITHOUT ROWID;

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    seq        INTEGER NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    client_id  TEXT,
    UNIQUE (channel_id, seq)
);
-- A retried post (same author, same client id) is recognised, not stored twice.
CREATE UNIQUE INDEX messages_client_id ON messages(author_id, client_id) WHERE client_id IS NOT NULL;
