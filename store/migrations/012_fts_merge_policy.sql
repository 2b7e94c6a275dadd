-- Both post indexes merge their segments 16 at a time instead of 4, and
-- merge a level at once only past 64 segments instead of 16. Every post
-- adds to a new segment, and with 4 at a time the merging that followed
-- was a third of what writing a post cost; with 16 the same text is
-- rewritten about half as often. A search then reads a few more segments,
-- which costs a cold search of a rare word 2 ms more on a board of 100,000
-- posts; common searches are counted within a time budget either way, and
-- the board cache keeps searches from being computed again after a post.
INSERT INTO posts_tri (posts_tri, rank) VALUES ('automerge', 16);
INSERT INTO posts_tri (posts_tri, rank) VALUES ('crisismerge', 64);
INSERT INTO posts_word (posts_word, rank) VALUES ('automerge', 16);
INSERT INTO posts_word (posts_word, rank) VALUES ('crisismerge', 64);
