package httpapi_test

import (
	"net/http"
	"testing"
)

// TestTiersThroughTheAPI: an admin sets the client's tiers (checked, and
// versioned with If-Match); a customer's purchase moves them up, which
// their standing and their ledger show with its reason.
func TestTiersThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	derick := a.shop()
	a.runSagas()
	none := a.must(200, "GET", "/tiers?client=UnicornStore", "")
	if len(none["tiers"].([]any)) != 0 || num(none["version"]) != 0 {
		t.Errorf("tiers of a client without = %v", none)
	}
	for body, field := range map[string]string{
		`{"tiers":[{"name":"silver","min_points":10}]}`:                                               "tiers",
		`{"tiers":[{"name":"member","min_points":0},{"name":"gold","min_points":5,"multiplier":11}]}`: "tiers[1].multiplier",
		`{"tiers":[{"name":"member","min_points":0}],"window_days":1000}`:                             "window_days",
		`{"tiers":[{"name":"a b","min_points":0}]}`:                                                   "tiers[0].name",
	} {
		if r := a.do("PUT", "/tiers?client=UnicornStore", body); r.status != http.StatusBadRequest || !fieldNamed(r.json(t), field) {
			t.Errorf("PUT %s: %d %s, want 400 at %s", body, r.status, r.body, field)
		}
	}
	set := a.do("PUT", "/tiers?client=UnicornStore", `{"tiers":[{"name":"member","min_points":0},{"name":"silver","min_points":100,"multiplier":1.5}]}`)
	if set.status != 200 || set.header.Get("ETag") != `"1"` {
		t.Fatalf("PUT /tiers = %d %s", set.status, set.body)
	}
	a.must(412, "PUT", "/tiers?client=UnicornStore", `{"tiers":[{"name":"member","min_points":0}]}`, "If-Match", `"7"`)
	a.must(403, "PUT", "/tiers?client=UnicornStore", `{"tiers":[{"name":"member","min_points":0}]}`, "Authorization", derick)

	st := a.must(200, "GET", "/points/tier?account_id=derick", "", "Authorization", derick)
	if st["tier"] != "member" || num(st["earned"]) != 0 || st["next"].(map[string]any)["needs"] != float64(100) {
		t.Errorf("standing before buying = %v", st)
	}
	r := a.do("POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`, "Authorization", derick)
	if r.status != 201 && r.status != 202 {
		t.Fatalf("purchase = %d %s", r.status, r.body)
	}
	// A busy machine may answer before the saga ends: follow the order.
	id := r.json(t)["id"].(string)
	eventually(t, "the order to complete", func() map[string]any { return a.must(200, "GET", "/orders/"+id, "", "Authorization", derick) },
		func(o map[string]any) bool { return o["status"] == "completed" })
	st = a.must(200, "GET", "/points/tier?account_id=derick", "", "Authorization", derick)
	if st["tier"] != "silver" || num(st["earned"]) != 100 || st["next"] != nil || st["multiplier"] != 1.5 {
		t.Errorf("standing after earning 100 = %v", st)
	}
	txs := a.must(200, "GET", "/points/transactions?account_id=derick", "", "Authorization", derick)["items"].([]any)
	var moved map[string]any
	for _, tx := range txs {
		if m := tx.(map[string]any); m["transaction_type"] == "tier_change" {
			moved = m
		}
	}
	if moved == nil || moved["tier"] != "silver" || moved["reason"] != "100 points earned in the last 365 days; silver needs 100" {
		t.Errorf("the tier change in the ledger = %v (of %v)", moved, txs)
	}
}

// fieldNamed reports whether a problem names the field among its errors.
func fieldNamed(problem map[string]any, field string) bool {
	errs, _ := problem["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return true
		}
	}
	return false
}
