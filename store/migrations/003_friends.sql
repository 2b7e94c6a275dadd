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

-- A trigram index over email addresses, so that searching for a substring
-- of an email reads a few index pages instead of every user. It reads its
-- text from users (external content) and is kept in step by the triggers
-- below.
CREATE VIRTUAL TABLE users_email_search USING fts5 (
    email,
    content = 'users',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO users_email_search (rowid, email) SELECT id, email FROM users;

CREATE TRIGGER users_email_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_email_search (rowid, email) VALUES (new.id, new.email);
END;
CREATE TRIGGER users_email_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_email_search (users_email_search, rowid, email) VALUES ('delete', old.id, old.email);
END;
CREATE TRIGGER users_email_search_update AFTER UPDATE OF email ON users BEGIN
    INSERT INTO users_email_search (users_email_search, rowid, email) VALUES ('delete', old.id, old.email);
    INSERT INTO users_email_search (rowid, email) VALUES (new.id, new.email);
END;
