-- Chat rooms and their messages. A message's id orders the history and is
-- the key of its keyset paging ("before"), so it is AUTOINCREMENT: an id is
-- never handed out twice, even after its row went with its room or sender.
CREATE TABLE chat_rooms (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE chat_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
-- History reads one room backwards from an id.
CREATE INDEX chat_messages_room ON chat_messages (room_id, id);
CREATE INDEX chat_messages_user ON chat_messages (user_id);
