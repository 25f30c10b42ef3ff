package campaign

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/limits"
)

// checkResult asserts what must hold for any evaluation: no negative
// points, and a total that is the sum of its lines.
func checkResult(t *testing.T, res Result) {
	t.Helper()
	var sum int64
	for _, l := range res.Lines {
		if l.Points < 0 {
			t.Fatalf("negative points: %+v", l)
		}
		sum += l.Points
	}
	if sum != res.Total || res.Total < 0 {
		t.Fatalf("total %d, lines sum to %d", res.Total, sum)
	}
}

// FuzzRules: any rules text and event are parsed, compiled and evaluated
// without a panic, quickly, and never give negative points.
func FuzzRules(f *testing.F) {
	f.Add(seedRule, `{"amount":1700}`)
	f.Add(`[{"variable":"$.items[0].quantity","condition":{"all":[{"rule":"numeric_between","value":[1,5]},{"not":{"variable":"$.tier","rule":"string_in","value":["x"]}}]},"action":{"command":"issue","formula":"min($.amount/10, 50) + round($.items[0].quantity * 2.5, 1)"}}]`,
		`{"amount":99.5,"items":[{"quantity":3}],"tier":"gold"}`)
	f.Add(`[{"action":{"command":"issue","formula":"$.a/$.b"}}]`, `{"a":1,"b":0}`)
	f.Add(`"[]"`, `[]`)
	// At and past the limits: conditions nested deeper than allowed, more
	// rules than allowed, the costliest paths on the costliest event.
	deep := `{"variable":"$.amount","rule":"is_present"}`
	for range limits.ConditionDepth + 1 {
		deep = `{"not":` + deep + `}`
	}
	f.Add(`[{"condition":`+deep+`,"action":{"command":"issue","formula":"1"}}]`, `{"amount":1}`)
	f.Add("["+strings.TrimSuffix(strings.Repeat(`{"action":{"command":"issue","formula":"1"}},`, limits.RulesPerCampaign+1), ",")+"]", `{}`)
	f.Add(`[{"variable":"$..a","condition":{"rule":"is_present"},"action":{"command":"issue","formula":"$..a[0] + $.a[*][0]"}}]`, worstEvent())
	f.Add(`[{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":1e41},"action":{"command":"issue","formula":"$.amount * 10e39"}}]`, `{"amount":1.0e-40}`)
	f.Fuzz(func(t *testing.T, rules, event string) {
		c, err := Compile(Draft{Client: "c", Name: "n", Rules: json.RawMessage(rules)})
		if err != nil {
			return
		}
		ev, err := ParseEvent([]byte(event))
		if err != nil {
			return
		}
		start := time.Now()
		checkResult(t, evaluated(t, []*Campaign{c}, ev, nil))
		if d := time.Since(start); d > time.Second {
			t.Fatalf("evaluation took %s", d)
		}
	})
}

// FuzzFormula: any formula text compiles or is refused with a problem at
// the formula field; one that compiles evaluates on any amount.
func FuzzFormula(f *testing.F) {
	for _, s := range []string{"$.amount/10", "floor($.amount / 3) * 2 + max(1, $.q)", "-(-$.amount)", "$.amount/0", "1e400 * $.amount",
		"round($.amount, 8) / 0.0000001", `$["a b"][0]`, "((((((((1))))))))", "abs(-5)", "$.amount ** 2"} {
		f.Add(s, "1705")
	}
	f.Add("$.amount * $.amount * $.amount * $.amount", "99999999999999999999999")
	for _, s := range []string{"min($.amount / 10, 500)", "round($.amount / 10)", "$.amount / max($.q, 1)", "ceil($.amount) - 1", "abs($.amount - 50) / 2"} {
		f.Add(s, "10.5")
	}
	f.Fuzz(func(t *testing.T, formula, amount string) {
		rules, _ := json.Marshal([]Rule{{Action: Action{Command: CommandIssue, Formula: formula}}})
		c, err := Compile(Draft{Client: "c", Name: "n", Rules: rules})
		if err != nil {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Problems) == 0 || ve.Problems[0].Field != "rules[0].action.formula" {
				t.Fatalf("formula %q refused oddly: %v", formula, err)
			}
			return
		}
		var n json.Number
		if json.Unmarshal([]byte(amount), &n) != nil {
			return
		}
		ev, err := ParseEvent([]byte(`{"amount":` + n.String() + `,"q":2}`))
		if err != nil {
			return
		}
		res := evaluated(t, []*Campaign{c}, ev, nil)
		checkResult(t, res)
		// A formula the ceiling analysis lets through stays under it.
		if c.checkCeiling(DefaultCeiling) == nil {
			amount := s(ev.data.(map[string]any)["amount"])
			if limit := DefaultCeiling.points(amount.num, amount.isNum); res.Total > limit {
				t.Fatalf("%q accepted under %s, yet amount %s earns %d", formula, DefaultCeiling, n, res.Total)
			}
		}
	})
}

// s reads an event value as a formula does.
func s(raw any) value {
	var v value
	if n, ok := raw.(json.Number); ok {
		if d, ok := limits.Decimal(n.String()); ok {
			v.num, v.isNum = numOf(d), true
		}
	}
	return v
}

// FuzzRulePath: any JSONPath text a rule may name is refused with a
// problem at its field, or compiles to a path within the limits that
// reads the costliest event allowed quickly; a rule reading it evaluates
// on any event without a panic.
func FuzzRulePath(f *testing.F) {
	for _, p := range []string{"$.amount", `$["unit price"]`, `$["a..b"]`, "$..price", "$.items[*].price", "$..*", "$.items[?(@.qty > 1)].sku",
		`$.items[?(@.product_id == "7")]`, "$.items[0,1,2]", "$.items[0:2]", "$.items[-1:]", "$..[0,1]", "$..a..b", "$.a[*][*][*]",
		"$.items[?(@..x)]", "$.items[?(@.a == $.b)]", "$.a[(@.length-1)]", "$['a','b','c','d','e','f','g','h','i','j','k']", "$", "$.",
		"$[", "$..", "amount", "$.a.b.c.d.e.f.g.h", `$["\u0000"]`, "$.items[?(@.qty > 1 && @.price < 2)].sku", "$.items[9223372036854775807]"} {
		f.Add(p, `{"amount":1700,"items":[{"sku":"u1","qty":2,"price":10},{"sku":"u2","qty":1,"price":0.5}],"a":{"b":[[1]]}}`)
	}
	f.Add("$..a", worstEvent())
	worst := event(f, worstEvent())
	f.Fuzz(func(t *testing.T, text, eventText string) {
		if text == "" {
			return // no variable: the rule reads none
		}
		p, err := compilePath(text)
		rules, _ := json.Marshal([]Rule{{Variable: text, Condition: &Condition{Rule: "is_present"}, Action: Action{Command: CommandIssue, Formula: "1"}}})
		c, cerr := Compile(Draft{Client: "c", Name: "n", Rules: rules})
		if err != nil {
			ve, ok := cerr.(*ValidationError)
			if !ok || len(ve.Problems) == 0 || ve.Problems[0].Field != "rules[0].variable" {
				t.Fatalf("path %q refused (%v), yet the rule compiles with %v", text, err, cerr)
			}
			return
		}
		if cerr != nil {
			t.Fatalf("path %q compiles, yet the rule reading it does not: %v", text, cerr)
		}
		if len(text) > limits.PathChars || text[0] != '$' {
			t.Fatalf("path %q accepted beyond the limits", text)
		}
		start := time.Now()
		_, _ = p.eval(context.Background(), worst.data) // a value or none: either is fine
		if d := time.Since(start); d > time.Second {
			t.Fatalf("path %q took %s on the costliest event", text, d)
		}
		ev, err := ParseEvent([]byte(eventText))
		if err != nil {
			return
		}
		start = time.Now()
		res := evaluated(t, []*Campaign{c}, ev, nil)
		checkResult(t, res)
		if res.Total != 0 && res.Total != 1 {
			t.Fatalf("a rule issuing 1 point gave %d", res.Total)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("path %q took %s", text, d)
		}
	})
}
