-- Every refresh token ever issued, so that logout and rotation can revoke
-- one for good, also across restarts.
CREATE TABLE refresh_tokens (
    jti        TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

-- Browser sessions (scs). expiry is microseconds since the epoch.
CREATE TABLE sessions (
    token  TEXT    PRIMARY KEY,
    data   BLOB    NOT NULL,
    expiry INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expiry ON sessions (expiry);
