package web

import (
	"bytes"
	"html/template"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	gmtext "github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Post content is Markdown written by anyone with an account and read by
// everyone, so what it may turn into is decided here, once:
//
//   - raw HTML is never passed through: it is shown as the text it is, so
//     "use <b> for bold" keeps its words (goldmark alone would omit them);
//   - a link keeps its href only for http, https and mailto; any other
//     destination (javascript:, data:, vbscript:, "//host", relative paths)
//     leaves just the link's text;
//   - every link carries rel="nofollow ugc noopener", so posting links
//     buys no search ranking and a linked page gets no handle on ours;
//   - an image becomes a link to it (http and https only), labelled by its
//     alt text: the pages' CSP (img-src 'self' data: blob:) would block a
//     picture from elsewhere anyway, and fetching it would tell a stranger
//     every reader's address;
//   - headings move one level down, so a post's "# Title" sits below the
//     page's own <h1>.
//
// Single line breaks are kept (hard wraps): people write posts like
// messages, one thought a line, and expect them to come out that way.

// linkRel is the rel of every link in post content.
const linkRel = "nofollow ugc noopener"

// markdown is the one configured renderer; goldmark's renderers are safe
// for concurrent use once built.
var markdown = goldmark.New(
	goldmark.WithExtensions(
		// GitHub's flavour, with table alignment as align attributes: a
		// style attribute is refused by the pages' CSP (style-src 'self').
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		extension.Strikethrough, extension.Linkify, extension.TaskList,
	),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(contentPolicy{}, 0))),
	goldmark.WithRendererOptions(html.WithHardWraps()),
)

// renderMarkdown turns post content into HTML that is safe to put into a
// page as it is.
func renderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/4)
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		// Convert fails only when writing fails, which a bytes.Buffer
		// does not; show the text plainly rather than nothing.
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(buf.String())
}

// contentPolicy rewrites the parsed document by the rules above before it
// is rendered.
type contentPolicy struct{}

func (contentPolicy) Transform(doc *ast.Document, reader gmtext.Reader, _ parser.Context) {
	source := reader.Source()
	var unwrap []ast.Node    // links whose text stays, without the link
	var toText []ast.Node    // autolinks and images that become plain text
	var toLinks []*ast.Image // images that become links
	var rawHTML []ast.Node   // raw HTML, inline and blocks, shown as text
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			n.Level = min(n.Level+1, 6)
		case *ast.RawHTML, *ast.HTMLBlock:
			rawHTML = append(rawHTML, n)
			return ast.WalkSkipChildren, nil
		case *ast.Link:
			if dest, ok := safeHref(string(n.Destination)); ok {
				n.Destination = []byte(dest)
				n.SetAttributeString("rel", []byte(linkRel))
			} else {
				unwrap = append(unwrap, n)
			}
		case *ast.AutoLink:
			u := string(n.URL(source))
			if n.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(u), "mailto:") {
				u = "mailto:" + u
			}
			if _, ok := safeHref(u); ok {
				n.SetAttributeString("rel", []byte(linkRel))
			} else {
				toText = append(toText, n)
			}
		case *ast.Image:
			// An image inside a link becomes its alt text: a link in a
			// link is not HTML.
			if _, ok := safeHref(string(n.Destination)); ok && !insideLink(n) &&
				!strings.HasPrefix(strings.ToLower(strings.TrimSpace(string(n.Destination))), "mailto:") {
				toLinks = append(toLinks, n)
			} else {
				toText = append(toText, n)
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for _, n := range rawHTML {
		parent := n.Parent()
		switch n := n.(type) {
		case *ast.RawHTML:
			for i := 0; i < n.Segments.Len(); i++ {
				parent.InsertBefore(parent, n, ast.NewTextSegment(n.Segments.At(i)))
			}
			parent.RemoveChild(parent, n)
		case *ast.HTMLBlock:
			para := ast.NewParagraph()
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				para.AppendChild(para, lineText(seg, source))
			}
			if n.HasClosure() {
				para.AppendChild(para, lineText(n.ClosureLine, source))
			}
			if last, ok := para.LastChild().(*ast.Text); ok {
				last.SetHardLineBreak(false)
			}
			parent.ReplaceChild(parent, n, para)
		}
	}
	for _, n := range unwrap {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; c = n.FirstChild() {
			parent.InsertBefore(parent, n, c)
		}
		parent.RemoveChild(parent, n)
	}
	for _, n := range toText {
		var label []byte
		switch n := n.(type) {
		case *ast.AutoLink:
			label = n.Label(source)
		case *ast.Image:
			label = plainText(n, source)
		}
		n.Parent().ReplaceChild(n.Parent(), n, ast.NewString(label))
	}
	for _, img := range toLinks {
		dest, _ := safeHref(string(img.Destination))
		link := ast.NewLink()
		link.Destination = []byte(dest)
		link.Title = img.Title
		link.SetAttributeString("rel", []byte(linkRel))
		label := plainText(img, source)
		if len(bytes.TrimSpace(label)) == 0 {
			label = []byte(dest)
		}
		link.AppendChild(link, ast.NewString(label))
		img.Parent().ReplaceChild(img.Parent(), img, link)
	}
}

// lineText is one line of a block as text that ends in a line break.
func lineText(seg gmtext.Segment, source []byte) *ast.Text {
	seg = seg.TrimRightSpace(source)
	t := ast.NewTextSegment(seg)
	t.SetHardLineBreak(true)
	return t
}

func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if _, ok := p.(*ast.Link); ok {
			return true
		}
	}
	return false
}

// plainText is the text of n's children: an image's alt text.
func plainText(n ast.Node, source []byte) []byte {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(source))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(source))
		}
		return ast.WalkContinue, nil
	})
	return b.Bytes()
}

// safeHref reports whether dest may be a link of post content: an absolute
// http or https URL with a host, or a mailto: URL. It returns dest trimmed.
// Browsers drop tabs and line breaks from URLs ("java\tscript:") and
// url.Parse refuses control characters, so such tricks fail here.
func safeHref(dest string) (string, bool) {
	dest = strings.TrimSpace(dest)
	u, err := url.Parse(dest)
	if err != nil || u.Opaque != "" && u.Scheme != "mailto" {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" || strings.ContainsAny(dest, "\\") {
			return "", false
		}
	case "mailto":
		if u.Opaque == "" && u.Path == "" {
			return "", false
		}
	default:
		return "", false
	}
	return dest, true
}
