-- The organisation: departments as a tree, and who belongs where (one main department each,
-- any number of others). Same tables and meaning as migrations/postgres/0013_departments.sql.
CREATE TABLE departments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    parent_id    INTEGER REFERENCES departments(id),
    head_user_id INTEGER REFERENCES users(id),
    sort_order   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
-- Sibling names are unique (a path such as 总部/技术部 names one department).
CREATE UNIQUE INDEX departments_sibling_name ON departments (COALESCE(parent_id, 0), lower(name));

CREATE TABLE user_departments (
    user_id       INTEGER NOT NULL REFERENCES users(id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    main          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, department_id)
);
CREATE INDEX user_departments_department ON user_departments (department_id);
