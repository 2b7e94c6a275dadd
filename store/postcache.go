package store

import "sync"

// Limits of the list cache: past either, it starts over empty. Its
// entries hold whole posts, so it is bounded by their text size too.
const (
	maxCachedPages     = 512
	maxCachedPageBytes = 4 << 20
	maxCachedCounts    = 4096
)

// postCache keeps recently listed pages, and the totals of recent filters,
// as they were at one store version. Any committed write changes the
// version and so empties it: a board is read far more often than written,
// and a cache that is never stale needs no other invalidation. Hit counts
// are not taken from it but overlaid from the hit counter, which is live.
type postCache struct {
	mu      sync.RWMutex
	version uint64
	pages   map[PostFilter]cachedPage
	counts  map[countKey]int
	bytes   int
}

type cachedPage struct {
	posts []*Post // shared: never modified once cached
	total int
}

// countKey is the part of a filter that decides the total.
type countKey struct {
	search   string
	category int64
	tag      string
}

func (f PostFilter) countKey() countKey {
	return countKey{search: f.Search, category: f.CategoryID, tag: f.Tag}
}

func (c *postCache) page(version uint64, f PostFilter) (cachedPage, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.version != version {
		return cachedPage{}, false
	}
	p, ok := c.pages[f]
	return p, ok
}

func (c *postCache) count(version uint64, k countKey) (int, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.version != version {
		return 0, false
	}
	n, ok := c.counts[k]
	return n, ok
}

// at makes the cache hold entries of version, emptying it for a newer
// one. It reports false for an older version, whose entries are dropped.
// c.mu must be held.
func (c *postCache) at(version uint64) bool {
	if version < c.version {
		return false
	}
	if version > c.version || c.pages == nil {
		c.version = version
		c.pages = make(map[PostFilter]cachedPage)
		c.counts = make(map[countKey]int)
		c.bytes = 0
	}
	return true
}

func (c *postCache) putPage(version uint64, f PostFilter, p cachedPage) {
	size := 0
	for _, post := range p.posts {
		size += len(post.Title) + len(post.Content) + len(post.Author.Email) + len(post.Author.Nickname) + 200
		for _, t := range post.Tags {
			size += len(t) + 16
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(version) {
		return
	}
	if len(c.pages) >= maxCachedPages || c.bytes+size > maxCachedPageBytes {
		c.pages = make(map[PostFilter]cachedPage)
		c.bytes = 0
	}
	c.pages[f] = p
	c.bytes += size
}

func (c *postCache) putCount(version uint64, k countKey, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(version) {
		return
	}
	if len(c.counts) >= maxCachedCounts {
		c.counts = make(map[countKey]int)
	}
	c.counts[k] = n
}
