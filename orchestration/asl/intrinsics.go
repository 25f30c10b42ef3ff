package asl

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Intrinsic is a compiled intrinsic function call, such as
// States.Format('Order {} failed', $.orderId).
type Intrinsic struct {
	name string
	args []intrinsicArg
}

// intrinsicArg is a literal, a path or a nested call.
type intrinsicArg struct {
	literal any
	path    *Path
	call    *Intrinsic
}

// intrinsics are the functions supported, with their arity (max -1: any).
var intrinsics = map[string]struct{ min, max int }{
	"States.Format":       {1, -1},
	"States.StringToJson": {1, 1},
	"States.JsonToString": {1, 1},
	"States.Array":        {0, -1},
	"States.UUID":         {0, 0},
	"States.ArrayLength":  {1, 1},
	"States.MathAdd":      {2, 2},
}

// IsIntrinsic reports whether a ".$" value is an intrinsic function call.
func IsIntrinsic(s string) bool { return strings.HasPrefix(s, "States.") }

// CompileIntrinsic parses an intrinsic function call.
func CompileIntrinsic(text string) (*Intrinsic, error) {
	p := &intrinsicParser{src: text}
	call, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic %q: %v", text, err)
	}
	p.spaces()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("intrinsic %q: unexpected %q at %d", text, p.src[p.pos:], p.pos)
	}
	return call, nil
}

type intrinsicParser struct {
	src string
	pos int
}

func (p *intrinsicParser) spaces() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *intrinsicParser) call() (*Intrinsic, error) {
	p.spaces()
	open := strings.IndexByte(p.src[p.pos:], '(')
	if open < 0 {
		return nil, fmt.Errorf("expected a call such as States.Format(...)")
	}
	name := strings.TrimSpace(p.src[p.pos : p.pos+open])
	arity, ok := intrinsics[name]
	if !ok {
		return nil, fmt.Errorf("unknown or unsupported intrinsic function %q", name)
	}
	p.pos += open + 1
	c := &Intrinsic{name: name}
	p.spaces()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
	} else {
		for {
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.spaces()
			if p.pos >= len(p.src) {
				return nil, fmt.Errorf("missing )")
			}
			if p.src[p.pos] == ')' {
				p.pos++
				break
			}
			if p.src[p.pos] != ',' {
				return nil, fmt.Errorf("expected , or ) at %d", p.pos)
			}
			p.pos++
		}
	}
	if len(c.args) < arity.min || arity.max >= 0 && len(c.args) > arity.max {
		return nil, fmt.Errorf("%s takes %s arguments, not %d", name, arityText(arity.min, arity.max), len(c.args))
	}
	return c, nil
}

func arityText(min, max int) string {
	switch {
	case max < 0:
		return fmt.Sprintf("at least %d", min)
	case min == max:
		return fmt.Sprint(min)
	}
	return fmt.Sprintf("%d to %d", min, max)
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.spaces()
	if p.pos >= len(p.src) {
		return intrinsicArg{}, fmt.Errorf("missing argument")
	}
	switch c := p.src[p.pos]; {
	case c == '\'':
		s, err := p.str()
		return intrinsicArg{literal: s}, err
	case c == '$':
		start, depth, quote := p.pos, 0, byte(0)
		for p.pos < len(p.src) {
			ch := p.src[p.pos]
			switch {
			case quote != 0:
				if ch == quote {
					quote = 0
				}
			case ch == '\'' || ch == '"':
				quote = ch
			case ch == '[' || ch == '(':
				depth++
			case ch == ']' || ch == ')' && depth > 0:
				depth--
			case (ch == ',' || ch == ')') && depth == 0:
				path, err := CompilePath(strings.TrimSpace(p.src[start:p.pos]))
				return intrinsicArg{path: path}, err
			}
			p.pos++
		}
		return intrinsicArg{}, fmt.Errorf("missing )")
	case strings.HasPrefix(p.src[p.pos:], "States."):
		call, err := p.call()
		return intrinsicArg{call: call}, err
	}
	end := p.pos
	for end < len(p.src) && p.src[end] != ',' && p.src[end] != ')' {
		end++
	}
	word := strings.TrimSpace(p.src[p.pos:end])
	p.pos = end
	switch word {
	case "null":
		return intrinsicArg{literal: nil}, nil
	case "true", "false":
		return intrinsicArg{literal: word == "true"}, nil
	}
	// A number as JSON writes it: 0x10, +5, .5 or Inf would make a payload
	// that cannot be written.
	if v, err := Decode([]byte(word)); err == nil {
		if n, ok := v.(json.Number); ok {
			return intrinsicArg{literal: n}, nil
		}
	}
	return intrinsicArg{}, fmt.Errorf("%q is not a string, number, path or call", word)
}

// str reads a 'quoted' string; \' \{ \} \\ are escapes.
func (p *intrinsicParser) str() (string, error) {
	var b strings.Builder
	p.pos++ // the opening quote
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.src):
			b.WriteByte('\\')
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
		case c == '\'':
			p.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", fmt.Errorf("unterminated string")
}

// unescape removes the backslashes of a string literal's escapes.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Eval calls the function on the state's data and context.
func (c *Intrinsic) Eval(data, contextObject any, newID func() string) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.path != nil:
			v, err := a.path.Get(data, contextObject)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.call != nil:
			v, err := a.call.Eval(data, contextObject, newID)
			if err != nil {
				return nil, err
			}
			args[i] = v
		default:
			if s, ok := a.literal.(string); ok && c.name != "States.Format" {
				args[i] = unescape(s)
			} else {
				args[i] = a.literal
			}
		}
	}
	fail := func(format string, v ...any) error {
		return &Error{Name: ErrorIntrinsicFailure, Cause: c.name + ": " + fmt.Sprintf(format, v...)}
	}
	switch c.name {
	case "States.Format":
		tmpl, ok := args[0].(string)
		if !ok {
			return nil, fail("the template must be a string")
		}
		return format(tmpl, args[1:], fail)
	case "States.StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, fail("the argument must be a string")
		}
		v, err := Decode([]byte(s))
		if err != nil {
			return nil, fail("%q is not JSON: %v", s, err)
		}
		return v, nil
	case "States.JsonToString":
		b, err := Encode(args[0])
		if err != nil {
			return nil, fail("%v", err)
		}
		return string(b), nil
	case "States.Array":
		// A copy, as a path's value in a template is: the payload must not
		// share anything with the state's input.
		return copyJSON(args), nil
	case "States.UUID":
		return newID(), nil
	case "States.ArrayLength":
		a, ok := args[0].([]any)
		if !ok {
			return nil, fail("the argument must be an array")
		}
		return json.Number(fmt.Sprint(len(a))), nil
	case "States.MathAdd":
		x, ok1 := args[0].(json.Number)
		y, ok2 := args[1].(json.Number)
		xi, err1 := x.Int64()
		yi, err2 := y.Int64()
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return nil, fail("both arguments must be whole numbers")
		}
		sum := xi + yi
		if (sum > xi) != (yi > 0) {
			return nil, fail("%d + %d is out of range", xi, yi)
		}
		return json.Number(fmt.Sprint(sum)), nil
	}
	return nil, fail("not supported")
}

// format fills the {} of a States.Format template with the arguments:
// strings as they are, other values as JSON.
func format(tmpl string, args []any, fail func(string, ...any) error) (any, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(tmpl); i++ {
		switch c := tmpl[i]; {
		case c == '\\' && i+1 < len(tmpl):
			i++
			b.WriteByte(tmpl[i])
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			if n >= len(args) {
				return nil, fail("the template has more {} than arguments")
			}
			switch v := args[n].(type) {
			case string:
				b.WriteString(v)
			case map[string]any, []any:
				return nil, fail("argument %d is an object or array", n+1)
			default:
				enc, err := Encode(v)
				if err != nil {
					return nil, fail("%v", err)
				}
				b.Write(enc)
			}
			n++
			i++
		default:
			b.WriteByte(c)
		}
	}
	if n != len(args) {
		return nil, fail("the template has %d {} but %d arguments", n, len(args))
	}
	return b.String(), nil
}
