package tmpl

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"text/template/parse"
)

// maxDepth bounds how deeply templates may invoke one another, so that a
// template that invokes itself fails instead of exhausting the stack.
const maxDepth = 100

var (
	errorType = reflect.TypeFor[error]()

	// errBreak and errContinue carry {{break}} and {{continue}} out of
	// the walk to the innermost range.
	errBreak    = errors.New("break")
	errContinue = errors.New("continue")
)

// state is one execution of a template.
type state struct {
	set   *Set
	w     *bytes.Buffer
	ctx   context     // where in the HTML document the next write lands
	tree  *parse.Tree // the template being walked, for error positions
	node  parse.Node  // the node being evaluated, for error positions
	vars  []variable  // the variables in scope, innermost last
	depth int         // how many templates deep
}

type variable struct {
	name  string
	value reflect.Value
}

// errorf is an error located at the node being evaluated.
func (s *state) errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if s.node == nil {
		return fmt.Errorf("tmpl: template %s: %s", s.tree.ParseName, msg)
	}
	loc, near := s.tree.ErrorContext(s.node)
	return fmt.Errorf("tmpl: template %s: executing %q: %s", loc, near, msg)
}

func (s *state) walk(dot reflect.Value, node parse.Node) error {
	s.node = node
	switch n := node.(type) {
	case *parse.ActionNode:
		v, err := s.evalPipeline(dot, n.Pipe)
		if err != nil || len(n.Pipe.Decl) > 0 {
			return err
		}
		return s.print(v)
	case *parse.BreakNode:
		return errBreak
	case *parse.ContinueNode:
		return errContinue
	case *parse.CommentNode:
	case *parse.IfNode:
		return s.walkIfOrWith(false, dot, n.Pipe, n.List, n.ElseList)
	case *parse.WithNode:
		return s.walkIfOrWith(true, dot, n.Pipe, n.List, n.ElseList)
	case *parse.ListNode:
		for _, c := range n.Nodes {
			if err := s.walk(dot, c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		return s.walkRange(dot, n)
	case *parse.TemplateNode:
		return s.walkTemplate(dot, n)
	case *parse.TextNode:
		s.writeText(n)
	default:
		return s.errorf("unknown node %s", node)
	}
	return nil
}

// textOut is what a piece of template text writes in context ctx, and
// the context after it. The text a page writes is the same render after
// render, so it is worked out once for each context it meets (nearly
// always one), and kept in the set's texts by node.
type textOut struct {
	ctx, after context
	text       []byte
}

func (s *state) writeText(n *parse.TextNode) {
	var outs []textOut
	if v, ok := s.set.texts.Load(n); ok {
		outs = v.([]textOut)
	}
	for _, o := range outs {
		if o.ctx == s.ctx {
			s.w.Write(o.text)
			s.ctx = o.after
			return
		}
	}
	var b bytes.Buffer
	o := textOut{ctx: s.ctx, after: s.ctx.write(&b, n.Text), text: b.Bytes()}
	// Another render may have added one meanwhile: losing it only means
	// working it out again.
	s.set.texts.Store(n, append(outs[:len(outs):len(outs)], o))
	s.w.Write(o.text)
	s.ctx = o.after
}

func (s *state) walkIfOrWith(with bool, dot reflect.Value, pipe *parse.PipeNode, list, elseList *parse.ListNode) error {
	defer s.pop(len(s.vars))
	v, err := s.evalPipeline(dot, pipe)
	if err != nil {
		return err
	}
	switch {
	case truth(v) && with:
		return s.walk(v, list)
	case truth(v):
		return s.walk(dot, list)
	case elseList != nil:
		return s.walk(dot, elseList)
	}
	return nil
}

func (s *state) walkRange(dot reflect.Value, r *parse.RangeNode) error {
	defer s.pop(len(s.vars))
	v, err := s.evalCommands(dot, r.Pipe)
	if err != nil {
		return err
	}
	mark := len(s.vars)
	for range r.Pipe.Decl {
		s.vars = append(s.vars, variable{})
	}
	iteration := func(index, elem reflect.Value) (stop bool, err error) {
		switch decl := r.Pipe.Decl; len(decl) {
		case 1:
			s.vars[mark] = variable{decl[0].Ident[0], elem}
		case 2:
			s.vars[mark] = variable{decl[0].Ident[0], index}
			s.vars[mark+1] = variable{decl[1].Ident[0], elem}
		}
		defer s.pop(mark + len(r.Pipe.Decl))
		switch err := s.walk(elem, r.List); err {
		case errBreak:
			return true, nil
		case errContinue, nil:
			return false, nil
		default:
			return true, err
		}
	}
	v = indirect(v)
	n := 0
	switch v.Kind() {
	case reflect.Invalid:
	case reflect.Slice, reflect.Array:
		for n = 0; n < v.Len(); n++ {
			if stop, err := iteration(reflect.ValueOf(n), v.Index(n)); stop {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, compareKeys)
		for _, k := range keys {
			n++
			if stop, err := iteration(k, v.MapIndex(k)); stop {
				return err
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		for i := range v.Int() {
			n++
			if stop, err := iteration(reflect.ValueOf(int(i)), reflect.ValueOf(int(i))); stop {
				return err
			}
		}
	default:
		return s.errorf("range can't iterate over %s", v.Type())
	}
	if n == 0 && r.ElseList != nil {
		return s.walk(dot, r.ElseList)
	}
	return nil
}

// compareKeys orders map keys of the basic kinds, for a stable range.
func compareKeys(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.String:
		return cmpOrdered(a.String(), b.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmpOrdered(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cmpOrdered(a.Uint(), b.Uint())
	}
	return 0
}

func cmpOrdered[T int64 | uint64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *state) walkTemplate(dot reflect.Value, t *parse.TemplateNode) error {
	tree, ok := s.set.trees[t.Name]
	if !ok {
		return s.errorf("no template %q", t.Name)
	}
	if s.depth >= maxDepth {
		return s.errorf("templates invoke one another more than %d deep", maxDepth)
	}
	v, err := s.evalPipeline(dot, t.Pipe)
	if err != nil {
		return err
	}
	outer := *s
	s.tree, s.vars, s.depth = tree, []variable{{"$", v}}, s.depth+1
	err = s.walk(v, tree.Root)
	s.tree, s.vars, s.depth, s.node = outer.tree, outer.vars, outer.depth, outer.node
	return err
}

func (s *state) pop(mark int) { s.vars = s.vars[:mark] }

func (s *state) varValue(name string) (reflect.Value, error) {
	for i := len(s.vars) - 1; i >= 0; i-- {
		if s.vars[i].name == name {
			return s.vars[i].value, nil
		}
	}
	return reflect.Value{}, s.errorf("undefined variable %s", name)
}

// evalPipeline evaluates a pipeline and declares or assigns its variables.
func (s *state) evalPipeline(dot reflect.Value, pipe *parse.PipeNode) (reflect.Value, error) {
	if pipe == nil {
		return reflect.Value{}, nil
	}
	v, err := s.evalCommands(dot, pipe)
	if err != nil {
		return v, err
	}
	for _, d := range pipe.Decl {
		name := d.Ident[0]
		if !pipe.IsAssign {
			s.vars = append(s.vars, variable{name, v})
			continue
		}
		i := len(s.vars) - 1
		for i >= 0 && s.vars[i].name != name {
			i--
		}
		if i < 0 {
			return v, s.errorf("undefined variable %s", name)
		}
		s.vars[i].value = v
	}
	return v, nil
}

// evalCommands runs a pipeline's commands, each one's result becoming the
// last argument of the next.
func (s *state) evalCommands(dot reflect.Value, pipe *parse.PipeNode) (reflect.Value, error) {
	var v reflect.Value
	for i, cmd := range pipe.Cmds {
		var err error
		v, err = s.evalCommand(dot, cmd, v, i > 0)
		if err != nil {
			return v, err
		}
		if v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 {
			v = reflect.ValueOf(v.Interface())
		}
	}
	return v, nil
}

func (s *state) evalCommand(dot reflect.Value, cmd *parse.CommandNode, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	s.node = cmd
	switch n := cmd.Args[0].(type) {
	case *parse.FieldNode:
		return s.evalFieldChain(dot, dot, n.Ident, cmd.Args, final, hasFinal)
	case *parse.ChainNode:
		recv, err := s.evalArg(dot, n.Node, nil)
		if err != nil {
			return recv, err
		}
		return s.evalFieldChain(dot, recv, n.Field, cmd.Args, final, hasFinal)
	case *parse.VariableNode:
		v, err := s.varValue(n.Ident[0])
		if err != nil || len(n.Ident) == 1 {
			if err == nil && (len(cmd.Args) > 1 || hasFinal) {
				err = s.errorf("can't give arguments to %s", n)
			}
			return v, err
		}
		return s.evalFieldChain(dot, v, n.Ident[1:], cmd.Args, final, hasFinal)
	case *parse.IdentifierNode:
		return s.evalFunction(dot, n.Ident, cmd.Args[1:], final, hasFinal)
	}
	if len(cmd.Args) > 1 || hasFinal {
		return reflect.Value{}, s.errorf("can't give arguments to %s", cmd.Args[0])
	}
	return s.evalArg(dot, cmd.Args[0], nil)
}

// evalArg evaluates an argument and makes it fit a parameter of type typ;
// a nil typ takes any value.
func (s *state) evalArg(dot reflect.Value, n parse.Node, typ reflect.Type) (reflect.Value, error) {
	s.node = n
	var v reflect.Value
	var err error
	switch arg := n.(type) {
	case *parse.DotNode:
		v = dot
	case *parse.NilNode:
		if typ == nil || !canBeNil(typ) {
			return v, s.errorf("cannot use nil here")
		}
		return reflect.Zero(typ), nil
	case *parse.FieldNode:
		v, err = s.evalFieldChain(dot, dot, arg.Ident, nil, reflect.Value{}, false)
	case *parse.ChainNode:
		if v, err = s.evalArg(dot, arg.Node, nil); err == nil {
			v, err = s.evalFieldChain(dot, v, arg.Field, nil, reflect.Value{}, false)
		}
	case *parse.VariableNode:
		if v, err = s.varValue(arg.Ident[0]); err == nil && len(arg.Ident) > 1 {
			v, err = s.evalFieldChain(dot, v, arg.Ident[1:], nil, reflect.Value{}, false)
		}
	case *parse.PipeNode:
		v, err = s.evalPipeline(dot, arg)
	case *parse.IdentifierNode:
		v, err = s.evalFunction(dot, arg.Ident, nil, reflect.Value{}, false)
	case *parse.BoolNode:
		v = reflect.ValueOf(arg.True)
	case *parse.StringNode:
		v = reflect.ValueOf(arg.Text)
	case *parse.NumberNode:
		return s.number(arg, typ)
	default:
		return v, s.errorf("can't evaluate %s", n)
	}
	if err != nil {
		return v, err
	}
	return s.fit(v, typ)
}

// number is a numeric constant as a value of typ, or of its own kind.
func (s *state) number(n *parse.NumberNode, typ reflect.Type) (reflect.Value, error) {
	kind := reflect.Interface
	if typ != nil {
		kind = typ.Kind()
	}
	switch {
	case kind == reflect.Interface:
		// Of its own kind, as text/template decides it: 1.0 and 1e6 are
		// floats, 0x1p4 too, 'a' and 0x10 are ints.
		switch {
		case n.IsComplex:
			return reflect.ValueOf(n.Complex128), nil
		case n.IsFloat && !isHexInt(n.Text) && !strings.HasPrefix(n.Text, "'") && strings.ContainsAny(n.Text, ".eEpP"):
			return reflect.ValueOf(n.Float64), nil
		case n.IsInt && int64(int(n.Int64)) == n.Int64:
			return reflect.ValueOf(int(n.Int64)), nil
		}
	case kind == reflect.Complex128 && n.IsComplex:
		return reflect.ValueOf(n.Complex128), nil
	case isIntKind(kind) && n.IsInt:
		return reflect.ValueOf(n.Int64).Convert(typ), nil
	case isUintKind(kind) && n.IsUint:
		return reflect.ValueOf(n.Uint64).Convert(typ), nil
	case (kind == reflect.Float32 || kind == reflect.Float64) && n.IsFloat:
		return reflect.ValueOf(n.Float64).Convert(typ), nil
	}
	return reflect.Value{}, s.errorf("cannot use %s as %s", n.Text, typ)
}

// isHexInt reports whether s is a hexadecimal integer constant (0x10,
// not 0x1p4).
func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP")
}

// fit makes v a value of type typ, as Go's assignment would; a nil typ
// takes any value.
func (s *state) fit(v reflect.Value, typ reflect.Type) (reflect.Value, error) {
	if typ == nil {
		return v, nil
	}
	if !v.IsValid() {
		if canBeNil(typ) {
			return reflect.Zero(typ), nil
		}
		return v, s.errorf("missing value for %s", typ)
	}
	if v.Type().AssignableTo(typ) {
		return v, nil
	}
	if v.Kind() == reflect.Interface && !v.IsNil() && v.Elem().Type().AssignableTo(typ) {
		return v.Elem(), nil
	}
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Type().Elem().AssignableTo(typ) {
		return v.Elem(), nil
	}
	if v.CanAddr() && reflect.PointerTo(v.Type()).AssignableTo(typ) {
		return v.Addr(), nil
	}
	return v, s.errorf("wrong type for value; expected %s; got %s", typ, v.Type())
}

// evalFieldChain evaluates .A.B.C on recv; the last link gets the
// command's arguments.
func (s *state) evalFieldChain(dot, recv reflect.Value, idents []string, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	var err error
	for i, name := range idents {
		if i < len(idents)-1 {
			recv, err = s.evalField(dot, name, recv, nil, reflect.Value{}, false)
		} else {
			recv, err = s.evalField(dot, name, recv, args, final, hasFinal)
		}
		if err != nil {
			return recv, err
		}
	}
	return recv, nil
}

// evalField evaluates .name on recv: a registered method, a struct field
// or a map entry. args[0], if there, is the field itself.
func (s *state) evalField(dot reflect.Value, name string, recv reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	if !recv.IsValid() {
		return recv, nil // a missing value has nothing in it, as in text/template
	}
	outer := recv.Type()
	recv, isNil := indirectPtr(recv)
	if recv.Kind() == reflect.Interface && isNil {
		return recv, s.errorf("nil pointer evaluating %s.%s", outer, name)
	}
	ptr := recv
	if ptr.Kind() != reflect.Pointer && ptr.CanAddr() {
		ptr = ptr.Addr()
	}
	if len(args) > 0 {
		args = args[1:] // args[0] is the field itself
	}
	if m, ok := s.set.methods[name][ptr.Type()]; ok {
		return s.call(dot, name, m, ptr, args, final, hasFinal)
	}
	if ptr.Kind() == reflect.Pointer && !ptr.IsNil() {
		if m, ok := s.set.methods[name][ptr.Type().Elem()]; ok {
			return s.call(dot, name, m, ptr.Elem(), args, final, hasFinal)
		}
	}
	hasArgs := len(args) > 0 || hasFinal
	switch recv.Kind() {
	case reflect.Struct:
		if f, ok := fieldOf(recv.Type(), name); ok {
			if !f.IsExported() {
				return recv, s.errorf("%s is an unexported field of %s", name, recv.Type())
			}
			if hasArgs {
				return recv, s.errorf("%s has arguments but cannot be invoked as a function", name)
			}
			return recv.FieldByIndexErr(f.Index)
		}
	case reflect.Map:
		key := reflect.ValueOf(name)
		if key.Type().AssignableTo(recv.Type().Key()) {
			if hasArgs {
				return recv, s.errorf("%s is not a method but has arguments", name)
			}
			if v := recv.MapIndex(key); v.IsValid() {
				return v, nil
			}
			return reflect.Zero(recv.Type().Elem()), nil
		}
	case reflect.Pointer:
		return recv, s.errorf("nil pointer evaluating %s.%s", outer, name)
	}
	return recv, s.errorf("can't evaluate field %s in type %s (a method must be listed in tmpl.Methods)", name, outer)
}

// structFields keeps, for each struct type, what reflect found of its
// fields by name (a search through every field each time).
var structFields sync.Map // reflect.Type → map[string]fieldFound, copied on change

type fieldFound struct {
	f  reflect.StructField
	ok bool
}

func fieldOf(t reflect.Type, name string) (reflect.StructField, bool) {
	var known map[string]fieldFound
	if v, ok := structFields.Load(t); ok {
		known = v.(map[string]fieldFound)
		if f, ok := known[name]; ok {
			return f.f, f.ok
		}
	}
	f, ok := t.FieldByName(name)
	more := make(map[string]fieldFound, len(known)+1)
	for k, v := range known {
		more[k] = v
	}
	more[name] = fieldFound{f, ok}
	structFields.Store(t, more)
	return f, ok
}

// call calls fn, a function or (with a valid recv) a method expression,
// with the template arguments args and then final.
func (s *state) call(dot reflect.Value, name string, fn, recv reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (result reflect.Value, err error) {
	t := fn.Type()
	first := 0
	if recv.IsValid() {
		first = 1
	}
	numIn := len(args)
	if hasFinal {
		numIn++
	}
	fixed := t.NumIn() - first
	if t.IsVariadic() {
		fixed--
		if numIn < fixed {
			return result, s.errorf("wrong number of args for %s: want at least %d got %d", name, fixed, numIn)
		}
	} else if numIn != fixed {
		return result, s.errorf("wrong number of args for %s: want %d got %d", name, fixed, numIn)
	}
	// paramType is the type of the i'th template argument.
	paramType := func(i int) reflect.Type {
		if i < fixed {
			return t.In(first + i)
		}
		return t.In(t.NumIn() - 1).Elem()
	}
	argv := make([]reflect.Value, 0, first+numIn)
	if recv.IsValid() {
		if recv, err = s.fit(recv, t.In(0)); err != nil {
			return result, err
		}
		argv = append(argv, recv)
	}
	for i, a := range args {
		v, err := s.evalArg(dot, a, paramType(i))
		if err != nil {
			return result, err
		}
		argv = append(argv, v)
	}
	if hasFinal {
		v, err := s.fit(final, paramType(numIn-1))
		if err != nil {
			return result, err
		}
		argv = append(argv, v)
	}
	defer func() {
		if r := recover(); r != nil {
			err = s.errorf("error calling %s: %v", name, r)
		}
	}()
	out := fn.Call(argv)
	if len(out) == 2 && !out[1].IsNil() {
		return out[0], s.errorf("error calling %s: %v", name, out[1].Interface())
	}
	return out[0], nil
}

func (s *state) evalFunction(dot reflect.Value, name string, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	if isBuiltin(name) {
		return s.builtin(dot, name, args, final, hasFinal)
	}
	fn, ok := s.set.funcs[name]
	if !ok {
		return reflect.Value{}, s.errorf("%q is not a defined function", name)
	}
	return s.call(dot, name, fn, reflect.Value{}, args, final, hasFinal)
}

// indirectPtr follows pointers and interfaces down to a value, stopping at
// a nil one.
func indirectPtr(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
	}
	return v, false
}

// indirect is v with pointers and interfaces followed; a nil one is the
// invalid value.
func indirect(v reflect.Value) reflect.Value {
	v, isNil := indirectPtr(v)
	if isNil {
		return reflect.Value{}
	}
	return v
}

// truth is a value's truth in {{if}}: false, 0, nil and empty are false.
func truth(v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() > 0
	case reflect.Bool:
		return v.Bool()
	case reflect.Complex64, reflect.Complex128:
		return v.Complex() != 0
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.UnsafePointer, reflect.Interface:
		return !v.IsNil()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() != 0
	case reflect.Float32, reflect.Float64:
		return v.Float() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() != 0
	}
	return true // structs
}

func canBeNil(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return true
	}
	return false
}

func isIntKind(k reflect.Kind) bool  { return k >= reflect.Int && k <= reflect.Int64 }
func isUintKind(k reflect.Kind) bool { return k >= reflect.Uint && k <= reflect.Uintptr }
