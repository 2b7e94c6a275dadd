package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"maru/store"
)

// Messages the API shares with the DRF clients that were written for it.
const (
	msgNotAuthenticated = "Authentication credentials were not provided."
	msgForbidden        = "You do not have permission to perform this action."
	msgNotFound         = "Not found."
	msgServerError      = "A server error occurred."
	msgTooLarge         = "Request body is too large."
	msgRequired         = "This field is required."
	msgBlank            = "This field may not be blank."
)

// apiError is an error with the status and JSON body the client should see.
type apiError struct {
	status int
	body   any
	header http.Header
	msgKey string // the page text for it, when the status's own is not enough
	limit  string // for a 429: the limit that refused, named in the metrics
}

func (e *apiError) Error() string { return fmt.Sprintf("api error %d", e.status) }

// detail is the {"detail": msg} body DRF uses for most errors.
func detail(msg string) map[string]string { return map[string]string{"detail": msg} }

func errDetail(status int, msg string) error { return &apiError{status: status, body: detail(msg)} }

var (
	errNotAuthenticated = errDetail(http.StatusUnauthorized, msgNotAuthenticated)
	errForbidden        = errDetail(http.StatusForbidden, msgForbidden)
	errNotFound         = errDetail(http.StatusNotFound, msgNotFound)
)

// drfTime formats t as DRF does: RFC 3339 in UTC with microseconds.
func drfTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

var hdrJSON = []string{"application/json"}

// jsonBuffers recycles the buffers responses are encoded into.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON encodes v first and only then writes status and body, so a value
// that cannot be encoded becomes a clean 500 rather than half a response.
// net/http adds Content-Length itself, as the body goes out in one write.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // let the odd huge response go, rather than pin it
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		s.log.Error("encode response", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"detail":"` + msgServerError + `"}` + "\n")
	}
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// readJSON decodes the JSON body of r into dst, capped at MaxJSONBytes.
// An empty body decodes as {}, so a missing field is reported by validation
// rather than as a parse error. Unknown fields are ignored.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	bodyDeadline(w, s.cfg.BodyTimeout)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxJSONBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errDetail(http.StatusBadRequest, "Could not read the request body.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	} else if err := checkJSONType(r); err != nil {
		return err
	}
	return decodeJSON(body, dst)
}

// bodyDeadline bounds how long a client may take to send the rest of a
// request body (Config.BodyTimeout). The server has no overall read
// timeout, which would also cut the chat sockets; instead each handler that
// reads a body bounds the reading, so that a client trickling a byte a
// minute cannot hold a connection and its goroutine for good.
func bodyDeadline(w http.ResponseWriter, d time.Duration) {
	// An error means the writer cannot set deadlines (a test recorder):
	// there is no connection to protect then.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
}

// checkJSONType refuses a body that does not say it is JSON, so that a form
// post is not misread as JSON (or as anything else).
func checkJSONType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return unsupportedMediaType(ct)
}

func unsupportedMediaType(ct string) error {
	if ct == "" {
		ct = "none"
	}
	return errDetail(http.StatusUnsupportedMediaType, fmt.Sprintf("Unsupported media type %q in request.", ct))
}

// decodeJSON turns body into dst, translating decoder errors into DRF-shaped
// 400s that name the field but never echo Go's own error text.
func decodeJSON(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	err := dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return errDetail(http.StatusBadRequest, "JSON parse error - extra data after the JSON value.")
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *fieldError
	switch {
	case errors.As(err, &syn):
		return errDetail(http.StatusBadRequest, fmt.Sprintf("JSON parse error - invalid syntax at byte %d.", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errDetail(http.StatusBadRequest, "JSON parse error - unexpected end of input.")
	case errors.As(err, &fe):
		return store.Invalid(fe.field, fe.msg)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return store.Invalid("non_field_errors", fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", jsonKind(typ.Value)))
		}
		return store.Invalid(typ.Field, expected(typ))
	default:
		return errDetail(http.StatusBadRequest, "JSON parse error - malformed JSON.")
	}
}

// fieldError lets a custom UnmarshalJSON report a message for its field.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func jsonKind(v string) string {
	switch v {
	case "array":
		return "list"
	case "string":
		return "str"
	case "number":
		return "int"
	case "bool":
		return "bool"
	}
	return v
}

func expected(typ *json.UnmarshalTypeError) string {
	switch typ.Type.Kind().String() {
	case "string":
		return "Not a valid string."
	case "bool":
		return "Must be a valid boolean."
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "A valid integer is required."
	case "slice", "array":
		return fmt.Sprintf("Expected a list of items but got type %q.", jsonKind(typ.Value))
	case "struct", "map":
		return fmt.Sprintf("Expected a dictionary of items, but got type %q.", jsonKind(typ.Value))
	}
	return "Invalid value."
}

// required adds "This field is required." for each named field whose value is nil.
func required(v *store.ValidationError, fields map[string]*string) {
	for name, p := range fields {
		if p == nil {
			v.Add(name, msgRequired)
		}
	}
}

// pathID reads the integer wildcard name of r; a malformed id is a 404,
// as it names nothing that could exist.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}
