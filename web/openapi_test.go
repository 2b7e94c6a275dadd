package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
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

// at returns the value at the keys (array indexes in decimal) of the
// document, or nil.
func (sp *apiSpec) at(keys ...string) any {
	var v any = sp.raw
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
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

// checkQuery checks the query parameters of a request to op: each must be
// documented, and when the server accepted them (ok), their values must
// match their schemas.
func (sp *apiSpec) checkQuery(op, rawQuery string, ok bool) {
	sp.t.Helper()
	method, path, _ := strings.Cut(op, " ")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		sp.t.Fatalf("%s: query %q: %v", op, rawQuery, err)
	}
	params, _ := sp.at("paths", path, strings.ToLower(method), "parameters").([]any)
	for name, vals := range q {
		i := slices.IndexFunc(params, func(p any) bool {
			pm := p.(map[string]any)
			return pm["in"] == "query" && pm["name"] == name
		})
		if i < 0 {
			sp.t.Fatalf("%s: query parameter %q is not documented", op, name)
		}
		if !ok {
			continue
		}
		ptr := pointer("paths", path, strings.ToLower(method), "parameters", strconv.Itoa(i), "schema")
		v := vals[0]
		if typ, _ := sp.at("paths", path, strings.ToLower(method), "parameters", strconv.Itoa(i), "schema", "type").(string); typ != "integer" {
			b, _ := json.Marshal(v)
			v = string(b)
		}
		sp.validate(fmt.Sprintf("%s: query parameter %s=%s", op, name, vals[0]), ptr, []byte(v))
	}
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
			`<span class="api-method m-`+method+`">`+method+`</span> <code class="api-path">`+path+`</code>`,
			template.HTMLEscapeString(o["summary"].(string)),
		)
	}
	for name := range sp.at("components", "schemas").(map[string]any) {
		page.wantBody(`id="schema-` + name + `"`)
	}
	// Nothing is fetched from elsewhere: every script and stylesheet is ours.
	if m := regexp.MustCompile(`(src|href)="(https?:)?//`).Find(page.Body); m != nil {
		t.Fatalf("/api/docs loads something from elsewhere: %s", m)
	}
	page.wantBody(`<link rel="stylesheet" href="/static/apidocs.css?v=`)
}

// apiCase is one request of TestOpenAPIResponsesMatch.
type apiCase struct {
	op     string // the documented operation: "METHOD /path" as routes.go spells it
	url    string // the URL requested; op's path when empty
	token  string // a Bearer token; none when empty
	body   any    // a JSON body, as testEnv.do takes it; nil sends none
	ctype  string // a Content-Type other than JSON's for body
	req    func() *http.Request
	status int // the status the case must get
}

// apiCases is the scenario TestOpenAPIResponsesMatch runs, in order: later
// cases may rely on what earlier ones did. Every documented operation needs
// at least one case answered with success, and its main errors should have
// one each.
func apiCases(e *testEnv) []apiCase {
	t := e.t
	alice, bob, carol := e.register("alice@example.org"), e.register("bob@example.org"), e.register("carol@example.org")
	erin, frank, grace := e.register("erin@example.org"), e.register("frank@example.org"), e.register("grace@example.org")
	e.makeAdmin(alice)
	e.editProfile(carol, map[string]any{"is_private": true})
	var cat, cat2 categoryJSON
	e.do("POST", "/api/post/categories/create", alice.Access, map[string]string{"name": "News"}).wantStatus(http.StatusCreated).decode(&cat)
	e.do("POST", "/api/post/categories/create", alice.Access, map[string]string{"name": "Events"}).wantStatus(http.StatusCreated).decode(&cat2)
	post := e.writePost(alice, map[string]any{"title": "Hello", "content": "First post", "tags": []string{"intro"}, "category": cat.ID})
	post2 := e.writePost(alice, map[string]any{"title": "Second", "content": "Gone soon"})
	post3 := e.writePost(alice, map[string]any{"title": "Third", "content": "Gone soon too"})
	room := e.createRoom(alice, "Lobby")
	spamRoom := e.createRoom(grace, "Spam")
	spamPost := e.writePost(grace, map[string]any{"title": "Spam", "content": "Buy now"})
	spamMessage := e.sendMessage(grace, room.ID, "Buy now")
	invite, err := e.store.CreateInvite(context.Background(), alice.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	bigBody := `{"email": "` + strings.Repeat("a", 1<<20) + `"}`
	upload := func() *http.Request {
		ct, body := multipartBody(t, map[string]string{"status": "with a picture"}, "me.png", pngBytes(t, testImage(40, 30, true)))
		req, _ := http.NewRequest("PATCH", e.http.URL+"/mysite/user/v1/profile/edit/", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+alice.Access)
		return req
	}
	byCookie := func() *http.Request {
		req, _ := http.NewRequest("GET", e.http.URL+"/mysite/user/v1/profile/", nil)
		req.AddCookie(e.sessionCookie(bob))
		return req
	}
	postURL := func(p testPost, suffix string) string { return fmt.Sprintf("/api/post/detail/%d/%s", p.ID, suffix) }
	roomURL := fmt.Sprintf("/api/chat/room/%d/", room.ID)
	catURL := func(id int64) string { return fmt.Sprintf("/api/post/categories/%d", id) }
	const pw = "correct horse battery"

	cases := []apiCase{
		// Accounts.
		{op: "POST /user/registration/", body: map[string]string{"email": "dave@example.org", "password": pw, "nickname": "Dave"}, status: 201},
		{op: "POST /user/registration/", body: map[string]string{"email": "DAVE@example.org", "password": pw}, status: 400},
		{op: "POST /user/registration/", body: `{"email": `, status: 400},
		{op: "POST /user/registration/", body: "email=x", ctype: "application/x-www-form-urlencoded", status: 415},
		{op: "POST /user/registration/", body: bigBody, status: 413},
		{op: "POST /user/login/", body: map[string]string{"email": "dave@example.org", "password": pw}, status: 200},
		{op: "POST /user/login/", body: map[string]string{"email": "dave@example.org"}, status: 400},
	}
	for range 5 {
		cases = append(cases, apiCase{op: "POST /user/login/", body: map[string]string{"email": "nobody@example.org", "password": "wrong password"}, status: 400})
	}
	cases = append(cases, []apiCase{
		{op: "POST /user/login/", body: map[string]string{"email": "nobody@example.org", "password": "wrong password"}, status: 429},
		{op: "POST /user/token/refresh/", body: map[string]string{"refresh": frank.Refresh}, status: 200},
		{op: "POST /user/token/refresh/", body: map[string]string{"refresh": frank.Refresh}, status: 401},
		{op: "POST /user/token/refresh/", body: map[string]string{"refresh": "not.a.token"}, status: 401},
		{op: "POST /user/token/refresh/", body: map[string]string{}, status: 400},
		{op: "POST /user/logout/", token: erin.Access, body: map[string]string{"refresh": erin.Refresh}, status: 200},
		{op: "POST /user/logout/", status: 401},
		{op: "POST /user/logout/", token: "not.a.token", status: 401},
		// Profile.
		{op: "GET /mysite/user/v1/profile/", token: bob.Access, status: 200},
		{op: "GET /mysite/user/v1/profile/", req: byCookie, status: 200},
		{op: "GET /mysite/user/v1/profile/", status: 401},
		{op: "PATCH /mysite/user/v1/profile/edit/", req: upload, status: 200},
		{op: "PATCH /mysite/user/v1/profile/edit/", token: bob.Access, body: map[string]any{"status": "busy", "contact_number": "+82 10-1234-5678"}, status: 200},
		{op: "PATCH /mysite/user/v1/profile/edit/", token: bob.Access, body: map[string]any{"nickname": ""}, status: 400},
		{op: "PUT /mysite/user/v1/profile/edit/", token: bob.Access, body: map[string]any{"nickname": "Bobby", "is_private": false, "profile_picture": nil}, status: 200},
		{op: "PUT /mysite/user/v1/profile/edit/", token: bob.Access, body: map[string]any{"contact_number": "call me"}, status: 400},
		// Friends.
		{op: "POST /user/add-friend/", token: alice.Access, body: map[string]string{"email": bob.Email}, status: 201},
		{op: "POST /user/add-friend/", token: bob.Access, body: map[string]string{"email": alice.Email}, status: 201},
		{op: "POST /user/add-friend/", token: alice.Access, body: map[string]string{"email": bob.Email}, status: 400},
		{op: "POST /user/add-friend/", token: alice.Access, body: map[string]string{"email": alice.Email}, status: 400},
		{op: "POST /user/add-friend/", token: alice.Access, body: map[string]string{}, status: 400},
		{op: "POST /user/add-friend/", token: alice.Access, body: map[string]string{"email": "nobody@example.org"}, status: 404},
		{op: "POST /user/add-friend/", status: 401},
		{op: "GET /user/friends/", token: alice.Access, status: 200},
		{op: "GET /user/friends/", token: bob.Access, status: 200},
		{op: "GET /user/friend-profile/{id}/", url: fmt.Sprintf("/user/friend-profile/%d/", alice.ID), token: bob.Access, status: 200},
		{op: "GET /user/friend-profile/{id}/", url: fmt.Sprintf("/user/friend-profile/%d/", carol.ID), token: bob.Access, status: 403},
		{op: "GET /user/friend-profile/{id}/", url: "/user/friend-profile/999999/", token: bob.Access, status: 404},
		{op: "GET /user/search-friends/", url: "/user/search-friends/?keyword=example", token: bob.Access, status: 200},
		{op: "GET /user/search-friends/", token: bob.Access, status: 400},
		{op: "POST /user/delete-friend/", token: alice.Access, body: map[string]string{"email": bob.Email}, status: 200},
		{op: "POST /user/delete-friend/", token: alice.Access, body: map[string]string{"email": bob.Email}, status: 400},
		// Chat.
		{op: "POST /api/chat/room/", token: bob.Access, body: map[string]string{"name": "Study group"}, status: 201},
		{op: "POST /api/chat/room/", token: bob.Access, body: map[string]string{"name": ""}, status: 400},
		{op: "POST /api/chat/room/", body: map[string]string{"name": "x"}, status: 401},
		{op: "GET /api/chat/room/", token: bob.Access, status: 200},
		{op: "GET /api/chat/room/", url: "/api/chat/room/?page=2&page_size=1", token: bob.Access, status: 200},
		{op: "GET /api/chat/room/", url: "/api/chat/room/?page_size=x", token: bob.Access, status: 400},
		{op: "GET /api/chat/room/{id}/", url: roomURL, token: bob.Access, status: 200},
		{op: "GET /api/chat/room/{id}/", url: "/api/chat/room/999999/", token: bob.Access, status: 404},
		{op: "POST /api/chat/room/{id}/", url: roomURL, token: bob.Access, status: 200},
		{op: "POST /api/chat/message/", token: alice.Access, body: map[string]any{"type": "chat.message", "message": "Hello, World!", "room": room.ID}, status: 201},
		{op: "POST /api/chat/message/", token: bob.Access, body: map[string]any{"message": "Hi", "room": strconv.FormatInt(room.ID, 10)}, status: 201},
		{op: "POST /api/chat/message/", token: bob.Access, body: map[string]any{"message": "Hi", "room": 999999}, status: 400},
		{op: "GET /api/chat/room/{id}/messages/", url: roomURL + "messages/?limit=10", token: bob.Access, status: 200},
		{op: "GET /api/chat/room/{id}/messages/", url: roomURL + "messages/?before=x", token: bob.Access, status: 400},
		{op: "GET /api/chat/room/{id}/messages/", url: roomURL + "messages/?after=1&limit=10", token: bob.Access, status: 200},
		{op: "GET /api/chat/room/{id}/messages/", url: roomURL + "messages/?after=1&before=9", token: bob.Access, status: 400},
		{op: "GET /api/chat/room/{id}/messages/", url: "/api/chat/room/999999/messages/", token: bob.Access, status: 404},
		// The board.
		{op: "POST /api/post/write", token: bob.Access, body: map[string]any{"title": "Bob's", "content": "Text", "tags": []any{"a", map[string]string{"name": "b"}}, "category": strconv.FormatInt(cat.ID, 10)}, status: 201},
		{op: "POST /api/post/write", token: bob.Access, body: map[string]any{"content": "No title"}, status: 400},
		{op: "POST /api/post/write", body: map[string]any{"title": "x", "content": "y"}, status: 401},
		{op: "GET /api/post/", url: "/api/post/?page_size=1&page=2", status: 200},
		{op: "GET /api/post/", url: "/api/post/?page=0", status: 400},
		{op: "POST /api/post/", body: map[string]any{"search": "hello", "page_size": "10"}, status: 200},
		{op: "POST /api/post/", body: "[", status: 400},
		{op: "GET /api/post/detail/{id}/", url: postURL(post, ""), status: 200},
		{op: "GET /api/post/detail/{id}/", url: "/api/post/detail/999999/", status: 404},
		{op: "GET /api/post/detail/{id}/edit/", url: postURL(post, "edit/"), token: alice.Access, status: 200},
		{op: "GET /api/post/detail/{id}/edit/", url: postURL(post, "edit/"), token: bob.Access, status: 403},
		{op: "GET /api/post/detail/{id}/edit/", url: "/api/post/detail/999999/edit/", token: alice.Access, status: 404},
		{op: "POST /api/post/detail/{id}/edit/", url: postURL(post, "edit/"), token: alice.Access, body: map[string]any{"title": "Hello again"}, status: 200},
		{op: "PUT /api/post/detail/{id}/edit/", url: postURL(post, "edit/"), token: alice.Access, body: map[string]any{"tags": []map[string]string{{"name": "intro"}, {"name": "news"}}}, status: 200},
		{op: "PATCH /api/post/detail/{id}/edit/", url: postURL(post, "edit/"), token: alice.Access, body: map[string]any{"category": nil}, status: 200},
		{op: "PATCH /api/post/detail/{id}/edit/", url: postURL(post, "edit/"), token: alice.Access, body: map[string]any{"title": ""}, status: 400},
		{op: "PATCH /api/post/detail/{id}/edit/", url: postURL(post, "edit/"), token: bob.Access, body: map[string]any{"title": "Mine now"}, status: 403},
		{op: "DELETE /api/post/detail/{id}/", url: postURL(post2, ""), token: alice.Access, status: 200},
		{op: "DELETE /api/post/detail/{id}/", url: postURL(post, ""), token: bob.Access, status: 403},
		{op: "DELETE /api/post/detail/{id}/", url: postURL(post2, ""), token: alice.Access, status: 404},
		{op: "POST /api/post/detail/{id}/delete/", url: postURL(post3, "delete/"), token: alice.Access, status: 200},
		{op: "POST /api/post/detail/{id}/delete/", url: postURL(post3, "delete/"), token: alice.Access, status: 404},
		// Categories.
		{op: "GET /api/post/categories", status: 200},
		{op: "POST /api/post/categories", status: 200},
		{op: "POST /api/post/categories/create", token: alice.Access, body: map[string]string{"name": "Clubs"}, status: 201},
		{op: "POST /api/post/categories/create", token: alice.Access, body: map[string]string{"name": "news"}, status: 400},
		{op: "POST /api/post/categories/create", token: bob.Access, body: map[string]string{"name": "Mine"}, status: 403},
		{op: "PUT /api/post/categories/{id}", url: catURL(cat.ID), token: alice.Access, body: map[string]string{"name": "Notices"}, status: 200},
		{op: "PATCH /api/post/categories/{id}", url: catURL(cat.ID), token: alice.Access, body: map[string]string{"name": "Announcements"}, status: 200},
		{op: "PATCH /api/post/categories/{id}", url: catURL(cat.ID), token: alice.Access, body: map[string]string{"name": "Events"}, status: 400},
		{op: "PATCH /api/post/categories/{id}", url: catURL(999999), token: alice.Access, body: map[string]string{"name": "X"}, status: 404},
		{op: "PUT /api/post/categories/{id}", url: catURL(cat.ID), token: bob.Access, body: map[string]string{"name": "X"}, status: 403},
		{op: "DELETE /api/post/categories/{id}", url: catURL(cat2.ID), token: alice.Access, status: 204},
		{op: "DELETE /api/post/categories/{id}", url: catURL(cat2.ID), token: alice.Access, status: 404},
		{op: "DELETE /api/post/categories/{id}", url: catURL(cat.ID), token: bob.Access, status: 403},
		// The account's life, and the admin's tools.
		{op: "POST /user/password/change/", token: erin.Access, body: map[string]string{"old_password": "wrong one", "new_password": "a new password"}, status: 400},
		{op: "POST /user/password/change/", token: erin.Access, body: map[string]string{"old_password": testPassword, "new_password": "a new password"}, status: 200},
		{op: "GET /mysite/user/v1/export/", token: alice.Access, status: 200},
		{op: "GET /api/admin/invites/", token: bob.Access, status: 403},
		{op: "POST /api/admin/invites/", token: alice.Access, body: map[string]int{"max_uses": 0}, status: 400},
		{op: "POST /api/admin/invites/", token: alice.Access, body: map[string]int{"max_uses": 2, "expires_in_days": 3}, status: 201},
		{op: "GET /api/admin/invites/", token: alice.Access, status: 200},
		{op: "DELETE /api/admin/invites/{id}/", url: fmt.Sprintf("/api/admin/invites/%d/", invite.ID), token: alice.Access, status: 204},
		{op: "DELETE /api/admin/invites/{id}/", url: fmt.Sprintf("/api/admin/invites/%d/", invite.ID), token: alice.Access, status: 404},
		{op: "POST /api/admin/users/{id}/reset-link/", url: fmt.Sprintf("/api/admin/users/%d/reset-link/", bob.ID), token: alice.Access, status: 201},
		{op: "POST /api/admin/users/{id}/reset-link/", url: "/api/admin/users/999999/reset-link/", token: alice.Access, status: 404},
		{op: "GET /api/admin/users/", token: alice.Access, status: 200},
		{op: "GET /api/admin/users/", url: "/api/admin/users/?search=example.org", token: alice.Access, status: 200},
		{op: "GET /api/admin/users/", url: "/api/admin/users/?search=a%00", token: alice.Access, status: 400},
		{op: "GET /api/admin/users/", token: bob.Access, status: 403},
		{op: "POST /api/admin/users/{id}/disable/", url: fmt.Sprintf("/api/admin/users/%d/disable/", grace.ID), token: alice.Access, status: 200},
		{op: "POST /api/admin/users/{id}/disable/", url: fmt.Sprintf("/api/admin/users/%d/disable/", alice.ID), token: alice.Access, status: 400},
		{op: "POST /api/admin/users/{id}/disable/", url: "/api/admin/users/999999/disable/", token: alice.Access, status: 404},
		{op: "POST /api/admin/users/{id}/disable/", url: fmt.Sprintf("/api/admin/users/%d/disable/", alice.ID), token: bob.Access, status: 403},
		{op: "POST /api/admin/users/{id}/disable/", url: fmt.Sprintf("/api/admin/users/%d/disable/", alice.ID), status: 401},
		{op: "POST /api/admin/users/{id}/enable/", url: fmt.Sprintf("/api/admin/users/%d/enable/", grace.ID), token: alice.Access, status: 200},
		{op: "POST /api/admin/users/{id}/enable/", url: fmt.Sprintf("/api/admin/users/%d/enable/", alice.ID), token: alice.Access, status: 400},
		{op: "POST /api/admin/users/{id}/enable/", url: "/api/admin/users/999999/enable/", token: alice.Access, status: 404},
		{op: "DELETE /api/admin/posts/{id}/", url: fmt.Sprintf("/api/admin/posts/%d/", spamPost.ID), token: bob.Access, status: 403},
		{op: "DELETE /api/admin/posts/{id}/", url: fmt.Sprintf("/api/admin/posts/%d/", spamPost.ID), token: alice.Access, status: 204},
		{op: "DELETE /api/admin/posts/{id}/", url: fmt.Sprintf("/api/admin/posts/%d/", spamPost.ID), token: alice.Access, status: 404},
		{op: "DELETE /api/admin/messages/{id}/", url: fmt.Sprintf("/api/admin/messages/%d/", spamMessage.ID), token: alice.Access, status: 204},
		{op: "DELETE /api/admin/messages/{id}/", url: fmt.Sprintf("/api/admin/messages/%d/", spamMessage.ID), token: alice.Access, status: 404},
		{op: "DELETE /api/admin/rooms/{id}/", url: fmt.Sprintf("/api/admin/rooms/%d/", spamRoom.ID), token: bob.Access, status: 403},
		{op: "DELETE /api/admin/rooms/{id}/", url: fmt.Sprintf("/api/admin/rooms/%d/", spamRoom.ID), token: alice.Access, status: 204},
		{op: "DELETE /api/admin/rooms/{id}/", url: fmt.Sprintf("/api/admin/rooms/%d/", spamRoom.ID), token: alice.Access, status: 404},
		{op: "GET /api/admin/audit-log/", url: "/api/admin/audit-log/?limit=5", token: alice.Access, status: 200},
		{op: "GET /api/admin/audit-log/", url: "/api/admin/audit-log/?before=3", token: alice.Access, status: 200},
		{op: "GET /api/admin/audit-log/", url: "/api/admin/audit-log/?limit=0", token: alice.Access, status: 400},
		{op: "GET /api/admin/audit-log/", token: bob.Access, status: 403},
		{op: "POST /user/delete/", token: frank.Access, body: map[string]string{"password": "wrong one"}, status: 400},
		{op: "POST /user/delete/", token: frank.Access, body: map[string]string{"password": testPassword}, status: 204},
		// Operations.
		{op: "GET /healthz", status: 200},
		{op: "GET /api/openapi.json", status: 200},
	}...)
	return cases
}

// opPath matches the URLs of an operation's path, with or without the
// trailing slash, as handleBoth serves them.
func opPath(path string) *regexp.Regexp {
	p := regexp.QuoteMeta(strings.TrimSuffix(path, "/"))
	p = regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(p, `[^/]+`)
	return regexp.MustCompile(`^` + p + `/?$`)
}

func (c apiCase) send(e *testEnv) *response {
	e.t.Helper()
	if c.req != nil {
		return e.send(c.req())
	}
	url := c.url
	if url == "" {
		_, url, _ = strings.Cut(c.op, " ")
	}
	method, _, _ := strings.Cut(c.op, " ")
	if c.ctype == "" {
		return e.do(method, url, c.token, c.body)
	}
	req, _ := http.NewRequest(method, e.http.URL+url, strings.NewReader(c.body.(string)))
	req.Header.Set("Content-Type", c.ctype)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return e.send(req)
}

// TestOpenAPIResponsesMatch sends every route real requests, successes and
// the main errors, and validates each answer against the document: its
// status must be documented and its body must match the schema given for
// that status. Request bodies the server accepted must match the
// document's request schemas.
func TestOpenAPIResponsesMatch(t *testing.T) {
	e := newTestEnv(t)
	sp := loadSpec(t)
	answered := map[string]bool{}
	for _, c := range apiCases(e) {
		method, path, _ := strings.Cut(c.op, " ")
		res := c.send(e)
		if res.Status != c.status {
			t.Fatalf("%s: status %d, want %d; body %s", res.req, res.Status, c.status, res.Body)
		}
		if u, _, _ := strings.Cut(strings.TrimPrefix(res.req, method+" "), "?"); !opPath(path).MatchString(u) {
			t.Fatalf("case for %s requested %s", c.op, res.req)
		}
		sp.checkResponse(c.op, res)
		_, query, _ := strings.Cut(res.req, "?")
		sp.checkQuery(c.op, query, c.status < 300)
		if c.status >= 300 {
			continue
		}
		answered[c.op] = true
		if c.body != nil && c.ctype == "" && c.req == nil {
			b, ok := c.body.(string)
			if !ok {
				j, _ := json.Marshal(c.body)
				b = string(j)
			}
			sp.checkRequest(c.op, []byte(b))
		}
	}
	answered[socketOp] = checkSocket(t, e, sp)
	for _, op := range sp.operations() {
		if !answered[op] {
			t.Errorf("no case in apiCases answers %s with success", op)
		}
	}
}

const socketOp = "GET /ws/chat/{room_id}/chat/"

// checkSocket validates the chat socket's refusals and, through two live
// sockets, every kind of frame against the frames the document lists.
func checkSocket(t *testing.T, e *testEnv, sp *apiSpec) bool {
	t.Helper()
	alice, bob := e.register("sockets-a@example.org"), e.register("sockets-b@example.org")
	room := e.createRoom(alice, "Frames")
	path := fmt.Sprintf("/ws/chat/%d/chat/", room.ID)
	sp.checkResponse(socketOp, e.do("GET", path, "", nil).wantStatus(http.StatusUnauthorized))
	sp.checkResponse(socketOp, e.do("GET", "/ws/chat/999999/chat/", alice.Access, nil).wantStatus(http.StatusNotFound))
	req, _ := http.NewRequest("GET", e.http.URL+path, nil)
	req.AddCookie(e.sessionCookie(alice))
	req.Header.Set("Origin", "https://elsewhere.example")
	sp.checkResponse(socketOp, e.send(req).wantStatus(http.StatusForbidden))

	ctx, cancel := context.WithTimeout(context.Background(), frameWait)
	defer cancel()
	c, res, err := websocket.Dial(ctx, e.wsURL(path)+"?token="+alice.Access, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	sp.checkResponse(socketOp, &response{t: t, req: "GET " + path, Status: res.StatusCode, Header: res.Header})
	a := &testSocket{t: t, c: c}

	frames := sp.at("paths", "/ws/chat/{room_id}/chat/", "get", "x-websocket").(map[string]any)
	seen := map[int]bool{}
	// server checks that f matches exactly one of the server frames.
	server := func(f string) {
		t.Helper()
		match := -1
		for i := range frames["serverFrames"].([]any) {
			v, _ := jsonschema.UnmarshalJSON(strings.NewReader(f))
			if sp.schema(pointer("paths", "/ws/chat/{room_id}/chat/", "get", "x-websocket", "serverFrames", strconv.Itoa(i))).Validate(v) == nil {
				if match >= 0 {
					t.Fatalf("frame %s matches server frames %d and %d", f, match, i)
				}
				match = i
			}
		}
		if match < 0 {
			t.Fatalf("frame %s matches none of the documented server frames", f)
		}
		seen[match] = true
	}
	send := func(s *testSocket, f string) {
		t.Helper()
		sp.validate("client frame", pointer("paths", "/ws/chat/{room_id}/chat/", "get", "x-websocket", "clientFrames", "0"), []byte(f))
		s.send([]byte(f))
	}
	server(a.next()) // chat.presence
	server(a.next()) // chat.user.join, its own
	b := e.dialChat(bob, room.ID)
	server(b.next())
	server(a.next()) // bob's chat.user.join
	send(a, `{"type": "chat.message", "message": "Hello, World!"}`)
	server(a.next())
	server(b.next())
	a.send([]byte(`{"type": "chat.message", "message": ""}`))
	server(a.next()) // the error frame
	b.c.Close(websocket.StatusNormalClosure, "")
	server(a.next()) // chat.user.leave
	// What an admin removes: a message, then the whole room.
	admin := e.register("sockets-admin@example.org")
	e.makeAdmin(admin)
	m := e.sendMessage(bob, room.ID, "Buy now")
	server(a.next())
	e.do("DELETE", fmt.Sprintf("/api/admin/messages/%d/", m.ID), admin.Access, nil).wantStatus(http.StatusNoContent)
	server(a.next()) // chat.message.delete
	e.do("DELETE", fmt.Sprintf("/api/admin/rooms/%d/", room.ID), admin.Access, nil).wantStatus(http.StatusNoContent)
	server(a.next()) // chat.room.delete
	for i := range frames["serverFrames"].([]any) {
		if !seen[i] {
			t.Errorf("server frame %d of the document was never sent", i)
		}
	}
	return true
}
