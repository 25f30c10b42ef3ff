package asl

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/PaesslerAG/gval"
	"github.com/PaesslerAG/jsonpath"
)

// Path is a compiled JSONPath ("$.order.id", "$.items[*].sku") over the
// state's data, or over the context object when it starts with "$$".
type Path struct {
	text    string
	context bool
	eval    gval.Evaluable
}

// CompilePath compiles a Path.
func CompilePath(text string) (*Path, error) {
	if !strings.HasPrefix(text, "$") {
		return nil, fmt.Errorf("%q is not a path: it must start with $", text)
	}
	p := &Path{text: text}
	expr, err := doubleQuoted(text)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid path: %v", text, err)
	}
	if strings.HasPrefix(text, "$$") {
		p.context, expr = true, expr[1:]
	}
	eval, err := jsonpath.New(expr)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid path: %v", text, err)
	}
	p.eval = eval
	return p, nil
}

func (p *Path) String() string { return p.text }

// Get returns the value the path selects: from data, or from the context
// object for "$$" paths. A path that selects nothing is a States.Runtime
// error.
func (p *Path) Get(data, contextObject any) (any, error) {
	src := data
	if p.context {
		src = contextObject
	}
	v, err := p.eval(context.Background(), src)
	if err != nil {
		return nil, runtimeError("path %s does not point to a value: %v", p.text, err)
	}
	return v, nil
}

// Exists reports whether the path selects something (for IsPresent).
func (p *Path) Exists(data, contextObject any) bool {
	_, err := p.Get(data, contextObject)
	return err == nil
}

// ReferencePath is a path that names one place in the data: "$",
// "$.result", "$.a['b c'][0]". ResultPath is one; it is where a result is
// written.
type ReferencePath struct {
	text     string
	segments []segment
}

type segment struct {
	name  string
	index int // an array index; -1 for a field (whose name may be "")
}

// CompileReferencePath parses a reference path.
func CompileReferencePath(text string) (*ReferencePath, error) {
	if !strings.HasPrefix(text, "$") || strings.HasPrefix(text, "$$") {
		return nil, fmt.Errorf("%q is not a reference path: it must start with $ (and cannot read the context)", text)
	}
	r := &ReferencePath{text: text}
	rest := text[1:]
	for rest != "" {
		switch {
		case rest[0] == '.':
			end := 1
			for end < len(rest) && rest[end] != '.' && rest[end] != '[' {
				end++
			}
			name := rest[1:end]
			if name == "" || name == "*" || strings.ContainsAny(name, "?@()") {
				return nil, fmt.Errorf("%q is not a reference path: %q is not a field name", text, name)
			}
			r.segments = append(r.segments, segment{name: name, index: -1})
			rest = rest[end:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("%q is not a reference path: unclosed [", text)
			}
			inner := rest[1:end]
			switch {
			case len(inner) >= 2 && (inner[0] == '\'' && inner[len(inner)-1] == '\'' || inner[0] == '"' && inner[len(inner)-1] == '"'):
				// The name as CompilePath reads it: escapes and all.
				quoted, err := doubleQuoted(inner)
				name, uerr := strconv.Unquote(quoted)
				if err != nil || uerr != nil {
					return nil, fmt.Errorf("%q is not a reference path: [%s] is not a field name in quotes", text, inner)
				}
				r.segments = append(r.segments, segment{name: name, index: -1})
			default:
				i, err := strconv.Atoi(inner)
				if err != nil || i < 0 {
					return nil, fmt.Errorf("%q is not a reference path: [%s] must be a field name in quotes or an index", text, inner)
				}
				r.segments = append(r.segments, segment{index: i})
			}
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("%q is not a reference path", text)
		}
	}
	return r, nil
}

func (r *ReferencePath) String() string { return r.text }

// doubleQuoted rewrites the single-quoted strings of a path ($['a b'], as
// Step Functions' own examples write field names) as double-quoted ones:
// the JSONPath library reads a single-quoted string as one character, and
// refuses a longer one. Double-quoted strings are copied as they are.
func doubleQuoted(text string) (string, error) {
	if !strings.Contains(text, "'") {
		return text, nil
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '"':
			j := i + 1
			for ; j < len(text) && text[j] != '"'; j++ {
				if text[j] == '\\' {
					j++
				}
			}
			if j >= len(text) {
				return "", fmt.Errorf("a string is not closed")
			}
			b.WriteString(text[i : j+1])
			i = j
		case '\'':
			var s strings.Builder
			j := i + 1
			for ; j < len(text) && text[j] != '\''; j++ {
				if text[j] == '\\' && j+1 < len(text) {
					j++ // \' and \\ stand for the character after
				}
				s.WriteByte(text[j])
			}
			if j >= len(text) {
				return "", fmt.Errorf("a string is not closed")
			}
			b.WriteString(strconv.Quote(s.String()))
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// Set returns doc with value placed at the path, creating the objects on
// the way; doc itself is not changed. A field that exists but is not an
// object (or an index past an array's end) is a
// States.ResultPathMatchFailure.
func (r *ReferencePath) Set(doc, value any) (any, error) {
	return r.set(doc, r.segments, value)
}

func (r *ReferencePath) set(doc any, segs []segment, value any) (any, error) {
	if len(segs) == 0 {
		return value, nil
	}
	s := segs[0]
	if s.index < 0 {
		var obj map[string]any
		switch d := doc.(type) {
		case map[string]any:
			obj = make(map[string]any, len(d)+1)
			for k, v := range d {
				obj[k] = v
			}
		case nil:
			obj = map[string]any{}
		default:
			return nil, &Error{Name: ErrorResultPathMatch, Cause: fmt.Sprintf("unable to apply ResultPath %s: the value at %q is not an object", r.text, s.name)}
		}
		v, err := r.set(obj[s.name], segs[1:], value)
		if err != nil {
			return nil, err
		}
		obj[s.name] = v
		return obj, nil
	}
	arr, ok := doc.([]any)
	if !ok || s.index >= len(arr) {
		return nil, &Error{Name: ErrorResultPathMatch, Cause: fmt.Sprintf("unable to apply ResultPath %s: no array element %d", r.text, s.index)}
	}
	out := append([]any(nil), arr...)
	v, err := r.set(out[s.index], segs[1:], value)
	if err != nil {
		return nil, err
	}
	out[s.index] = v
	return out, nil
}
