// Package tmpl executes Go templates as HTML pages.
//
// The templates are written in the language of text/template and
// html/template and parsed by text/template/parse. Every value a template
// prints is escaped for the place it lands, as html/template escapes it:
// element text, a quoted attribute value, and the start, path or query of
// a URL attribute. Anything else (a value inside a <script>, a style, an
// event handler or an unquoted attribute) is refused when the page is
// rendered rather than guessed at. A value of type html/template.HTML is
// trusted markup and goes into element text as it is.
//
// Why not html/template itself: its executor looks methods up by name
// through reflection, and once a program can do that the linker must keep
// every exported method of every type it links, which made maru's binary
// 3.6 MB larger. Here a template reads fields and map entries, calls the
// functions it is given, and calls only the methods registered by name in
// Methods, so nothing in the program looks a method up by name.
package tmpl

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"sync"
	"text/template/parse"
)

// FuncMap names the functions templates may call. A function returns one
// value, or a value and an error that stops the rendering.
type FuncMap map[string]any

// Methods names the methods templates may call, each given as a method
// expression such as (*page).Title, whose first parameter is the receiver.
// The same name may be given for several types.
type Methods map[string][]any

// Set is a group of templates that may invoke one another by name. It is
// safe for concurrent use by Execute once parsing is done.
type Set struct {
	trees   map[string]*parse.Tree
	funcs   map[string]reflect.Value
	methods map[string]map[reflect.Type]reflect.Value
	names   map[string]any // function names, for the parser
	texts   *sync.Map      // textKey → textOut: the template text as written
}

// New starts an empty set whose templates may use funcs and methods.
func New(funcs FuncMap, methods Methods) (*Set, error) {
	s := &Set{
		trees:   map[string]*parse.Tree{},
		funcs:   map[string]reflect.Value{},
		methods: map[string]map[reflect.Type]reflect.Value{},
		names:   map[string]any{},
		texts:   new(sync.Map),
	}
	for _, name := range builtinNames {
		s.names[name] = true
	}
	for name, fn := range funcs {
		v := reflect.ValueOf(fn)
		if err := checkFunc(name, v.Type(), 0); err != nil {
			return nil, err
		}
		if _, ok := s.names[name]; ok {
			return nil, fmt.Errorf("tmpl: function %s is defined twice", name)
		}
		s.funcs[name] = v
		s.names[name] = true
	}
	for name, exprs := range methods {
		byType := map[reflect.Type]reflect.Value{}
		for _, expr := range exprs {
			v := reflect.ValueOf(expr)
			if err := checkFunc(name, v.Type(), 1); err != nil {
				return nil, err
			}
			recv := v.Type().In(0)
			if _, ok := byType[recv]; ok {
				return nil, fmt.Errorf("tmpl: method %s of %s is registered twice", name, recv)
			}
			byType[recv] = v
		}
		s.methods[name] = byType
	}
	return s, nil
}

// checkFunc reports whether t can be called from a template: a function
// of at least min parameters that returns a value, and possibly an error.
func checkFunc(name string, t reflect.Type, min int) error {
	switch {
	case t.Kind() != reflect.Func:
		return fmt.Errorf("tmpl: %s is a %s, not a function", name, t)
	case t.NumIn() < min:
		return fmt.Errorf("tmpl: method %s has no receiver parameter", name)
	case t.NumOut() == 1, t.NumOut() == 2 && t.Out(1) == errorType:
		return nil
	}
	return fmt.Errorf("tmpl: %s must return a value, or a value and an error", name)
}

// Parse adds the templates text defines, and text itself under name. A
// definition replaces one of the same name already in the set, unless it
// is empty (only spaces and comments), so a page can fill in a layout's
// blocks and leave the rest alone.
func (s *Set) Parse(name, text string) error {
	trees, err := parse.Parse(name, text, "", "", s.names)
	if err != nil {
		return fmt.Errorf("tmpl: %w", err)
	}
	for n, t := range trees {
		if _, ok := s.trees[n]; ok && parse.IsEmptyTree(t.Root) {
			continue
		}
		s.trees[n] = t
	}
	return nil
}

// Clone is a copy of the set that further Parse calls do not share.
func (s *Set) Clone() *Set {
	c := *s
	c.trees = make(map[string]*parse.Tree, len(s.trees))
	for n, t := range s.trees {
		c.trees[n] = t
	}
	return &c
}

// Has reports whether the set defines a template called name.
func (s *Set) Has(name string) bool {
	_, ok := s.trees[name]
	return ok
}

// Execute renders the template called name with data as its dot. On an
// error, w may hold part of the page: render into a buffer.
func (s *Set) Execute(w io.Writer, name string, data any) error {
	t, ok := s.trees[name]
	if !ok {
		return fmt.Errorf("tmpl: no template %q", name)
	}
	buf, ok := w.(*bytes.Buffer)
	if !ok {
		buf = new(bytes.Buffer)
	}
	dot := reflect.ValueOf(data)
	st := &state{set: s, w: buf, tree: t, vars: []variable{{"$", dot}}}
	if err := st.walk(dot, t.Root); err != nil {
		return err
	}
	if buf != w {
		_, err := w.Write(buf.Bytes())
		return err
	}
	return nil
}
