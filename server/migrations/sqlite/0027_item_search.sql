-- Search over the office modules' items (a mail, a notice): the same terms as `search_terms`
-- (words; CJK characters and pairs) of an item's title and text, by module. Every indexed
-- item also has the empty term, so a start-up pass finds items stored before they were
-- indexed. Who may read an item is the module's to say when a search runs.
-- Same meaning as migrations/postgres/0027_item_search.sql (which also makes file_terms
-- compare bytes, as SQLite does already).
CREATE TABLE item_terms (
    term    TEXT NOT NULL,
    module  TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (term, module, item_id)
);
CREATE INDEX item_terms_item ON item_terms (module, item_id);
