package asl

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Condition is a compiled Choice rule condition.
type Condition interface {
	Holds(data, contextObject any) (bool, error)
}

type andCond []Condition
type orCond []Condition
type notCond struct{ c Condition }

func (a andCond) Holds(d, c any) (bool, error) {
	for _, x := range a {
		ok, err := x.Holds(d, c)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (o orCond) Holds(d, c any) (bool, error) {
	for _, x := range o {
		ok, err := x.Holds(d, c)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (n notCond) Holds(d, c any) (bool, error) {
	ok, err := n.c.Holds(d, c)
	return !ok, err
}

// comparison is one data-test expression: Variable, an operator, and a
// literal value or a path to compare with.
type comparison struct {
	variable *Path
	op       string
	kind     string // string, numeric, boolean, timestamp, test
	literal  any
	other    *Path // the ...Path form
}

var comparisonKinds = map[string]string{
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "match",
	"NumericEquals": "numeric", "NumericLessThan": "numeric", "NumericGreaterThan": "numeric",
	"NumericLessThanEquals": "numeric", "NumericGreaterThanEquals": "numeric",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "test", "IsPresent": "test", "IsNumeric": "test", "IsString": "test", "IsBoolean": "test", "IsTimestamp": "test",
}

// CompileCondition compiles a Choice rule (without its Next) or a nested
// condition of And/Or/Not.
func CompileCondition(raw map[string]any, nested bool) (Condition, error) {
	if and, ok := raw["And"]; ok {
		return compileList(and, "And", func(cs []Condition) Condition { return andCond(cs) })
	}
	if or, ok := raw["Or"]; ok {
		return compileList(or, "Or", func(cs []Condition) Condition { return orCond(cs) })
	}
	if not, ok := raw["Not"]; ok {
		m, ok := not.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the value of Not must be an object")
		}
		if _, ok := m["Next"]; ok {
			return nil, fmt.Errorf("a condition inside Not cannot have Next")
		}
		c, err := CompileCondition(m, true)
		return notCond{c}, err
	}
	v, ok := raw["Variable"].(string)
	if !ok {
		return nil, fmt.Errorf("a rule needs Variable and an operator, or And, Or or Not")
	}
	variable, err := CompilePath(v)
	if err != nil {
		return nil, fmt.Errorf("the Variable path: %v", err)
	}
	var found []string
	for k := range raw {
		if k == "Variable" || k == "Next" {
			continue
		}
		found = append(found, k)
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("a rule needs exactly one comparison operator, found %v", found)
	}
	op := found[0]
	base, usesPath := strings.CutSuffix(op, "Path")
	kind, known := comparisonKinds[base]
	if !known || usesPath && (kind == "test" || kind == "match") {
		return nil, fmt.Errorf("unknown comparison operator %q", op)
	}
	c := &comparison{variable: variable, op: base, kind: kind}
	val := raw[op]
	if usesPath {
		s, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf("%s must be a path", op)
		}
		if c.other, err = CompilePath(s); err != nil {
			return nil, fmt.Errorf("%s: %v", op, err)
		}
		return c, nil
	}
	switch kind {
	case "string", "match":
		if _, ok := val.(string); !ok {
			return nil, fmt.Errorf("%s needs a string", op)
		}
	case "numeric":
		if _, ok := val.(json.Number); !ok {
			return nil, fmt.Errorf("%s needs a number", op)
		}
	case "boolean", "test":
		if _, ok := val.(bool); !ok {
			return nil, fmt.Errorf("%s needs true or false", op)
		}
	case "timestamp":
		s, ok := val.(string)
		if _, err := time.Parse(time.RFC3339, s); !ok || err != nil {
			return nil, fmt.Errorf("%s needs an RFC 3339 timestamp", op)
		}
	}
	c.literal = val
	return c, nil
}

func compileList(v any, name string, build func([]Condition) Condition) (Condition, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%s needs a non-empty list of conditions", name)
	}
	out := make([]Condition, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d] must be an object", name, i)
		}
		if _, ok := m["Next"]; ok {
			return nil, fmt.Errorf("%s[%d] cannot have Next", name, i)
		}
		c, err := CompileCondition(m, true)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %v", name, i, err)
		}
		out[i] = c
	}
	return build(out), nil
}

func (c *comparison) Holds(data, ctx any) (bool, error) {
	if c.kind == "test" {
		return c.test(data, ctx), nil
	}
	v, err := c.variable.Get(data, ctx)
	if err != nil {
		return false, err
	}
	want := c.literal
	if c.other != nil {
		if want, err = c.other.Get(data, ctx); err != nil {
			return false, err
		}
	}
	switch c.kind {
	case "string":
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		return ok1 && ok2 && ordered(strings.Compare(a, b), c.op), nil
	case "match":
		a, ok := v.(string)
		return ok && wildcard(want.(string), a), nil
	case "numeric":
		a, ok1 := number(v)
		b, ok2 := number(want)
		return ok1 && ok2 && ordered(a.Cmp(b), c.op), nil
	case "boolean":
		a, ok1 := v.(bool)
		b, ok2 := want.(bool)
		return ok1 && ok2 && a == b, nil
	case "timestamp":
		a, ok1 := timestamp(v)
		b, ok2 := timestamp(want)
		return ok1 && ok2 && ordered(a.Compare(b), c.op), nil
	}
	return false, nil
}

func (c *comparison) test(data, ctx any) bool {
	want := c.literal.(bool)
	if c.op == "IsPresent" {
		return c.variable.Exists(data, ctx) == want
	}
	v, err := c.variable.Get(data, ctx)
	if err != nil {
		return !want && c.op != "IsNull" // an absent value is none of the types
	}
	var is bool
	switch c.op {
	case "IsNull":
		is = v == nil
	case "IsNumeric":
		_, is = v.(json.Number)
	case "IsString":
		_, is = v.(string)
	case "IsBoolean":
		_, is = v.(bool)
	case "IsTimestamp":
		_, is = timestamp(v)
	}
	return is == want
}

func ordered(cmp int, op string) bool {
	switch {
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return cmp >= 0
	case strings.HasSuffix(op, "LessThanEquals"):
		return cmp <= 0
	case strings.HasSuffix(op, "GreaterThan"):
		return cmp > 0
	case strings.HasSuffix(op, "LessThan"):
		return cmp < 0
	}
	return cmp == 0
}

func number(v any) (decimal.Decimal, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(n.String())
	return d, err == nil
}

func timestamp(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// wildcard matches s against a pattern in which * stands for any run of
// characters and \* for a star.
func wildcard(pattern, s string) bool {
	// path.Match knows * (not across /) and ?; escape what it would read
	// differently and let * cross /.
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(`\*`)
			i++
		case c == '*':
			b.WriteByte('*')
		case strings.IndexByte(`?[]\`, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('\x00') // so that * can cross it
		default:
			b.WriteByte(c)
		}
	}
	ok, err := path.Match(b.String(), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}
