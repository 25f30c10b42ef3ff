package httpapi_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// TestBacktest: purchases made through the saga are what a backtest
// reads; a new campaign and a change to a saved one are tried against
// them, by the client's marketers, and nothing is saved.
func TestBacktest(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	derick := a.shop() // unicorn 1 at 1000; seed 003's campaign "1": a tenth of the amount
	mia := a.user("mia", ports.RoleMarketer, "UnicornStore")
	a.runSagas()
	for range 2 {
		r := a.do("POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`, "Authorization", derick)
		id, _ := r.json(t)["id"].(string)
		if r.status != 201 && r.status != 202 {
			t.Fatalf("purchase: %d %s", r.status, r.body)
		}
		eventually(t, "order "+id, func() any { return a.must(200, "GET", "/orders/"+id, "")["status"] },
			func(s any) bool { return s == ports.OrderCompleted })
	}

	// A new campaign that doubles what unicorn 1 earns. The dispatcher
	// delivers the purchases to the history soon after they complete.
	draft := `{"days":7,"campaign":{"campaign_name":"unicorn-double","rules":[{"variable":"$.items[0].product_id",` +
		`"condition":{"rule":"string_equals","value":"1"},"action":{"command":"issue","formula":"$.items[0].amount/10"}}]}}`
	got := eventually(t, "backtest", func() map[string]any {
		return a.must(200, "POST", "/campaigns/backtest", draft, "Authorization", mia)
	}, func(m map[string]any) bool { return num(m["purchases_read"]) == 2 })
	today := map[string]any{"day": "2026-03-02", "orders": 2.0, "given": 200.0, "would_give": 400.0, "difference": 200.0,
		"campaign_given": 0.0, "campaign_would_give": 200.0}
	days, _ := got["per_day"].([]any)
	if len(days) != 7 || days[0].(map[string]any)["day"] != "2026-02-24" || num(days[0].(map[string]any)["orders"]) != 0 {
		t.Errorf("per_day = %v; want the 7 days from 2026-02-24, today last", days)
	} else if diff := cmp.Diff(today, days[6]); diff != "" {
		t.Errorf("today (-want +got):\n%s", diff)
	}
	total := map[string]any{"orders": 2.0, "given": 200.0, "would_give": 400.0, "difference": 200.0, "campaign_given": 0.0, "campaign_would_give": 200.0}
	customers := []any{map[string]any{"username": "derick", "orders": 2.0, "given": 200.0, "would_give": 400.0, "difference": 200.0}}
	if diff := cmp.Diff(total, got["total"]); diff != "" {
		t.Errorf("total (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(customers, got["customers"]); diff != "" {
		t.Errorf("customers (-want +got):\n%s", diff)
	}
	if got["client"] != "UnicornStore" || got["campaign_name"] != "unicorn-double" || got["new"] != true || got["truncated"] != false ||
		got["budgets_applied"] != false || got["from"] != "2026-02-24T00:00:00Z" || got["to"] != "2026-03-02T12:00:00Z" {
		t.Errorf("backtest = %v", got)
	}

	// A change to campaign 1: a fifth of the amount instead of a tenth.
	got = a.must(200, "POST", "/campaigns/backtest",
		`{"client":"UnicornStore","days":1,"campaign_name":"1","patch":{"rules":[{"action":{"command":"issue","formula":"$.amount/5"}}]}}`)
	total = map[string]any{"orders": 2.0, "given": 200.0, "would_give": 400.0, "difference": 200.0, "campaign_given": 200.0, "campaign_would_give": 400.0}
	if diff := cmp.Diff(total, got["total"]); diff != "" || got["new"] != false || len(got["per_day"].([]any)) != 1 {
		t.Errorf("backtest of a change: %v (-want +got total):\n%s", got, diff)
	}
	// Nothing was saved: campaign 1 is as it was, and no other exists.
	if c := a.must(200, "GET", "/campaigns/1", ""); num(c["version"]) != 1 || !cmp.Equal(c["rules"], []any{map[string]any{"variable": "$.amount",
		"condition": map[string]any{"rule": "numeric_greater_than", "value": 100.0}, "action": map[string]any{"command": "issue", "formula": "$.amount/10"}}}) {
		t.Errorf("campaign 1 after backtests = %v", c)
	}
	if l := a.must(200, "GET", "/campaigns", ""); num(l["count"]) != 1 {
		t.Errorf("campaigns after backtests = %v", l)
	}

	// Refusals, each at its field.
	olga := a.user("olga", ports.RoleAdmin, "Other")
	for _, tt := range []struct {
		body, auth string
		status     int
		field      string
	}{
		{`{"days":0,"campaign_name":"1"}`, "", 400, "days"},
		{`{"days":91,"campaign_name":"1"}`, "", 400, "days"},
		{`{"days":"7","campaign_name":"1"}`, "", 400, "days"},
		{`{"campaign_name":"1"}`, "", 400, "days"},
		{`{"days":7}`, "", 400, "campaign"},
		{`{"days":7,"campaign_name":"1","campaign":{"rules":[{"action":{"command":"issue","formula":"1"}}]}}`, "", 400, "campaign_name"},
		{`{"days":7,"campaign":{"campaign_name":"1","rules":[{"action":{"command":"issue","formula":"1"}}]}}`, "", 400, "campaign.campaign_name"},
		{`{"days":7,"campaign":{"rules":[{"action":{"command":"issue","formula":"$.amount % 2"}}]}}`, "", 400, "campaign.rules[0].action.formula"},
		{`{"days":7,"campaign":{"client":"Other","rules":[{"action":{"command":"issue","formula":"1"}}]}}`, "", 400, "campaign.client"},
		{`{"days":7,"campaign_name":"1","patch":{"rounding":"up"}}`, "", 400, "patch.rounding"},
		{`{"days":7,"campaign_name":"1","patch":[1]}`, "", 400, "patch"},
		{`{"days":7,"campaign_name":"1","surprise":true}`, "", 400, "surprise"},
		{`{"days":7,"campaign_name":"nope"}`, "", 404, ""},
		{`{"client":"UnicornStore","days":7,"campaign_name":"1"}`, olga, 403, ""},
		{`{"days":7,"campaign_name":"1"}`, derick, 403, ""},
	} {
		auth := a.auth
		if tt.auth != "" {
			auth = tt.auth
		}
		r := a.do("POST", "/campaigns/backtest", tt.body, "Authorization", auth)
		p := r.json(t)
		errs, _ := p["errors"].([]any)
		if r.status != tt.status || r.header.Get("Content-Type") != "application/problem+json" ||
			tt.field != "" && (len(errs) == 0 || errs[0].(map[string]any)["field"] != tt.field) {
			t.Errorf("%s: %d %s; want %d at %q", tt.body, r.status, r.body, tt.status, tt.field)
		}
	}
}
