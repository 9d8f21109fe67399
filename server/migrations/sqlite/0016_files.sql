-- Files: bytes stored once by their SHA-256 (`blobs`), uploads on their way in, stored files
-- (one row per version, attached to what makes it readable), and the personal file cabinet.
-- The workspace's file limits. Same meaning as migrations/postgres/0016_files.sql.
ALTER TABLE workspace_settings ADD COLUMN max_file_mb INTEGER;
ALTER TABLE workspace_settings ADD COLUMN quota_mb INTEGER;

CREATE TABLE blobs (
    hash       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    mime       TEXT NOT NULL,
    -- Last time an upload produced these bytes: the sweep leaves recent blobs alone.
    touched_at INTEGER NOT NULL
);

-- An upload is known only to its uploader (its id is a random token). `hash` is set once
-- every byte is in and the blob is stored.
CREATE TABLE uploads (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    received   INTEGER NOT NULL DEFAULT 0,
    hash       TEXT,
    mime       TEXT,
    created_at INTEGER NOT NULL,
    -- Last piece received: an upload idle for a day is swept away.
    updated_at INTEGER NOT NULL,
    -- A node writing a piece holds the upload until then: pieces of one upload are never
    -- written side by side, on one node or several.
    writing_until INTEGER
);
CREATE INDEX uploads_user ON uploads (user_id);

CREATE TABLE cabinet_entries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id        INTEGER NOT NULL REFERENCES users(id),
    parent_id       INTEGER REFERENCES cabinet_entries(id),
    name            TEXT NOT NULL,
    is_folder       INTEGER NOT NULL,
    current_file_id INTEGER,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER
);
CREATE INDEX cabinet_entries_owner ON cabinet_entries (owner_id, parent_id);

-- One stored version of a file. It is readable where what it is attached to is: a cabinet
-- entry (`entry_id`). Its bytes count against `owner_id`'s quota.
CREATE TABLE files (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hash       TEXT NOT NULL REFERENCES blobs(hash),
    name       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    mime       TEXT NOT NULL,
    owner_id   INTEGER NOT NULL REFERENCES users(id),
    entry_id   INTEGER REFERENCES cabinet_entries(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX files_entry ON files (entry_id);
CREATE INDEX files_owner ON files (owner_id);
CREATE INDEX files_hash ON files (hash);
