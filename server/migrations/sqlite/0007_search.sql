-- Search: an inverted index of message text. Chinese (and other scripts written without
-- spaces) is indexed by single characters and pairs of characters, so any substring is found;
-- other text by lowercased words, found by prefix. Kept in the same transaction as the
-- message; messages from before this index are indexed by a background pass (`indexed = 0`).

ALTER TABLE messages ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_unindexed ON messages (id) WHERE indexed = 0;

CREATE TABLE search_terms (
    term       TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (term, message_id)
) WITHOUT ROWID;
