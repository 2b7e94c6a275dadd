-- The post indexes no longer merge their segments inside the commits of
-- posts: automerge is off, and the store merges 16 segments at a time in
-- short steps while no write is waiting (store/merge.go). With automerge,
-- the batch whose pages crossed FTS5's work unit merged 64 pages per level
-- of the index at once, and the posts in it waited 20-40 ms for that. A
-- level that reaches 64 segments (crisismerge, kept from migration 012) is
-- still merged at once, so that a writer kept busy without a pause cannot
-- leave searches an unbounded number of segments to read.
INSERT INTO posts_tri (posts_tri, rank) VALUES ('automerge', 0);
INSERT INTO posts_tri (posts_tri, rank) VALUES ('usermerge', 16);
INSERT INTO posts_word (posts_word, rank) VALUES ('automerge', 0);
INSERT INTO posts_word (posts_word, rank) VALUES ('usermerge', 16);
