package tmpl

import (
	"bytes"
	"errors"
	"html/template"
	"strings"
	"testing"
)

type page struct {
	Title string
	Items []item
	Tags  map[string]int
	Link  string
	N     int64
	Safe  template.HTML
	Any   any
	Ptr   *item
	Err   error
}

type item struct {
	ID   int
	Name string
}

func (p *page) Greet(who string, n int) string { return strings.Repeat("hi "+who+" ", n) }
func (i item) Label() string                   { return "#" + i.Name }
func (p *page) Fail() (string, error)          { return "", errors.New("no") }
func (i *item) Nilsafe() string {
	if i == nil {
		return "nil item"
	}
	return i.Name
}

var (
	testFuncs   = FuncMap{"add": func(a, b int) int { return a + b }, "upper": strings.ToUpper}
	testMethods = Methods{
		"Greet":   {(*page).Greet},
		"Label":   {item.Label},
		"Fail":    {(*page).Fail},
		"Nilsafe": {(*item).Nilsafe},
	}
)

// nasty are values that try to get out of wherever they are put.
var nasty = []string{
	``, `plain`, `<script>alert(1)</script>`, `" onmouseover="x`, `' onmouseover='x`,
	`javascript:alert(1)`, ` JaVaScRiPt:x`, `data:text/html,<b>`, `/path with space?q=a b&r=1#frag`,
	`http://example.com/ü?ä=ö`, `mailto:a@b.c`, `%41%zz%`, `a+b=c`, "nul\x00byte", `&amp;&lt;`,
	`//evil.example/x`, `/a/b:c`, `?x=<y>`, `#top`, `한국어 텍스트`, "\u2028\ufeff",
}

// render renders text with data through both engines.
func render(t testing.TB, text string, data any) (got, want string, gotErr, wantErr error) {
	t.Helper()
	s, err := New(testFuncs, testMethods)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Parse("t", text); err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	var g bytes.Buffer
	gotErr = s.Execute(&g, "t", data)

	std := template.Must(template.New("t").Funcs(template.FuncMap(testFuncs)).Parse(text))
	var w bytes.Buffer
	wantErr = std.Execute(&w, data)
	return g.String(), w.String(), gotErr, wantErr
}

// The same template and data give the same page as html/template.
func TestSameAsHTMLTemplate(t *testing.T) {
	templates := []string{
		`<p>{{.Title}}</p>`,
		`<p title="{{.Title}}">x</p><p title='{{.Title}}'>y</p>`,
		`<a href="{{.Link}}">a</a><img src="{{.Link}}" alt="{{.Title}}">`,
		`<a href="/users/{{.Link}}">a</a><a href="/x?q={{.Link}}&r={{.Title}}">b</a><a href="#{{.Link}}">c</a>`,
		`<form action="/f/{{.Link}}"><button formaction="{{.Link}}">x</button></form>`,
		`<div data-url="{{.Link}}" data-name="{{.Title}}" aria-label="{{.Title}}"></div>`,
		`<title>{{.Title}}</title><textarea name="t">{{.Title}}</textarea>`,
		`{{.Safe}}<p>{{.Title}}</p>`,
		`<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>{{.Title}}</body></html>`,
		`<p>{{if .Title}}has {{.Title}}{{else if .N}}n{{else}}none{{end}}</p>`,
		`<ul>{{range .Items}}<li id="i{{.ID}}">{{.Name}} {{.Label}}</li>{{else}}<li>empty</li>{{end}}</ul>`,
		`{{range $i, $it := .Items}}{{if eq $i 1}}{{continue}}{{end}}{{$i}}={{$it.Name}};{{if gt $i 1}}{{break}}{{end}}{{end}}`,
		`{{range $k, $v := .Tags}}{{$k}}:{{$v}} {{end}}`,
		`{{range 3}}{{.}}{{end}}`,
		`{{with .Ptr}}{{.Name}}{{else}}no ptr{{end}} {{with $x := .Title}}{{$x}}{{end}}`,
		`{{$n := 0}}{{range .Items}}{{$n = add $n .ID}}{{end}}{{$n}}`,
		`{{.Greet "ann" 2}} {{$.Greet .Title 1}} {{(index .Items 0).Label}}`,
		`{{len .Items}} {{index .Tags "a"}} {{index .Items 1 | print}} {{printf "%d-%s" .N .Title}}`,
		`{{if and .Title (not .Ptr)}}a{{end}}{{if or .Ptr .N}}b{{end}}{{and 0 .Nope}}{{or 1 .Nope}}`,
		`{{if eq .N 3 4 5}}eq{{end}} {{if ne .Title "x"}}ne{{end}} {{if lt .N 10}}lt{{end}} {{if ge .N 5}}ge{{end}}`,
		`{{if eq .N 5}}int64 eq untyped{{end}} {{if le 2 3}}le{{end}}`,
		`{{.Title | upper | printf "%s!"}} {{"<b>" | upper}}`,
		`{{define "row"}}<td>{{.}}</td>{{end}}<tr>{{template "row" .Title}}{{template "row" .N}}</tr>`,
		`{{block "b" .}}<b>{{.Title}}</b>{{end}}`,
		`<p>{{.Any}}</p><p>{{.N}}</p>`,
		`<{{.Title}}>a<{{if .N}}b{{end}}></{{.Title}}> a <</p>`,
		`{{- .Title -}}   <p> {{- .N}} </p>`,
		`<option value="1"{{if eq (printf "%d" .N) "5"}} selected{{end}}>x</option>`,
		`<a href="/register{{if .Title}}?next={{.Link}}{{end}}">r</a>`,
		`<script src="/s.js"></script><p>{{.Title}}</p><style>p{}</style><p>{{.Link}}</p>`,
		`<p>a < b and {{.Title}}</p><!-- a comment --><p>{{.Title}}</p>`,
		`<!DOCTYPE html><p>1<2 and 3 < b</p><textarea>a<b</textarea></textarea><p>{{.Title}}`,
		`<TITLE>x<y{{.Title}}</TITLE ><p>{{.Title}}</p><SCRIPT>if (a<b) {}</SCRIPT>{{.Title}}`,
	}
	for _, text := range templates {
		for _, v := range nasty {
			data := &page{
				Title: v, Link: v, N: 5, Safe: "<em>trusted</em>",
				Items: []item{{1, v}, {2, "b"}, {3, "c"}},
				Tags:  map[string]int{"b": 2, "a": 1},
				Any:   v,
			}
			got, want, gerr, werr := render(t, text, data)
			if gerr != nil || werr != nil {
				t.Fatalf("%s with %q: errors %v / html/template %v", text, v, gerr, werr)
			}
			if got != want {
				t.Fatalf("%s with %q:\n got %q\nwant %q", text, v, got, want)
			}
		}
	}
}

// A value is never written where escaping it as text would not be enough.
func TestRefusedContexts(t *testing.T) {
	for _, text := range []string{
		`<script>var x = "{{.}}"</script>`,
		`<style>p { color: {{.}} }</style>`,
		`<a onclick="{{.}}">x</a>`,
		`<a href="#" ONMOUSEOVER='{{.}}'>x</a>`,
		`<p style="{{.}}">x</p>`,
		`<img srcset="{{.}}">`,
		`<a href={{.}}>x</a>`,
		`<p {{.}}>x</p>`,
		`<!-- {{.}} -->`,
	} {
		s, _ := New(nil, nil)
		if err := s.Parse("t", text); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		err := s.Execute(&b, "t", "x")
		if err == nil || !strings.Contains(err.Error(), "can't be written") {
			t.Errorf("%s: %v, want a refusal", text, err)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`{{.Unregistered}}`, "can't evaluate field Unregistered"},
		{`{{.Fail}}`, "error calling Fail: no"},
		{`{{.Greet "a"}}`, "wrong number of args for Greet: want 2 got 1"},
		{`{{.Greet 1 2}}`, "cannot use 1 as string"},
		{`{{.Title.Name}}`, "can't evaluate field Name in type string"},
		{`{{template "none"}}`, `no template "none"`},
		{`{{define "loop"}}{{template "loop"}}{{end}}{{template "loop"}}`, "more than 100 deep"},
		{`{{index .Items 9}}`, "index out of range"},
		{`{{eq .Title 1}}`, "incompatible types"},
		{`{{not}}`, "wrong number of args for not"},
		{`{{.Any.X}}`, "nil pointer evaluating"},
	} {
		s, _ := New(testFuncs, testMethods)
		if err := s.Parse("t", c.text); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		err := s.Execute(&b, "t", &page{Title: "t", Items: []item{{1, "a"}}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.text, err, c.want)
		}
	}
}

// A registered method with a pointer receiver is called on a nil pointer,
// as html/template would, so it can answer for "nothing".
func TestMethodOnNilPointer(t *testing.T) {
	got, want, gerr, werr := render(t, `{{.Ptr.Nilsafe}}`, &page{})
	if gerr != nil || werr != nil || got != want || got != "nil item" {
		t.Fatalf("got %q (%v), html/template %q (%v)", got, gerr, want, werr)
	}
}

// Nothing prints as nothing, where html/template writes "<nil>".
func TestNilPrintsNothing(t *testing.T) {
	s, _ := New(nil, nil)
	s.Parse("t", `[{{.Ptr}}|{{.Err}}|{{.Any}}|{{.Tags.missing}}]`)
	var b bytes.Buffer
	if err := s.Execute(&b, "t", &page{}); err != nil || b.String() != "[|||0]" {
		t.Fatalf("got %q, %v", b.String(), err)
	}
}

func TestNewRefusesBadFunctions(t *testing.T) {
	for _, c := range []struct {
		funcs   FuncMap
		methods Methods
	}{
		{funcs: FuncMap{"x": 1}},
		{funcs: FuncMap{"x": func() {}}},
		{funcs: FuncMap{"x": func() (int, int) { return 0, 0 }}},
		{funcs: FuncMap{"eq": func() int { return 0 }}},
		{methods: Methods{"M": {func() int { return 0 }}}},
		{methods: Methods{"Label": {item.Label, item.Label}}},
	} {
		if _, err := New(c.funcs, c.methods); err == nil {
			t.Errorf("New(%v, %v) accepted", c.funcs, c.methods)
		}
	}
}

// A page's definitions replace the layout's blocks; an empty one does not.
func TestParseOverrides(t *testing.T) {
	s, _ := New(nil, nil)
	if err := s.Parse("layout", `[{{block "main" .}}default{{end}}|{{block "side" .}}side{{end}}]`); err != nil {
		t.Fatal(err)
	}
	page := s.Clone()
	if err := page.Parse("page", `{{define "main"}}mine{{end}}{{define "side"}}   {{end}}`); err != nil {
		t.Fatal(err)
	}
	for set, want := range map[*Set]string{s: "[default|side]", page: "[mine|side]"} {
		var b bytes.Buffer
		if err := set.Execute(&b, "layout", nil); err != nil || b.String() != want {
			t.Errorf("got %q (%v), want %q", b.String(), err, want)
		}
	}
}

// Whatever a value holds, it comes out as html/template writes it.
func FuzzEscape(f *testing.F) {
	for _, v := range nasty {
		f.Add(v)
	}
	const text = `<p title="{{.Title}}">{{.Title}}</p><a href="{{.Link}}">x</a><a href="/u/{{.Title}}?q={{.Title}}#{{.Title}}">y</a><textarea>{{.Title}}</textarea>`
	f.Fuzz(func(t *testing.T, v string) {
		got, want, gerr, werr := render(t, text, &page{Title: v, Link: v})
		if gerr != nil || werr != nil || got != want {
			t.Fatalf("%q:\n got %q (%v)\nwant %q (%v)", v, got, gerr, want, werr)
		}
	})
}

// Whatever the template, when both engines render it, the pages are the
// same; tmpl may refuse more (values in scripts, styles, unquoted
// attributes), never less.
func FuzzTemplate(f *testing.F) {
	f.Add(`<p title="{{.Title}}">{{.Title}}</p>`)
	f.Add(`<a href="/x?{{.Link}}#{{.Title}}">{{if .N}}<b>{{.N}}</b>{{end}}</a>`)
	f.Add(`<!-- c --><textarea>{{.Title}}<</textarea><p a=b c='{{.Link}}'>< {{.Title}}`)
	f.Add(`{{range .Items}}<li data-x="{{.Name}}">{{.Label}}</li>{{end}}`)
	f.Fuzz(func(t *testing.T, text string) {
		std, err := template.New("t").Funcs(template.FuncMap(testFuncs)).Parse(text)
		if err != nil {
			return
		}
		data := &page{Title: "<i>\"'&+", Link: "javascript:x", N: 2, Items: []item{{1, "<a>"}}}
		var w bytes.Buffer
		if std.Execute(&w, data) != nil {
			return
		}
		s, err := New(testFuncs, testMethods)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Parse("t", text); err != nil {
			t.Fatalf("html/template parses %q, tmpl does not: %v", text, err)
		}
		var g bytes.Buffer
		if err := s.Execute(&g, "t", data); err != nil {
			if strings.Contains(err.Error(), "can't be written") {
				return
			}
			t.Fatalf("%q: %v", text, err)
		}
		if g.String() != w.String() {
			t.Fatalf("%q:\n got %q\nwant %q", text, g.String(), w.String())
		}
	})
}
