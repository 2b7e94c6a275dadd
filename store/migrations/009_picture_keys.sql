-- Pictures are served under a random key of 128 bits instead of their row
-- id, so that /media/pictures/1, 2, 3... no longer lists every user's
-- face. Pictures already stored get a key here; their old numeric URLs stop
-- working, while profiles show the new ones. users.picture_key repeats the
-- key of the user's current picture so that loading a user (every
-- authenticated request) needs no join.
ALTER TABLE pictures ADD COLUMN key TEXT NOT NULL DEFAULT '';
UPDATE pictures SET key = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX pictures_key ON pictures (key);
ALTER TABLE users ADD COLUMN picture_key TEXT NOT NULL DEFAULT '';
UPDATE users SET picture_key = (SELECT key FROM pictures WHERE pictures.id = users.picture_id)
    WHERE picture_id IS NOT NULL;
