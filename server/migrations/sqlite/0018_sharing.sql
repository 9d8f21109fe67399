-- Sharing cabinet entries: with an audience (people, departments, roles, everyone; see the
-- protocol's `AudienceMember` for `member`'s form) as view or edit, and by link (a random
-- token, an optional argon2 password, an optional expiry). A share of a folder covers what is
-- inside it. Same meaning as migrations/postgres/0018_sharing.sql.
CREATE TABLE cabinet_shares (
    entry_id   INTEGER NOT NULL REFERENCES cabinet_entries(id),
    member     TEXT NOT NULL,
    can_edit   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (entry_id, member)
);
CREATE INDEX cabinet_shares_member ON cabinet_shares (member);

CREATE TABLE share_links (
    token         TEXT PRIMARY KEY,
    entry_id      INTEGER NOT NULL REFERENCES cabinet_entries(id),
    password_hash TEXT NOT NULL DEFAULT '',
    expires_at    INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX share_links_entry ON share_links (entry_id);
