package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/ports"
)

// shop stocks unicorn 1 (1000 each, 4 of them), gives derick 3300 and
// seed 003's campaign (a tenth of the amount in points), and returns
// derick's Authorization.
func (a *api) shop() string {
	a.t.Helper()
	a.must(201, "POST", "/products", `{"id":"1","name":"Unicorn","description":"a fine unicorn","image":"/images/unicorn-air.svg","price":1000,"stock":4}`)
	derick := a.user("derick", ports.RoleCustomer, "UnicornStore")
	a.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":3300}`)
	a.must(201, "POST", "/campaigns", seedCampaign)
	return derick
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

	// In the cloud shape people sign in at Cognito: the web app learns
	// where, and its pages may call it.
	c := newAPI(t, 2, cognito(httpapi.Cognito{Region: "eu-west-1", ClientID: "client123"}))
	r = c.do("GET", "/settings", "", "Authorization", "")
	want := `{"point_value":0.01,"point_ttl_days":2,"sign_in":{"provider":"cognito","region":"eu-west-1","client_id":"client123"}}` + "\n"
	if r.status != 200 || string(r.body) != want {
		t.Errorf("settings with Cognito: %d %s", r.status, r.body)
	}
	if got := r.header.Get("Content-Security-Policy"); !strings.Contains(got, "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com;") {
		t.Errorf("Content-Security-Policy %q lets pages call no Cognito", got)
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

// TestWritesAreIdempotent: every write with an Idempotency-Key happens
// once; the key again with another body is a 422 that changes nothing.
func TestWritesAreIdempotent(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.shop() // unicorn 1 with 4 in stock, derick with 3300
	for range 2 {
		if b := a.must(200, "POST", "/products/1/stock", `{"delta":1}`, "Idempotency-Key", "restock-1"); num(b["stock"]) != 5 {
			t.Errorf("restock = %v, want stock 5 (moved once)", b)
		}
	}
	a.must(422, "POST", "/products/1/stock", `{"delta":2}`, "Idempotency-Key", "restock-1")
	if p := a.must(200, "GET", "/products/1", ""); num(p["stock"]) != 5 {
		t.Errorf("stock = %v, want 5", p["stock"])
	}
	for range 2 {
		if b := a.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":100}`, "Idempotency-Key", "dep-1"); num(b["balance"]) != 3400 {
			t.Errorf("deposit = %v, want balance 3400 (added once)", b)
		}
	}
	a.must(422, "POST", "/users/derick/wallet/deposits", `{"amount":200}`, "Idempotency-Key", "dep-1")
	if w := a.must(200, "GET", "/users/derick/wallet", ""); num(w["balance"]) != 3400 {
		t.Errorf("balance = %v, want 3400", w["balance"])
	}
	// Without a key, two deposits are two deposits.
	a.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":1}`)
	if w := a.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":1}`); num(w["balance"]) != 3402 {
		t.Errorf("balance = %v, want 3402", w["balance"])
	}
}

// TestDepositsGoToCustomers: money goes only to an existing customer of
// the store, named exactly.
func TestDepositsGoToCustomers(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.shop()
	a.user("mia", ports.RoleMarketer, "UnicornStore")
	a.user("pat", ports.RoleCustomer, "Other")
	for _, user := range []string{"nobody", "Derick", "mia", "boss", "pat"} {
		r := a.do("POST", "/users/"+user+"/wallet/deposits", `{"amount":5}`)
		if r.status != http.StatusNotFound {
			t.Errorf("deposit to %s: %d %s; want 404", user, r.status, r.body)
		}
	}
	a.must(201, "POST", "/users/derick/wallet/deposits", `{"amount":5}`)
}

// TestPurchaseAtThePriceSeen: a purchase may say the total the customer
// saw; after a price change it is refused with today's prices, and
// nothing is ordered or charged.
func TestPurchaseAtThePriceSeen(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, purchaseWait(time.Minute))
	derick := a.shop()
	a.runSagas()
	a.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":2}],"expected_total":2000}`, "Authorization", derick)
	a.must(200, "PUT", "/products/1", `{"name":"Unicorn","description":"a fine unicorn","price":1100.5}`)
	r := a.do("POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"expected_total":1000}`, "Authorization", derick)
	p := r.json(t)
	if r.status != http.StatusConflict || p["type"] != "urn:unicorn:problem:price-changed" || p["total"] != 1100.5 {
		t.Fatalf("purchase at an old price: %d %s", r.status, r.body)
	}
	if line := p["lines"].([]any)[0].(map[string]any); line["unit_price"] != 1100.5 || line["amount"] != 1100.5 {
		t.Errorf("today's line = %v", line)
	}
	if orders := a.must(200, "GET", "/orders?user_id=derick", "", "Authorization", derick); len(orders["items"].([]any)) != 1 {
		t.Errorf("orders = %v, want only the first", orders)
	}
	if w := a.must(200, "GET", "/users/derick/wallet", "", "Authorization", derick); num(w["balance"]) != 1300 {
		t.Errorf("balance = %v, want 1300", w["balance"])
	}
	a.must(400, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"expected_total":"1100.5"}`, "Authorization", derick)
	a.must(400, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"expected_total":1e10000000}`, "Authorization", derick)
	a.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"expected_total":1100.50}`, "Authorization", derick)
}

// TestStaffListEveryOrder: without user_id, staff page through every
// customer's orders, newest first (a customer must name themself: see
// TestCustomersReachOnlyTheirOwn).
func TestStaffListEveryOrder(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, purchaseWait(time.Minute))
	derick := a.shop()
	ann := a.user("ann", ports.RoleCustomer, "UnicornStore")
	a.must(201, "POST", "/users/ann/wallet/deposits", `{"amount":3300}`)
	a.runSagas()
	var want []any
	for _, buyer := range []struct{ name, auth string }{{"derick", derick}, {"ann", ann}, {"derick", derick}} {
		o := a.must(201, "POST", "/purchase", fmt.Sprintf(`{"user_id":%q,"items":[{"product_id":"1","quantity":1}]}`, buyer.name), "Authorization", buyer.auth)
		want = append([]any{o["id"]}, want...)
	}
	var got []any
	for cursor := ""; ; {
		page := a.must(200, "GET", "/orders?limit=2"+cursor, "")
		for _, o := range page["items"].([]any) {
			got = append(got, o.(map[string]any)["id"])
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
	if !slices.Equal(got, want) {
		t.Errorf("every order = %v, want %v (newest first)", got, want)
	}
	a.must(400, "GET", "/orders?cursor=nonsense", "")
	a.must(400, "GET", "/orders?limit=0", "")
}

// TestFailedOrderSpentNothing: an order that failed says what it asked
// for, and that it spent and earned nothing.
func TestFailedOrderSpentNothing(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, purchaseWait(time.Minute))
	derick := a.shop()
	a.must(201, "POST", "/points", `{"account_id":"derick","amount":10}`)
	a.runSagas()
	order := a.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":4}],"redeem_points":10}`, "Authorization", derick)
	if order["status"] != "failed" || order["failure_code"] != "InsufficientFunds" {
		t.Fatalf("order = %v", order)
	}
	if num(order["points_redeemed"]) != 0 || num(order["charged"]) != 0 || num(order["points_awarded"]) != 0 || order["award"] != nil {
		t.Errorf("a failed order says it spent or earned something: %v", order)
	}
	if num(order["points_requested"]) != 10 || order["amount_due"] != 3999.9 {
		t.Errorf("a failed order forgot what it asked for: %v", order)
	}
	if b := a.must(200, "GET", "/points?account_id=derick", "", "Authorization", derick); num(b["balance"]) != 10 {
		t.Errorf("points = %v, want 10 back", b["balance"])
	}
}

// TestBadInputIsA4xx: malformed, oversized or absurd requests are refused
// with the status that says why, naming the field, never a 5xx or a 403
// that hides the mistake; a huge number is refused before any arithmetic.
func TestBadInputIsA4xx(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	derick := a.shop()
	digits := strings.Repeat("9", 1<<20-200)
	for _, tt := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":"one"}]}`, 400, "items[0].quantity"},
		{"POST", "/purchase", `{"user_id":"derick","items":[`, 400, ""},
		{"POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"redeem_points":` + digits + `}`, 400, "redeem_points"},
		{"POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1e400}]}`, 400, "items[0].quantity"},
		{"POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"pad":"` + strings.Repeat("x", 1<<20) + `"}`, 413, ""},
		{"DELETE", "/points", `{"account_id":"derick","amount":` + digits + `}`, 400, "amount"},
		{"DELETE", "/points", `{"account_id":"derick","amount":"` + strings.Repeat("x", 1<<20) + `"}`, 413, ""},
		{"GET", "/orders?user_id=derick&cursor=nonsense", "", 400, "cursor"},
		{"GET", "/orders?user_id=derick&cursor=9999-12-31T00:00:00Z", "", 400, "cursor"},
	} {
		start := time.Now()
		r := a.do(tt.method, tt.path, tt.body, "Authorization", derick)
		if r.status != tt.status || tt.field != "" && !strings.Contains(string(r.body), `"field":"`+tt.field+`"`) {
			t.Errorf("%s %s (%d bytes): %d %.300s; want %d naming %q", tt.method, tt.path, len(tt.body), r.status, r.body, tt.status, tt.field)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s %s took %s", tt.method, tt.path, d)
		}
	}
	for _, body := range []string{`{"amount":1e10000000}`, `{"amount":` + digits + `}`, `{"amount":1e-10000000}`} {
		if r := a.do("POST", "/users/derick/wallet/deposits", body); r.status != 400 || !strings.Contains(string(r.body), `"field":"amount"`) {
			t.Errorf("deposit %.40s: %d %.300s", body, r.status, r.body)
		}
	}
	a.must(400, "PUT", "/products/1", `{"name":"Unicorn","description":"x","price":1e10000000}`)
}
