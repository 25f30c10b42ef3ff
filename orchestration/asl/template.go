package asl

import (
	"fmt"
	"sort"
	"strings"
)

// Template is a compiled payload template (Parameters, ResultSelector): a
// JSON value in which a field named "x.$" takes its value from a path, a
// context path ("$$.Execution.Name") or an intrinsic function call, and
// is written as "x".
type Template struct{ root tnode }

type tnode interface {
	eval(data, contextObject any, newID func() string) (any, error)
}

type objectNode struct {
	keys []string
	vals []tnode
}

type arrayNode []tnode

type literalNode struct{ v any }

type pathValueNode struct{ p *Path }

type callValueNode struct{ c *Intrinsic }

// CompileTemplate compiles a decoded template.
func CompileTemplate(v any) (*Template, error) {
	root, err := compileTemplate(v, "")
	if err != nil {
		return nil, err
	}
	return &Template{root: root}, nil
}

func compileTemplate(v any, at string) (tnode, error) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := &objectNode{}
		seen := map[string]bool{}
		for _, k := range keys {
			name, dynamic := strings.CutSuffix(k, ".$")
			if seen[name] {
				return nil, fmt.Errorf("field %q%s is given twice (with and without .$)", name, where(at))
			}
			seen[name] = true
			var n tnode
			if dynamic {
				s, ok := v[k].(string)
				if !ok {
					return nil, fmt.Errorf("field %q%s must be a path or an intrinsic function", k, where(at))
				}
				var err error
				switch {
				case IsIntrinsic(s):
					var c *Intrinsic
					c, err = CompileIntrinsic(s)
					n = callValueNode{c}
				default:
					var p *Path
					p, err = CompilePath(s)
					n = pathValueNode{p}
				}
				if err != nil {
					return nil, fmt.Errorf("field %q%s: %v", k, where(at), err)
				}
			} else {
				var err error
				if n, err = compileTemplate(v[k], at+"."+k); err != nil {
					return nil, err
				}
			}
			o.keys, o.vals = append(o.keys, name), append(o.vals, n)
		}
		return o, nil
	case []any:
		a := make(arrayNode, len(v))
		for i, x := range v {
			n, err := compileTemplate(x, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			a[i] = n
		}
		return a, nil
	}
	return literalNode{v}, nil
}

func where(at string) string {
	if at == "" {
		return ""
	}
	return " at " + strings.TrimPrefix(at, ".")
}

// Eval builds the payload for the state's data and context.
func (t *Template) Eval(data, contextObject any, newID func() string) (any, error) {
	return t.root.eval(data, contextObject, newID)
}

func (o *objectNode) eval(data, ctx any, newID func() string) (any, error) {
	m := make(map[string]any, len(o.keys))
	for i, k := range o.keys {
		v, err := o.vals[i].eval(data, ctx, newID)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func (a arrayNode) eval(data, ctx any, newID func() string) (any, error) {
	out := make([]any, len(a))
	for i, n := range a {
		v, err := n.eval(data, ctx, newID)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (l literalNode) eval(any, any, func() string) (any, error) { return copyJSON(l.v), nil }

func (p pathValueNode) eval(data, ctx any, _ func() string) (any, error) {
	v, err := p.p.Get(data, ctx)
	if err != nil {
		return nil, err
	}
	return copyJSON(v), nil
}

func (c callValueNode) eval(data, ctx any, newID func() string) (any, error) {
	return c.c.Eval(data, ctx, newID)
}
