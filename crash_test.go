package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestCrashLosesNothingAcknowledged is the power cut, several times over:
// the real binary takes concurrent writes (posts, chat messages over REST
// and over a socket, friend adds) and is killed with SIGKILL at a random
// moment; the database as the kill left it passes integrity_check, and
// the binary started again on it has every write it acknowledged, each
// exactly once, and no write twice.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it three times")
	}
	const (
		rounds  = 3
		writers = 6
		targets = 50 // accounts each round's writers may add as friends
	)
	bin := buildApp(t)
	data := filepath.Join(t.TempDir(), "data")
	env := []string{"APP_POST_RATE=0", "APP_CHAT_RATE=0", "APP_REGISTER_RATE=0", "APP_CHAT_SOCKETS=0"}
	app := startBinary(t, bin, data, env)

	c := &crashClient{t: t, base: "http://" + app.addr, http: &http.Client{Timeout: 20 * time.Second}}
	users := c.accounts("writer", writers)
	var pool []string
	for _, u := range c.accounts("target", rounds*targets) {
		pool = append(pool, u.email)
	}
	restRoom, socketRoom := c.room(users[0]), c.room(users[0])
	acks := &crashAcks{posts: map[string]int64{}, messages: map[string]int64{}, friends: map[[2]string]bool{}}

	for round := range rounds {
		var killed atomic.Bool
		var wg sync.WaitGroup
		for w := range users {
			u := &users[w]
			friends := pool[round*targets : (round+1)*targets] // this round's to add
			wg.Go(func() {
				added := 0
				for n := 0; ; n++ {
					var err error
					switch op := rand.IntN(10); {
					case op == 0 && added < len(friends):
						// Tried, acknowledged or not, a friend is never tried again.
						err = c.addFriend(u, friends[added], acks)
						added++
					case op < 5:
						err = c.writePost(u, fmt.Sprintf("%s round %d post %d", u.email, round, n), acks)
					default:
						err = c.sendMessage(u, restRoom, fmt.Sprintf("%s round %d message %d", u.email, round, n), acks)
					}
					if err != nil {
						if !killed.Load() {
							t.Errorf("before the kill: %v", err)
						}
						return
					}
				}
			})
		}
		wg.Go(func() { c.socketWriter(users[0], socketRoom, round, acks, &killed) })

		time.Sleep(300*time.Millisecond + rand.N(900*time.Millisecond))
		killed.Store(true)
		app.kill()
		wg.Wait()
		checkIntegrity(t, filepath.Join(data, "app.db"))

		app = startBinary(t, bin, data, env)
		c.base = "http://" + app.addr
		acks.mu.Lock()
		t.Logf("round %d: killed after %d posts, %d messages, %d friend adds acknowledged in all",
			round, len(acks.posts), len(acks.messages), len(acks.friends))
		acks.mu.Unlock()
		c.verify(users, restRoom, socketRoom, acks)
		if t.Failed() {
			return
		}
	}
}

// crashClient drives the binary under test over HTTP.
type crashClient struct {
	t    *testing.T
	base string
	http *http.Client
}

type crashUser struct {
	email, access string
}

// crashAcks records what the server acknowledged: posts and messages by
// their unique text (with the id the answer gave), friend adds by pair.
// attempted counts every text sent, answered or not.
type crashAcks struct {
	mu        sync.Mutex
	posts     map[string]int64
	messages  map[string]int64
	friends   map[[2]string]bool // user's email, friend's email
	attempted int
}

// call sends a JSON request and decodes a 2xx answer into out. An error
// is a failed connection or an answer other than 2xx.
func (c *crashClient) call(method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *crashClient) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// accounts registers n accounts named prefix0@example.com..., eight at a
// time, and logs each in.
func (c *crashClient) accounts(prefix string, n int) []crashUser {
	c.t.Helper()
	out := make([]crashUser, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			email := fmt.Sprintf("%s%d@example.com", prefix, i)
			creds := map[string]string{"email": email, "password": "long enough pw"}
			var res struct{ Access string }
			err := c.call("POST", "/user/registration/", "", creds, nil)
			if err == nil {
				err = c.call("POST", "/user/login/", "", creds, &res)
			}
			out[i] = crashUser{email: email, access: res.Access}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.must(err)
	}
	return out
}

func (c *crashClient) room(u crashUser) int64 {
	c.t.Helper()
	var room struct{ ID int64 }
	c.must(c.call("POST", "/api/chat/room/", u.access, map[string]string{"name": "crash"}, &room))
	return room.ID
}

func (c *crashClient) writePost(u *crashUser, title string, acks *crashAcks) error {
	var p struct{ ID int64 }
	err := c.call("POST", "/api/post/write", u.access, map[string]string{"title": title, "content": "c"}, &p)
	acks.mu.Lock()
	defer acks.mu.Unlock()
	acks.attempted++
	if err == nil {
		acks.posts[title] = p.ID
	}
	return err
}

func (c *crashClient) sendMessage(u *crashUser, room int64, text string, acks *crashAcks) error {
	var m struct{ ID int64 }
	err := c.call("POST", "/api/chat/message/", u.access, map[string]any{"message": text, "room": room}, &m)
	acks.mu.Lock()
	defer acks.mu.Unlock()
	acks.attempted++
	if err == nil {
		acks.messages[text] = m.ID
	}
	return err
}

func (c *crashClient) addFriend(u *crashUser, email string, acks *crashAcks) error {
	err := c.call("POST", "/user/add-friend/", u.access, map[string]string{"email": email}, nil)
	acks.mu.Lock()
	defer acks.mu.Unlock()
	acks.attempted++
	if err == nil {
		acks.friends[[2]string{u.email, email}] = true
	}
	return err
}

// socketWriter sends messages on a chat socket, one at a time: a message
// is acknowledged when its chat.message frame, which the server sends
// only once it is stored, comes back.
func (c *crashClient) socketWriter(u crashUser, room int64, round int, acks *crashAcks, killed *atomic.Bool) {
	ctx := context.Background()
	url := "ws" + c.base[len("http"):] + fmt.Sprintf("/ws/chat/%d/chat/", room)
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + u.access}}})
	if err != nil {
		if !killed.Load() {
			c.t.Errorf("dial: %v", err)
		}
		return
	}
	defer conn.CloseNow()
	for n := 0; ; n++ {
		text := fmt.Sprintf("socket round %d message %d", round, n)
		frame, _ := json.Marshal(map[string]string{"type": "chat.message", "message": text})
		acks.mu.Lock()
		acks.attempted++
		acks.mu.Unlock()
		if err := conn.Write(ctx, websocket.MessageText, frame); err != nil {
			break
		}
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				if !killed.Load() {
					c.t.Errorf("socket: %v", err)
				}
				return
			}
			var in struct {
				Type, Message string
				ID            int64
			}
			json.Unmarshal(b, &in)
			if in.Type == "chat.message" && in.Message == text {
				acks.mu.Lock()
				acks.messages[text] = in.ID
				acks.mu.Unlock()
				break
			}
		}
	}
}

// verify checks that every acknowledged write is there exactly once, and
// that nothing at all is there twice.
func (c *crashClient) verify(users []crashUser, restRoom, socketRoom int64, acks *crashAcks) {
	c.t.Helper()
	acks.mu.Lock()
	defer acks.mu.Unlock()

	posts := map[string][]int64{}
	for page := 1; ; page++ {
		var list []struct {
			ID    int64
			Title string
		}
		c.must(c.call("GET", fmt.Sprintf("/api/post/?page_size=100&page=%d", page), "", nil, &list))
		if len(list) == 0 {
			break
		}
		for _, p := range list {
			posts[p.Title] = append(posts[p.Title], p.ID)
		}
	}
	for title, id := range acks.posts {
		if got := posts[title]; len(got) != 1 || got[0] != id {
			c.t.Errorf("acknowledged post %q (id %d): found as %v", title, id, got)
		}
	}
	messages := map[string][]int64{}
	for _, room := range []int64{restRoom, socketRoom} {
		before := int64(1<<63 - 1)
		for {
			var list []struct {
				ID      int64
				Message string
			}
			c.must(c.call("GET", fmt.Sprintf("/api/chat/room/%d/messages/?limit=200&before=%d", room, before), users[0].access, nil, &list))
			if len(list) == 0 {
				break
			}
			for _, m := range list {
				messages[m.Message] = append(messages[m.Message], m.ID)
			}
			before = list[0].ID
		}
	}
	for text, id := range acks.messages {
		if got := messages[text]; len(got) != 1 || got[0] != id {
			c.t.Errorf("acknowledged message %q (id %d): found as %v", text, id, got)
		}
	}
	for text, ids := range posts {
		if len(ids) > 1 {
			c.t.Errorf("post %q stored %d times: %v", text, len(ids), ids)
		}
	}
	for text, ids := range messages {
		if len(ids) > 1 {
			c.t.Errorf("message %q stored %d times: %v", text, len(ids), ids)
		}
	}
	for _, u := range users {
		var list []struct{ Email string }
		c.must(c.call("GET", "/user/friends/", u.access, nil, &list))
		seen := map[string]bool{}
		for _, f := range list {
			if seen[f.Email] {
				c.t.Errorf("%s has %s on the list twice", u.email, f.Email)
			}
			seen[f.Email] = true
		}
		for pair := range acks.friends {
			if pair[0] == u.email && !seen[pair[1]] {
				c.t.Errorf("acknowledged friend add %s -> %s is gone", pair[0], pair[1])
			}
		}
	}
}

// checkIntegrity runs integrity_check and foreign_key_check on a copy of
// the database as the crash left it, write-ahead log and all: SQLite
// recovers the log on opening the copy, and the server is left to recover
// the original itself.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "app.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if err == nil {
			err = os.WriteFile(cp+suffix, b, 0o600)
		}
		if err != nil && !(suffix != "" && errors.Is(err, fs.ErrNotExist)) {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", cp)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after the kill: %q (%v)", check, err)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check after the kill: a reference is broken")
	}
}
