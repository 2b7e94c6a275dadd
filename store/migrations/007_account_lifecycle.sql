-- What running a community needs on day one: passwords that can be changed
-- or reset, sign-up by invitation, accounts that can be disabled or closed,
-- and a record of what admins did.

-- auth_epoch counts the events that end a user's other logins (a password
-- change or reset): a browser session remembers the epoch it began in and
-- is over once the user's has moved on.
ALTER TABLE users ADD COLUMN auth_epoch INTEGER NOT NULL DEFAULT 0;
-- A disabled user keeps their content but can neither log in nor act.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
-- A closed account stays as an empty row, so that its posts and messages
-- keep an author ("deleted user") and its id is never given to anyone else.
ALTER TABLE users ADD COLUMN deleted_at INTEGER;

-- Invitations to sign up when sign-up is by invitation. The code is shown
-- to admins so they can pass it on; it grants nothing else.
CREATE TABLE invites (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code       TEXT    NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
    uses       INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
) STRICT;

-- One-time password reset links that an admin issues. Only a hash of the
-- secret is kept; the link is shown once. A link is void once used, once
-- expired, and once the user's password changed by any other way (its
-- auth_epoch moved on).
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_epoch INTEGER NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX password_resets_user ON password_resets (user_id);

-- What admins did: who, what, to what, when. Kept when the actor or the
-- target goes, so the names are copied in.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor_id INTEGER,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    detail   TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
