-- Posts reach the full-text indexes once per commit instead of once per
-- statement. FTS5 writes out what it holds in memory as a new segment at
-- the start of every statement of a transaction, so a batch of posts
-- written through the triggers of 005 left one segment per post in each
-- index, and merging them cost more than the posts themselves. The
-- triggers now queue the text here; the writer moves the whole queue into
-- both indexes with one statement each just before it commits (see
-- store/write.go), in the same transaction, so readers never see a post
-- without its index entries or the other way round.
CREATE TABLE posts_index_queue (
    seq     INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL,
    command TEXT, -- NULL: index the text; 'delete': remove it
    title   TEXT NOT NULL,
    content TEXT NOT NULL,
    tags    TEXT NOT NULL
) STRICT;

DROP TRIGGER posts_insert;
DROP TRIGGER posts_delete;
DROP TRIGGER posts_update;

CREATE TRIGGER posts_insert AFTER INSERT ON posts BEGIN
    UPDATE post_count SET n = n + 1;
    INSERT INTO posts_index_queue (post_id, command, title, content, tags)
        VALUES (new.id, NULL, new.title, new.content, new.tags);
END;

CREATE TRIGGER posts_delete AFTER DELETE ON posts BEGIN
    UPDATE post_count SET n = n - 1;
    INSERT INTO posts_index_queue (post_id, command, title, content, tags)
        VALUES (old.id, 'delete', old.title, old.content, old.tags);
END;

-- Only a change of indexed text re-indexes: hit counts and category
-- changes leave the indexes alone.
CREATE TRIGGER posts_update AFTER UPDATE OF title, content, tags ON posts BEGIN
    INSERT INTO posts_index_queue (post_id, command, title, content, tags)
        VALUES (old.id, 'delete', old.title, old.content, old.tags);
    INSERT INTO posts_index_queue (post_id, command, title, content, tags)
        VALUES (new.id, NULL, new.title, new.content, new.tags);
END;
