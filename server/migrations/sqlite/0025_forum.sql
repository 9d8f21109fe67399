-- 论坛 forum: sections (moderators, audience), topics (discussion, question, vote), replies,
-- votes and mutes. Same meaning as migrations/postgres/0025_forum.sql.
CREATE TABLE forum_sections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- JSON: the audience as the admin chose it; `forum_audience` holds it for lookups.
    audience    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX forum_sections_name ON forum_sections (lower(name));
INSERT INTO forum_sections (name, description, audience, created_at)
    VALUES ('综合讨论 General', '', '["everyone"]', 0);

CREATE TABLE forum_moderators (
    section_id INTEGER NOT NULL REFERENCES forum_sections(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (section_id, user_id)
);

CREATE TABLE forum_audience (
    section_id INTEGER NOT NULL REFERENCES forum_sections(id),
    member     TEXT NOT NULL,
    PRIMARY KEY (section_id, member)
);
INSERT INTO forum_audience (section_id, member) SELECT id, 'everyone' FROM forum_sections;

CREATE TABLE forum_topics (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    section_id  INTEGER NOT NULL REFERENCES forum_sections(id),
    author_id   INTEGER NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    html        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    active_at   INTEGER NOT NULL,
    replies     INTEGER NOT NULL DEFAULT 0,
    pinned      INTEGER NOT NULL DEFAULT 0,
    featured    INTEGER NOT NULL DEFAULT 0,
    locked      INTEGER NOT NULL DEFAULT 0,
    accepted_id INTEGER,
    -- A vote's options (JSON list of texts), how many one picks, until when, how many voted.
    vote_options TEXT,
    max_choices INTEGER NOT NULL DEFAULT 1,
    deadline    INTEGER,
    voters      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX forum_topics_section ON forum_topics (section_id, pinned, active_at);

CREATE TABLE forum_replies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic_id    INTEGER NOT NULL REFERENCES forum_topics(id),
    author_id   INTEGER NOT NULL REFERENCES users(id),
    text        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    quote_id    INTEGER REFERENCES forum_replies(id),
    -- JSON list of the user ids it mentions.
    mentions    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX forum_replies_topic ON forum_replies (topic_id, id);

-- One row per option a person picked.
CREATE TABLE forum_votes (
    topic_id INTEGER NOT NULL REFERENCES forum_topics(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    choice   INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (topic_id, user_id, choice)
);

CREATE TABLE forum_mutes (
    section_id INTEGER NOT NULL REFERENCES forum_sections(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    until      INTEGER NOT NULL,
    by_id      INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (section_id, user_id)
);
