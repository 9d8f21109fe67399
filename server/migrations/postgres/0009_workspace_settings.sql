-- Same table and meaning as migrations/sqlite/0009_workspace_settings.sql.
CREATE TABLE workspace_settings (
    id                    BIGINT PRIMARY KEY CHECK (id = 1),
    edit_window_minutes   BIGINT,
    delete_window_minutes BIGINT
);
