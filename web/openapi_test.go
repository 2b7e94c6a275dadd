package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// apiSpec is the embedded OpenAPI document, ready to validate JSON against
// any schema in it.
type apiSpec struct {
	t     *testing.T
	raw   map[string]any
	c     *jsonschema.Compiler
	cache map[string]*jsonschema.Schema
}

const specURL = "file:///openapi.json"

func loadSpec(t *testing.T) *apiSpec {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(openapiJSON, &raw); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapiJSON))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's schema dialect
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &apiSpec{t: t, raw: raw, c: c, cache: map[string]*jsonschema.Schema{}}
}

// pointer is the JSON pointer of the path of keys.
func pointer(keys ...string) string {
	r := strings.NewReplacer("~", "~0", "/", "~1")
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("/" + r.Replace(k))
	}
	return b.String()
}

// schema compiles the schema at the JSON pointer ptr of the document.
func (sp *apiSpec) schema(ptr string) *jsonschema.Schema {
	sp.t.Helper()
	if s, ok := sp.cache[ptr]; ok {
		return s
	}
	s, err := sp.c.Compile(specURL + "#" + ptr)
	if err != nil {
		sp.t.Fatalf("compile schema %s: %v", ptr, err)
	}
	sp.cache[ptr] = s
	return s
}

// at returns the value at the keys of the document, or nil.
func (sp *apiSpec) at(keys ...string) any {
	var v any = sp.raw
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// operations lists the documented operations as "METHOD /path".
func (sp *apiSpec) operations() []string {
	var ops []string
	for path, item := range sp.at("paths").(map[string]any) {
		for method := range item.(map[string]any) {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(ops)
	return ops
}

// validate checks the JSON body b against the schema at ptr.
func (sp *apiSpec) validate(what, ptr string, b []byte) {
	sp.t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		sp.t.Fatalf("%s: not JSON: %v; body %s", what, err, b)
	}
	if err := sp.schema(ptr).Validate(v); err != nil {
		sp.t.Fatalf("%s: does not match %s: %v\nbody: %s", what, ptr, err, b)
	}
}

// checkResponse validates res against what the document says operation op
// ("METHOD /path") answers with its status: the status must be documented,
// the body must match its schema (or be empty when none is given), and
// every header documented as always sent must be there, of its type.
func (sp *apiSpec) checkResponse(op string, res *response) {
	sp.t.Helper()
	method, path, _ := strings.Cut(op, " ")
	base := []string{"paths", path, strings.ToLower(method)}
	if sp.at(base...) == nil {
		sp.t.Fatalf("%s: operation %s is not in openapi.json", res.req, op)
	}
	status := strconv.Itoa(res.Status)
	keys := append(slices.Clone(base), "responses", status)
	r, _ := sp.at(keys...).(map[string]any)
	if r == nil {
		sp.t.Fatalf("%s: status %d is not documented for %s; body %s", res.req, res.Status, op, res.Body)
	}
	if ref, ok := r["$ref"].(string); ok {
		keys = strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		r, _ = sp.at(keys...).(map[string]any)
		if r == nil {
			sp.t.Fatalf("%s: %s: no %s", res.req, op, ref)
		}
	}
	what := fmt.Sprintf("%s (%s %d)", res.req, op, res.Status)
	if content, ok := r["content"].(map[string]any); ok {
		if content["application/json"] == nil {
			sp.t.Fatalf("%s: documented without a JSON body", what)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			sp.t.Fatalf("%s: Content-Type %q, want application/json", what, ct)
		}
		sp.validate(what, pointer(append(keys, "content", "application/json", "schema")...), res.Body)
	} else if res.Status != http.StatusSwitchingProtocols && len(res.Body) > 0 {
		sp.t.Fatalf("%s: body %s, but the document gives none", what, res.Body)
	}
	headers, _ := r["headers"].(map[string]any)
	for name, h := range headers {
		hm := h.(map[string]any)
		if ref, ok := hm["$ref"].(string); ok {
			hm = sp.at(strings.Split(strings.TrimPrefix(ref, "#/"), "/")...).(map[string]any)
		}
		val := res.Header.Get(name)
		if val == "" {
			if hm["required"] == true {
				sp.t.Fatalf("%s: header %s missing", what, name)
			}
			continue
		}
		if typ, _ := sp.at("components", "headers", name, "schema", "type").(string); typ == "integer" {
			if _, err := strconv.Atoi(val); err != nil {
				sp.t.Fatalf("%s: header %s: %q is not an integer", what, name, val)
			}
		}
	}
}

// checkRequest validates a JSON request body that the server accepted
// against the operation's request schema: what works must be documented
// as valid.
func (sp *apiSpec) checkRequest(op string, body []byte) {
	sp.t.Helper()
	method, path, _ := strings.Cut(op, " ")
	keys := []string{"paths", path, strings.ToLower(method), "requestBody", "content", "application/json", "schema"}
	if sp.at(keys...) == nil {
		sp.t.Fatalf("%s: accepted a JSON body that the document does not describe: %s", op, body)
	}
	sp.validate(op+" request", pointer(keys...), body)
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := newTestEnv(t)
	sp := loadSpec(t)
	documented := sp.operations()
	registered := slices.Sorted(slices.Values(e.server.apiRoutes))
	if len(registered) == 0 {
		t.Fatal("routes.go recorded no JSON route")
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is registered but missing from web/openapi.json (how to add it: top of web/openapi.go)", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("operation %q is in web/openapi.json but no route serves it", d)
		}
	}
}

var pathWildcard = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestOpenAPIDocumentIsSound checks what a client generator relies on:
// unique operation ids, declared tags, a path parameter for each wildcard
// and no other, and every schema compiling with its references resolved.
func TestOpenAPIDocumentIsSound(t *testing.T) {
	sp := loadSpec(t)
	if v := sp.at("openapi"); v != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", v)
	}
	tags := map[string]bool{}
	for _, tg := range sp.at("tags").([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]string{}
	for _, op := range sp.operations() {
		method, path, _ := strings.Cut(op, " ")
		o := sp.at("paths", path, strings.ToLower(method)).(map[string]any)
		id, _ := o["operationId"].(string)
		if id == "" || ids[id] != "" {
			t.Errorf("%s: operationId %q missing or also used by %s", op, id, ids[id])
		}
		ids[id] = op
		if o["summary"] == nil {
			t.Errorf("%s: no summary", op)
		}
		if ts, _ := o["tags"].([]any); len(ts) != 1 || !tags[ts[0].(string)] {
			t.Errorf("%s: tags %v, want one of the declared tags", op, o["tags"])
		}
		var wild []string
		for _, m := range pathWildcard.FindAllStringSubmatch(path, -1) {
			wild = append(wild, m[1])
		}
		var params []string
		ps, _ := o["parameters"].([]any)
		for i, p := range ps {
			pm := p.(map[string]any)
			if pm["in"] == "path" {
				params = append(params, pm["name"].(string))
				if pm["required"] != true {
					t.Errorf("%s: path parameter %v must be required", op, pm["name"])
				}
			}
			sp.schema(pointer("paths", path, strings.ToLower(method), "parameters", strconv.Itoa(i), "schema"))
		}
		if !slices.Equal(wild, params) {
			t.Errorf("%s: path parameters %v, want %v", op, params, wild)
		}
		if o["responses"] == nil {
			t.Errorf("%s: no responses", op)
		}
	}
	for name := range sp.at("components", "schemas").(map[string]any) {
		sp.schema(pointer("components", "schemas", name))
	}
}

func TestAPIDocsServed(t *testing.T) {
	e := newTestEnv(t)
	res := e.do("GET", "/api/openapi.json", "", nil).wantStatus(http.StatusOK)
	if !bytes.Equal(res.Body, openapiJSON) {
		t.Fatal("/api/openapi.json is not the embedded document")
	}
	page := e.do("GET", "/api/docs", "", nil).wantStatus(http.StatusOK)
	if ct := page.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("/api/docs Content-Type %q, want text/html", ct)
	}
	if csp := page.Header.Get("Content-Security-Policy"); csp != pageCSP {
		t.Fatalf("/api/docs CSP %q, want the pages' %q", csp, pageCSP)
	}
	e.do("GET", "/api/docs/", "", nil).wantStatus(http.StatusOK)
	// Every operation is on the page with its method, path and summary,
	// and each schema under its name.
	sp := loadSpec(t)
	for _, op := range sp.operations() {
		method, path, _ := strings.Cut(op, " ")
		o := sp.at("paths", path, strings.ToLower(method)).(map[string]any)
		page.wantBody(
			`id="`+o["operationId"].(string)+`"`,
			`<span class="method m-`+method+`">`+method+`</span> <code class="path">`+path+`</code>`,
			template.HTMLEscapeString(o["summary"].(string)),
		)
	}
	for name := range sp.at("components", "schemas").(map[string]any) {
		page.wantBody(`id="schema-` + name + `"`)
	}
	// Nothing is fetched from elsewhere: the page's only resources are ours.
	if bytes.Contains(page.Body, []byte("<script")) || bytes.Contains(page.Body, []byte(`src="http`)) || bytes.Contains(page.Body, []byte(`href="http`)) {
		t.Fatal("/api/docs loads something from elsewhere")
	}
	page.wantBody(`<link rel="stylesheet" href="/static/apidocs.css?v=`)
}
