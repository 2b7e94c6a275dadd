-- Accounts, profiles and their pictures. Times are microseconds since the
-- Unix epoch, in UTC.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT    NOT NULL,
    nickname       TEXT    NOT NULL,
    contact_number TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT '',
    is_private     INTEGER NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1)),
    is_admin       INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    picture_id     INTEGER REFERENCES pictures (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL
) STRICT;

-- A picture is immutable: a new upload is a new row, so its URL can be
-- cached forever.
CREATE TABLE pictures (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX pictures_user ON pictures (user_id);

-- Small named values the server keeps for itself, such as the token secret.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
