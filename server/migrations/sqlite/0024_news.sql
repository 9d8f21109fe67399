-- 新闻 news: columns (editors, audience), stories, who viewed and liked them, and comments.
-- Same meaning as migrations/postgres/0024_news.sql.
CREATE TABLE news_columns (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    -- JSON: the audience as the admin chose it; `news_audience` holds it for lookups.
    audience   TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX news_columns_name ON news_columns (lower(name));
INSERT INTO news_columns (name, audience, created_at) VALUES ('公司新闻 Company news', '["everyone"]', 0);

CREATE TABLE news_editors (
    column_id INTEGER NOT NULL REFERENCES news_columns(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (column_id, user_id)
);
CREATE INDEX news_editors_user ON news_editors (user_id);

-- One row per audience member key ('everyone', 'person:3', 'department_tree:2', …).
CREATE TABLE news_audience (
    column_id INTEGER NOT NULL REFERENCES news_columns(id),
    member    TEXT NOT NULL,
    PRIMARY KEY (column_id, member)
);
INSERT INTO news_audience (column_id, member) SELECT id, 'everyone' FROM news_columns;

CREATE TABLE stories (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    column_id    INTEGER NOT NULL REFERENCES news_columns(id),
    author_id    INTEGER NOT NULL REFERENCES users(id),
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    body         TEXT NOT NULL,
    html         TEXT NOT NULL,
    publish_at   INTEGER,
    pinned       INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,
    published_at INTEGER,
    updated_at   INTEGER NOT NULL,
    views        INTEGER NOT NULL DEFAULT 0,
    likes        INTEGER NOT NULL DEFAULT 0,
    comments     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX stories_column ON stories (column_id, status, published_at);
CREATE INDEX stories_due ON stories (status, publish_at);

CREATE TABLE story_views (
    story_id INTEGER NOT NULL REFERENCES stories(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    at       INTEGER NOT NULL,
    PRIMARY KEY (story_id, user_id)
);

CREATE TABLE story_likes (
    story_id INTEGER NOT NULL REFERENCES stories(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    at       INTEGER NOT NULL,
    PRIMARY KEY (story_id, user_id)
);
CREATE INDEX story_likes_user ON story_likes (user_id);

CREATE TABLE story_comments (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    story_id  INTEGER NOT NULL REFERENCES stories(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    text      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    hidden    INTEGER NOT NULL DEFAULT 0,
    hidden_by INTEGER REFERENCES users(id)
);
CREATE INDEX story_comments_story ON story_comments (story_id, at);

-- A story's cover and attachments are files readable where the story is.
ALTER TABLE files ADD COLUMN story_id INTEGER REFERENCES stories(id);
ALTER TABLE files ADD COLUMN is_cover INTEGER NOT NULL DEFAULT 0;
CREATE INDEX files_story ON files (story_id);

-- A message may carry a card (JSON): a story shared into the channel.
ALTER TABLE messages ADD COLUMN card TEXT;
