package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"maru/store"
)

// maxEncodedBytes bounds the memory of postEncoder; past it, it starts over.
const maxEncodedBytes = 8 << 20

// postEncoder keeps the JSON of recently shown posts, all but their hit
// count, which changes with every view. Encoding a page of posts is most of
// the cost of a list request; with this, a list is mostly copying bytes.
// An entry is used only while the post it was made from is unchanged in
// every field but the hit count, so it can never show stale data.
type postEncoder struct {
	m     sync.Map // post id → *encodedPost
	bytes atomic.Int64
}

type encodedPost struct {
	post store.Post // as encoded, Hit zeroed
	head []byte     // the JSON object up to and including `"hit":`
}

func samePost(a, b *store.Post) bool {
	return a.ID == b.ID && a.Title == b.Title && a.Content == b.Content && a.CategoryID == b.CategoryID &&
		a.Author == b.Author && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		slices.Equal(a.Tags, b.Tags)
}

// appendPost appends the JSON object of p to dst.
func (e *postEncoder) appendPost(dst []byte, p *store.Post) []byte {
	if v, ok := e.m.Load(p.ID); ok {
		if ep := v.(*encodedPost); samePost(&ep.post, p) {
			return append(strconv.AppendInt(append(dst, ep.head...), p.Hit, 10), '}')
		}
	}
	ep := &encodedPost{post: *p}
	ep.post.Hit = 0
	b, err := json.Marshal(toPostJSON(&ep.post))
	if err != nil {
		// Strings, numbers and slices of them always encode.
		panic("encode post: " + err.Error())
	}
	// hit is the last field, so the object ends in `0}`.
	ep.head = b[:len(b)-2]
	size := int64(2*len(b) + 256)
	if e.bytes.Add(size) > maxEncodedBytes {
		e.m.Clear()
		e.bytes.Store(size)
	}
	e.m.Store(p.ID, ep)
	return append(strconv.AppendInt(append(dst, ep.head...), p.Hit, 10), '}')
}

// writePosts answers with a JSON array of posts. A page that encodes to
// less than streamChunk goes out in one write with its Content-Length;
// a larger one is written a chunk at a time as it is encoded, so that
// no page, up to 100 posts of 50,000 characters each escaped to 6 bytes,
// is ever whole in memory (pageNeeds is what it holds at most). If the
// client stops reading, the write deadline ends the answer and the loop.
func (s *Server) writePosts(w http.ResponseWriter, posts []*store.Post) {
	buf := make([]byte, 0, min(1024*(len(posts)+1), 2*streamChunk))
	buf = append(buf, '[')
	streaming := false
	for i, p := range posts {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = s.postJSON.appendPost(buf, p)
		if len(buf) < streamChunk {
			continue
		}
		if !streaming {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			streaming = true
		}
		if _, err := w.Write(buf); err != nil {
			return // cut off: too slow, or gone
		}
		buf = buf[:0]
	}
	buf = append(buf, "]\n"...)
	if !streaming {
		writeBytes(w, http.StatusOK, buf)
		return
	}
	w.Write(buf)
}

// writePost answers with one post.
func (s *Server) writePost(w http.ResponseWriter, status int, p *store.Post) {
	writeBytes(w, status, append(s.postJSON.appendPost(make([]byte, 0, 1024), p), '\n'))
}

// writeBytes answers with JSON already encoded.
func writeBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
