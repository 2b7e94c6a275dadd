-- maru:foreign-keys-off
-- Ids of users and chat rooms are never handed out twice, so that a token,
-- a session, a link or a hit counted for a removed row can never act on,
-- or land on, a new one. That is AUTOINCREMENT (posts and categories have
-- had it from the start), which only a rebuilt table can get: a new table,
-- the rows copied with their ids, the old table dropped, the new one
-- renamed. The directive above runs this with foreign keys off, as a DROP
-- TABLE with them on would delete every row that refers to the table
-- through ON DELETE CASCADE; every reference is checked before the commit.
-- The tables that refer to these two name them, not the table object, so
-- they find the new tables under the old names. The email search index is
-- keyed by user id, which is kept; its triggers went with the old table and
-- are made again.

CREATE TABLE users_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT    NOT NULL,
    nickname       TEXT    NOT NULL,
    contact_number TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT '',
    is_private     INTEGER NOT NULL DEFAULT 0 CHECK (is_private IN (0, 1)),
    is_admin       INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    picture_id     INTEGER REFERENCES pictures (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    auth_epoch     INTEGER NOT NULL DEFAULT 0,
    disabled_at    INTEGER,
    deleted_at     INTEGER,
    picture_key    TEXT    NOT NULL DEFAULT ''
) STRICT;
INSERT INTO users_new (id, email, password_hash, nickname, contact_number, status, is_private, is_admin,
                       picture_id, created_at, auth_epoch, disabled_at, deleted_at, picture_key)
    SELECT id, email, password_hash, nickname, contact_number, status, is_private, is_admin,
           picture_id, created_at, auth_epoch, disabled_at, deleted_at, picture_key
    FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TRIGGER users_email_search_insert AFTER INSERT ON users WHEN new.is_private = 0 BEGIN
    INSERT INTO users_email_search (rowid, email) VALUES (new.id, new.email);
END;
CREATE TRIGGER users_email_search_delete AFTER DELETE ON users WHEN old.is_private = 0 BEGIN
    INSERT INTO users_email_search (users_email_search, rowid, email) VALUES ('delete', old.id, old.email);
END;
CREATE TRIGGER users_email_search_update AFTER UPDATE OF email, is_private ON users
WHEN old.email IS NOT new.email OR old.is_private IS NOT new.is_private BEGIN
    INSERT INTO users_email_search (users_email_search, rowid, email)
        SELECT 'delete', old.id, old.email WHERE old.is_private = 0;
    INSERT INTO users_email_search (rowid, email)
        SELECT new.id, new.email WHERE new.is_private = 0;
END;

CREATE TABLE chat_rooms_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO chat_rooms_new (id, name, created_by, created_at)
    SELECT id, name, created_by, created_at FROM chat_rooms;
DROP TABLE chat_rooms;
ALTER TABLE chat_rooms_new RENAME TO chat_rooms;
