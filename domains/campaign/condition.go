package campaign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
)

// Condition is a rule's condition as written: a comparison (Rule, Value,
// optionally its own Variable) or a composite (All, Any, Not).
type Condition struct {
	Variable string          `json:"variable,omitempty"`
	Rule     string          `json:"rule,omitempty"`
	Value    json.RawMessage `json:"value,omitempty"`
	All      []Condition     `json:"all,omitempty"`
	Any      []Condition     `json:"any,omitempty"`
	Not      *Condition      `json:"not,omitempty"`
}

// Operators. numeric_greater_than is strict (>); seed 003's code used >=.
const (
	OpGreaterThan       = "numeric_greater_than"
	OpGreaterThanEquals = "numeric_greater_than_equals"
	OpLessThan          = "numeric_less_than"
	OpLessThanEquals    = "numeric_less_than_equals"
	OpEquals            = "numeric_equals"
	OpBetween           = "numeric_between"
	OpStringEquals      = "string_equals"
	OpStringIn          = "string_in"
	OpIsPresent         = "is_present"
)

var operators = []string{OpGreaterThan, OpGreaterThanEquals, OpLessThan, OpLessThanEquals, OpEquals, OpBetween, OpStringEquals, OpStringIn, OpIsPresent}

// maxStringIn is the longest list of string_in.
const maxStringIn = 1000

// predicate is a compiled condition.
type predicate func(s *scope) bool

// variable is a condition's JSONPath and the field that names it.
type variable struct{ path, field string }

// compileCondition checks c (at field) and compiles it. v is the path
// inherited from the rule or an enclosing condition, used by comparisons
// that name none.
func compileCondition(c *Condition, v variable, field string, depth int, p *problems) predicate {
	if depth > limits.ConditionDepth {
		p.add(field, "conditions may nest at most %d deep", limits.ConditionDepth)
		return nil
	}
	kinds := 0
	for _, set := range []bool{c.Rule != "", c.All != nil, c.Any != nil, c.Not != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		p.add(field, `a condition is one of {"rule","value"}, {"all":[...]}, {"any":[...]} or {"not":{...}}`)
		return nil
	}
	if c.Variable != "" {
		v = variable{c.Variable, field + ".variable"}
	}
	switch {
	case c.All != nil || c.Any != nil:
		list, name := c.All, "all"
		if c.Any != nil {
			list, name = c.Any, "any"
		}
		if len(list) == 0 {
			p.add(field+"."+name, "needs at least one condition")
			return nil
		}
		parts := make([]predicate, len(list))
		for i := range list {
			parts[i] = compileCondition(&list[i], v, fmt.Sprintf("%s.%s[%d]", field, name, i), depth+1, p)
		}
		if name == "all" {
			return func(s *scope) bool {
				for _, part := range parts {
					if !part(s) {
						return false
					}
				}
				return true
			}
		}
		return func(s *scope) bool {
			for _, part := range parts {
				if part(s) {
					return true
				}
			}
			return false
		}
	case c.Not != nil:
		inner := compileCondition(c.Not, v, field+".not", depth+1, p)
		return func(s *scope) bool { return !inner(s) }
	}
	return compileComparison(c, v, field, p)
}

func compileComparison(c *Condition, v variable, field string, p *problems) predicate {
	pth, err := compilePath(v.path)
	if err != nil {
		p.add(v.field, "%v", err)
	} else {
		p.use(v.field, nil, pth)
	}
	if !slices.Contains(operators, c.Rule) {
		p.add(field+".rule", "unknown operator %q; use one of %v", c.Rule, operators)
		return nil
	}
	valField := field + ".value"
	switch c.Rule {
	case OpGreaterThan, OpGreaterThanEquals, OpLessThan, OpLessThanEquals, OpEquals:
		want, ok := numberValue(c.Value)
		if !ok {
			p.add(valField, "%s needs a number (at most %d digits, exponent within ±%d)", c.Rule, limits.NumberDigits, limits.NumberExponent)
			return nil
		}
		test := map[string]func(cmp int) bool{
			OpGreaterThan:       func(cmp int) bool { return cmp > 0 },
			OpGreaterThanEquals: func(cmp int) bool { return cmp >= 0 },
			OpLessThan:          func(cmp int) bool { return cmp < 0 },
			OpLessThanEquals:    func(cmp int) bool { return cmp <= 0 },
			OpEquals:            func(cmp int) bool { return cmp == 0 },
		}[c.Rule]
		w := numOf(want)
		return func(s *scope) bool {
			v := s.get(pth)
			return v.isNum && test(v.num.cmp(w))
		}
	case OpBetween:
		var bounds []json.RawMessage
		if err := json.Unmarshal(c.Value, &bounds); err != nil || len(bounds) != 2 {
			p.add(valField, "numeric_between needs [low, high]")
			return nil
		}
		lo, ok1 := numberValue(bounds[0])
		hi, ok2 := numberValue(bounds[1])
		if !ok1 || !ok2 || lo.GreaterThan(hi) {
			p.add(valField, "numeric_between needs two numbers, low first")
			return nil
		}
		l, h := numOf(lo), numOf(hi)
		return func(s *scope) bool {
			v := s.get(pth)
			return v.isNum && v.num.cmp(l) >= 0 && v.num.cmp(h) <= 0
		}
	case OpStringEquals:
		var want string
		if err := json.Unmarshal(c.Value, &want); err != nil || !isString(c.Value) {
			p.add(valField, "string_equals needs a string")
			return nil
		}
		return func(s *scope) bool {
			v, ok := s.get(pth).raw.(string)
			return ok && v == want
		}
	case OpStringIn:
		var list []string
		if err := json.Unmarshal(c.Value, &list); err != nil || len(list) == 0 || len(list) > maxStringIn {
			p.add(valField, "string_in needs a list of 1 to %d strings", maxStringIn)
			return nil
		}
		set := make(map[string]bool, len(list))
		for _, s := range list {
			set[s] = true
		}
		return func(s *scope) bool {
			v, ok := s.get(pth).raw.(string)
			return ok && set[v]
		}
	default: // OpIsPresent
		want := true
		if len(c.Value) > 0 {
			if err := json.Unmarshal(c.Value, &want); err != nil {
				p.add(valField, "is_present takes true (the default) or false")
				return nil
			}
		}
		return func(s *scope) bool {
			v := s.get(pth)
			return (v.present && v.raw != nil) == want
		}
	}
}

// numberValue reads a JSON number exactly (no float on the way).
func numberValue(raw json.RawMessage) (decimal.Decimal, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return decimal.Decimal{}, false
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return decimal.Decimal{}, false
	}
	return limits.Decimal(n.String())
}

func isString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}
