package store

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// The board's caches: list pages (the ids of their posts) and totals, each
// kept until a write changes what it says. A write reports the posts it
// changed (boardChanged, as a boardChange: the post before and after); the
// leader of its commit hands them to the cache before anyone hears of the
// commit, so a reader that starts after a write was acknowledged never gets
// a page from before it. What a change cannot alter is kept: a new post
// changes the unfiltered list and the lists of its category, its tags and
// the searches it may match, and nothing else; a chat message, a session, a
// token or a hit flush touches none of it. Where the cache can tell for
// certain that a list selects the new post, it puts it on top of the pages
// it holds instead of dropping them (shift), so that a busy board does not
// search again after every post. Totals are counters: a change
// adds to them or takes away, wherever the cache can tell for certain
// whether the post matches (always, but for a search of short words or of
// text with accents or cases beyond ASCII, whose total is counted again).
//
// A value missing from the cache is computed once however many readers ask
// for it at the same moment (single flight): the others wait for the first.
// A computation that a change overtook is not stored, and a reader does not
// wait for one that a change overtook before the reader came.
//
// Post bodies are not kept here but with their hit counts (hits.go): a
// page is a list of ids, so that an edit, which moves no post, leaves every
// page alone.

// Limits of the board cache; past one, its part starts over empty.
const (
	maxCachedPages  = 1024
	maxCachedTotals = 4096
	// boardLogLen is how many recent changes are kept to check a
	// computation against; one that started further back is not stored.
	boardLogLen = 32
	// maxMatchBytes bounds the text one change may scan to find the cached
	// searches it matches (texts times searches); past it, every cached
	// search is dropped instead.
	maxMatchBytes = 4 << 20
)

// postFacts is what the cache needs to know of one version of a post.
type postFacts struct {
	category int64
	tags     []string // tag keys
	text     string   // title, content and tags, lowercased, for searches
	// odd: the text has characters that SQLite may fold differently from
	// strings.ToLower (accents, other cases): any search may match it.
	odd bool
}

func factsOf(p *Post) *postFacts {
	f := &postFacts{category: p.CategoryID, tags: make([]string, len(p.Tags))}
	for i, t := range p.Tags {
		f.tags[i] = tagKey(t)
	}
	text := p.Title + "\n" + p.Content + "\n" + strings.Join(p.Tags, "\n")
	f.odd = strings.IndexFunc(text, oddRune) >= 0
	f.text = strings.ToLower(text)
	return f
}

func (f *postFacts) same(g *postFacts) bool {
	return f.category == g.category && f.text == g.text && strings.Join(f.tags, "\n") == strings.Join(g.tags, "\n")
}

// oddRune reports whether r is outside the scripts whose search matching
// factsOf can predict: ASCII, Hangul, kana and CJK ideographs have no
// accents to strip, and only ASCII has case.
func oddRune(r rune) bool {
	switch {
	case r < 0x80,
		r >= 0x1100 && r <= 0x11FF, // Hangul Jamo
		r >= 0x3040 && r <= 0x30FF, // hiragana, katakana
		r >= 0x3130 && r <= 0x318F, // Hangul compatibility Jamo
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xAC00 && r <= 0xD7AF: // Hangul syllables
		return false
	}
	return true
}

// boardChange is one post changed by a committed write: old is nil for a
// new post, new is nil for a deleted one. author, alone, says that a user's
// name changed (the posts show it); all says that anything may have changed.
type boardChange struct {
	id       int64
	old, new *postFacts
	author   int64
	all      bool
}

// filterMatch tells which posts a filter selects, as far as the cache can
// know without SQLite.
type filterMatch struct {
	category int64
	tag      string
	search   bool
	terms    []string // each must occur in the lowercased text
	odd      bool     // the query has odd runes: it may match anything
	// exact: selects tells for certain whether a post without odd runes
	// matches, so a change can be counted into a total instead of making
	// it count again. True without a search, and for a search of words of
	// three characters or more, which the trigram index finds wherever
	// they occur; a shorter word must begin a word, which selects does not
	// check.
	exact bool
}

func newFilterMatch(f PostFilter, sq searchQuery) *filterMatch {
	m := &filterMatch{category: f.CategoryID, tag: f.Tag, search: f.Search != "", terms: sq.terms,
		odd: strings.IndexFunc(f.Search, oddRune) >= 0}
	m.exact = !m.search || (!m.odd && !sq.short)
	return m
}

// selects is exact for the category and the tag, and true for every post
// that may match the search.
func (m *filterMatch) selects(p *postFacts) bool {
	if p == nil {
		return false
	}
	if m.category != 0 && p.category != m.category {
		return false
	}
	if m.tag != "" && !containsString(p.tags, m.tag) {
		return false
	}
	if !m.search || m.odd || p.odd {
		return true
	}
	for _, t := range m.terms {
		if !strings.Contains(p.text, t) {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// affects reports whether ch may change which posts m selects.
func (m *filterMatch) affects(ch *boardChange) bool {
	switch {
	case ch.all:
		return true
	case ch.old == nil && ch.new == nil:
		return false // a name: pages hold ids, totals numbers
	case !m.search:
		return m.selects(ch.old) != m.selects(ch.new)
	case ch.old != nil && ch.new != nil && ch.old.same(ch.new):
		return false
	}
	return m.selects(ch.old) || m.selects(ch.new)
}

// counts reports whether delta is exact for ch.
func (m *filterMatch) counts(ch *boardChange) bool {
	if ch.all || !m.exact {
		return false
	}
	return !m.search || ((ch.old == nil || !ch.old.odd) && (ch.new == nil || !ch.new.odd))
}

// delta is what ch adds to the total of m, when counts(ch).
func (m *filterMatch) delta(ch *boardChange) int {
	n := 0
	if m.selects(ch.new) {
		n++
	}
	if m.selects(ch.old) {
		n--
	}
	return n
}

// pageEntry is one cached list page: the ids of its posts, newest first.
type pageEntry struct {
	ids []int64
	m   *filterMatch
}

// totalEntry is the number of posts a filter selects; exact is false when
// a search's total was estimated.
type totalEntry struct {
	n     int
	exact bool
	m     *filterMatch
	// top is the newest post a search's count looked at; 0 for a total
	// read in one statement, which catchUp cannot tell the age of.
	top int64
}

// boardCache holds list pages and totals. Its zero value is ready to use.
type boardCache struct {
	mu     sync.RWMutex
	seq    uint64        // the number of changes applied so far
	log    []boardChange // the last changes applied; the last one is number seq
	pages  map[PostFilter]pageEntry
	totals map[countKey]totalEntry

	pageFlights  map[PostFilter]*flight
	totalFlights map[countKey]*flight

	computed atomic.Int64 // pages and totals computed, for tests
}

// flight is a computation under way that other readers may wait for.
type flight struct {
	seq    uint64 // the changes it may have missed came after this one
	done   chan struct{}
	val    any
	err    error
	stored bool // val was kept in the cache, current as of then
}

// changedSince reports whether a change after number seq may alter what m
// selects. b.mu must be held.
func (b *boardCache) changedSince(seq uint64, m *filterMatch) bool {
	log, ok := b.since(seq)
	return !ok || m.affectsAny(log)
}

// affectsAny reports whether any of log may change which posts m selects.
func (m *filterMatch) affectsAny(log []boardChange) bool {
	for i := range log {
		if m.affects(&log[i]) {
			return true
		}
	}
	return false
}

// since returns the changes after number seq (none when seq is the last),
// or false when the log no longer holds them all. b.mu must be held.
func (b *boardCache) since(seq uint64) ([]boardChange, bool) {
	n := b.seq - seq
	if n > uint64(len(b.log)) {
		return nil, false
	}
	return b.log[len(b.log)-int(n):], true
}

// cached returns the value of key in vals, or waits for a computation of it
// under way, or computes it with compute and keeps it. A computation that
// changes overtook is kept only if catchUp can bring it up to date with
// them (for a busy board, where posts come faster than a search is
// counted); otherwise the next reader computes it again. compute must not
// depend on its caller's context.
func cached[K comparable, V any](b *boardCache, vals map[K]V, flights map[K]*flight, key K, m *filterMatch, limit int,
	compute func() (V, error), catchUp func(V, []boardChange) (V, bool)) (V, error) {
	for waited := false; ; waited = true {
		b.mu.RLock()
		v, ok := vals[key]
		b.mu.RUnlock()
		if ok {
			return v, nil
		}
		b.mu.Lock()
		if v, ok := vals[key]; ok {
			b.mu.Unlock()
			return v, nil
		}
		if fl := flights[key]; fl != nil && !waited {
			// Whatever it computes is kept only once it is current, which
			// is after this reader came: wait for it rather than compute
			// the same at the same time. Once is enough: a reader whose
			// wait was in vain computes the value itself.
			b.mu.Unlock()
			<-fl.done
			if fl.err != nil {
				return v, fl.err
			}
			if fl.stored {
				return fl.val.(V), nil
			}
			continue // it could not be brought up to date: try again
		}
		fl := &flight{seq: b.seq, done: make(chan struct{})}
		flights[key] = fl
		b.mu.Unlock()

		b.computed.Add(1)
		v, err := compute()
		b.mu.Lock()
		if flights[key] == fl {
			delete(flights, key)
		}
		if err == nil {
			log, current := b.since(fl.seq)
			if current && m.affectsAny(log) {
				v, current = catchUp(v, log)
			}
			if current {
				if len(vals) >= limit {
					clear(vals)
				}
				vals[key] = v
				fl.val, fl.stored = v, true
			}
		}
		fl.err = err
		b.mu.Unlock()
		close(fl.done)
		// Even when not kept, v is what the board held after this
		// reader came: an answer to give.
		return v, err
	}
}

func (b *boardCache) init() {
	b.pages = make(map[PostFilter]pageEntry)
	b.totals = make(map[countKey]totalEntry)
	b.pageFlights = make(map[PostFilter]*flight)
	b.totalFlights = make(map[countKey]*flight)
}

// page returns the ids of a list page.
func (b *boardCache) page(f PostFilter, m *filterMatch, compute func() (pageEntry, error)) (pageEntry, error) {
	return cached(b, b.pages, b.pageFlights, f, m, maxCachedPages, compute, func(p pageEntry, log []boardChange) (pageEntry, bool) {
		return p.catchUp(f, log)
	})
}

// total returns the total of a filter.
func (b *boardCache) total(k countKey, m *filterMatch, compute func() (totalEntry, error)) (totalEntry, error) {
	return cached(b, b.totals, b.totalFlights, k, m, maxCachedTotals, compute, totalEntry.catchUp)
}

// catchUp brings a first page computed from SQLite up to date with the
// changes that came while it was read, when they are all new posts the
// filter certainly selects or certainly does not. A new post is the newest
// of all, so the read saw it if and only if it is on the page.
func (p pageEntry) catchUp(f PostFilter, log []boardChange) (pageEntry, bool) {
	if f.Page != 1 {
		return p, false
	}
	for i := range log {
		ch := &log[i]
		switch {
		case !p.m.affects(ch):
		case !p.m.adds(ch):
			return p, false
		case slices.Contains(p.ids, ch.id):
		case len(p.ids) > 0 && p.ids[0] >= ch.id:
			return p, false
		default:
			p.ids = pushTop(p.ids, ch.id, f.PageSize)
		}
	}
	return p, true
}

// countsNew reports whether ch is a new post whose match m can tell.
func (m *filterMatch) countsNew(ch *boardChange) bool {
	return ch.old == nil && ch.new != nil && m.counts(ch)
}

// adds reports whether ch is a new post that m certainly selects.
func (m *filterMatch) adds(ch *boardChange) bool {
	return m.countsNew(ch) && m.selects(ch.new)
}

// pushTop returns a new page of at most size ids: id, then ids, less what
// no longer fits. ids is shared with readers and left as it is.
func pushTop(ids []int64, id int64, size int) []int64 {
	out := make([]int64, 0, min(len(ids)+1, size))
	out = append(out, id)
	return append(out, ids[:min(len(ids), size-1)]...)
}

// catchUp brings a search's total up to date with the changes that came
// while it was counted, when they are all new posts whose match the cache
// can tell: the count looked only at posts up to t.top, which any post
// written after the count began is above.
func (t totalEntry) catchUp(log []boardChange) (totalEntry, bool) {
	if t.top == 0 {
		return t, false
	}
	for i := range log {
		ch := &log[i]
		switch {
		case !t.m.affects(ch):
		case !t.m.countsNew(ch):
			return t, false
		case ch.id > t.top:
			t.n += t.m.delta(ch)
		}
	}
	return t, true
}

// apply brings the cache up to date with committed changes.
func (b *boardCache) apply(changes []boardChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range changes {
		ch := &changes[i]
		b.seq++
		if len(b.log) >= boardLogLen {
			b.log = append(b.log[:0], b.log[len(b.log)-boardLogLen/2:]...)
		}
		b.log = append(b.log, *ch)
		if ch.all {
			clear(b.pages)
			clear(b.totals)
			continue
		}
		if ch.old == nil && ch.new == nil {
			continue
		}
		// A search costs a scan of the post's text: past a budget, every
		// cached search goes rather than the time to find which.
		scan := 0
		if ch.old != nil {
			scan += len(ch.old.text)
		}
		if ch.new != nil {
			scan += len(ch.new.text)
		}
		dropSearches := scan*(len(b.pages)+len(b.totals)) > maxMatchBytes
		var shifted []shiftedPage
		for k, p := range b.pages {
			switch {
			case dropSearches && p.m.search:
				delete(b.pages, k)
			case !p.m.affects(ch):
			default:
				if ids, ok := b.shift(k, p, ch); ok {
					shifted = append(shifted, shiftedPage{k, ids})
				} else {
					delete(b.pages, k)
				}
			}
		}
		for _, sp := range shifted {
			if p, ok := b.pages[sp.key]; ok {
				p.ids = sp.ids
				b.pages[sp.key] = p
			}
		}
		for k, t := range b.totals {
			switch {
			case dropSearches && t.m.search:
				delete(b.totals, k)
			case !t.m.affects(ch):
			case t.m.counts(ch):
				// An estimate stays one, off by what it was off by.
				t.n += t.m.delta(ch)
				b.totals[k] = t
			default:
				delete(b.totals, k)
			}
		}
	}
}

// shiftedPage is a page's ids after a new post pushed them down.
type shiftedPage struct {
	key PostFilter
	ids []int64
}

// shift returns the ids of page k (now p) once the new post of ch is on
// the board, or false when it cannot tell and the page must be computed
// again. A new post is newer than any other, so where the page's filter
// certainly selects it, it goes first on page 1 and every page passes its
// last post on to the next: page k gains the last post of page k-1 as it
// was before the change, which must be cached to know it. Pages are shared
// with readers, so shift leaves p.ids as they are. The caller applies all
// shifts of one change after computing them all, from the old pages.
func (b *boardCache) shift(k PostFilter, p pageEntry, ch *boardChange) ([]int64, bool) {
	if !p.m.adds(ch) {
		return nil, false
	}
	if len(p.ids) > 0 && p.ids[0] >= ch.id {
		return nil, false // not the newest after all: leave it to SQLite
	}
	top := ch.id
	if k.Page > 1 {
		before := k
		before.Page--
		prev, ok := b.pages[before]
		if !ok {
			return nil, false
		}
		if len(prev.ids) < k.PageSize {
			return p.ids, true // the page before was the last: nothing moves on
		}
		top = prev.ids[len(prev.ids)-1]
	}
	return pushTop(p.ids, top, k.PageSize), true
}

// forget empties the cache, as after a change of anything.
func (b *boardCache) forget() { b.apply([]boardChange{{all: true}}) }

// termsOf lists the lowercased strings that every post a search matches
// contains, for filterMatch: a term of three characters or more itself (the
// trigram index finds substrings), and of a shorter one its runs of letters
// and digits (the word index finds words that begin with them).
func termsOf(term string, short bool) []string {
	term = strings.ToLower(term)
	if !short {
		return []string{term}
	}
	return strings.FieldsFunc(term, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

// applyBoardChanges brings every board cache up to date with committed
// changes: pages and totals, and the post bodies kept with the hit counts.
func (s *Store) applyBoardChanges(changes []boardChange) {
	s.hits.forgetPosts(changes)
	s.board.apply(changes)
}
