-- Friend lists. A row says that user_id has put friend_id on their list;
-- the list is one-directional, so "mutual" is the row in the other
-- direction. The primary key is what makes two concurrent adds of the same
-- friend leave one entry.
CREATE TABLE friends (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    friend_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, friend_id),
    CHECK (user_id <> friend_id)
) STRICT, WITHOUT ROWID;
-- "Who has added me", for mutual flags and private profiles.
CREATE INDEX friends_reverse ON friends (friend_id, user_id);

-- A trigram index over the email addresses of public users, so that
-- searching for a substring of an email reads a few index pages instead of
-- every user. Private users are left out: search finds them only by their
-- full address, which the users table's own email index answers, and a
-- search for a common substring need not step over them one by one. The
-- index stores no text of its own (contentless); the triggers below keep it
-- in step with users.
CREATE VIRTUAL TABLE users_email_search USING fts5 (
    email,
    content = '',
    tokenize = 'trigram'
);
INSERT INTO users_email_search (rowid, email) SELECT id, email FROM users WHERE is_private = 0;
-- A bulk load leaves the index in pieces that slow searches down several
-- times; merging them once now costs a moment at upgrade.
INSERT INTO users_email_search (users_email_search) VALUES ('optimize');

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
