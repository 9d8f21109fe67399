-- Search over stored files: their names and the text inside PDF, docx and xlsx files. Text is
-- read out of a blob's bytes once (`blob_texts`, by hash, claimed by one node at a time) off
-- the request path; each file's terms (name and text, the same scheme as `search_terms`) go
-- in `file_terms`. `files.indexed_at` is set once a file's terms are in.
-- Same meaning as migrations/sqlite/0019_file_search.sql.
CREATE TABLE blob_texts (
    hash          TEXT PRIMARY KEY,
    -- 'working' (claimed until `claimed_until`), 'done', or 'none' (nothing to read).
    state         TEXT NOT NULL,
    claimed_until BIGINT,
    body          TEXT NOT NULL DEFAULT ''
);

CREATE TABLE file_terms (
    term    TEXT NOT NULL,
    file_id BIGINT NOT NULL,
    PRIMARY KEY (term, file_id)
);
CREATE INDEX file_terms_file ON file_terms (file_id);

ALTER TABLE files ADD COLUMN indexed_at BIGINT;
CREATE INDEX files_unindexed ON files (indexed_at) WHERE indexed_at IS NULL;
