-- What an admin sets for the whole workspace: one row (id 1), absent until first set.
-- NULL windows mean no limit.
CREATE TABLE workspace_settings (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    edit_window_minutes   INTEGER,
    delete_window_minutes INTEGER
);
