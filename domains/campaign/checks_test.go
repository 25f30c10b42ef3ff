package campaign

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
)

// TestConstantsAreFolded: what is constant is computed when the campaign
// is saved, so a division by a constant zero is refused at its operator.
func TestConstantsAreFolded(t *testing.T) {
	for _, tt := range []struct {
		formula  string
		position int
	}{
		{"$.amount / (2 - 2)", 9},
		{"$.amount / min(0, 5)", 9},
		{"$.amount / (0.5 * 2 - 1)", 9},
		{"$.amount / -(3 - 3)", 9},
		{"($.amount + 1) / floor(0.5)", 15},
	} {
		_, err := Compile(draft(rule(`{"rule":"is_present"}`, tt.formula)))
		p := assertProblem(t, err, "rules[0].action.formula", "division by zero")
		if p.Position == nil || *p.Position != tt.position {
			t.Errorf("%s: position %v, want %d", tt.formula, p.Position, tt.position)
		}
	}
	for formula, want := range map[string]int64{
		"$.amount / (4 - 2)":          850,
		"round($.amount / 3, 1 + 1)":  566,
		"$.amount * max(0.1, 1 / 20)": 170,
	} {
		if got := total(t, mustCompile(t, draft(rule(`{"rule":"is_present"}`, formula))), `{"amount":1700}`); got != want {
			t.Errorf("%s: %d points, want %d", formula, got, want)
		}
	}
}

// TestUnknownPathWarnings: a path the purchase event does not have is a
// warning, not an error, at its field (and position in a formula).
func TestUnknownPathWarnings(t *testing.T) {
	tests := []struct {
		path, warning string // warning "": none
	}{
		{"$.amount", ""},
		{"$.items[0].price", ""},
		{`$["points_redeemed"]`, ""},
		{"$.items[*].product_id", ""},
		{"$..price", ""},
		{"$.items.*", ""},
		{`$.items[?(@.product_id == "7")]`, ""}, // beyond the check
		{"$.amont", "no field amont there (it has client, username, order_id, amount, total, points_redeemed, quantity, items, customer); did you mean amount?"},
		{"$.items[0].prise", "did you mean price?"},
		{"$.Amount", "did you mean amount?"},
		{"$.tier", "no field tier there"},
		{"$..sku", "no field sku"},
		{"$.amount[0]", "no list where [0] is read"},
		{"$.items.price", "no field price there"},
	}
	for _, tt := range tests {
		d := draft(fmt.Sprintf(`[{"variable":%q,"condition":{"rule":"is_present"},"action":{"command":"issue","formula":"1"}}]`, tt.path))
		c, err := Compile(d)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		w := c.Warnings()
		switch {
		case tt.warning == "" && len(w) > 0:
			t.Errorf("%s: warnings %v", tt.path, w)
		case tt.warning != "" && (len(w) != 1 || w[0].Field != "rules[0].variable" || !strings.Contains(w[0].Message, tt.warning)):
			t.Errorf("%s: warnings %+v, want one at rules[0].variable saying %q", tt.path, w, tt.warning)
		}
	}
	c := mustCompile(t, draft(rule(`{"rule":"is_present"}`, "$.amount / 10 + $.quantty * 2")))
	want := []Problem{{Field: "rules[0].action.formula", Position: ptr(16),
		Message: "$.quantty: the store's purchase event has no field quantty there (it has client, username, order_id, amount, total, points_redeemed, quantity, items, customer); did you mean quantity? (an event sent through the API may have it)"}}
	if diff := cmp.Diff(want, c.Warnings()); diff != "" {
		t.Errorf("formula warnings (-want +got):\n%s", diff)
	}
	// A refused campaign still says its warnings.
	_, err := Compile(draft(`[{"variable":"$.amont","condition":{"rule":"bigger"},"action":{"command":"issue","formula":"1"}}]`))
	if ve, ok := err.(*ValidationError); !ok || len(ve.Warnings) != 1 {
		t.Errorf("refused campaign: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestPurchaseEvent: the store's event is built from Purchase, with money
// as exact JSON numbers, and every path it has is a known path.
func TestPurchaseEvent(t *testing.T) {
	p := Purchase{Client: "UnicornStore", Username: "derick", OrderID: "o1", Amount: decimal.RequireFromString("1700.10"),
		Total: decimal.RequireFromString("1710.10"), PointsRedeemed: 1000, Quantity: 3,
		Items: []PurchaseItem{{ProductID: "1", Name: "Unicorn", Quantity: 3, Price: decimal.RequireFromString("570.033"), Amount: decimal.RequireFromString("1710.10")}}}
	ev, err := p.Event()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	// Without tiers, a buyer has none, and a multiplier of 1.
	want := `{"amount":1700.1,"client":"UnicornStore","customer":{"tier":"","tier_multiplier":1},"items":[{"amount":1710.1,"name":"Unicorn","price":570.033,"product_id":"1","quantity":3}],"order_id":"o1","points_redeemed":1000,"quantity":3,"total":1710.1,"username":"derick"}`
	if string(b) != want {
		t.Errorf("event = %s\nwant    %s", b, want)
	}
	if ev.Client != "UnicornStore" || ev.Username != "derick" || ev.OrderID != "o1" {
		t.Errorf("event fields = %+v", ev)
	}
	// Every field of the event is in the schema, and the other way round.
	var data map[string]any
	_ = json.Unmarshal(b, &data)
	var got []string
	for k := range data {
		got = append(got, k)
	}
	for k := range data["items"].([]any)[0].(map[string]any) {
		got = append(got, "items[0]."+k)
	}
	known := append([]string(nil), purchaseSchema.names...)
	for _, n := range purchaseSchema.fields["items"].elem.names {
		known = append(known, "items[0]."+n)
	}
	slices.Sort(got)
	slices.Sort(known)
	if diff := cmp.Diff(known, got); diff != "" {
		t.Errorf("event fields against the schema (-schema +event):\n%s", diff)
	}
	for _, k := range known {
		if msg := unknownIn("$." + k); msg != "" {
			t.Errorf("$.%s: %s", k, msg)
		}
	}
}

// TestDescription: a campaign's public description is on each line of its
// breakdown; it is short plain text.
func TestDescription(t *testing.T) {
	d := draft(seedRule)
	d.Description = "10 points per 100 spent over 100"
	res := evaluated(t, []*Campaign{mustCompile(t, d)}, event(t, `{"amount":1700}`), nil)
	if res.Lines[0].Description != d.Description {
		t.Errorf("line = %+v", res.Lines[0])
	}
	for _, bad := range []string{strings.Repeat("x", limits.CampaignDescriptionChars+1), "two\nlines"} {
		d.Description = bad
		_, err := Compile(d)
		assertProblem(t, err, "description", "description")
	}
	d.Description = strings.Repeat("é", limits.CampaignDescriptionChars) // characters, not bytes
	mustCompile(t, d)
}

// TestNotesArePlain: why a rule gave nothing is said without its formula,
// its paths or its campaign's name (customers read the notes).
func TestNotesArePlain(t *testing.T) {
	c := mustCompile(t, Draft{Client: "UnicornStore", Name: "secret-launch", Rules: json.RawMessage(`[
		{"action":{"command":"issue","formula":"$.amount / $.quantity"}},
		{"action":{"command":"issue","formula":"$.missing * 2"}},
		{"action":{"command":"issue","formula":"$.tier + 1"}},
		{"action":{"command":"issue","formula":"$.amount - 5000"}}]`)})
	res := evaluated(t, []*Campaign{c}, event(t, `{"amount":100,"quantity":0,"tier":"gold"}`), nil)
	if len(res.Lines) != 4 {
		t.Fatalf("lines = %+v", res.Lines)
	}
	for _, l := range res.Lines {
		if l.Note == "" || strings.ContainsAny(l.Note, "$/*") || strings.Contains(l.Note, "secret") || strings.Contains(l.Note, "tier") {
			t.Errorf("note %q", l.Note)
		}
	}
}
