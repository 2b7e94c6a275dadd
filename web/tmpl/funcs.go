package tmpl

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"text/template/parse"
)

// builtinNames are the functions every template has: those of
// text/template that a page needs, with the same meaning.
var builtinNames = []string{"and", "eq", "ge", "gt", "index", "le", "len", "lt", "ne", "not", "or", "print", "printf"}

func isBuiltin(name string) bool { return slices.Contains(builtinNames, name) }

func (s *state) builtin(dot reflect.Value, name string, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	n := len(args)
	if hasFinal {
		n++
	}
	arg := func(i int) (reflect.Value, error) {
		if i < len(args) {
			return s.evalArg(dot, args[i], nil)
		}
		return final, nil
	}
	want := 0 // how many arguments name takes, when it is a fixed number
	switch name {
	case "not", "len":
		want = 1
	case "ne", "lt", "le", "gt", "ge":
		want = 2
	}
	switch {
	case want > 0 && n != want:
		return reflect.Value{}, s.errorf("wrong number of args for %s: want %d got %d", name, want, n)
	case n == 0 && name != "print", n < 2 && name == "eq":
		return reflect.Value{}, s.errorf("too few args for %s", name)
	}

	// and and or evaluate their arguments only as far as they need to.
	if name == "and" || name == "or" {
		var v reflect.Value
		for i := range n {
			var err error
			if v, err = arg(i); err != nil || truth(v) == (name == "or") {
				return v, err
			}
		}
		return v, nil
	}

	vals := make([]reflect.Value, n)
	for i := range vals {
		var err error
		if vals[i], err = arg(i); err != nil {
			return reflect.Value{}, err
		}
	}
	var result any
	var err error
	switch name {
	case "not":
		result = !truth(vals[0])
	case "len":
		v := indirect(vals[0])
		switch v.Kind() {
		case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
			result = v.Len()
		default:
			err = fmt.Errorf("len of %s", typeName(vals[0]))
		}
	case "index":
		return s.index(vals[0], vals[1:])
	case "print":
		result = fmt.Sprint(interfaces(vals)...)
	case "printf":
		format := indirect(vals[0])
		if format.Kind() != reflect.String {
			return reflect.Value{}, s.errorf("printf's format is a %s, not a string", typeName(vals[0]))
		}
		result = fmt.Sprintf(format.String(), interfaces(vals[1:])...)
	case "eq":
		eq := false
		for _, b := range vals[1:] {
			if eq, err = equal(vals[0], b); eq || err != nil {
				break
			}
		}
		result = eq
	case "ne":
		var eq bool
		eq, err = equal(vals[0], vals[1])
		result = !eq
	default: // lt, le, gt, ge
		var c int
		c, err = order(vals[0], vals[1])
		switch name {
		case "lt":
			result = c < 0
		case "le":
			result = c <= 0
		case "gt":
			result = c > 0
		default:
			result = c >= 0
		}
	}
	if err != nil {
		return reflect.Value{}, s.errorf("error calling %s: %v", name, err)
	}
	return reflect.ValueOf(result), nil
}

// index is item[keys[0]][keys[1]]...
func (s *state) index(item reflect.Value, keys []reflect.Value) (reflect.Value, error) {
	for _, k := range keys {
		item = indirect(item)
		switch item.Kind() {
		case reflect.Array, reflect.Slice, reflect.String:
			k = indirect(k)
			var i int64 = -1
			switch {
			case isIntKind(k.Kind()):
				i = k.Int()
			case isUintKind(k.Kind()) && k.Uint() < uint64(item.Len()):
				i = int64(k.Uint())
			}
			if i < 0 || i >= int64(item.Len()) {
				return reflect.Value{}, s.errorf("error calling index: index out of range: %v", interfaces([]reflect.Value{k})[0])
			}
			item = item.Index(int(i))
		case reflect.Map:
			k, err := s.fit(k, item.Type().Key())
			if err != nil {
				return reflect.Value{}, err
			}
			if v := item.MapIndex(k); v.IsValid() {
				item = v
			} else {
				item = reflect.Zero(item.Type().Elem())
			}
		default:
			return reflect.Value{}, s.errorf("error calling index: can't index item of type %s", typeName(item))
		}
	}
	return item, nil
}

// interfaces are vals as the values they hold, for fmt.
func interfaces(vals []reflect.Value) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		if v.IsValid() {
			out[i] = v.Interface()
		}
	}
	return out
}

func typeName(v reflect.Value) string {
	if !v.IsValid() {
		return "nil"
	}
	return v.Type().String()
}

type basicKind int

const (
	invalidKind basicKind = iota
	boolKind
	intKind
	uintKind
	floatKind
	stringKind
	otherKind
)

func kindOf(v reflect.Value) basicKind {
	switch k := v.Kind(); {
	case k == reflect.Invalid:
		return invalidKind
	case k == reflect.Bool:
		return boolKind
	case isIntKind(k):
		return intKind
	case isUintKind(k):
		return uintKind
	case k == reflect.Float32 || k == reflect.Float64:
		return floatKind
	case k == reflect.String:
		return stringKind
	}
	return otherKind
}

var errIncomparable = errors.New("incompatible types for comparison")

// unwrap is v without the interface around it; nil is the invalid value.
func unwrap(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}
		}
		return v.Elem()
	}
	return v
}

// equal is eq's comparison: basic values by value, whatever their exact
// types; others by ==.
func equal(a, b reflect.Value) (bool, error) {
	a, b = unwrap(a), unwrap(b)
	ka, kb := kindOf(a), kindOf(b)
	switch {
	case ka == intKind && kb == uintKind:
		return a.Int() >= 0 && uint64(a.Int()) == b.Uint(), nil
	case ka == uintKind && kb == intKind:
		return b.Int() >= 0 && a.Uint() == uint64(b.Int()), nil
	case ka == invalidKind || kb == invalidKind:
		isNil := func(v reflect.Value) bool { return !v.IsValid() || canBeNil(v.Type()) && v.IsNil() }
		if ka == kb || isNil(a) || isNil(b) || canBeNil(a.Type()) || canBeNil(b.Type()) {
			return isNil(a) && isNil(b), nil
		}
		return false, errIncomparable
	case ka != kb:
		return false, errIncomparable
	}
	switch ka {
	case boolKind:
		return a.Bool() == b.Bool(), nil
	case intKind:
		return a.Int() == b.Int(), nil
	case uintKind:
		return a.Uint() == b.Uint(), nil
	case floatKind:
		return a.Float() == b.Float(), nil
	case stringKind:
		return a.String() == b.String(), nil
	}
	if a.Type() != b.Type() || !a.Type().Comparable() {
		return false, errIncomparable
	}
	return a.Equal(b), nil
}

// order compares two basic values of the same kind: -1, 0 or 1.
func order(a, b reflect.Value) (int, error) {
	a, b = unwrap(a), unwrap(b)
	ka, kb := kindOf(a), kindOf(b)
	switch {
	case ka == intKind && kb == uintKind:
		if a.Int() < 0 {
			return -1, nil
		}
		return cmpOrdered(uint64(a.Int()), b.Uint()), nil
	case ka == uintKind && kb == intKind:
		if b.Int() < 0 {
			return 1, nil
		}
		return cmpOrdered(a.Uint(), uint64(b.Int())), nil
	case ka != kb:
		return 0, errIncomparable
	}
	switch ka {
	case intKind:
		return cmpOrdered(a.Int(), b.Int()), nil
	case uintKind:
		return cmpOrdered(a.Uint(), b.Uint()), nil
	case floatKind:
		return cmpOrdered(a.Float(), b.Float()), nil
	case stringKind:
		return cmpOrdered(a.String(), b.String()), nil
	}
	return 0, errors.New("invalid type for comparison")
}
