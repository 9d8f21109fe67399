-- Search. Same tables and meaning as migrations/sqlite/0007_search.sql; terms compare
-- byte-wise (COLLATE "C") so a prefix is one index range whatever the database's locale.

ALTER TABLE messages ADD COLUMN indexed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_unindexed ON messages (id) WHERE indexed = 0;

CREATE TABLE search_terms (
    term       TEXT COLLATE "C" NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (term, message_id)
);
