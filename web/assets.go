package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// assets serves the embedded static files from memory. Each file's URL
// carries a hash of its content (?v=...), so a browser may cache it forever
// and still sees a new version the moment the binary changes. Text files
// are gzip-compressed once, at start-up, never per request.
type assets struct {
	files map[string]*asset // by name, e.g. "site.css"
}

type asset struct {
	hash        string // short content hash, the ?v= of its URL
	contentType string
	plain       []byte
	gz          []byte // nil when compressing does not pay
}

func newAssets(fsys fs.FS) (*assets, error) {
	a := &assets{files: make(map[string]*asset)}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &asset{hash: hex.EncodeToString(sum[:6]), plain: b, contentType: mime.TypeByExtension(path.Ext(name))}
		if f.contentType == "" {
			f.contentType = http.DetectContentType(b)
		}
		if compressible(f.contentType) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(b)
			if err := zw.Close(); err != nil {
				return err
			}
			if buf.Len() < len(b) {
				f.gz = buf.Bytes()
			}
		}
		a.files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	return a, nil
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.Contains(contentType, "javascript") ||
		strings.Contains(contentType, "json") || strings.Contains(contentType, "svg")
}

// url is the cache-busting URL of the static file name. An unknown name is a
// programming error in a template, so it fails loudly at render time.
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.hash, nil
}

var (
	hdrImmutable = []string{"public, max-age=31536000, immutable"}
	hdrNoCache   = []string{"no-cache"}
	hdrGzip      = []string{"gzip"}
	hdrVaryEnc   = []string{"Accept-Encoding"}
)

func (a *assets) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := a.files[strings.TrimPrefix(r.URL.Path, "/static/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if r.URL.Query().Get("v") == f.hash {
			h["Cache-Control"] = hdrImmutable
		} else {
			h["Cache-Control"] = hdrNoCache
		}
		etag := `"` + f.hash + `"`
		h.Set("ETag", etag)
		h.Set("Content-Type", f.contentType)
		if f.gz != nil {
			h["Vary"] = hdrVaryEnc
		}
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := f.plain
		if f.gz != nil && acceptsGzip(r) {
			h["Content-Encoding"] = hdrGzip
			body = f.gz
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	})
}

// acceptsGzip reads Accept-Encoding well enough for browsers and curl:
// gzip listed, and not with q=0.
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}
