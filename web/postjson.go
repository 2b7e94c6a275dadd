package web

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"maru/store"
)

// maxEncodedBytes bounds the memory of postEncoder; past it, it starts over.
const maxEncodedBytes = 16 << 20

// postEncoder keeps the JSON of recently shown posts, all but their hit
// count, which changes with every view. Encoding a page of posts is most of
// the cost of a list request; with this, a list is mostly copying bytes.
// An entry is used only for the same load of the post (store.Post.Rev), so
// it can never show stale data, whatever fields a post grows.
type postEncoder struct {
	m     sync.Map // post id → *encodedPost
	bytes atomic.Int64
}

type encodedPost struct {
	rev  uint64
	head []byte // the JSON object up to and including `"hit":`
	tail []byte // the rest of it, after the count
}

// hitMark stands for the hit count while a post is encoded; no count is
// ever negative, and `"hit":` followed by it can only be the key itself,
// since a quote inside a string is escaped.
const hitMark = math.MinInt64 + 7

var hitMarkJSON = []byte(`"hit":` + strconv.FormatInt(hitMark, 10))

func (ep *encodedPost) append(dst []byte, hit int64) []byte {
	return append(strconv.AppendInt(append(dst, ep.head...), hit, 10), ep.tail...)
}

// appendPost appends the JSON object of p to dst.
func (e *postEncoder) appendPost(dst []byte, p *store.Post) []byte {
	if v, ok := e.m.Load(p.ID); ok {
		if ep := v.(*encodedPost); p.Rev != 0 && ep.rev == p.Rev {
			return ep.append(dst, p.Hit)
		}
	}
	c := *p
	c.Hit = hitMark
	b, err := json.Marshal(toPostJSON(&c))
	if err != nil {
		// Strings, numbers and slices of them always encode.
		panic("encode post: " + err.Error())
	}
	at := bytes.Index(b, hitMarkJSON)
	if at < 0 {
		panic("encode post: no hit count")
	}
	cut := at + len(hitMarkJSON) - len(strconv.FormatInt(hitMark, 10))
	ep := &encodedPost{rev: p.Rev, head: b[:cut:cut], tail: b[at+len(hitMarkJSON):]}
	if p.Rev != 0 {
		size := int64(len(b) + 256)
		if e.bytes.Add(size) > maxEncodedBytes {
			e.m.Clear()
			e.bytes.Store(size)
		}
		e.m.Store(p.ID, ep)
	}
	return ep.append(dst, p.Hit)
}

// postPages are the buffers post answers are encoded into, reused: a
// page of 20 posts is about 20 KB, and allocating one a request made the
// collector the list's largest cost. Only buffers of at most two chunks
// go back (writePosts writes at streamChunk; one huge post can make its
// buffer larger), so the pool holds at most 64 KiB a request in flight.
var postPages = sync.Pool{New: func() any {
	b := make([]byte, 0, 2*streamChunk)
	return &b
}}

// putPostPage gives buf, grown from *bp, back to postPages, unless one
// huge post made it larger than two chunks.
func putPostPage(bp *[]byte, buf []byte) {
	if cap(buf) <= 2*streamChunk {
		*bp = buf[:0]
		postPages.Put(bp)
	}
}

// writePosts answers with a JSON array of posts. A page that encodes to
// less than streamChunk goes out in one write with its Content-Length;
// a larger one is written a chunk at a time as it is encoded, so that
// no page, up to 100 posts of 50,000 characters each escaped to 6 bytes,
// is ever whole in memory (pageNeeds is what it holds at most). If the
// client stops reading, the write deadline ends the answer and the loop.
func (s *Server) writePosts(w http.ResponseWriter, posts []*store.Post) {
	bp := postPages.Get().(*[]byte)
	buf := append((*bp)[:0], '[')
	defer func() { putPostPage(bp, buf) }()
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
	bp := postPages.Get().(*[]byte)
	buf := append(s.postJSON.appendPost((*bp)[:0], p), '\n')
	writeBytes(w, status, buf)
	putPostPage(bp, buf)
}

// writeBytes answers with JSON already encoded.
func writeBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
