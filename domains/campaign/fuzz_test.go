package campaign

import (
	"encoding/json"
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
