-- Search over the office modules' items (a mail, a notice): the same terms as `search_terms`
-- (words; CJK characters and pairs) of an item's title and text, by module. Every indexed
-- item also has the empty term, so a start-up pass finds items stored before they were
-- indexed. Who may read an item is the module's to say when a search runs.
-- Same meaning as migrations/sqlite/0027_item_search.sql.
CREATE TABLE item_terms (
    -- Byte-wise, as search_terms (0007): a prefix is one index range whatever the locale.
    term    TEXT COLLATE "C" NOT NULL,
    module  TEXT NOT NULL,
    item_id BIGINT NOT NULL,
    PRIMARY KEY (term, module, item_id)
);
CREATE INDEX item_terms_item ON item_terms (module, item_id);

-- file_terms (0019) was made without it: a prefix search over file names could miss words
-- under a locale's collation. (SQLite compares bytes already.)
ALTER TABLE file_terms ALTER COLUMN term TYPE TEXT COLLATE "C";
