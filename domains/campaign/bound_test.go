package campaign

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func mustCeiling(t testing.TB, s string) Ceiling {
	t.Helper()
	c, err := ParseCeiling(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCeilingAnalysis: what a ceiling of 1 point per 1.00 (and others)
// accepts and refuses, and where and why it refuses.
func TestCeilingAnalysis(t *testing.T) {
	over100 := `{"rule":"numeric_greater_than","value":100}`
	tests := []struct {
		rules    string
		mod      func(*Draft)
		ceiling  string
		field    string // "": accepted
		contains string
	}{
		// Accepted: bounded by the amount, or by a cap the amount covers.
		{rules: rule(over100, "$.amount/10")},
		{rules: `[{"action":{"command":"issue","formula":"$.amount"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"min($.amount/10, 500)"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"floor($.amount/100) * 50"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"round($.amount / 3, 2)"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"round($.amount / 10)"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"$.amount / max($.quantity, 1)"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"$.amount - $.points_redeemed"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"$.amount/20"}},{"action":{"command":"issue","formula":"$.amount/20"}}]`},
		{rules: rule(`{"rule":"numeric_greater_than_equals","value":5}`, "5"), mod: func(d *Draft) { d.Rounding = RoundCeil }},
		{rules: rule(`{"rule":"numeric_between","value":[0,1]}`, "$.amount * $.amount")},
		{rules: rule(over100, "min($.quantity * 5, 100)")},
		{rules: `[{"action":{"command":"issue","formula":"$.quantity * 5"}}]`, mod: func(d *Draft) { d.MaxPointsPerPurchase = 50 }, ceiling: "1+50"},
		{rules: `[{"action":{"command":"issue","formula":"1e40"}}]`, mod: func(d *Draft) { d.Status = StatusPaused }}, // not checked: analysed by the caller only when active
		{rules: `[{"variable":"$.amount","condition":{"not":{"rule":"numeric_less_than","value":100}},"action":{"command":"issue","formula":"100"}}]`},
		{rules: `[{"condition":{"any":[{"variable":"$.amount","rule":"numeric_greater_than","value":500},{"variable":"$.amount","rule":"numeric_between","value":[200,300]}]},"action":{"command":"issue","formula":"200"}}]`},
		{rules: `[{"action":{"command":"issue","formula":"$.amount * 0.05 + 2"}}]`, ceiling: "0.05+2"},
		// A tier's multiplier is at most 10.
		{rules: `[{"action":{"command":"issue","formula":"$.amount / 10 * $.customer.tier_multiplier"}}]`},
		// Refused, at the rule, with an example or a reason.
		{rules: `[{"action":{"command":"issue","formula":"1e40"}}]`, field: "rules[0].action.formula",
			contains: "can give more than the client's ceiling of 1 point per 1.00 of the amount, e.g. up to 1e40 points for an amount of 100; base the formula on $.amount"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount * 1.5"}}]`, field: "rules[0].action.formula", contains: "e.g. up to 150 points for an amount of 100"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount"}}]`, mod: func(d *Draft) { d.Rounding = RoundCeil }, field: "rules[0].action.formula", contains: "up to 1 point for an amount of 0.50"},
		{rules: `[{"action":{"command":"issue","formula":"min($.amount*2, 10)"}}]`, field: "rules[0].action.formula", contains: "up to 10 points for an amount of 5"},
		{rules: `[{"action":{"command":"issue","formula":"$.quantity * 5"}}]`, field: "rules[0].action.formula", contains: ": $.quantity has no upper bound; base the formula on $.amount, or bound it: set max_points_per_purchase"},
		{rules: `[{"action":{"command":"issue","formula":"$.quantity * 5"}}]`, mod: func(d *Draft) { d.MaxPointsPerPurchase = 50 }, field: "rules[0].action.formula", contains: "up to 50 points for an amount of 0"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount / $.quantity"}}]`, field: "rules[0].action.formula", contains: "it divides by an event value, which can be close to 0"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount * $.amount"}}]`, field: "rules[0].action.formula", contains: ": it multiplies two values that grow with the amount"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount / 5 * $.customer.tier_multiplier"}}]`, field: "rules[0].action.formula", contains: "e.g. up to 200 points for an amount of 100"},
		{rules: `[{"action":{"command":"issue","formula":"5"}}]`, field: "rules[0].action.formula", contains: "up to 5 points for an amount of 0"},
		{rules: `[{"action":{"command":"issue","formula":"10 - $.points_redeemed"}}]`, field: "rules[0].action.formula", contains: "up to 10 points"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount/2"}},{"action":{"command":"issue","formula":"$.amount/1.5"}}]`, field: "rules", contains: "together, the rules can give more"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount/10"}},{"action":{"command":"issue","formula":"$.amount * 3"}}]`, field: "rules[1].action.formula", contains: "up to 300 points for an amount of 100"},
		{rules: `[{"action":{"command":"issue","formula":"$.amount * 2"}}]`, ceiling: "1.5+100", field: "rules[0].action.formula",
			contains: "ceiling of 1.5 points per 1.00 of the amount plus 100 points, e.g. up to 401 points for an amount of 200.50"},
	}
	for _, tt := range tests {
		d := draft(tt.rules)
		if tt.mod != nil {
			tt.mod(&d)
		}
		ceiling := DefaultCeiling
		if tt.ceiling != "" {
			ceiling = mustCeiling(t, tt.ceiling)
		}
		c := mustCompile(t, d)
		err := c.checkCeiling(ceiling)
		if d.Status == StatusPaused {
			continue
		}
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s (%s): refused: %v", tt.rules, ceiling, err)
			}
			continue
		}
		p := assertProblem(t, err, tt.field, tt.contains)
		if p.Field != tt.field {
			t.Errorf("%s: at %s", tt.rules, p.Field)
		}
	}
}

// TestCeilingAnalysisIsSound: for random campaigns the analysis accepts,
// no purchase earns more than the ceiling (evaluated without one), at
// amounts and event values chosen to hit the edges.
func TestCeilingAnalysisIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	consts := []string{"0", "0.5", "1", "2", "3", "10", "0.1", "0.05", "100", "7.25"}
	var formula func(depth int) string
	formula = func(depth int) string {
		if depth == 0 || rng.IntN(3) == 0 {
			switch rng.IntN(4) {
			case 0, 1:
				return "$.amount"
			case 2:
				return "$.quantity"
			}
			return consts[rng.IntN(len(consts))]
		}
		a, b := formula(depth-1), formula(depth-1)
		switch rng.IntN(10) {
		case 0:
			return a + " + " + b
		case 1:
			return a + " - " + b
		case 2:
			return "(" + a + ") * " + consts[rng.IntN(len(consts))]
		case 3:
			return "(" + a + ") * (" + b + ")"
		case 4:
			return "(" + a + ") / " + []string{"2", "3", "10", "0.5", "7"}[rng.IntN(5)]
		case 5:
			return "(" + a + ") / max(" + b + ", 1)"
		case 6:
			return "min(" + a + ", " + b + ")"
		case 7:
			return "max(" + a + ", " + b + ")"
		case 8:
			return []string{"floor", "ceil", "round", "abs"}[rng.IntN(4)] + "(" + a + ")"
		}
		return "round(" + a + ", 1)"
	}
	conditions := []string{"", `{"rule":"numeric_greater_than","value":100}`, `{"rule":"numeric_greater_than_equals","value":5}`,
		`{"rule":"numeric_less_than","value":50}`, `{"rule":"numeric_between","value":[10,20]}`, `{"not":{"rule":"numeric_less_than","value":30}}`}
	amounts := []string{"0", "0.01", "0.5", "0.99", "1", "1.5", "2.49", "2.5", "3", "4.99", "5", "5.01", "9.99", "10", "10.5", "19.99", "20", "20.01",
		"29.99", "30", "49.99", "50", "99.99", "100", "100.01", "100.5", "150", "333.33", "1000", "12345.67", "1000000"}
	accepted, refused := 0, 0
	for range 3000 {
		var rules []string
		for range 1 + rng.IntN(2) {
			r := map[string]any{"action": map[string]string{"command": "issue", "formula": formula(3)}}
			if c := conditions[rng.IntN(len(conditions))]; c != "" {
				r["variable"], r["condition"] = "$.amount", json.RawMessage(c)
			}
			b, _ := json.Marshal(r)
			rules = append(rules, string(b))
		}
		d := Draft{Client: "c", Name: "n", Rules: json.RawMessage("[" + strings.Join(rules, ",") + "]"),
			Rounding: []string{RoundFloor, RoundHalfEven, RoundCeil}[rng.IntN(3)]}
		if rng.IntN(3) == 0 {
			d.MaxPointsPerPurchase = int64(1 + rng.IntN(200))
		}
		c, err := Compile(d)
		if err != nil {
			continue
		}
		ceiling := mustCeiling(t, []string{"1", "0.1", "2+10", "0.5+100", "0.05"}[rng.IntN(5)])
		if c.checkCeiling(ceiling) != nil {
			refused++
			continue
		}
		accepted++
		for _, a := range append(amounts, fmt.Sprintf("%d.%02d", rng.IntN(200), rng.IntN(100)), fmt.Sprintf("%d.%02d", rng.IntN(20000), rng.IntN(100))) {
			for _, q := range []string{"0", "0.5", "1", "3", "1000"} {
				ev := event(t, fmt.Sprintf(`{"amount":%s,"quantity":%s}`, a, q))
				res := evaluated(t, []*Campaign{c}, ev, nil)
				if limit := ceiling.points(numOf(decimal.RequireFromString(a)), true); res.Total > limit {
					t.Fatalf("accepted under a ceiling of %s, yet amount %s, quantity %s earns %d > %d:\n%s rounding %s cap %d\n%+v",
						ceiling, a, q, res.Total, limit, d.Rules, d.Rounding, d.MaxPointsPerPurchase, res.Lines)
				}
			}
		}
	}
	t.Logf("%d campaigns accepted, %d refused", accepted, refused)
	if accepted < 300 || refused < 300 {
		t.Errorf("%d accepted, %d refused: the generator does not exercise both", accepted, refused)
	}
}

// TestCeilingAnalysisWorkIsBounded: past its budget the analysis takes what
// is left as unbounded: a refusal that says so, not a slow save.
func TestCeilingAnalysisWorkIsBounded(t *testing.T) {
	var rules []string
	for i := range 50 {
		f := "$.amount / 100"
		for j := range 30 {
			f = fmt.Sprintf("abs(%s - %d)", f, j*7+i)
		}
		rules = append(rules, fmt.Sprintf(`{"action":{"command":"issue","formula":%q}}`, f))
	}
	c := mustCompile(t, Draft{Client: "c", Name: "n", Rules: json.RawMessage("[" + strings.Join(rules, ",") + "]")})
	err := c.checkCeiling(mustCeiling(t, "1+5000"))
	assertProblem(t, err, "rules[49].action.formula", "it is too intricate to bound: simplify it")
	if ve := err.(*ValidationError); ve.Problems[0].Field == "rules[0].action.formula" {
		t.Errorf("the first rules are within the budget, and the ceiling: %+v", ve.Problems[0])
	}
}
