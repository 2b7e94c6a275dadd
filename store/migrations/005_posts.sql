-- The board: categories, posts, their tags, and two full-text indexes.
-- AUTOINCREMENT keeps a deleted id from ever naming another row, so an old
-- link (or a hit counted in memory for it) never lands on a new post.
CREATE TABLE categories (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT    NOT NULL,
    key  TEXT    NOT NULL UNIQUE -- the name lowercased: names are unique ignoring case
) STRICT;

-- tags holds the post's tag names joined by newlines, in the order given:
-- a list page reads them with the row, and the search indexes see them as a
-- column. post_tags below is the same set, indexed for the tag filter.
-- created_at never goes backwards (see CreatePost), so id order is time order.
CREATE TABLE posts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    title       TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    tags        TEXT    NOT NULL DEFAULT '',
    hit         INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX posts_newest ON posts (created_at, id);
CREATE INDEX posts_category ON posts (category_id, created_at, id);
CREATE INDEX posts_author ON posts (author_id);

CREATE TABLE post_tags (
    key     TEXT    NOT NULL, -- the tag name lowercased
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (key, post_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX post_tags_post ON post_tags (post_id);

-- The number of posts, kept by triggers so that an unfiltered page can
-- report its total without counting 100,000 rows.
CREATE TABLE post_count (n INTEGER NOT NULL) STRICT;
INSERT INTO post_count (n) VALUES (0);

-- Two external-content indexes over title, content and tags. posts_tri
-- (trigram) finds any substring of three characters or more, in any
-- language; posts_word (whole words, with prefix indexes of one and two
-- characters) serves the one- and two-character terms trigrams cannot,
-- such as most Korean words. Results are never ranked, so neither keeps
-- column sizes (one b-tree less to write per post).
CREATE VIRTUAL TABLE posts_tri USING fts5 (
    title, content, tags,
    content = 'posts', content_rowid = 'id', tokenize = 'trigram', columnsize = 0
);
CREATE VIRTUAL TABLE posts_word USING fts5 (
    title, content, tags,
    content = 'posts', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2', detail = 'none', columnsize = 0
);

CREATE TRIGGER posts_insert AFTER INSERT ON posts BEGIN
    UPDATE post_count SET n = n + 1;
    INSERT INTO posts_tri (rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags);
    INSERT INTO posts_word (rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags);
END;

CREATE TRIGGER posts_delete AFTER DELETE ON posts BEGIN
    UPDATE post_count SET n = n - 1;
    INSERT INTO posts_tri (posts_tri, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags);
    INSERT INTO posts_word (posts_word, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags);
END;

-- Only a change of indexed text re-indexes: hit counts and category
-- changes leave the indexes alone.
CREATE TRIGGER posts_update AFTER UPDATE OF title, content, tags ON posts BEGIN
    INSERT INTO posts_tri (posts_tri, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags);
    INSERT INTO posts_word (posts_word, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags);
    INSERT INTO posts_tri (rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags);
    INSERT INTO posts_word (rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags);
END;
