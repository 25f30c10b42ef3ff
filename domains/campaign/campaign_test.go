package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/limits"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// seedRule is seed 003's CampaignTable rule, as the seed stored it: a string.
const seedRule = `"[{\"variable\":\"$.amount\",\"condition\": {\"rule\": \"numeric_greater_than\",\"value\": 100},\"action\" : {\"command\" : \"issue\",\"formula\" : \"$.amount/10\"}}]"`

func mustCompile(t testing.TB, d Draft) *Campaign {
	t.Helper()
	c, err := Compile(d)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return c
}

func draft(rules string) Draft {
	return Draft{Client: "UnicornStore", Name: "1", Rules: json.RawMessage(rules)}
}

func event(t testing.TB, js string) Event {
	t.Helper()
	ev, err := ParseEvent([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// evaluated evaluates the event now, without a deadline.
func evaluated(t testing.TB, campaigns []*Campaign, ev Event, budgets Budgets) Result {
	t.Helper()
	res, err := Evaluate(context.Background(), campaigns, ev, now, budgets, Ceiling{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func total(t testing.TB, c *Campaign, eventJSON string) int64 {
	t.Helper()
	return evaluated(t, []*Campaign{c}, event(t, eventJSON), nil).Total
}

func rule(cond, formula string) string {
	return fmt.Sprintf(`[{"variable":"$.amount","condition":%s,"action":{"command":"issue","formula":%q}}]`, cond, formula)
}

func TestSeedRule(t *testing.T) {
	c := mustCompile(t, draft(seedRule))
	if got := total(t, c, `{"amount":1700}`); got != 170 {
		t.Errorf("1,700 earns %d, want 170", got)
	}
	if got := total(t, c, `{"amount":100}`); got != 0 {
		t.Errorf("exactly 100 earns %d, want 0 (numeric_greater_than is strict)", got)
	}
	gte := mustCompile(t, draft(rule(`{"rule":"numeric_greater_than_equals","value":100}`, "$.amount/10")))
	if got := total(t, gte, `{"amount":100}`); got != 10 {
		t.Errorf("numeric_greater_than_equals on 100 earns %d, want 10", got)
	}
	// The stored form is canonical: an array, defaults filled in.
	d := c.Draft()
	if d.Status != StatusActive || d.Rounding != RoundFloor || !strings.HasPrefix(string(d.Rules), `[{"variable":"$.amount"`) {
		t.Errorf("canonical draft = %+v, rules %s", d, d.Rules)
	}
}

func TestOperators(t *testing.T) {
	tests := []struct {
		cond  string
		event string
		want  bool
	}{
		{`{"rule":"numeric_greater_than","value":100}`, `{"amount":100.01}`, true},
		{`{"rule":"numeric_greater_than","value":100}`, `{"amount":100}`, false},
		{`{"rule":"numeric_greater_than","value":100}`, `{"amount":99}`, false},
		{`{"rule":"numeric_greater_than_equals","value":100}`, `{"amount":101}`, true},
		{`{"rule":"numeric_greater_than_equals","value":100}`, `{"amount":100}`, true},
		{`{"rule":"numeric_greater_than_equals","value":100}`, `{"amount":99.99}`, false},
		{`{"rule":"numeric_less_than","value":100}`, `{"amount":99.99}`, true},
		{`{"rule":"numeric_less_than","value":100}`, `{"amount":100}`, false},
		{`{"rule":"numeric_less_than","value":100}`, `{"amount":101}`, false},
		{`{"rule":"numeric_less_than_equals","value":100}`, `{"amount":99}`, true},
		{`{"rule":"numeric_less_than_equals","value":100}`, `{"amount":100}`, true},
		{`{"rule":"numeric_less_than_equals","value":100}`, `{"amount":100.000001}`, false},
		{`{"rule":"numeric_equals","value":100}`, `{"amount":100.00}`, true},
		{`{"rule":"numeric_equals","value":100}`, `{"amount":1e2}`, true},
		{`{"rule":"numeric_equals","value":100}`, `{"amount":100.01}`, false},
		{`{"rule":"numeric_equals","value":100}`, `{"amount":99.99}`, false},
		{`{"rule":"numeric_between","value":[100,200]}`, `{"amount":100}`, true},
		{`{"rule":"numeric_between","value":[100,200]}`, `{"amount":150}`, true},
		{`{"rule":"numeric_between","value":[100,200]}`, `{"amount":200}`, true},
		{`{"rule":"numeric_between","value":[100,200]}`, `{"amount":99.99}`, false},
		{`{"rule":"numeric_between","value":[100,200]}`, `{"amount":200.01}`, false},
		{`{"variable":"$.tier","rule":"string_equals","value":"gold"}`, `{"amount":1,"tier":"gold"}`, true},
		{`{"variable":"$.tier","rule":"string_equals","value":"gold"}`, `{"amount":1,"tier":"Gold"}`, false},
		{`{"variable":"$.tier","rule":"string_in","value":["gold","silver"]}`, `{"amount":1,"tier":"silver"}`, true},
		{`{"variable":"$.tier","rule":"string_in","value":["gold","silver"]}`, `{"amount":1,"tier":"bronze"}`, false},
		{`{"variable":"$.coupon","rule":"is_present"}`, `{"amount":1,"coupon":"X"}`, true},
		{`{"variable":"$.coupon","rule":"is_present"}`, `{"amount":1,"coupon":null}`, false},
		{`{"variable":"$.coupon","rule":"is_present"}`, `{"amount":1}`, false},
		{`{"variable":"$.coupon","rule":"is_present","value":false}`, `{"amount":1}`, true},
		// Absent paths and wrong types make a comparison false, not an error.
		{`{"rule":"numeric_greater_than","value":0}`, `{"total":5}`, false},
		{`{"rule":"numeric_greater_than","value":0}`, `{"amount":"5"}`, false},
		{`{"variable":"$.tier","rule":"string_equals","value":"5"}`, `{"amount":1,"tier":5}`, false},
		{`{"variable":"$.items[3].sku","rule":"string_equals","value":"x"}`, `{"amount":1,"items":[]}`, false},
	}
	for _, tt := range tests {
		c := mustCompile(t, draft(rule(tt.cond, "1")))
		got := total(t, c, tt.event) == 1
		if got != tt.want {
			t.Errorf("%s on %s = %v, want %v", tt.cond, tt.event, got, tt.want)
		}
	}
}

func TestCompositeConditions(t *testing.T) {
	cond := `{"any":[
		{"all":[{"rule":"numeric_greater_than_equals","value":1000},{"variable":"$.quantity","rule":"numeric_greater_than","value":1}]},
		{"not":{"variable":"$.tier","rule":"string_in","value":["bronze","none"]}}
	]}`
	c := mustCompile(t, draft(rule(cond, "1")))
	for ev, want := range map[string]bool{
		`{"amount":1000,"quantity":2,"tier":"bronze"}`: true,  // the all holds
		`{"amount":1000,"quantity":1,"tier":"bronze"}`: false, // neither
		`{"amount":5,"quantity":1,"tier":"gold"}`:      true,  // not in bronze/none
		`{"amount":5,"quantity":1}`:                    true,  // absent tier is not in the list
	} {
		if got := total(t, c, ev) == 1; got != want {
			t.Errorf("%s: %v, want %v", ev, got, want)
		}
	}
	// Nesting depth is limited to 8.
	deep := `{"rule":"numeric_greater_than","value":1}`
	for range 8 {
		deep = `{"not":` + deep + `}`
	}
	_, err := Compile(draft(rule(deep, "1")))
	assertProblem(t, err, "rules[0].condition"+strings.Repeat(".not", 8), "nest at most 8")
	mustCompile(t, draft(rule(strings.TrimPrefix(strings.TrimSuffix(deep, "}"), `{"not":`), "1"))) // 8 levels are fine
}

func TestFormulas(t *testing.T) {
	tests := []struct {
		formula, event string
		rounding       string
		raw            string
		points         int64
	}{
		{"$.amount/10", `{"amount":1705}`, "", "170.5", 170},
		{"$.amount/10", `{"amount":1705}`, RoundCeil, "170.5", 171},
		{"$.amount/10", `{"amount":1705}`, RoundHalfEven, "170.5", 170},
		{"$.amount/10", `{"amount":1715}`, RoundHalfEven, "171.5", 172},
		{"$.items[0].quantity * 25", `{"items":[{"quantity":3}]}`, "", "75", 75},
		{`$["unit price"] * 2`, `{"unit price":1.25}`, "", "2.5", 2},
		{"min($.amount/10, 50) + max(1, 2, 3)", `{"amount":1700}`, "", "53", 53},
		{"floor($.amount/100) * 3", `{"amount":1799}`, "", "51", 51},
		{"ceil($.amount/100)", `{"amount":1701}`, "", "18", 18},
		{"round($.amount/3, 2)", `{"amount":100}`, "", "33.33", 33},
		{"round(2.5)", `{}`, "", "3", 3},
		{"abs($.delta)", `{"delta":-7}`, "", "7", 7},
		{"-(-$.amount)", `{"amount":4}`, "", "4", 4},
		// Decimal, never float: 0.1 + 0.2 is exactly 0.3.
		{"($.a + $.b) * 10", `{"a":0.1,"b":0.2}`, "", "3", 3},
		{"$.amount * 0.1", `{"amount":12345678901234567890.12}`, "", "1234567890123456789.012", 1_000_000_000},
		{"$.amount / 3 * 3", `{"amount":1}`, "", "0.9999999999999999", 0},
	}
	for _, tt := range tests {
		d := draft(rule(`{"rule":"is_present"}`, tt.formula))
		d.Rules = json.RawMessage(fmt.Sprintf(`[{"action":{"command":"issue","formula":%q}}]`, tt.formula))
		d.Rounding = tt.rounding
		c := mustCompile(t, d)
		res := evaluated(t, []*Campaign{c}, event(t, tt.event), nil)
		if len(res.Lines) != 1 {
			t.Fatalf("%s: %d lines", tt.formula, len(res.Lines))
		}
		if l := res.Lines[0]; string(l.Raw) != tt.raw || l.Points != tt.points {
			t.Errorf("%s on %s (%s): raw %s, points %d; want %s, %d (%s)", tt.formula, tt.event, tt.rounding, l.Raw, l.Points, tt.raw, tt.points, l.Note)
		}
	}
}

func TestRuntimeTroubleEarnsNothing(t *testing.T) {
	c := mustCompile(t, draft(`[{"action":{"command":"issue","formula":"$.amount/$.quantity"}},
		{"action":{"command":"issue","formula":"$.amount - 500"}},
		{"action":{"command":"issue","formula":"$.amount/100"}}]`))
	res := evaluated(t, []*Campaign{c}, event(t, `{"amount":300,"quantity":0}`), nil)
	if res.Total != 3 {
		t.Errorf("total = %d, want 3 (only the third rule)", res.Total)
	}
	if res.Lines[0].Note != "no points: the rule divides by zero for this purchase" || res.Lines[1].Note != "no points: the rule gives less than zero for this purchase" {
		t.Errorf("notes = %q, %q", res.Lines[0].Note, res.Lines[1].Note)
	}
	res = evaluated(t, []*Campaign{c}, event(t, `{"quantity":2}`), nil)
	if res.Total != 0 || res.Lines[0].Note != "no points: the purchase lacks a value the rule needs" {
		t.Errorf("absent amount: %+v", res)
	}
}

func TestBreakdown(t *testing.T) {
	c := mustCompile(t, draft(seedRule))
	c.version = 3
	res := evaluated(t, []*Campaign{c}, event(t, `{"amount":1705,"username":"derick"}`), nil)
	want := Result{Total: 170, Lines: []Line{{Campaign: "1", Version: 3, Rule: 0, Inputs: Inputs{{Path: "$.amount", Value: "1705"}},
		Formula: "$.amount/10", Raw: "170.5", Points: 170}}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestOrderCapsAndSchedule(t *testing.T) {
	mk := func(name string, priority int, mod func(*Draft)) *Campaign {
		d := Draft{Client: "UnicornStore", Name: name, Priority: priority,
			Rules: json.RawMessage(`[{"action":{"command":"issue","formula":"$.amount/10"}},{"action":{"command":"issue","formula":"5"}}]`)}
		if mod != nil {
			mod(&d)
		}
		return mustCompile(t, d)
	}
	campaigns := []*Campaign{
		mk("b-capped", 1, func(d *Draft) { d.MaxPointsPerPurchase = 120 }),
		mk("a-first", 1, nil),
		mk("zero-priority", 0, nil),
		mk("paused", 0, func(d *Draft) { d.Status = StatusPaused }),
		mk("future", 0, func(d *Draft) { d.StartsAt = "2027-01-01T00:00:00Z" }),
		mk("over", 0, func(d *Draft) { d.EndsAt = now.Format(time.RFC3339) }), // ends_at is exclusive
		mk("budgeted", 2, func(d *Draft) { d.Budget = 1000 }),
	}
	res := evaluated(t, campaigns, event(t, `{"amount":1700}`), Budgets{"budgeted": 100})
	var got []string
	for _, l := range res.Lines {
		got = append(got, fmt.Sprintf("%s#%d=%d", l.Campaign, l.Rule, l.Points))
	}
	want := []string{"zero-priority#0=170", "zero-priority#1=5", "a-first#0=170", "a-first#1=5", "b-capped#0=120", "b-capped#1=0", "budgeted#0=100", "budgeted#1=0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if res.Total != 570 {
		t.Errorf("total = %d, want 570", res.Total)
	}
	if res.Lines[5].Note != "capped by the campaign's limit per purchase" || res.Lines[6].Note != "capped by the campaign's remaining budget" {
		t.Errorf("notes: %q, %q", res.Lines[5].Note, res.Lines[6].Note)
	}
}

// assertProblem checks that err is a ValidationError naming field, with a
// message containing text.
func assertProblem(t *testing.T, err error, field, text string) Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	for _, p := range ve.Problems {
		if p.Field == field && strings.Contains(p.Message, text) {
			return p
		}
	}
	t.Fatalf("no problem at %s containing %q in %+v", field, text, ve.Problems)
	return Problem{}
}

func TestBadRules(t *testing.T) {
	ok := `{"rule":"numeric_greater_than","value":100}`
	tests := []struct {
		name, rules, field, text string
		position                 int // -1: none
	}{
		{"bad JSONPath", `[{"variable":"$.[","condition":` + ok + `,"action":{"command":"issue","formula":"1"}}]`, "rules[0].variable", "not a valid JSONPath", -1},
		{"path not rooted", `[{"variable":"amount","condition":` + ok + `,"action":{"command":"issue","formula":"1"}}]`, "rules[0].variable", "must start with $", -1},
		{"path too long", `[{"variable":"$.` + strings.Repeat("a", 300) + `","condition":` + ok + `,"action":{"command":"issue","formula":"1"}}]`, "rules[0].variable", "at most 256", -1},
		{"unknown operator", rule(`{"rule":"numeric_greater","value":1}`, "1"), "rules[0].condition.rule", "unknown operator", -1},
		{"value of the wrong type", rule(`{"rule":"numeric_greater_than","value":"100"}`, "1"), "rules[0].condition.value", "needs a number", -1},
		{"between reversed", rule(`{"rule":"numeric_between","value":[5,1]}`, "1"), "rules[0].condition.value", "low first", -1},
		{"string_in empty", rule(`{"variable":"$.t","rule":"string_in","value":[]}`, "1"), "rules[0].condition.value", "list of 1", -1},
		{"two kinds", rule(`{"rule":"is_present","all":[`+ok+`]}`, "1"), "rules[0].condition", "one of", -1},
		{"empty all", rule(`{"all":[]}`, "1"), "rules[0].condition.all", "at least one", -1},
		{"nested bad operator", rule(`{"all":[`+ok+`,{"not":{"rule":"nope"}}]}`, "1"), "rules[0].condition.all[1].not.rule", "unknown operator", -1},
		{"unknown identifier", rule(ok, "amount / 10"), "rules[0].action.formula", `unknown name "amount"`, 0},
		{"function not allowed", rule(ok, "$.amount + len($.items)"), "rules[0].action.formula", `function "len" is not allowed`, 11},
		{"function not allowed (call)", rule(ok, "now()"), "rules[0].action.formula", `function "now" is not allowed`, 0},
		{"division by literal zero", rule(ok, "$.amount/0"), "rules[0].action.formula", "division by zero", 8},
		{"division by 0.0", rule(ok, "$.amount / 0.0"), "rules[0].action.formula", "division by zero", 9},
		{"always negative", rule(ok, "1 - 5"), "rules[0].action.formula", "always -4", 0},
		{"never positive", rule(ok, "-$.amount * 2"), "rules[0].action.formula", "never gives points", 0},
		{"never positive (min)", rule(ok, "min($.amount, -1)"), "rules[0].action.formula", "never gives points", 0},
		{"always zero", rule(ok, "$.amount * 0"), "rules[0].action.formula", "never gives points", 0},
		{"operator not allowed", rule(ok, "$.amount ** 2"), "rules[0].action.formula", `operator "**"`, 9},
		{"modulo not allowed", rule(ok, "$.amount % 7"), "rules[0].action.formula", `operator "%"`, 9},
		{"string in formula", rule(ok, `"100"`), "rules[0].action.formula", "a string", 0},
		{"conditional", rule(ok, `$.amount > 5 ? 1 : 2`), "rules[0].action.formula", "conditional", -2},
		{"syntax error", rule(ok, "$.amount /"), "rules[0].action.formula", "unexpected", 9},
		{"formula too long", rule(ok, "1"+strings.Repeat("+1", 500)), "rules[0].action.formula", "at most 1000", -1},
		{"too many nodes", rule(ok, strings.TrimSuffix(strings.Repeat("$.a+", 249), "+")), "rules[0].action.formula", "", -2},
		{"missing formula", `[{"variable":"$.amount","condition":` + ok + `,"action":{"command":"issue"}}]`, "rules[0].action.formula", "required", -1},
		{"unknown command", `[{"variable":"$.amount","condition":` + ok + `,"action":{"command":"multiply","formula":"2"}}]`, "rules[0].action.command", "unknown command", -1},
		{"unknown rule field", `[{"variable":"$.amount","condition":` + ok + `,"action":{"command":"issue","formula":"1"},"formula":"2"}]`, "rules[0]", "unknown field", -1},
		{"formula of the wrong type", `[{"action":{"command":"issue","formula":10}}]`, "rules[0].action.formula", "must be a string", -1},
		{"not a list", `{"variable":"$.amount"}`, "rules", "JSON array", -1},
		{"string holding nonsense", `"not json"`, "rules", "JSON array", -1},
		{"no rules", `[]`, "rules", "at least one", -1},
		{"too many rules", "[" + strings.TrimSuffix(strings.Repeat(`{"action":{"command":"issue","formula":"1"}},`, limits.RulesPerCampaign+1), ",") + "]", "rules", fmt.Sprintf("at most %d", limits.RulesPerCampaign), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(draft(tt.rules))
			p := assertProblem(t, err, tt.field, tt.text)
			switch {
			case tt.position >= 0 && p.Position == nil:
				t.Errorf("no position, want %d", tt.position)
			case tt.position >= 0 && *p.Position != tt.position:
				t.Errorf("position = %d, want %d", *p.Position, tt.position)
			case tt.position == -1 && p.Position != nil:
				t.Errorf("position = %d, want none", *p.Position)
			}
		})
	}
}

func TestBadCampaignFields(t *testing.T) {
	d := Draft{Client: "Unicorn Store", Name: "", Status: "on", Rounding: "up", StartsAt: "tomorrow",
		EndsAt: "2026-01-01T00:00:00Z", Priority: 2_000_000, MaxPointsPerPurchase: -1, Budget: -5, Rules: json.RawMessage(seedRule)}
	_, err := Compile(d)
	for _, field := range []string{"client", "campaign_name", "status", "rounding", "starts_at", "priority", "max_points_per_purchase", "budget"} {
		assertProblem(t, err, field, "")
	}
	d = draft(seedRule)
	d.StartsAt, d.EndsAt = "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"
	_, err = Compile(d)
	assertProblem(t, err, "ends_at", "after starts_at")
}

func TestParseEvent(t *testing.T) {
	ev, err := ParseEvent([]byte(`{"client":"UnicornStore","username":"derick","order_id":42,"amount":1700}`))
	if err != nil || ev.Client != "UnicornStore" || ev.Username != "derick" || ev.OrderID != "42" {
		t.Errorf("event = %+v, %v", ev, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"username":true}`, `{`, `{} {}`} {
		if _, err := ParseEvent([]byte(bad)); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("ParseEvent(%s) = %v, want ErrInvalidEvent", bad, err)
		}
	}
}

// TestHugeNumbersAreRefused: 1e-999999999 is a valid JSON number whose
// arithmetic would need a billion digits. Literals like it are refused when
// saved; event values like it count as not numbers.
func TestHugeNumbersAreRefused(t *testing.T) {
	_, err := Compile(draft(rule(`{"rule":"is_present"}`, "$.amount + 1e-999999999")))
	assertProblem(t, err, "rules[0].action.formula", "out of range")
	_, err = Compile(draft(rule(`{"rule":"numeric_greater_than","value":1e999}`, "1")))
	assertProblem(t, err, "rules[0].condition.value", "needs a number")

	c := mustCompile(t, draft(rule(`{"rule":"numeric_greater_than","value":0}`, "$.amount + 1")))
	start := time.Now()
	res := evaluated(t, []*Campaign{c}, event(t, `{"amount":1e-999999999}`), nil)
	if res.Total != 0 || time.Since(start) > time.Second {
		t.Errorf("huge event value: %+v after %s", res, time.Since(start))
	}
	// At the bounds, numbers work.
	c = mustCompile(t, draft(`[{"action":{"command":"issue","formula":"$.amount * 1e-40 * 1e40"}}]`))
	if got := total(t, c, `{"amount":1234567890123456789012345678901234567890}`); got != 1_000_000_000 {
		t.Errorf("40-digit amount earns %d, want the cap", got)
	}
}
