package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Limits of chat data. The length of a message is the server's setting
// (-chat-max-len) and is checked by the caller.
const (
	MaxRoomNameLen    = 100
	DefaultHistoryLen = 50
	MaxHistoryLen     = 200
)

// Room is a chat room.
type Room struct {
	ID        int64
	Name      string
	CreatedBy int64 // 0 when the creator's account is gone
	CreatedAt time.Time
}

// Message is one stored chat message with what the room shows of its sender.
type Message struct {
	ID        int64
	RoomID    int64
	Body      string
	CreatedAt time.Time
	// Sender holds only ID, Email, Nickname and the picture: what a chat
	// frame shows, loaded with the message in one query.
	Sender User
}

// NewMessage is what sending a chat message asks for.
type NewMessage struct {
	RoomID int64
	UserID int64
	Body   string
}

const roomColumns = `id, name, COALESCE(created_by, 0), created_at`

func scanRoom(row scanner) (*Room, error) {
	var r Room
	var created int64
	err := row.Scan(&r.ID, &r.Name, &r.CreatedBy, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

// CreateRoom validates name and stores a new room made by userID.
func (s *Store) CreateRoom(ctx context.Context, userID int64, name string) (*Room, error) {
	name = strings.TrimSpace(name)
	v := new(ValidationError)
	if name == "" {
		v.Add("name", "This field may not be blank.")
	}
	checkText(v, "name", name, MaxRoomNameLen)
	// A name is one line, like a title or a category's: lists show it so.
	if strings.ContainsAny(name, "\n\t") && !v.Has("name") {
		v.Add("name", "This field may not contain line breaks or tabs.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var r *Room
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = scanRoom(tx.QueryRowContext(ctx,
			`INSERT INTO chat_rooms (name, created_by, created_at) VALUES (?, ?, ?) RETURNING `+roomColumns,
			name, userID, micros(s.now())))
		if err != nil {
			return fmt.Errorf("insert room: %w", err)
		}
		return nil
	})
	return r, err
}

// Rooms lists every room, oldest first.
func (s *Store) Rooms(ctx context.Context) ([]Room, error) {
	var out []Room
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+roomColumns+` FROM chat_rooms ORDER BY id`)
		if err != nil {
			return fmt.Errorf("rooms: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRoom(rows)
			if err != nil {
				return fmt.Errorf("rooms: %w", err)
			}
			out = append(out, *r)
		}
		return rows.Err()
	})
	return out, err
}

// RoomsPage lists page (from 1) of the rooms, pageSize of them oldest
// first, and how many rooms there are in all. A page past the end is empty.
func (s *Store) RoomsPage(ctx context.Context, page, pageSize int) ([]Room, int, error) {
	out := []Room{}
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chat_rooms`).Scan(&total); err != nil {
			return fmt.Errorf("count rooms: %w", err)
		}
		if pages := (total + pageSize - 1) / pageSize; page > pages {
			return nil // compared in pages: page*pageSize may not fit an int
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+roomColumns+` FROM chat_rooms ORDER BY id LIMIT ? OFFSET ?`,
			pageSize, (page-1)*pageSize)
		if err != nil {
			return fmt.Errorf("rooms: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRoom(rows)
			if err != nil {
				return fmt.Errorf("rooms: %w", err)
			}
			out = append(out, *r)
		}
		return rows.Err()
	})
	return out, total, err
}

// RoomByID loads one room.
func (s *Store) RoomByID(ctx context.Context, id int64) (*Room, error) {
	var r *Room
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = roomByID(ctx, tx, id)
		return err
	})
	return r, err
}

func roomByID(ctx context.Context, tx *sql.Tx, id int64) (*Room, error) {
	r, err := scanRoom(tx.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM chat_rooms WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("room %d: %w", id, err)
	}
	return r, err
}

// RoomMessageCount is how many messages room id holds; an unknown room
// is ErrNotFound.
func (s *Store) RoomMessageCount(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if _, err := roomByID(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM chat_messages WHERE room_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("count messages: %w", err)
		}
		return nil
	})
	return n, err
}

// DeleteRoom deletes room id with every message in it, on behalf of the
// admin actor, and returns the room as it was with how many messages went;
// the audit log records it in the same transaction. A room already gone
// is ErrNotFound, and nothing is recorded.
func (s *Store) DeleteRoom(ctx context.Context, actor *User, id int64) (*Room, int, error) {
	var room *Room
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if room, err = roomByID(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM chat_messages WHERE room_id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete room messages: %w", err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM chat_rooms WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete room: %w", err)
		}
		return auditTx(ctx, tx, s.now(), actor, "room.delete", auditRoom(room), fmt.Sprintf("%d message(s)", n))
	})
	if err != nil {
		return nil, 0, err
	}
	return room, int(n), nil
}

// auditRoom is how the audit log names a room.
func auditRoom(r *Room) string { return fmt.Sprintf("room %d “%s”", r.ID, clip(r.Name, auditClip)) }

// MessageByID loads one chat message.
func (s *Store) MessageByID(ctx context.Context, id int64) (*Message, error) {
	m, err := scanMessage(s.rdb.QueryRowContext(ctx, messageSelect+` WHERE m.id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("message %d: %w", id, err)
	}
	return m, err
}

// DeleteMessage deletes chat message id on behalf of the admin actor and
// returns it as it was, for the caller to tell the room; the audit log
// records who sent it, not what it said, in the same transaction. A
// message already gone is ErrNotFound.
func (s *Store) DeleteMessage(ctx context.Context, actor *User, id int64) (*Message, error) {
	var m *Message
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if m, err = scanMessage(tx.QueryRowContext(ctx, messageSelect+` WHERE m.id = ?`, id)); err != nil {
			return err
		}
		room, err := roomByID(ctx, tx, m.RoomID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chat_messages WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete message: %w", err)
		}
		return auditTx(ctx, tx, s.now(), actor, "message.delete", fmt.Sprintf("message %d in %s", id, auditRoom(room)),
			"by "+m.Sender.Email)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

const messageSelect = `SELECT m.id, m.room_id, m.body, m.created_at,
	u.id, u.email, u.nickname, COALESCE(u.picture_id, 0), u.picture_key
	FROM chat_messages m JOIN users u ON u.id = m.user_id`

func scanMessage(row scanner) (*Message, error) {
	var m Message
	var created int64
	err := row.Scan(&m.ID, &m.RoomID, &m.Body, &created,
		&m.Sender.ID, &m.Sender.Email, &m.Sender.Nickname, &m.Sender.PictureID, &m.Sender.PictureKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// Messages returns up to limit messages of a room, newest last, all older
// than the message before (0 means from the newest). It pages on the id
// rather than with OFFSET, so a page costs the same however deep it is and
// new messages do not shift the pages of a client scrolling back.
// An unknown room is ErrNotFound.
func (s *Store) Messages(ctx context.Context, roomID, before int64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = DefaultHistoryLen
	}
	limit = min(limit, MaxHistoryLen)
	if before <= 0 {
		before = 1<<63 - 1
	}
	out := make([]Message, 0, limit)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if _, err := roomByID(ctx, tx, roomID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, messageSelect+` WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
			roomID, before, limit)
		if err != nil {
			return fmt.Errorf("messages: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return fmt.Errorf("messages: %w", err)
			}
			out = append(out, *m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// MessagesAfter returns up to limit messages of a room newer than the
// message after, oldest first: what a client that saw after missed, for
// it to append in order. A client catching up calls again from the last
// id it got until a page comes back short. An unknown room is ErrNotFound.
func (s *Store) MessagesAfter(ctx context.Context, roomID, after int64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = DefaultHistoryLen
	}
	limit = min(limit, MaxHistoryLen)
	out := make([]Message, 0, limit)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if _, err := roomByID(ctx, tx, roomID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, messageSelect+` WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`,
			roomID, max(after, 0), limit)
		if err != nil {
			return fmt.Errorf("messages after: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return fmt.Errorf("messages after: %w", err)
			}
			out = append(out, *m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddMessage stores a chat message and returns it as history will show it.
// It returns only once the message is committed, so a caller that then
// broadcasts it never shows anyone a message a crash could lose. An unknown
// room or sender is ErrNotFound. Concurrent messages share one commit (see
// write).
func (s *Store) AddMessage(ctx context.Context, nm NewMessage) (*Message, error) {
	if strings.TrimSpace(nm.Body) == "" {
		return nil, Invalid("message", "This field may not be blank.")
	}
	var m *Message
	err := s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.StmtContext(ctx, s.chatStmts.insert).QueryRowContext(ctx, nm.RoomID, nm.UserID, nm.Body, micros(s.now())).Scan(&id)
		if isForeignKeyViolation(err) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		if m, err = scanMessage(tx.StmtContext(ctx, s.chatStmts.byID).QueryRowContext(ctx, id)); err != nil {
			return fmt.Errorf("load message %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// chatStmts are prepared once on the writer connection, which runs them
// for every message.
type chatStmts struct {
	insert *sql.Stmt
	byID   *sql.Stmt
}

func (s *Store) prepareChat(ctx context.Context) error {
	var err error
	if s.chatStmts.insert, err = s.wdb.PrepareContext(ctx,
		`INSERT INTO chat_messages (room_id, user_id, body, created_at) VALUES (?, ?, ?, ?) RETURNING id`); err != nil {
		return err
	}
	s.chatStmts.byID, err = s.wdb.PrepareContext(ctx, messageSelect+` WHERE m.id = ?`)
	return err
}

func (cs *chatStmts) close() {
	for _, st := range []*sql.Stmt{cs.insert, cs.byID} {
		if st != nil {
			st.Close()
		}
	}
}

// isForeignKeyViolation reports whether err is SQLite refusing a row whose
// parent does not exist.
func isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
