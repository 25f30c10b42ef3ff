package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// shop stocks unicorn 1 (1000 each, 4 of them), gives derick 3300 and
// seed 003's campaign (a tenth of the amount in points), and returns
// derick's Authorization.
func (a *api) shop() string {
	a.t.Helper()
	a.must(201, "POST", "/products", `{"id":"1","name":"Unicorn","description":"a fine unicorn","image":"/images/unicorn-air.svg","price":1000,"stock":4}`)
	a.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":3300}`)
	a.must(201, "POST", "/campaigns", seedCampaign)
	return a.user("derick", ports.RoleCustomer, "UnicornStore")
}

// signIn signs an existing user in again: the Authorization header value.
func (a *api) signIn(username string) string {
	a.t.Helper()
	tok := a.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":%q,"password":%q}`, username, testPassword), "Authorization", "")
	return "Bearer " + tok["access_token"].(string)
}

// eventually polls get until done says it has what it waits for.
func eventually[T any](t *testing.T, what string, get func() T, done func(T) bool) T {
	t.Helper()
	var v T
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if v = get(); done(v) {
			return v
		}
	}
	t.Fatalf("%s: still %v", what, v)
	return v
}

// TestAsyncPurchase: with "Prefer: respond-async" a purchase answers at
// once, 202 with where to follow the order, which later completes; a
// repeat of the finished request is the 201 it would have been.
func TestAsyncPurchase(t *testing.T) {
	t.Parallel()
	// A purchase that waited would wait a minute: the sagas do not run yet.
	a := newAPI(t, 365, purchaseWait(time.Minute))
	derick := a.shop()
	body := `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`
	var ids []string
	for i, prefer := range []string{"respond-async", "wait=5, Respond-Async; x=1"} {
		start := time.Now()
		r := a.do("POST", "/purchase", body, "Authorization", derick, "Prefer", prefer, "Idempotency-Key", fmt.Sprint("buy-", i))
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("Prefer %q: answered after %s: it waited for the saga", prefer, elapsed)
		}
		order := r.json(t)
		id, _ := order["id"].(string)
		if r.status != http.StatusAccepted || r.header.Get("Location") != "/orders/"+id || order["status"] != ports.OrderPending ||
			r.header.Get("Preference-Applied") != "respond-async" {
			t.Fatalf("Prefer %q: %d, Location %q, Preference-Applied %q\n%s", prefer, r.status, r.header.Get("Location"),
				r.header.Get("Preference-Applied"), r.body)
		}
		ids = append(ids, id)
	}

	a.runSagas()
	for _, id := range ids {
		order := eventually(t, "order "+id, func() map[string]any {
			return a.must(200, "GET", "/orders/"+id, "", "Authorization", derick)
		}, func(o map[string]any) bool { return o["status"] != ports.OrderPending })
		if order["status"] != ports.OrderCompleted || num(order["points_awarded"]) != 100 {
			t.Errorf("order %s = %v", id, order)
		}
	}

	r := a.do("POST", "/purchase", body, "Authorization", derick, "Prefer", "respond-async", "Idempotency-Key", "buy-0")
	if order := r.json(t); r.status != http.StatusCreated || order["id"] != ids[0] || order["status"] != ports.OrderCompleted ||
		r.header.Get("Preference-Applied") != "" {
		t.Errorf("repeat of a finished purchase: %d, Preference-Applied %q\n%s", r.status, r.header.Get("Preference-Applied"), r.body)
	}
}

// TestSettings: anyone reads what a point is worth and how long it lives.
func TestSettings(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 2)
	r := a.do("GET", "/settings", "", "Authorization", "")
	if r.status != 200 || string(r.body) != `{"point_value":0.01,"point_ttl_days":2}`+"\n" {
		t.Errorf("settings: %d %s", r.status, r.body)
	}
}

// TestCampaignAnalytics: completed purchases show, per day, the points of
// the campaign that awarded them, to the client's marketers, over the
// days asked for.
func TestCampaignAnalytics(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	derick := a.shop()
	mia := a.user("mia", ports.RoleMarketer, "UnicornStore")
	a.runSagas()
	for range 2 {
		// The harness waits 50 ms for a saga: follow a slower one to its end.
		r := a.do("POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`, "Authorization", derick)
		id, _ := r.json(t)["id"].(string)
		if r.status != 201 && r.status != 202 {
			t.Fatalf("purchase: %d %s", r.status, r.body)
		}
		eventually(t, "order "+id, func() any { return a.must(200, "GET", "/orders/"+id, "")["status"] },
			func(s any) bool { return s == ports.OrderCompleted })
	}
	// The dispatcher delivers PurchaseCompleted soon after.
	got := eventually(t, "campaign analytics", func() map[string]any {
		return a.must(200, "GET", "/analytics/campaigns", "", "Authorization", mia)
	}, func(m map[string]any) bool {
		items, _ := m["items"].([]any)
		return len(items) > 0 && num(items[0].(map[string]any)["orders"]) == 2
	})
	items := got["items"].([]any)
	day := items[0].(map[string]any)
	if got["client"] != "UnicornStore" || got["since"] != "2026-02-01" || len(items) != 1 ||
		day["day"] != "2026-03-02" || day["campaign_name"] != "1" || num(day["points"]) != 200 || num(day["orders"]) != 2 {
		t.Errorf("GET /analytics/campaigns = %v", got)
	}
	if m := a.must(200, "GET", "/analytics/campaigns?client=UnicornStore&days=1", "", "Authorization", mia); m["since"] != "2026-03-02" || len(m["items"].([]any)) != 1 {
		t.Errorf("today only = %v", m)
	}
	a.clock.Advance(48 * time.Hour) // tokens live an hour: sign in again
	mia, a.auth = a.signIn("mia"), a.signIn("boss")
	if m := a.must(200, "GET", "/analytics/campaigns?days=2", "", "Authorization", mia); m["since"] != "2026-03-03" || len(m["items"].([]any)) != 0 {
		t.Errorf("the last two days, after two days = %v", m)
	}
	if m := a.must(200, "GET", "/analytics/campaigns?days=366", ""); len(m["items"].([]any)) != 1 {
		t.Errorf("a year, as an admin = %v", m)
	}
	// Another client's admin sees their own client's campaigns: none.
	olga := a.user("olga", ports.RoleAdmin, "Other")
	if m := a.must(200, "GET", "/analytics/campaigns", "", "Authorization", olga); m["client"] != "Other" || len(m["items"].([]any)) != 0 {
		t.Errorf("another client's = %v", m)
	}
	for _, q := range []string{"days=0", "days=367", "days=-1", "days=ten", "days=1.5", "days="} {
		r := a.do("GET", "/analytics/campaigns?"+q, "", "Authorization", mia)
		if q == "days=" { // empty: the default
			if r.status != 200 {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
			continue
		}
		p := r.json(t)
		errs, _ := p["errors"].([]any)
		if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" || len(errs) == 0 || errs[0].(map[string]any)["field"] != "days" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}
