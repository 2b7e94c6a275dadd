package tmpl

import (
	"bytes"
	"fmt"
	"html/template"
	"reflect"
	"strconv"
	"strings"
)

// context is where in an HTML document the next byte written lands. It is
// worked out from the template's own text as it is written, so a value is
// always escaped for where it really goes, whichever branches ran.
type context struct {
	state   parseState
	element element  // the element whose start tag or content we are in
	attr    attrKind // the attribute whose value we are in
	quote   byte     // the quote around that value
	url     urlPart  // in a URL attribute, which part of the URL
}

type parseState uint8

const (
	inText        parseState = iota // element content
	inRCDATA                        // content of <textarea> or <title>: text only
	inRawText                       // content of <script> or <style>
	inComment                       // <!-- ... -->
	inTag                           // in a start or end tag, between attributes
	inAttrName                      // after an attribute's name
	inBeforeValue                   // after an attribute's =
	inAttrValue                     // in a quoted attribute value
	inUnquoted                      // in an unquoted attribute value
)

var stateNames = [...]string{"text", "RCDATA", "raw text", "comment", "tag", "attribute name", "attribute", "quoted attribute value", "unquoted attribute value"}

type element uint8

const (
	elementNone element = iota
	elementScript
	elementStyle
	elementTextarea
	elementTitle
)

var elementNames = [...]string{"", "script", "style", "textarea", "title"}

type attrKind uint8

const (
	attrPlain   attrKind = iota
	attrURL              // href, src, action...: a URL
	attrRefused          // on*, style, srcset...: script, CSS or a URL list
)

type urlPart uint8

const (
	urlStart       urlPart = iota // nothing of the URL yet: the scheme is still open
	urlPath                       // in the scheme, host or path
	urlQueryOrFrag                // after ? or #
)

// write writes text, the template's own, in context c and returns the
// context after it. It changes the text as html/template does: a '<' in
// element content that starts no tag is written as &lt;, and comments are
// left out.
func (c context) write(w *bytes.Buffer, text []byte) context {
	written := 0 // text[:written] is dealt with
	defer func() { w.Write(text[written:]) }()
	for i := 0; i < len(text); {
		rest := text[i:]
		switch c.state {
		case inText, inRCDATA, inRawText:
			j := bytes.IndexByte(rest, '<')
			if j < 0 {
				return c
			}
			lt := i + j
			i = lt + 1
			rest = text[i:]
			switch {
			case c.state == inRawText || c.state == inRCDATA:
				name := elementNames[c.element]
				if !isEndTag(rest, name) {
					if c.state == inRCDATA {
						w.Write(text[written:lt])
						w.WriteString("&lt;")
						written = i
					}
					continue
				}
				i += 1 + len(name)
				c = context{state: inTag}
			case bytes.HasPrefix(rest, []byte("!--")):
				w.Write(text[written:lt])
				i += 3
				written = i
				c.state = inComment
			case len(rest) > 1 && rest[0] == '/' && isLetter(rest[1]):
				i += 1 + tagNameLen(rest[1:])
				c = context{state: inTag}
			case len(rest) > 0 && isLetter(rest[0]):
				n := tagNameLen(rest)
				c = context{state: inTag, element: elementOf(rest[:n])}
				i += n
			case len(rest) >= 8 && strings.EqualFold(string(rest[:8]), "!doctype"):
			default:
				w.Write(text[written:lt])
				w.WriteString("&lt;")
				written = i
			}
		case inComment:
			j := bytes.Index(rest, []byte("-->"))
			if j < 0 {
				written = len(text)
				return c
			}
			i += j + 3
			written = i
			c.state = inText
		case inTag:
			switch b := rest[0]; {
			case b == '>':
				i++
				c = context{state: contentState(c.element), element: c.element}
			case isSpace(b) || b == '/':
				i++
			default:
				n := max(nameLen(rest), 1)
				c.state, c.attr = inAttrName, attrKindOf(string(rest[:n]))
				i += n
			}
		case inAttrName:
			switch b := rest[0]; {
			case isSpace(b):
				i++
			case b == '=':
				c.state = inBeforeValue
				i++
			default:
				c.state, c.attr = inTag, attrPlain
			}
		case inBeforeValue:
			switch b := rest[0]; {
			case isSpace(b):
				i++
			case b == '"' || b == '\'':
				c.state, c.quote, c.url = inAttrValue, b, urlStart
				i++
			case b == '>':
				c.state, c.attr = inTag, attrPlain
			default:
				c.state, c.url = inUnquoted, urlStart
			}
		case inAttrValue, inUnquoted:
			var j int
			if c.state == inAttrValue {
				j = bytes.IndexByte(rest, c.quote)
			} else {
				j = bytes.IndexFunc(rest, func(r rune) bool { return r == '>' || r < 0x80 && isSpace(byte(r)) })
			}
			if j < 0 {
				c.url = c.url.after(rest)
				return c
			}
			c.url = c.url.after(rest[:j])
			i += j
			if c.state == inAttrValue {
				i++
			}
			c.state, c.attr, c.quote, c.url = inTag, attrPlain, 0, urlStart
		}
	}
	return c
}

func (p urlPart) after(s []byte) urlPart {
	switch {
	case p == urlQueryOrFrag:
		return p
	case bytes.ContainsAny(s, "?#"):
		return urlQueryOrFrag
	case len(bytes.TrimLeft(s, " \t\n\f\r")) == 0:
		return p // spaces before a URL leave its scheme open
	}
	return urlPath
}

func contentState(e element) parseState {
	switch e {
	case elementScript, elementStyle:
		return inRawText
	case elementTextarea, elementTitle:
		return inRCDATA
	}
	return inText
}

func elementOf(name []byte) element {
	for e, n := range elementNames {
		if e > 0 && strings.EqualFold(string(name), n) {
			return element(e)
		}
	}
	return elementNone
}

// isEndTag reports whether s, which follows a '<', is "/name" ending a
// tag name, without regard to case.
func isEndTag(s []byte, name string) bool {
	end := 1 + len(name)
	return end <= len(s) && s[0] == '/' && strings.EqualFold(string(s[1:end]), name) &&
		(end == len(s) || !isNameByte(s[end]))
}

// attrKindOf classifies an attribute by its name, as html/template does:
// a data- prefix or an XML namespace is looked through, and an unknown
// name that speaks of a URL is one.
func attrKindOf(name string) attrKind {
	name = strings.ToLower(name)
	name = strings.TrimPrefix(name, "data-")
	if ns, local, ok := strings.Cut(name, ":"); ok {
		if ns == "xmlns" {
			return attrURL
		}
		name = local
	}
	switch name {
	case "action", "archive", "background", "cite", "classid", "codebase", "data", "formaction",
		"href", "icon", "longdesc", "manifest", "poster", "profile", "src", "usemap", "xmlns":
		return attrURL
	case "style", "srcset", "srcdoc":
		return attrRefused
	}
	switch {
	case strings.HasPrefix(name, "on"):
		return attrRefused
	case strings.Contains(name, "src"), strings.Contains(name, "uri"), strings.Contains(name, "url"):
		return attrURL
	}
	return attrPlain
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }
func isSpace(b byte) bool  { return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r' }
func isNameByte(b byte) bool {
	return !isSpace(b) && b != '>' && b != '/' && b != '=' && b != '"' && b != '\'' && b != '<'
}

// tagNameLen is the length of the tag name s starts with, as
// html/template reads it: ASCII letters and digits, with single ':' or '-'
// between them. What follows, up to white space, '/' or '>', is already an
// attribute's name.
func tagNameLen(s []byte) int {
	n := 0
	for n < len(s) {
		switch {
		case isAlphaNum(s[n]):
			n++
		case (s[n] == ':' || s[n] == '-') && n > 0 && n+1 < len(s) && isAlphaNum(s[n+1]):
			n += 2
		default:
			return n
		}
	}
	return n
}

func isAlphaNum(b byte) bool { return isLetter(b) || '0' <= b && b <= '9' }

func nameLen(s []byte) int {
	n := 0
	for n < len(s) && isNameByte(s[n]) {
		n++
	}
	return n
}

var (
	htmlType     = reflect.TypeFor[template.HTML]()
	stringerType = reflect.TypeFor[fmt.Stringer]()
)

// print writes v escaped for the current context.
func (s *state) print(v reflect.Value) error {
	text, trusted := stringOf(v)
	c := &s.ctx
	switch {
	case c.state == inText && trusted:
		s.w.WriteString(text)
	case c.state == inText || c.state == inRCDATA:
		escapeHTML(s.w, text)
	case c.state == inAttrValue && c.attr == attrPlain:
		escapeHTML(s.w, text)
	case c.state == inAttrValue && c.attr == attrURL:
		var b strings.Builder
		switch c.url {
		case urlStart:
			escapeURL(&b, filterURL(text), true)
			c.url = urlPath
		case urlPath:
			escapeURL(&b, text, true)
		default:
			escapeURL(&b, text, false)
		}
		escapeHTML(s.w, b.String())
	default:
		where := stateNames[c.state]
		if c.state == inRawText {
			where = "<" + elementNames[c.element] + ">"
		} else if c.state == inAttrValue {
			where = "an attribute holding script, CSS or a list of URLs"
		}
		return s.errorf("a value can't be written in %s", where)
	}
	return nil
}

// stringOf is how v prints, and whether it is trusted markup.
func stringOf(v reflect.Value) (string, bool) {
	v = unwrap(v)
	for v.Kind() == reflect.Pointer && !v.IsNil() && !v.Type().Implements(errorType) && !v.Type().Implements(stringerType) {
		v = v.Elem()
	}
	switch {
	case !v.IsValid(), v.Kind() == reflect.Pointer && v.IsNil():
		return "", false
	case v.Type() == htmlType:
		return v.String(), true
	case v.Kind() == reflect.String && v.Type().NumMethod() == 0:
		return v.String(), false
	case isIntKind(v.Kind()) && v.Type().NumMethod() == 0:
		return strconv.FormatInt(v.Int(), 10), false
	}
	return fmt.Sprint(v.Interface()), false
}

// htmlReplacements are html/template's, so that the same text escapes to
// the same bytes: the five that matter, NUL, and + (which UTF-7 sniffing
// would otherwise read as the start of an escape).
var htmlReplacements = [...]string{
	0:    "\uFFFD",
	'"':  "&#34;",
	'&':  "&amp;",
	'\'': "&#39;",
	'+':  "&#43;",
	'<':  "&lt;",
	'>':  "&gt;",
}

// escapeHTML writes text safe for element content and quoted attributes.
func escapeHTML(w *bytes.Buffer, text string) {
	last := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if int(c) >= len(htmlReplacements) || htmlReplacements[c] == "" {
			continue
		}
		w.WriteString(text[last:i])
		w.WriteString(htmlReplacements[c])
		last = i + 1
	}
	w.WriteString(text[last:])
}

// filterURL lets a URL through only with no scheme or a safe one; any
// other becomes html/template's harmless marker.
func filterURL(u string) string {
	if scheme, _, ok := strings.Cut(u, ":"); ok && !strings.Contains(scheme, "/") {
		switch strings.ToLower(scheme) {
		case "http", "https", "mailto":
		default:
			return "#ZgotmplZ"
		}
	}
	return u
}

// escapeURL percent-encodes what may not stand in a URL. Normalizing, it
// keeps the URL's own delimiters and escapes; otherwise (a value in a
// query) only letters, digits and -._~ stay as they are.
func escapeURL(b *strings.Builder, s string, normalize bool) {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		case normalize && strings.IndexByte("!#$&*+,/:;=?@[]", c) >= 0:
		case normalize && c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
