-- 通知公告 notices: types an admin defines, notices, and each recipient's read and
-- acknowledgement. Same meaning as migrations/postgres/0023_notices.sql.
CREATE TABLE notice_types (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    -- Publishing needs approval by someone with this role (a removed role: no review).
    review_role INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX notice_types_name ON notice_types (lower(name));
INSERT INTO notice_types (name, review_role, created_at) VALUES
    ('通知 Notice', NULL, 0), ('公告 Announcement', NULL, 0), ('决定 Decision', NULL, 0);

CREATE TABLE notices (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    type_id        INTEGER NOT NULL REFERENCES notice_types(id),
    author_id      INTEGER NOT NULL REFERENCES users(id),
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    html           TEXT NOT NULL,
    -- JSON: the audience as the author chose it (resolved to recipients when released).
    audience       TEXT NOT NULL,
    valid_from     INTEGER,
    valid_until    INTEGER,
    pinned_until   INTEGER,
    requires_ack   INTEGER NOT NULL DEFAULT 0,
    urgent         INTEGER NOT NULL DEFAULT 0,
    escalate_after INTEGER,
    status         TEXT NOT NULL,
    revision       INTEGER NOT NULL DEFAULT 0,
    revision_note  TEXT NOT NULL DEFAULT '',
    -- JSON: what the latest revision changed, line by line.
    changes        TEXT NOT NULL DEFAULT '[]',
    review_note    TEXT NOT NULL DEFAULT '',
    published_at   INTEGER,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX notices_author ON notices (author_id);
CREATE INDEX notices_status ON notices (status, valid_from);

-- Everyone a released notice reached, and when they first read and acknowledged it
-- (`ack_revision`: the revision acknowledged; a later one asks again).
CREATE TABLE notice_recipients (
    notice_id    INTEGER NOT NULL REFERENCES notices(id),
    user_id      INTEGER NOT NULL REFERENCES users(id),
    read_at      INTEGER,
    ack_at       INTEGER,
    ack_revision INTEGER,
    PRIMARY KEY (notice_id, user_id)
);
CREATE INDEX notice_recipients_user ON notice_recipients (user_id, notice_id);

-- Every outbox row knows what it is about ('notices:5'), so withdrawing a notice cancels its
-- deliveries still waiting; and a worker finds its claimed rows by index.
ALTER TABLE outbox ADD COLUMN item TEXT;
CREATE INDEX outbox_item ON outbox (item, state);
CREATE INDEX outbox_claim ON outbox (claim);
