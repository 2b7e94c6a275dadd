-- Hit counts get a table of their own. The counts kept in memory are
-- written once a second, one row per post read since; in posts, each of
-- those rows holds the post's text, so a second of a busy board rewrote a
-- page per post read (3,300 pages, 13 MB of WAL, 40 ms in which no post
-- could be written). Here a page holds the counts of hundreds of posts.
-- A post never read has no row: its count is 0.
CREATE TABLE post_hits (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    hit     INTEGER NOT NULL
) STRICT;
INSERT INTO post_hits (post_id, hit) SELECT id, hit FROM posts WHERE hit <> 0;
ALTER TABLE posts DROP COLUMN hit;
