-- 内部邮件 internal mail: one row per mail, one per holder's copy, the holders' own folders.
-- Same meaning as migrations/postgres/0026_mail.sql.
CREATE TABLE mails (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id   INTEGER NOT NULL REFERENCES users(id),
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    html        TEXT NOT NULL,
    -- JSON: To, Cc and Bcc as the sender chose them (audience members).
    chosen      TEXT NOT NULL,
    in_reply_to INTEGER REFERENCES mails(id),
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
);

-- Each holder's copy: the sender's ('from') and each recipient's ('to', 'cc', 'bcc').
CREATE TABLE mail_boxes (
    mail_id  INTEGER NOT NULL REFERENCES mails(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    role     TEXT NOT NULL,
    folder   TEXT NOT NULL,
    read_at  INTEGER,
    -- Taken back by the sender before it was read: gone from the holder's mailbox.
    recalled INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mail_id, user_id)
);
CREATE INDEX mail_boxes_user ON mail_boxes (user_id, folder);

CREATE TABLE mail_folders (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    name     TEXT NOT NULL
);
CREATE UNIQUE INDEX mail_folders_name ON mail_folders (owner_id, lower(name));

-- A mail's attachments are files readable by its holders.
ALTER TABLE files ADD COLUMN mail_id INTEGER REFERENCES mails(id);
CREATE INDEX files_mail ON files (mail_id);
