-- Every group commit writes one new segment into each of the posts'
-- full-text indexes. At FTS5's default automerge of 4 segments a level,
-- merging them took 44 % of all write CPU on a busy board. Letting 16
-- gather before a merge writes posts about 45 % faster (2,240 → 3,240 a
-- second with 64 writers on a 100,000-post board), while a search reads
-- at most 15 segments of a level (its req/s within 5 %); crisismerge
-- rises with it, as it must stay above automerge.
INSERT INTO posts_tri (posts_tri, rank) VALUES ('automerge', 16);
INSERT INTO posts_word (posts_word, rank) VALUES ('automerge', 16);
INSERT INTO posts_tri (posts_tri, rank) VALUES ('crisismerge', 32);
INSERT INTO posts_word (posts_word, rank) VALUES ('crisismerge', 32);
