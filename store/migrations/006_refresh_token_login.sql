-- A refresh token remembers the login it descends from, so that rotation
-- carries that time forward and a chain of rotations ends at an absolute
-- age, and whether rotation revoked it, so that a rotated-away token shown
-- again is recognised as stolen (its user's tokens are then all revoked).
ALTER TABLE refresh_tokens ADD COLUMN login_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN rotated INTEGER NOT NULL DEFAULT 0 CHECK (rotated IN (0, 1));
-- Tokens issued before this version count their age from the upgrade.
UPDATE refresh_tokens SET login_at = CAST(unixepoch('subsec') * 1000000 AS INTEGER);
-- Revoking every token of one user, and the cascade when a user goes.
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
