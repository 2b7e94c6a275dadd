package web

import (
	"regexp"
	"strings"
	"testing"
)

// htmlTag is one start tag of rendered HTML: its name and attributes.
type htmlTag struct {
	name  string
	attrs map[string]string
}

// startTags lists the start tags of HTML that goldmark or html/template
// wrote: every "<" of text is escaped there, so each "<" begins a real tag.
func startTags(t testing.TB, html string) []htmlTag {
	t.Helper()
	var out []htmlTag
	attrRE := regexp.MustCompile(`^\s+([^\s="'>/]+)(?:="([^"]*)"|='([^']*)'|=([^\s"'>]*))?`)
	for i := 0; i < len(html); i++ {
		if html[i] != '<' || i+1 >= len(html) || html[i+1] == '/' || html[i+1] == '!' {
			continue
		}
		j := i + 1
		for j < len(html) && (html[j] >= 'a' && html[j] <= 'z' || html[j] >= '0' && html[j] <= '9') {
			j++
		}
		tag := htmlTag{name: html[i+1 : j], attrs: map[string]string{}}
		rest := html[j:]
		for {
			m := attrRE.FindStringSubmatch(rest)
			if m == nil {
				break
			}
			tag.attrs[strings.ToLower(m[1])] = m[2] + m[3] + m[4]
			rest = rest[len(m[0]):]
		}
		rest = strings.TrimLeft(rest, " /")
		if !strings.HasPrefix(rest, ">") {
			t.Fatalf("cannot read the tag at %q in %q", html[i:min(len(html), i+80)], html)
		}
		out = append(out, tag)
		i = len(html) - len(rest)
	}
	return out
}

// checkSafeHTML fails unless html is what post content may become: no
// script or other active element, no event handler, no style, no src, and
// hrefs only to http, https and mailto, each link with our rel.
func checkSafeHTML(t testing.TB, html string) {
	t.Helper()
	if strings.Contains(strings.ToLower(html), "<script") {
		t.Fatalf("output has <script: %q", html)
	}
	allowed := map[string]bool{
		"p": true, "br": true, "hr": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"em": true, "strong": true, "del": true, "code": true, "pre": true, "blockquote": true,
		"ul": true, "ol": true, "li": true, "a": true, "input": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	}
	for _, tag := range startTags(t, html) {
		if !allowed[tag.name] {
			t.Fatalf("output has a <%s> tag: %q", tag.name, html)
		}
		for name, value := range tag.attrs {
			switch {
			case strings.HasPrefix(name, "on"):
				t.Fatalf("output has an event handler %s=%q: %q", name, value, html)
			case name == "href":
				lower := strings.ToLower(value)
				if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "mailto:") {
					t.Fatalf("output links to %q: %q", value, html)
				}
				if tag.attrs["rel"] != linkRel {
					t.Fatalf("link to %q has rel %q, want %q", value, tag.attrs["rel"], linkRel)
				}
			case name == "src", name == "style", name == "srcset", name == "formaction", name == "action":
				t.Fatalf("output has %s=%q: %q", name, value, html)
			}
		}
		if tag.name == "input" && (tag.attrs["type"] != "checkbox" || tag.attrs["disabled"] != "") {
			t.Fatalf("output has an input that is not a disabled checkbox: %q", html)
		}
		if _, ok := tag.attrs["disabled"]; tag.name == "input" && !ok {
			t.Fatalf("output has an enabled input: %q", html)
		}
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // in the output
		wantNot   []string // nowhere in the output
	}{
		{"emphasis and lists", "**bold** _it_\n\n- one\n- two",
			[]string{"<strong>bold</strong>", "<em>it</em>", "<li>one</li>"}, nil},
		{"line breaks kept", "one\ntwo", []string{"one<br>\ntwo"}, nil},
		{"headings below the page's h1", "# Big\n###### Small", []string{"<h2>Big</h2>", "<h6>Small</h6>"}, []string{"<h1"}},
		{"script block is text", "<script>alert(1)</script>", []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script"}},
		{"inline script is text", "hi <script>alert(1)</script> there", []string{"hi &lt;script&gt;"}, []string{"<script"}},
		{"img onerror is text", `<img src=x onerror=alert(1)>`, []string{"&lt;img src=x onerror=alert(1)&gt;"}, []string{"<img"}},
		{"raw anchor is text", `<a href="javascript:alert(1)">x</a>`, []string{"&lt;a href=&quot;javascript:alert(1)&quot;&gt;"}, []string{`<a href`}},
		{"javascript link is text", "[click](javascript:alert(1))", []string{"<p>click</p>"}, []string{"<a"}},
		{"javascript entity link is text", "[click](&#106;avascript:alert(1))", []string{"<p>click</p>"}, []string{"<a"}},
		{"uppercase javascript is text", "[click](JaVaScRiPt:alert(1))", []string{"<p>click</p>"}, []string{"<a"}},
		{"data link is text", "[x](data:text/html,<script>alert(1)</script>)", nil, []string{"<a", "<script"}},
		{"vbscript link is text", "[x](vbscript:msgbox(1))", []string{"<p>x</p>"}, []string{"<a"}},
		{"protocol-relative link is text", "[x](//evil.example/)", []string{"<p>x</p>"}, []string{"<a"}},
		{"relative link is text", "[x](/logout)", []string{"<p>x</p>"}, []string{"<a"}},
		{"backslash host is text", `[x](https:\\evil.example)`, []string{"<p>x</p>"}, []string{"<a"}},
		{"javascript autolink is text", "<javascript:alert(1)>", []string{"javascript:alert(1)"}, []string{"<a"}},
		{"http link", "[site](https://example.com/a?b=1&c=2)",
			[]string{`<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow ugc noopener">site</a>`}, nil},
		{"bare url is a link", "see https://example.com/x", []string{`<a href="https://example.com/x" rel="nofollow ugc noopener">`}, nil},
		{"mail link", "<someone@example.com>", []string{`href="mailto:someone@example.com" rel="nofollow ugc noopener"`}, nil},
		{"image becomes a link", "![a cat](https://img.example/cat.png)",
			[]string{`<a href="https://img.example/cat.png" rel="nofollow ugc noopener">a cat</a>`}, []string{"<img"}},
		{"data image is its alt text", "![pic](data:image/png;base64,AAAA)", []string{"<p>pic</p>"}, []string{"<img", "<a"}},
		{"javascript image is its alt text", "![pic](javascript:alert(1))", []string{"<p>pic</p>"}, []string{"<img", "<a"}},
		{"code keeps markup as text", "```\n<script>x</script>\n```", []string{"&lt;script&gt;x&lt;/script&gt;"}, []string{"<script"}},
		{"code info string is escaped", "```js\"><script>\nx\n```", nil, []string{"<script"}},
		{"link title is escaped", `[x](https://a.example "\"><script>")`, nil, []string{"<script"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(renderMarkdown(tt.src))
			checkSafeHTML(t, got)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("renderMarkdown(%q) = %q, want it to contain %q", tt.src, got, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("renderMarkdown(%q) = %q, want no %q", tt.src, got, w)
				}
			}
		})
	}
}

// FuzzMarkdown: whatever a post says, its HTML has no script, no event
// handler and no link but to http, https or mailto.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"# t\n\n**b** [l](https://x.example) ![i](https://x.example/i.png)",
		"<script>alert(1)</script>", `<img src=x onerror=alert(1)>`, `<a href="javascript:alert(1)">x</a>`,
		"[x](javascript:alert(1))", "[x](data:text/html,<script>alert(1)</script>)", "<javascript:alert(1)>",
		"[x][r]\n\n[r]: javascript:alert(1)", "[![i](javascript:1)](https://a.example)", "www.example.com a@b.co",
		"```\"onload=\"x\n<b>\n```", "| a |\n|---|\n| <i onclick=x>1</i> |", "- [x] done\n- [ ] todo",
		"<div\nonclick=x>\n\nhi\n</div>", "[x](<javascript:alert(1)>)", "[x](java&#x09;script:1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkSafeHTML(t, string(renderMarkdown(src)))
	})
}
