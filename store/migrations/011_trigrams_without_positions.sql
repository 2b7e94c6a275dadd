-- posts_tri keeps no positions (detail=none). With them, the trigram index
-- was five times the size of the text it indexed, and merging its segments
-- was most of what writing a post cost; without them it is a sixth of that
-- size. A search term of more than three characters is now looked up as
-- all of its trigrams, in any order, and the posts found are checked for
-- the term itself (store/search.go), which the positions used to do.
DROP TABLE posts_tri;
CREATE VIRTUAL TABLE posts_tri USING fts5 (
    title, content, tags,
    content = 'posts', content_rowid = 'id', tokenize = 'trigram',
    detail = 'none', columnsize = 0
);
INSERT INTO posts_tri (posts_tri) VALUES ('rebuild');
