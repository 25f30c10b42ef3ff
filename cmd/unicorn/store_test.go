package main

import (
	"github.com/unicornstore/unicorn/cmd/internal/compose"

	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// store is the whole app on a temporary database, served over HTTP, with
// the saga executor and the outbox dispatcher running. Its clock is set by
// hand: whenever a saga waits (a retry's backoff), the clock jumps to its
// wake-up time, so retries take no real time.
type store struct {
	t     testing.TB
	app   *app
	srv   *httptest.Server
	clock *clock.Manual
	auth  string // the Authorization of requests that send none: an admin's
}

// testHash makes password hashing cheap in tests.
var testHash = identity.HashParams{MemoryKiB: 64, Passes: 1, Lanes: 1}

func newStore(t testing.TB, wrap sagatasks.Wrap) *store {
	t.Helper()
	clk := clock.NewManual(time.Now())
	s := startStore(t, deps{clock: clk, wrap: wrap})
	s.clock = clk
	return s
}

// startStore starts the app with d on a temporary database. With a manual
// clock, a goroutine moves it to the next wake-up of a waiting saga.
func startStore(t testing.TB, d deps) *store {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := compose.Defaults()
	c.DBPath, c.PurchaseWait, c.TokenTTL = filepath.Join(t.TempDir(), "unicorn.db"), 10*time.Second, time.Hour
	// These tests are about what sagas do, not about refusing them: how
	// many sagas are under way at once depends on the machine's speed, so
	// the bound on them (tested with the API's admission) is lifted.
	c.MaxSagas = 0
	c.WebhookAllowPrivate = true // the tests' receivers listen on this machine
	if d.hash == (identity.HashParams{}) {
		d.hash = testHash
	}
	a, err := newApp(ctx, c, slog.New(slog.DiscardHandler), d)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadDemoUsers(ctx, a, testPassword, "", io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := loadDemo(ctx, a); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.dispatcher.Run(ctx) })
	wg.Go(func() { _ = a.executor.Run(ctx) })
	wg.Go(func() { _ = a.Webhooks.Run(ctx) })
	if clk, ok := d.clock.(*clock.Manual); ok {
		wg.Go(func() {
			for ctx.Err() == nil {
				if next, err := a.db.Executions().NextWake(ctx, clk.Now()); err == nil && !next.IsZero() {
					clk.Set(next)
					a.executor.Poke()
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		wg.Wait()
		a.Close()
	})
	s := &store{t: t, app: a, srv: srv}
	s.auth = s.signIn("admin")
	return s
}

// follow reads an order until it is no longer pending, for at most a
// minute.
func (s *store) follow(id string) map[string]any {
	s.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		_, order := s.do("GET", "/orders/"+id, "")
		if order["status"] != "pending" || time.Now().After(deadline) {
			return order
		}
	}
}

// customer adds a customer of the store.
func (s *store) customer(username string) {
	s.t.Helper()
	if _, err := s.app.Identity.CreateUser(context.Background(), username, s.app.cfg.StoreClient, ports.RoleCustomer, testPassword); err != nil {
		s.t.Fatal(err)
	}
}

// testPassword is every demo user's password in these tests.
const testPassword = "test-password-123"

// signIn returns an Authorization header value for a demo user.
func (s *store) signIn(username string) string {
	s.t.Helper()
	tokens := s.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":%q,"password":%q}`, username, testPassword), "Authorization", "")
	return "Bearer " + tokens["access_token"].(string)
}

func (s *store) do(method, path, body string, header ...string) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", s.auth)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &m); err != nil {
			s.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	if m == nil {
		m = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, m
}

func (s *store) must(status int, method, path, body string, header ...string) map[string]any {
	s.t.Helper()
	got, m := s.do(method, path, body, header...)
	if got != status {
		s.t.Fatalf("%s %s %s: status %d, want %d: %v", method, path, body, got, status, m)
	}
	return m
}

func (s *store) stock(id string) int64 {
	s.t.Helper()
	p, err := s.app.db.Catalog().Get(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return p.Stock
}

func (s *store) balance(user string) decimal.Decimal {
	s.t.Helper()
	w, err := s.app.Wallets.Balance(context.Background(), user)
	if err != nil {
		s.t.Fatal(err)
	}
	return w.Balance
}

// points is what the user can spend now.
func (s *store) points(user string) int64 {
	s.t.Helper()
	b, err := s.app.Reads.Balance(context.Background(), points.MustAccountID("UnicornStore", user), points.LotPage{})
	if err != nil {
		s.t.Fatal(err)
	}
	return b.Available
}

// pending is what the user earned but cannot spend yet (purchases within
// their return window).
func (s *store) pending(user string) int64 {
	s.t.Helper()
	b, err := s.app.Reads.Balance(context.Background(), points.MustAccountID("UnicornStore", user), points.LotPage{})
	if err != nil {
		s.t.Fatal(err)
	}
	return b.Pending
}

// steps lists the saga steps of an order as "Step:status".
func steps(order map[string]any) []string {
	var out []string
	for _, st := range order["saga"].([]any) {
		m := st.(map[string]any)
		if m["status"] == "started" {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%s", m["step"], m["status"]))
	}
	return out
}

func num(v any) float64 { f, _ := v.(float64); return f }

// TestPurchaseHappyPath: derick buys one unicorn.
func TestPurchaseHappyPath(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	// derick signs in and buys for himself; what follows he reads as
	// himself too, except the sales figures (an admin's).
	admin := s.auth
	s.auth = s.signIn("derick")
	order := s.must(201, "POST", "/purchase", `{"userId":"derick","productId":"1","quantity":1}`)
	if order["status"] != "completed" || num(order["points_awarded"]) != 170 || num(order["charged"]) != 1700 {
		t.Fatalf("order = %v", order)
	}
	// The customer reads what earned the points, not how a campaign is
	// built; staff read the rule and its formula.
	award := order["award"].([]any)[0].(map[string]any)
	if award["description"] == "" || num(award["points"]) != 170 || award["formula"] != nil || award["campaign_name"] != nil {
		t.Errorf("award breakdown for the customer = %v", award)
	}
	_, staff := s.do("GET", "/orders/"+order["id"].(string), "", "Authorization", admin)
	award = staff["award"].([]any)[0].(map[string]any)
	if award["campaign_name"] != "1" || num(award["points"]) != 170 || award["formula"] != "$.amount/10" {
		t.Errorf("award breakdown for staff = %v", award)
	}
	want := []string{"ReserveStock:succeeded", "ChargeWallet:succeeded", "AwardPoints:succeeded", "CompleteOrder:succeeded", "PublishPurchaseCompleted:succeeded", "Saga:succeeded"}
	if got := steps(order); !slices.Equal(got, want) {
		t.Errorf("saga = %v, want %v", got, want)
	}
	// The points are pending through the order's return window.
	if s.stock("1") != 4-1 || !s.balance("derick").Equal(decimal.NewFromInt(1600)) || s.points("derick") != 0 || s.pending("derick") != 170 {
		t.Errorf("stock %d, wallet %s, points %d, pending %d; want 3, 1600, 0, 170", s.stock("1"), s.balance("derick"), s.points("derick"), s.pending("derick"))
	}
	// PurchaseCompleted reaches the sales tally once.
	var tally map[string]any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		items := s.must(200, "GET", "/analytics/products", "", "Authorization", admin)["items"].([]any)
		if len(items) > 0 {
			tally = items[0].(map[string]any)
			break
		}
	}
	if tally == nil || tally["product_id"] != "1" || num(tally["orders"]) != 1 || num(tally["units"]) != 1 || num(tally["revenue"]) != 1700 {
		t.Errorf("tally = %v", tally)
	}
	// and the campaign view, on today's line.
	campaigns := s.must(200, "GET", "/analytics/campaigns", "", "Authorization", admin)
	if items := campaigns["items"].([]any); len(items) != 1 || items[0].(map[string]any)["campaign_name"] != "1" ||
		num(items[0].(map[string]any)["points"]) != 170 || items[0].(map[string]any)["day"] != s.clock.Now().UTC().Format(time.DateOnly) {
		t.Errorf("campaign analytics = %v", campaigns)
	}
	// The order page and the user's orders show it.
	id := order["id"].(string)
	if got := s.must(200, "GET", "/orders/"+id, ""); got["status"] != "completed" || len(got["saga"].([]any)) == 0 {
		t.Errorf("GET order = %v", got)
	}
	if list := s.must(200, "GET", "/orders?user_id=derick", "")["items"].([]any); len(list) != 1 {
		t.Errorf("orders of derick = %v", list)
	}
	if got := s.must(200, "GET", "/users/balance/derick", ""); num(got["balance"]) != 1600 || got["username"] != "derick" {
		t.Errorf("seed balance call = %v", got)
	}
	if got := s.must(200, "GET", "/points?account_id=derick", ""); num(got["balance"]) != 0 || num(got["pending"]) != 170 {
		t.Errorf("derick's points = %v", got)
	}
}

// TestPurchaseFailures: each business failure compensates exactly the
// steps that ran, newest first, and leaves nothing changed.
func TestPurchaseFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		code       string
		saga       []string
	}{
		{"out of stock", `{"user_id":"derick","items":[{"product_id":"1","quantity":5}]}`, "OutOfStock",
			[]string{"ReserveStock:failed", "ReserveStock:caught", "ReleaseStock:succeeded", "FailOrder:succeeded", "Saga:failed"}},
		{"insufficient funds", `{"user_id":"derick","items":[{"product_id":"1","quantity":2}],"redeem_points":100}`, "InsufficientFunds",
			[]string{"ReserveStock:succeeded", "RedeemPoints:succeeded", "ChargeWallet:failed", "ChargeWallet:caught",
				"RefundWallet:succeeded", "RestorePoints:succeeded", "ReleaseStock:succeeded", "FailOrder:succeeded", "Saga:failed"}},
		{"insufficient points", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"redeem_points":1000}`, "InsufficientPoints",
			[]string{"ReserveStock:succeeded", "RedeemPoints:failed", "RedeemPoints:caught", "RestorePoints:succeeded",
				"ReleaseStock:succeeded", "FailOrder:succeeded", "Saga:failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, nil)
			if _, err := s.app.Points.Issue(context.Background(), points.IssueCommand{Account: points.MustAccountID("UnicornStore", "derick"), Amount: 500}); err != nil {
				t.Fatal(err)
			}
			order := s.must(201, "POST", "/purchase", tt.body)
			if order["status"] != "failed" || order["failure_code"] != tt.code || order["failure_reason"] == "" {
				t.Fatalf("order = %v", order)
			}
			if got := steps(order); !slices.Equal(got, tt.saga) {
				t.Errorf("saga:\n got %v\nwant %v", got, tt.saga)
			}
			if s.stock("1") != 4 || !s.balance("derick").Equal(decimal.NewFromInt(3300)) || s.points("derick") != 500 {
				t.Errorf("after the failure: stock %d, wallet %s, points %d; want 4, 3300, 500", s.stock("1"), s.balance("derick"), s.points("derick"))
			}
		})
	}
}

// faults injects task failures by resource name: fail[r] counts how many
// calls of r fail before it works (-1: always).
type faults struct {
	mu    sync.Mutex
	fail  map[string]int
	calls map[string]int
}

func (f *faults) wrap(resource string, h executor.Handler) executor.Handler {
	return func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		f.mu.Lock()
		f.calls[resource]++
		n := f.fail[resource]
		if n > 0 {
			f.fail[resource]--
		}
		f.mu.Unlock()
		if n != 0 {
			return nil, fmt.Errorf("injected fault in %s", resource)
		}
		return h(ctx, in)
	}
}

func (f *faults) set(resource string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[resource] = n
}

func TestTransientFaultsAreRetried(t *testing.T) {
	t.Parallel()
	f := &faults{fail: map[string]int{"ChargeWalletFunctionArn": 2}, calls: map[string]int{}}
	s := newStore(t, f.wrap)
	order := s.must(201, "POST", "/purchase", `{"userId":"derick","productId":"1","quantity":1}`)
	if order["status"] != "completed" {
		t.Fatalf("order = %v", order)
	}
	if got := steps(order); !slices.Contains(got, "ChargeWallet:retrying") || f.calls["ChargeWalletFunctionArn"] != 3 {
		t.Errorf("saga = %v, %d charge calls", got, f.calls["ChargeWalletFunctionArn"])
	}
	if !s.balance("derick").Equal(decimal.NewFromInt(1600)) {
		t.Errorf("wallet = %s, want 1600 (charged once)", s.balance("derick"))
	}
}

// TestCompensationFailureNeedsAttention: a compensation that keeps failing
// parks the order as needs_attention; an operator's retry, once the fault
// is gone, finishes the compensations and fails the order cleanly.
func TestCompensationFailureNeedsAttention(t *testing.T) {
	t.Parallel()
	f := &faults{fail: map[string]int{"RefundWalletFunctionArn": -1}, calls: map[string]int{}}
	s := newStore(t, f.wrap)
	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":2}]}`) // 3400 > 3300
	if order["status"] != "needs_attention" || order["failure_code"] != "InsufficientFunds" {
		t.Fatalf("order = %v", order)
	}
	if n := f.calls["RefundWalletFunctionArn"]; n != 6 {
		t.Errorf("RefundWallet ran %d times, want 6 (1 + 5 retries)", n)
	}
	if s.stock("1") != 2 {
		t.Errorf("stock = %d: still held (ReleaseStock comes after the failing refund)", s.stock("1"))
	}
	id := order["id"].(string)
	if list := s.must(200, "GET", "/orders?status=needs_attention", "")["items"].([]any); len(list) != 1 {
		t.Errorf("needing attention = %v", list)
	}
	s.must(404, "POST", "/orders/o-nope/retry", "")
	f.set("RefundWalletFunctionArn", 0)
	retried := s.must(201, "POST", "/orders/"+id+"/retry", "")
	if retried["status"] != "failed" || retried["failure_code"] != "InsufficientFunds" || num(retried["attempt"]) != 2 {
		t.Fatalf("after retry: %v", retried)
	}
	if s.stock("1") != 4 || !s.balance("derick").Equal(decimal.NewFromInt(3300)) {
		t.Errorf("after retry: stock %d, wallet %s", s.stock("1"), s.balance("derick"))
	}
	s.must(409, "POST", "/orders/"+id+"/retry", "") // failed now: nothing to retry
	got := steps(s.must(200, "GET", "/orders/"+id, ""))
	if !slices.Contains(got, "RefundWallet:failed") || got[len(got)-1] != "Saga:failed" || !slices.Contains(got, "ReleaseStock:succeeded") {
		t.Errorf("order history = %v", got)
	}
}

// TestConcurrentPurchases: 100 customers with enough money buy the last 10
// of a product at once. Exactly 10 orders complete; every other order is
// fully compensated; no money, stock or points are made or lost.
func TestConcurrentPurchases(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	ctx := context.Background()
	s.must(201, "POST", "/products", `{"id":"rare","name":"Rare Unicorn","description":"ten left","price":1000,"stock":10}`)
	const buyers = 100
	for i := range buyers {
		s.customer(fmt.Sprint("u", i))
		s.must(201, "POST", fmt.Sprintf("/users/u%d/wallet/deposits", i), `{"amount":1500}`, "Idempotency-Key", "d")
	}
	var wg sync.WaitGroup
	var completed, failed atomic.Int64
	for i := range buyers {
		wg.Go(func() {
			code, order := s.do("POST", "/purchase", fmt.Sprintf(`{"user_id":"u%d","items":[{"product_id":"rare","quantity":1}]}`, i))
			if code == 202 {
				// Still running when the wait ended (a busy machine):
				// follow the order to its end, as a client does.
				order = s.follow(order["id"].(string))
			}
			switch {
			case (code == 201 || code == 202) && order["status"] == "completed":
				completed.Add(1)
			case (code == 201 || code == 202) && order["status"] == "failed" && order["failure_code"] == "OutOfStock":
				failed.Add(1)
			default:
				t.Errorf("buyer %d: %d %v %v %v", i, code, order["status"], order["failure_code"], order["failure_reason"])
			}
		})
	}
	wg.Wait()
	if completed.Load() != 10 || failed.Load() != 90 || s.stock("rare") != 0 {
		t.Fatalf("completed %d, failed %d, stock %d; want 10, 90, 0", completed.Load(), failed.Load(), s.stock("rare"))
	}
	// Money: wallets plus revenue are what was deposited.
	total, revenue := decimal.Zero, decimal.NewFromInt(1000*10)
	var pointsSum int64
	for i := range buyers {
		total = total.Add(s.balance(fmt.Sprint("u", i)))
		pointsSum += s.points(fmt.Sprint("u", i)) + s.pending(fmt.Sprint("u", i))
	}
	if want := decimal.NewFromInt(1500 * buyers); !total.Add(revenue).Equal(want) {
		t.Errorf("wallets %s + revenue %s != deposits %s", total, revenue, want)
	}
	if pointsSum != 10*100 {
		t.Errorf("points awarded %d, want %d (100 per completed order)", pointsSum, 10*100)
	}
	// Points: the read model agrees with the ledger for every buyer.
	for i := range buyers {
		user := fmt.Sprint("u", i)
		acct, err := s.app.Points.Load(ctx, points.MustAccountID("UnicornStore", user))
		if err != nil {
			t.Fatal(err)
		}
		if got, pending := acct.Available(s.clock.Now()), acct.Pending(); got != s.points(user) || pending != s.pending(user) {
			t.Errorf("%s: ledger %d (%d pending), read model %d (%d pending)", user, got, pending, s.points(user), s.pending(user))
		}
	}
}

// TestStoreRequests: bad requests to the store are 4xx with the field.
func TestStoreRequests(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	tests := []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/purchase", `{"userId":"derick","productId":"nope","quantity":1}`, 400, "items[0].product_id"},
		{"POST", "/purchase", `{"userId":"derick","productId":"1","quantity":0}`, 400, "items[0].quantity"},
		{"POST", "/purchase", `{"userId":"derick","productId":"1","quantity":"2"}`, 400, "quantity"},
		{"POST", "/purchase", `{"user_id":"derick","items":[]}`, 400, "items"},
		{"POST", "/purchase", `{"user_id":"bad user","items":[{"product_id":"1","quantity":1}]}`, 400, "user_id"},
		{"POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}],"redeem_points":1000000}`, 400, "redeem_points"},
		{"POST", "/purchase", `{"user_id":"derick","userId":"derick","productId":"1"}`, 400, ""},
		{"POST", "/products", `{"id":"x","name":"","price":1}`, 400, "name"},
		{"POST", "/products", `{"id":"x","name":"X","price":"1"}`, 400, "price"},
		{"POST", "/products", `{"id":"x","name":"X","price":1.001}`, 400, "price"},
		{"POST", "/products", `{"id":"1","name":"X","price":1}`, 409, "id"},
		{"PUT", "/products/1", `{"name":"X","price":1,"stock":5}`, 400, "stock"},
		{"PUT", "/products/1", `{"name":"X","price":1}`, 412, "If-Match"},
		{"POST", "/products/1/stock", `{"delta":-100}`, 400, "delta"},
		{"POST", "/users/derick/wallet/deposits", `{"amount":-5}`, 400, "amount"},
		{"POST", "/users/derick/wallet/deposits", `{"amount":0.001}`, 400, "amount"},
		{"GET", "/orders?limit=0", ``, 400, "limit"},
		{"GET", "/orders/o-none", ``, 404, ""},
		{"GET", "/products/none", ``, 404, ""},
		{"GET", "/images/none.svg", ``, 404, ""},
		{"GET", "/users/derick/nothing", ``, 404, ""},
	}
	for _, tt := range tests {
		header := []string{}
		if tt.status == 412 {
			header = []string{"If-Match", `"9"`}
		}
		code, p := s.do(tt.method, tt.path, tt.body, header...)
		if code != tt.status {
			t.Errorf("%s %s %s: %d, want %d: %v", tt.method, tt.path, tt.body, code, tt.status, p)
			continue
		}
		if tt.field != "" {
			errs, _ := p["errors"].([]any)
			if len(errs) == 0 || errs[0].(map[string]any)["field"] != tt.field {
				t.Errorf("%s %s %s: errors %v, want field %s", tt.method, tt.path, tt.body, p["errors"], tt.field)
			}
		}
	}
	// An idempotency key: a repeat returns the same order; another body is 422.
	a := s.must(201, "POST", "/purchase", `{"userId":"derick","productId":"6","quantity":1}`, "Idempotency-Key", "k1")
	b := s.must(201, "POST", "/purchase", `{"userId":"derick","productId":"6","quantity":1}`, "Idempotency-Key", "k1")
	if a["id"] != b["id"] || s.stock("6") != 19 {
		t.Errorf("repeat made another order: %v %v, stock %d", a["id"], b["id"], s.stock("6"))
	}
	s.must(422, "POST", "/purchase", `{"userId":"derick","productId":"6","quantity":2}`, "Idempotency-Key", "k1")
	// The product change stream feeds search: an admin's new product is found.
	s.must(201, "POST", "/products", `{"id":"z1","name":"Zebracorn","description":"striped","price":10,"stock":1}`)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, _ := s.do("GET", "/products?q=zebra", "")
		found := code == 200 && strings.Contains(s.raw("/products?q=zebra"), `"z1"`)
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a new product never reached the search index")
		}
	}
	s.must(204, "DELETE", "/products/z1", "")
	for deadline := time.Now().Add(5 * time.Second); strings.Contains(s.raw("/products?q=zebra"), `"z1"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a deleted product is still found")
		}
	}
}

func (s *store) raw(path string) string {
	resp, err := http.Get(s.srv.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestOperatorMovesAPendingOrder: an order left pending with no saga (a
// crash between the two) is on the operator's list of pending orders, and
// a retry starts its saga.
func TestOperatorMovesAPendingOrder(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	at := s.clock.Now().UTC()
	price := decimal.NewFromInt(650)
	order := ports.Order{ID: "o-stuck", UserID: "derick", Client: "UnicornStore", Status: ports.OrderPending, Attempt: 1,
		Lines: []ports.OrderLine{{ProductID: "6", Name: "Cloud Strider", Quantity: 1, UnitPrice: price, Amount: price}},
		Total: price, PointsValue: decimal.Zero, Charged: price, CreatedAt: at, UpdatedAt: at, Version: 1}
	if _, _, err := s.app.db.Orders().Create(context.Background(), order); err != nil {
		t.Fatal(err)
	}
	list := s.must(200, "GET", "/orders?status=pending", "")
	items := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != "o-stuck" {
		t.Fatalf("pending orders = %v", list)
	}
	s.must(403, "GET", "/orders?status=pending", "", "Authorization", s.signIn("derick"))
	done := s.must(201, "POST", "/orders/o-stuck/retry", "")
	if done["status"] != "completed" || num(done["charged"]) != 650 {
		t.Errorf("retried order = %v", done)
	}
	s.must(409, "POST", "/orders/o-stuck/retry", "")
}
