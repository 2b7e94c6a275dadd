// The API's description: web/openapi.json, an OpenAPI 3.1 document embedded
// in the binary, served as is at GET /api/openapi.json and as a page at
// GET /api/docs, which is rendered here from the same document.
//
// How to add a route to the document. Every JSON route that routes.go
// registers (through its api or publicAPI helper) must be described there,
// and nothing else: TestOpenAPICoversEveryRoute fails otherwise, naming the
// route. To add one:
//
//  1. In openapi.json under "paths", add the path exactly as routes.go spells
//     it (same trailing slash, same {wildcard} names), then an operation
//     under the lower-case method: "tags" (one of the top-level tags),
//     "summary", "operationId" (unique), "parameters" (path wildcards and
//     query parameters), "requestBody" and "responses". A route that needs a
//     login takes "security" like its neighbours and a "401" response.
//  2. Describe bodies with schemas under components/schemas ($ref them),
//     saying exactly what the handler sends: every field it always writes
//     in "required", "additionalProperties": false on response objects,
//     ["string", "null"] for fields that may be null. Reuse the responses
//     under components/responses for the DRF error shapes (BadRequest,
//     Unauthorized, Forbidden, NotFound, TooLarge, UnsupportedMediaType,
//     TooManyRequests), and components/headers for paging (Link,
//     X-Total-Count).
//  3. Add a case for the route, success and main errors, to apiCases in
//     openapi_test.go: TestOpenAPIResponsesMatch sends it to a real server
//     and validates the answer against the document, and fails for a
//     documented operation that no case answers with success.
package web

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed openapi.json
var openapiJSON []byte

// handleOpenAPI serves the API's OpenAPI document.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	writeBytes(w, http.StatusOK, openapiJSON)
}

// handleAPIDocs shows the API reference, a page of the site.
func (s *Server) handleAPIDocs(w http.ResponseWriter, r *http.Request) {
	docs, err := s.apiDocs()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "apidocs", s.newPage(r, "footer.api", docs))
}

// buildAPIDocs reads the embedded document into what the reference page
// shows. It runs once, on the first view of the page rather than at
// start-up, which it would slow by milliseconds on a Pi for a page few
// people open; the document is fixed at build time, and TestAPIDocsServed
// renders it, so a document the page cannot show fails the tests.
func buildAPIDocs() (*docsPage, error) {
	var doc oaDocument
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	page, err := doc.view()
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	return page, nil
}

// The parts of an OpenAPI document the page shows. Objects whose order
// matters to a reader (paths, properties, schemas) keep the document's
// order through ordered.

type oaDocument struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Summary     string `json:"summary"`
		Description string `json:"description"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths      ordered[ordered[*oaOperation]] `json:"paths"`
	Components struct {
		Schemas         ordered[*oaSchema]     `json:"schemas"`
		Responses       map[string]*oaResponse `json:"responses"`
		Headers         map[string]*oaHeader   `json:"headers"`
		SecuritySchemes ordered[struct {
			Type        string `json:"type"`
			Scheme      string `json:"scheme"`
			In          string `json:"in"`
			Name        string `json:"name"`
			Description string `json:"description"`
		}] `json:"securitySchemes"`
	} `json:"components"`
}

type oaOperation struct {
	Tags        []string              `json:"tags"`
	Summary     string                `json:"summary"`
	Description string                `json:"description"`
	OperationID string                `json:"operationId"`
	Parameters  []oaParameter         `json:"parameters"`
	RequestBody *oaRequestBody        `json:"requestBody"`
	Responses   ordered[*oaResponse]  `json:"responses"`
	Security    []map[string][]string `json:"security"`
	WebSocket   *struct {
		ClientFrames []*oaSchema `json:"clientFrames"`
		ServerFrames []*oaSchema `json:"serverFrames"`
	} `json:"x-websocket"`
}

type oaParameter struct {
	Name        string    `json:"name"`
	In          string    `json:"in"`
	Description string    `json:"description"`
	Required    bool      `json:"required"`
	Schema      *oaSchema `json:"schema"`
}

type oaRequestBody struct {
	Required bool             `json:"required"`
	Content  ordered[oaMedia] `json:"content"`
}

type oaMedia struct {
	Schema *oaSchema `json:"schema"`
}

type oaResponse struct {
	Ref         string             `json:"$ref"`
	Description string             `json:"description"`
	Headers     ordered[*oaHeader] `json:"headers"`
	Content     ordered[oaMedia]   `json:"content"`
}

type oaHeader struct {
	Ref         string    `json:"$ref"`
	Description string    `json:"description"`
	Required    bool      `json:"required"`
	Schema      *oaSchema `json:"schema"`
}

// oaSchema is the subset of JSON Schema the document uses.
type oaSchema struct {
	Ref                  string             `json:"$ref"`
	Type                 stringOrList       `json:"type"`
	Format               string             `json:"format"`
	Description          string             `json:"description"`
	Const                json.RawMessage    `json:"const"`
	Enum                 []json.RawMessage  `json:"enum"`
	Default              json.RawMessage    `json:"default"`
	Minimum              *float64           `json:"minimum"`
	Properties           ordered[*oaSchema] `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Items                *oaSchema          `json:"items"`
	AnyOf                []*oaSchema        `json:"anyOf"`
	OneOf                []*oaSchema        `json:"oneOf"`
}

// stringOrList is JSON Schema's "type": one name or a list of them.
type stringOrList []string

func (t *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*t = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*t = many
	return nil
}

// ordered is a JSON object decoded with its keys in document order.
type ordered[T any] []entry[T]

type entry[T any] struct {
	Key string
	Val T
}

func (o *ordered[T]) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("want a JSON object")
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%v: %w", k, err)
		}
		*o = append(*o, entry[T]{Key: k.(string), Val: v})
	}
	return nil
}

func (o ordered[T]) get(key string) (T, bool) {
	for _, e := range o {
		if e.Key == key {
			return e.Val, true
		}
	}
	var zero T
	return zero, false
}

// What the template shows.

type docsPage struct {
	Title, Version, Summary string
	Description             template.HTML
	Auth                    []docsAuth
	Tags                    []*docsTag
	Schemas                 []docsNamedSchema
}

type docsAuth struct {
	Name, Kind  string
	Description template.HTML
}

type docsTag struct {
	Name        string
	Description template.HTML
	Ops         []*docsOp
}

type docsOp struct {
	Anchor, Method, Path, Summary string
	Description                   template.HTML
	Auth                          []string // names of the accepted credentials; empty: no login
	Params                        []docsParam
	BodyRequired                  bool
	Body                          []docsMedia
	Responses                     []docsResponse
	ClientFrames, ServerFrames    []*docsSchema
}

type docsParam struct {
	Name, In    string
	Description template.HTML
	Required    bool
	Schema      *docsSchema
}

type docsMedia struct {
	Type   string
	Schema *docsSchema
}

type docsResponse struct {
	Status      string
	Description template.HTML
	Headers     []docsParam
	Content     []docsMedia
}

type docsNamedSchema struct {
	Name   string
	Schema *docsSchema
}

// docsSchema is a schema as a readable tree: a line per property, with
// its type (a link for a named schema), notes and description.
type docsSchema struct {
	Name        string // property name; empty for a root, an item or a variant
	Required    bool
	Type        string // "object", "string | null", "array of"...
	Ref         string // name of a component schema the type links to
	Notes       []string
	Description template.HTML
	Children    []*docsSchema
}

// methodOrder is the order of an endpoint's operations on the page.
var methodOrder = map[string]int{"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}

func (d *oaDocument) view() (*docsPage, error) {
	p := &docsPage{Title: d.Info.Title, Version: d.Info.Version, Summary: d.Info.Summary, Description: prose(d.Info.Description)}
	for _, e := range d.Components.SecuritySchemes {
		kind := e.Val.Type
		switch {
		case e.Val.Type == "http":
			kind = "HTTP " + e.Val.Scheme + " (Authorization header)"
		case e.Val.Type == "apiKey":
			kind = e.Val.In + " " + e.Val.Name
		}
		p.Auth = append(p.Auth, docsAuth{Name: e.Key, Kind: kind, Description: prose(e.Val.Description)})
	}
	tags := map[string]*docsTag{}
	for _, t := range d.Tags {
		dt := &docsTag{Name: t.Name, Description: prose(t.Description)}
		tags[t.Name] = dt
		p.Tags = append(p.Tags, dt)
	}
	for _, path := range d.Paths {
		ops := append(ordered[*oaOperation](nil), path.Val...)
		sort.SliceStable(ops, func(i, j int) bool { return methodOrder[ops[i].Key] < methodOrder[ops[j].Key] })
		for _, m := range ops {
			op := m.Val
			if len(op.Tags) == 0 || tags[op.Tags[0]] == nil {
				return nil, fmt.Errorf("%s %s: no tag, or one not declared at the top", m.Key, path.Key)
			}
			v, err := d.opView(strings.ToUpper(m.Key), path.Key, op)
			if err != nil {
				return nil, err
			}
			t := tags[op.Tags[0]]
			t.Ops = append(t.Ops, v)
		}
	}
	for _, e := range d.Components.Schemas {
		p.Schemas = append(p.Schemas, docsNamedSchema{Name: e.Key, Schema: schemaView(e.Val)})
	}
	return p, nil
}

func (d *oaDocument) opView(method, path string, op *oaOperation) (*docsOp, error) {
	v := &docsOp{Anchor: op.OperationID, Method: method, Path: path, Summary: op.Summary, Description: prose(op.Description)}
	if v.Anchor == "" {
		return nil, fmt.Errorf("%s %s: no operationId", method, path)
	}
	for _, alt := range op.Security {
		for name := range alt {
			v.Auth = append(v.Auth, name)
		}
	}
	for _, prm := range op.Parameters {
		v.Params = append(v.Params, docsParam{Name: prm.Name, In: prm.In, Description: prose(prm.Description), Required: prm.Required, Schema: schemaView(prm.Schema)})
	}
	if op.RequestBody != nil {
		v.BodyRequired = op.RequestBody.Required
		for _, c := range op.RequestBody.Content {
			v.Body = append(v.Body, docsMedia{Type: c.Key, Schema: d.mediaView(c.Val.Schema)})
		}
	}
	for _, e := range op.Responses {
		r, err := d.response(e.Val)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		dr := docsResponse{Status: e.Key, Description: prose(r.Description)}
		for _, h := range r.Headers {
			hv := h.Val
			if hv.Ref != "" {
				name := strings.TrimPrefix(hv.Ref, "#/components/headers/")
				if hv = d.Components.Headers[name]; hv == nil {
					return nil, fmt.Errorf("%s %s: no header %s", method, path, h.Val.Ref)
				}
			}
			dr.Headers = append(dr.Headers, docsParam{Name: h.Key, Description: prose(hv.Description), Required: hv.Required, Schema: schemaView(hv.Schema)})
		}
		for _, c := range r.Content {
			dr.Content = append(dr.Content, docsMedia{Type: c.Key, Schema: d.mediaView(c.Val.Schema)})
		}
		v.Responses = append(v.Responses, dr)
	}
	if ws := op.WebSocket; ws != nil {
		for _, f := range ws.ClientFrames {
			v.ClientFrames = append(v.ClientFrames, d.mediaView(f))
		}
		for _, f := range ws.ServerFrames {
			v.ServerFrames = append(v.ServerFrames, d.mediaView(f))
		}
	}
	return v, nil
}

// response resolves a reference to a shared response.
func (d *oaDocument) response(r *oaResponse) (*oaResponse, error) {
	if r.Ref == "" {
		return r, nil
	}
	shared := d.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
	if shared == nil {
		return nil, fmt.Errorf("no response %s", r.Ref)
	}
	return shared, nil
}

// mediaView is schemaView for a whole body: a named schema at its root, or
// as the items of its root array, is spelled out one level deep, so that an
// operation shows its fields without a trip to the schema list.
func (d *oaDocument) mediaView(s *oaSchema) *docsSchema {
	if s == nil {
		return schemaView(s)
	}
	target, prefix := s, ""
	if s.Items != nil && s.Items.Ref != "" {
		target, prefix = s.Items, "array of"
	}
	named, ok := d.Components.Schemas.get(refName(target.Ref))
	if target.Ref == "" || !ok {
		return schemaView(s)
	}
	v := schemaView(named)
	if v.Type == "one of" {
		v.Notes = append([]string{"one of these:"}, v.Notes...)
	}
	v.Type, v.Ref = prefix, refName(target.Ref)
	if s.Description != "" {
		v.Description = prose(s.Description)
	}
	return v
}

// schemaView turns s into a tree for the page. A reference to a named
// schema stays a link, so that no schema is spelled out twice and a
// recursive one ends.
func schemaView(s *oaSchema) *docsSchema {
	if s == nil {
		return &docsSchema{Type: "any"}
	}
	v := &docsSchema{Description: prose(s.Description)}
	if s.Ref != "" {
		v.Ref = refName(s.Ref)
		return v
	}
	v.Type = strings.Join(s.Type, " | ")
	if s.Format != "" {
		v.Notes = append(v.Notes, s.Format)
	}
	if len(s.Const) > 0 {
		v.Notes = append(v.Notes, "always "+string(s.Const))
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			vals[i] = string(e)
		}
		v.Notes = append(v.Notes, "one of "+strings.Join(vals, ", "))
	}
	if s.Minimum != nil {
		v.Notes = append(v.Notes, "≥ "+strconv.FormatFloat(*s.Minimum, 'f', -1, 64))
	}
	if len(s.Default) > 0 {
		v.Notes = append(v.Notes, "default "+string(s.Default))
	}
	switch {
	case s.Items != nil:
		item := schemaView(s.Items)
		if item.Ref != "" || len(item.Children) == 0 {
			// A named or simple item reads best on one line.
			v.Type, v.Ref = strings.TrimSpace("array of "+item.Type), item.Ref
			v.Notes = append(v.Notes, item.Notes...)
			if item.Description != "" {
				v.Children = []*docsSchema{item}
			}
			break
		}
		v.Type = "array of objects"
		v.Children = item.Children
	case len(s.AnyOf) > 0 || len(s.OneOf) > 0:
		if v.Type == "" {
			v.Type = "one of"
		}
		for _, alt := range append(s.AnyOf, s.OneOf...) {
			v.Children = append(v.Children, schemaView(alt))
		}
	case len(s.Properties) > 0:
		for _, e := range s.Properties {
			c := schemaView(e.Val)
			c.Name = e.Key
			for _, r := range s.Required {
				c.Required = c.Required || r == e.Key
			}
			v.Children = append(v.Children, c)
		}
		if string(s.AdditionalProperties) != "false" {
			v.Notes = append(v.Notes, "more fields are ignored")
		}
	case len(s.AdditionalProperties) > 0 && s.AdditionalProperties[0] == '{':
		var ap oaSchema
		if json.Unmarshal(s.AdditionalProperties, &ap) == nil {
			c := schemaView(&ap)
			c.Name = "any key"
			v.Children = []*docsSchema{c}
		}
	}
	if v.Type == "" && v.Ref == "" {
		v.Type = "any"
	}
	return v
}

func refName(ref string) string { return ref[strings.LastIndexByte(ref, '/')+1:] }

var (
	proseCode   = regexp.MustCompile("`([^`]+)`")
	proseStrong = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// prose shows the document's descriptions, which use a little Markdown
// (paragraphs, "- " lists, `code`, **strong**), as HTML. Everything is
// escaped first, so no text of the document can become markup.
func prose(text string) template.HTML {
	if text == "" {
		return ""
	}
	var b strings.Builder
	inline := func(s string) string {
		s = template.HTMLEscapeString(s)
		s = proseCode.ReplaceAllString(s, "<code>$1</code>")
		return proseStrong.ReplaceAllString(s, "<strong>$1</strong>")
	}
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(para, "\n")
		if strings.HasPrefix(lines[0], "- ") {
			b.WriteString("<ul>")
			for _, l := range lines {
				b.WriteString("<li>" + inline(strings.TrimPrefix(l, "- ")) + "</li>")
			}
			b.WriteString("</ul>")
			continue
		}
		b.WriteString("<p>" + inline(strings.Join(lines, " ")) + "</p>")
	}
	return template.HTML(b.String())
}
