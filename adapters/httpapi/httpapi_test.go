package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/adapters/jwtauth"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/adapters/webhookhttp"
	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/domains/tier"
	"github.com/unicornstore/unicorn/domains/webhooks"
	"github.com/unicornstore/unicorn/internal/syncbuf"
	"github.com/unicornstore/unicorn/orchestration"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

var day0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

type api struct {
	t          testing.TB
	srv        *httptest.Server
	clock      *clock.Manual
	identity   *identity.Service
	db         *sqlite.DB
	sagas      *executor.Executor // registered, not running: see runSagas
	dispatcher *sqlite.Dispatcher // feeds the sales views, not running: see runSagas
	logs       *syncbuf.Buffer    // the API's log lines, as JSON
	auth       string             // the Authorization of requests that send none: an admin's
}

// testHash makes password hashing cheap in tests.
var testHash = identity.HashParams{MemoryKiB: 64, Passes: 1, Lanes: 1}

const testPassword = "test-password-123"

// setup is what a test may change in the harness.
type setup struct {
	retail  retail.Config
	webApp  fs.FS
	cognito *httpapi.Cognito
	limits  httpapi.Limits
}

type option func(*setup)

// purchaseWait sets how long POST /purchase waits for its saga.
func purchaseWait(d time.Duration) option { return func(s *setup) { s.retail.PurchaseWait = d } }

// cognito has people sign in at a Cognito user pool.
func cognito(c httpapi.Cognito) option { return func(s *setup) { s.cognito = &c } }

// limited serves under the limits; a bound on sagas counts the
// harness's executor unless the limits say otherwise.
func limited(l httpapi.Limits) option { return func(s *setup) { s.limits = l } }

// webApp serves dir as the built web app.
func webApp(dir fs.FS) option { return func(s *setup) { s.webApp = dir } }

// newAPI serves the API over a fresh SQLite file with a hand-moved clock.
// The purchase saga is registered but runs only once a test calls
// runSagas: most tests only need the retail routes to exist.
func newAPI(t testing.TB, ttlDays int, opts ...option) *api {
	t.Helper()
	ctx := context.Background()
	set := setup{retail: retail.Config{Client: "UnicornStore", PurchaseWait: 50 * time.Millisecond}}
	for _, o := range opts {
		o(&set)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewManual(day0)
	svc, err := points.NewService(points.Deps{Ledger: db.Ledger(), Snapshots: db.Snapshots(), Clock: clk, IDs: clock.UUIDs{}},
		points.Config{TTLDays: ttlDays})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := points.NewReadModel(db.Ledger(), db.Balances(), clk)
	if err != nil {
		t.Fatal(err)
	}
	campaigns, err := campaign.NewService(campaign.Deps{Store: db.Campaigns(), Points: svc, Clock: clk, Purchases: db.SalesTallies()})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := executor.New(executor.Config{Store: db.Executions(), Clock: clk, IDs: clock.UUIDs{}})
	if err != nil {
		t.Fatal(err)
	}
	if set.limits.SagaBacklog == nil {
		set.limits.SagaBacklog = ex.Backlog
	}
	tiers, err := tier.NewService(db.Campaigns(), svc, clk)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := retail.NewSteps(retail.StepDeps{Stock: db.Stock(), Wallets: db.Wallets(), Orders: db.Orders(), Publisher: db.Publisher(),
		Points: svc, Campaigns: campaigns, Tiers: tiers, Clock: clk}, set.retail)
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.Register(orchestration.ReturnMachine, orchestration.Return, sagatasks.ReturnHandlers(steps, nil)); err != nil {
		t.Fatal(err)
	}
	if err := ex.Register(orchestration.PurchaseMachine, orchestration.Purchase, sagatasks.Handlers(steps, nil)); err != nil {
		t.Fatal(err)
	}
	orders, err := retail.NewOrders(retail.OrderDeps{Catalog: db.Catalog(), Stock: db.Stock(), Orders: db.Orders(),
		Sagas: ex.Sagas(orchestration.PurchaseMachine), Returns: ex.Sagas(orchestration.ReturnMachine), Clock: clk, IDs: clock.UUIDs{}}, set.retail)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	sales := retail.NewSales(db.SalesTallies(), clk)
	dispatcher := db.NewDispatcher(log)
	dispatcher.Subscribe("sales-tallies", sales.Record, ports.TopicPurchases)
	key, err := jwtauth.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jwtauth.NewSigner(key, "unicorn-store", "unicorn-api", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.NewService(identity.Deps{Users: db.Users(), APIKeys: db.APIKeys(), Sessions: db.Sessions(), Throttle: db.Throttle(),
		Tokens: signer, Clock: clk, IDs: clock.UUIDs{}}, identity.Config{Hash: testHash})
	if err != nil {
		t.Fatal(err)
	}
	wallets, err := retail.NewWallets(db.Wallets(), db.Users(), clk, "UnicornStore")
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhooks.NewService(webhooks.Deps{Store: db.Webhooks(), Sender: webhookhttp.New(), Balances: db.Balances(), Clock: clk,
		IDs: clock.UUIDs{}, Log: log}, webhooks.Config{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.NewHandler(httpapi.Config{Points: svc, ReadModel: rm, Campaigns: campaigns, Tiers: tiers, Webhooks: hooks,
		Catalog: retail.NewCatalog(db.Catalog(), db.Stock(), db.ProductSearch(), clk, "UnicornStore"), Wallets: wallets,
		Orders: orders, Sales: sales, Identity: ids, Tokens: jwtauth.NewVerifier(signer, nil, clk.Now),
		JWKS: signer.JWKS(), CORSOrigins: []string{"https://shop.example"}, StoreClient: "UnicornStore", PointValue: decimal.RequireFromString("0.01"), PointTTLDays: svc.TTLDays(),
		WebApp: set.webApp, Cognito: set.cognito, Log: log, Ready: db.Ping, Limits: set.limits})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a := &api{t: t, srv: srv, clock: clk, identity: ids, db: db, sagas: ex, dispatcher: dispatcher, logs: logs}
	a.auth = a.user("boss", ports.RoleAdmin, "UnicornStore")
	return a
}

// runSagas runs the purchase sagas and delivers the events they publish,
// in the background, until the test ends.
func (a *api) runSagas() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.sagas.Run(ctx) })
	wg.Go(func() { _ = a.dispatcher.Run(ctx) })
	a.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// apiKey makes an API key of UnicornStore with the scopes: the
// Authorization header value. Keys do not expire: tests that move the
// clock by days use them.
func (a *api) apiKey(scopes ...string) string {
	a.t.Helper()
	return a.clientKey("UnicornStore", scopes...)
}

// clientKey makes an API key of client with the scopes.
func (a *api) clientKey(client string, scopes ...string) string {
	a.t.Helper()
	key, _, err := a.identity.CreateAPIKey(context.Background(), client, "test", scopes)
	if err != nil {
		a.t.Fatal(err)
	}
	return "Bearer " + key
}

// user creates a user and signs them in: the Authorization header value.
func (a *api) user(username, role, client string) string {
	a.t.Helper()
	if _, err := a.identity.CreateUser(context.Background(), username, client, role, testPassword); err != nil {
		a.t.Fatal(err)
	}
	tok := a.must(200, "POST", "/auth/token", fmt.Sprintf(`{"username":%q,"password":%q}`, username, testPassword), "Authorization", "")
	return "Bearer " + tok["access_token"].(string)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (a *api) do(method, path, body string, header ...string) response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", a.auth)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	r := response{resp.StatusCode, resp.Header, b}
	a.checkContract(req, body, r)
	return r
}

// checkContract fails the test when an exchange does not fit the API's
// OpenAPI contract (openapi_test.go): a request the server took that the
// contract does not describe, or an answer it does not list. Errorf, not
// Fatal: tests call do from goroutines.
func (a *api) checkContract(req *http.Request, body string, r response) {
	a.t.Helper()
	c, err := loadContract()
	if err == nil {
		err = c.check(req, []byte(body), r)
	}
	if err != nil {
		a.t.Errorf("%s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
}

func (a *api) must(status int, method, path, body string, header ...string) map[string]any {
	a.t.Helper()
	r := a.do(method, path, body, header...)
	if r.status != status {
		a.t.Fatalf("%s %s %s: status %d, want %d\n%s", method, path, body, r.status, status, r.body)
	}
	return r.json(a.t)
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// TestSeedCalls: the calls seed 003 documents work unchanged.
func TestSeedCalls(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	issued := a.must(201, "POST", "/points", `{"account_id": "1234", "amount" : 100 }`)
	for _, f := range []string{"id", "account_id", "transaction_type", "amount", "date_time", "balance"} {
		if _, ok := issued[f]; !ok {
			t.Errorf("issue response lacks %q: %v", f, issued)
		}
	}
	if issued["transaction_type"] != "issue" || num(issued["amount"]) != 100 || num(issued["balance"]) != 100 || issued["account_id"] != "1234" {
		t.Errorf("issue response = %v", issued)
	}
	a.must(201, "POST", "/points", `{"account_id": "1234", "amount" : 100 }`)
	redeemed := a.must(200, "DELETE", "/points", `{"account_id": "1234", "amount" : 100 }`)
	if redeemed["transaction_type"] != "redeem" || num(redeemed["balance"]) != 100 {
		t.Errorf("redeem response = %v", redeemed)
	}
	bal := a.must(200, "GET", "/points?account_id=1234", "")
	if bal["account_id"] != "1234" || num(bal["balance"]) != 100 {
		t.Errorf("balance = %v", bal)
	}
	entries, _ := bal["balance_entries"].([]any)
	if len(entries) != 1 {
		t.Fatalf("balance_entries = %v, want one lot", bal["balance_entries"])
	}
	e := entries[0].(map[string]any)
	want := map[string]any{"issued_date": "2026-03-02", "balance": 100.0, "status": "active", "expires_on": "2027-03-02", "issued": 200.0, "expired": 0.0}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("entry[%s] = %v, want %v", k, e[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, e["last_updated"].(string)); err != nil {
		t.Errorf("last_updated: %v", err)
	}
}

// TestBadRequests: every malformed request is a 4xx problem+json naming the
// field at fault, never a 5xx.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/points", `{"account_id":"rich","amount":50}`)
	big := `{"account_id":"1234","amount":1,"reference":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		field                    string
	}{
		{"malformed JSON", "POST", "/points", `{"account_id":"1234",`, nil, 400, ""},
		{"not JSON", "POST", "/points", `account_id=1234&amount=100`, nil, 400, ""},
		{"empty body", "POST", "/points", ``, nil, 400, ""},
		{"array body", "POST", "/points", `[1,2]`, nil, 400, ""},
		{"trailing data", "POST", "/points", `{"account_id":"1234","amount":1} {}`, nil, 400, ""},
		{"amount as string", "POST", "/points", `{"account_id":"1234","amount":"100"}`, nil, 400, "amount"},
		{"amount as bool", "POST", "/points", `{"account_id":"1234","amount":true}`, nil, 400, "amount"},
		{"fractional amount", "DELETE", "/points", `{"account_id":"1234","amount":10.5}`, nil, 400, "amount"},
		{"zero amount", "POST", "/points", `{"account_id":"1234","amount":0}`, nil, 400, "amount"},
		{"negative amount", "DELETE", "/points", `{"account_id":"1234","amount":-10}`, nil, 400, "amount"},
		{"absurd amount", "POST", "/points", `{"account_id":"1234","amount":1000000001}`, nil, 400, "amount"},
		{"huge amount", "POST", "/points", `{"account_id":"1234","amount":1e400}`, nil, 400, "amount"},
		{"missing amount", "POST", "/points", `{"account_id":"1234"}`, nil, 400, "amount"},
		{"null amount", "POST", "/points", `{"account_id":"1234","amount":null}`, nil, 400, "amount"},
		{"missing account", "POST", "/points", `{"amount":5}`, nil, 400, "account_id"},
		{"account as number", "POST", "/points", `{"account_id":1234,"amount":5}`, nil, 400, "account_id"},
		{"account with space", "POST", "/points", `{"account_id":"12 34","amount":5}`, nil, 400, "account_id"},
		{"account with slash", "DELETE", "/points", `{"account_id":"../etc","amount":5}`, nil, 400, "account_id"},
		{"account too long", "POST", "/points", `{"account_id":"` + strings.Repeat("a", 129) + `","amount":5}`, nil, 400, "account_id"},
		{"unknown field", "POST", "/points", `{"account_id":"1234","amont":5}`, nil, 400, "amont"},
		{"reference too long", "POST", "/points", `{"account_id":"1234","amount":5,"reference":"` + strings.Repeat("r", 257) + `"}`, nil, 400, "reference"},
		{"body over 1 MiB", "POST", "/points", big, nil, 413, ""},
		{"idempotency key with space", "POST", "/points", `{"account_id":"1234","amount":5}`, []string{"Idempotency-Key", "a b"}, 400, "Idempotency-Key"},
		{"idempotency key too long", "POST", "/points", `{"account_id":"1234","amount":5}`, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "Idempotency-Key"},
		{"balance without account", "GET", "/points", ``, nil, 400, "account_id"},
		{"balance of bad account", "GET", "/points?account_id=%20x", ``, nil, 400, "account_id"},
		{"transactions without account", "GET", "/points/transactions", ``, nil, 400, "account_id"},
		{"limit not a number", "GET", "/points/transactions?account_id=1234&limit=ten", ``, nil, 400, "limit"},
		{"limit too large", "GET", "/points/transactions?account_id=1234&limit=501", ``, nil, 400, "limit"},
		{"bad cursor", "GET", "/points/transactions?account_id=1234&cursor=-3", ``, nil, 400, "cursor"},
		{"insufficient points", "DELETE", "/points", `{"account_id":"rich","amount":51}`, nil, 409, ""},
		{"reverse unknown transaction", "POST", "/points/transactions/nope/reversal", `{"account_id":"rich"}`, nil, 404, ""},
		{"reverse without account", "POST", "/points/transactions/nope/reversal", `{}`, nil, 400, "account_id"},
		{"unknown path", "GET", "/nope", ``, nil, 404, ""},
		{"wrong method", "PUT", "/points", `{}`, nil, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.method, tt.path, tt.body, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			p := r.json(t)
			if num(p["status"]) != int64(tt.status) || p["title"] == "" || !strings.HasPrefix(p["type"].(string), "urn:unicorn:problem:") {
				t.Errorf("problem = %v", p)
			}
			if tt.field != "" {
				errs, _ := p["errors"].([]any)
				if len(errs) == 0 || errs[0].(map[string]any)["field"] != tt.field {
					t.Errorf("errors = %v, want field %q", p["errors"], tt.field)
				}
			}
		})
	}
	// Nothing above changed the balance.
	if bal := a.must(200, "GET", "/points?account_id=rich", ""); num(bal["balance"]) != 50 {
		t.Errorf("balance = %v, want 50", bal["balance"])
	}
}

func TestInsufficientPointsSaysWhatIsAvailable(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/points", `{"account_id":"1234","amount":70}`)
	p := a.must(409, "DELETE", "/points", `{"account_id":"1234","amount":100}`)
	if num(p["available"]) != 70 || num(p["requested"]) != 100 {
		t.Errorf("problem = %v, want available 70, requested 100", p)
	}
}

// TestDoubleSpendOverHTTP: 50 concurrent redemptions of 10 from 200 give
// exactly 20 successes, a balance of 0 and a ledger without gaps.
func TestDoubleSpendOverHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/points", `{"account_id":"1234","amount":200}`)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 50 {
		wg.Go(func() {
			r := a.do("DELETE", "/points", `{"account_id":"1234","amount":10}`)
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 20 || statuses[409] != 30 || len(statuses) != 2 {
		t.Errorf("statuses = %v, want 20×200 and 30×409", statuses)
	}
	if bal := a.must(200, "GET", "/points?account_id=1234", ""); num(bal["balance"]) != 0 {
		t.Errorf("balance = %v, want 0", bal["balance"])
	}
	page := a.must(200, "GET", "/points/transactions?account_id=1234&limit=500", "")
	items := page["items"].([]any)
	if len(items) != 21 {
		t.Fatalf("%d transactions, want 21", len(items))
	}
	for i, it := range items {
		if seq := num(it.(map[string]any)["seq"]); seq != int64(21-i) {
			t.Fatalf("transaction %d has seq %d, want %d: a gap", i, seq, 21-i)
		}
	}
}

// TestIdempotencyKeyOverHTTP: one key sent 20 times concurrently has one
// effect and every response is the first; the key with another body is 422.
func TestIdempotencyKeyOverHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range 20 {
		wg.Go(func() {
			r := a.do("POST", "/points", `{"account_id":"1234","amount":25}`, "Idempotency-Key", "req-7")
			if r.status != 201 {
				t.Errorf("attempt %d: status %d: %s", i, r.status, r.body)
			}
			bodies[i] = string(r.body)
		})
	}
	wg.Wait()
	for i := range bodies {
		if bodies[i] != bodies[0] {
			t.Errorf("response %d differs:\n%s\n%s", i, bodies[i], bodies[0])
		}
	}
	if bal := a.must(200, "GET", "/points?account_id=1234", ""); num(bal["balance"]) != 25 {
		t.Errorf("balance = %v, want 25 (one effect)", bal["balance"])
	}
	a.must(422, "POST", "/points", `{"account_id":"1234","amount":26}`, "Idempotency-Key", "req-7")
	a.must(422, "DELETE", "/points", `{"account_id":"1234","amount":25}`, "Idempotency-Key", "req-7")
	// Redeem with a key: a repeat returns the first result even once the
	// points are gone.
	first := a.must(200, "DELETE", "/points", `{"account_id":"1234","amount":25}`, "Idempotency-Key", "pay-1")
	again := a.must(200, "DELETE", "/points", `{"account_id":"1234","amount":25}`, "Idempotency-Key", "pay-1")
	if first["id"] != again["id"] {
		t.Errorf("repeat redeemed again: %v vs %v", first, again)
	}
}

func TestTransactionsPages(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	for i := 1; i <= 7; i++ {
		a.must(201, "POST", "/points", fmt.Sprintf(`{"account_id":"1234","amount":%d}`, i))
	}
	var amounts []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		path := "/points/transactions?account_id=1234&limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		p := a.must(200, "GET", path, "")
		for _, it := range p["items"].([]any) {
			amounts = append(amounts, num(it.(map[string]any)["amount"]))
		}
		next, _ := p["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(amounts) != "[7 6 5 4 3 2 1]" {
		t.Errorf("amounts = %v, want newest first 7..1", amounts)
	}
	if p := a.must(200, "GET", "/points/transactions?account_id=nobody", ""); len(p["items"].([]any)) != 0 {
		t.Errorf("unknown account has transactions: %v", p)
	}
}

// TestExpiryOverHTTP: seed 003's TTL of 2 days, lots on day 0 and day 1.
func TestExpiryOverHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 2)
	a.auth = a.apiKey("points:read", "points:write")
	a.must(201, "POST", "/points", `{"account_id":"1234","amount":100}`)
	a.clock.Advance(24 * time.Hour)
	a.must(201, "POST", "/points", `{"account_id":"1234","amount":50}`)
	bal := a.must(200, "GET", "/points?account_id=1234", "")
	if num(bal["balance"]) != 150 || num(bal["expiring_soon"].(map[string]any)["points"]) != 150 {
		t.Errorf("day 1: %v", bal)
	}
	a.clock.Advance(24 * time.Hour)
	bal = a.must(200, "GET", "/points?account_id=1234", "")
	entries := bal["balance_entries"].([]any)
	if num(bal["balance"]) != 50 || entries[0].(map[string]any)["status"] != "expired" || entries[1].(map[string]any)["status"] != "active" {
		t.Errorf("day 2: %v", bal)
	}
	p := a.must(409, "DELETE", "/points", `{"account_id":"1234","amount":60}`)
	if num(p["available"]) != 50 {
		t.Errorf("expired points offered for redemption: %v", p)
	}
}

// TestBalancePagesOfLots: a balance shows its lots a page at a time, all of
// them or the active ones; the sums cover every lot whatever the page.
func TestBalancePagesOfLots(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 3)
	a.auth = a.apiKey("points:read", "points:write")
	for range 5 { // lots of days 0..4; by day 4 those of days 0 and 1 expired
		a.must(201, "POST", "/points", `{"account_id":"1234","amount":10}`)
		a.clock.Advance(24 * time.Hour)
	}
	a.clock.Advance(-24 * time.Hour)
	days := func(bal map[string]any) (out []string) {
		for _, e := range bal["balance_entries"].([]any) {
			out = append(out, e.(map[string]any)["issued_date"].(string)[8:]+":"+e.(map[string]any)["status"].(string))
		}
		return out
	}
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		bal := a.must(200, "GET", "/points?account_id=1234&limit=2&cursor="+cursor, "")
		if num(bal["balance"]) != 30 {
			t.Errorf("page %d: balance %v, want 30 whatever the page", page, bal["balance"])
		}
		seen = append(seen, days(bal)...)
		next, _ := bal["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	first := a.clock.Now().AddDate(0, 0, -4).Format("02")
	if len(seen) != 5 || seen[0] != first+":expired" || !strings.HasSuffix(seen[4], ":active") {
		t.Errorf("pages of 2 gave %v, want five lots, the first expired, the last active", seen)
	}
	active := a.must(200, "GET", "/points?account_id=1234&status=active", "")
	if got := days(active); len(got) != 3 || active["next_cursor"] != nil {
		t.Errorf("active lots %v (next %v), want the three of days 2..4 and no more", got, active["next_cursor"])
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "status=expired", "cursor=yesterday"} {
		p := a.must(400, "GET", "/points?account_id=1234&"+q, "")
		if p["type"] == nil {
			t.Errorf("%s: %v, want a problem", q, p)
		}
	}
}

func TestReversalOverHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/points", `{"account_id":"1234","amount":100}`)
	red := a.must(200, "DELETE", "/points", `{"account_id":"1234","amount":80}`)
	path := "/points/transactions/" + red["id"].(string) + "/reversal"
	rev := a.must(201, "POST", path, `{"account_id":"1234"}`)
	if rev["transaction_type"] != "redemption_reversal" || num(rev["balance"]) != 100 || rev["reverses"] != red["id"] {
		t.Errorf("reversal = %v", rev)
	}
	a.must(409, "POST", path, `{"account_id":"1234"}`)
	// Another account cannot reverse it.
	a.must(404, "POST", path, `{"account_id":"5678"}`)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	if h := a.must(200, "GET", "/healthz", ""); h["status"] != "ok" {
		t.Errorf("health = %v", h)
	}
	r := a.do("GET", "/healthz", "", "X-Request-Id", "trace-42")
	if r.header.Get("X-Request-Id") != "trace-42" {
		t.Errorf("X-Request-Id = %q, want the client's", r.header.Get("X-Request-Id"))
	}
}

// FuzzPointsBody: no body of an authorized caller makes the API answer
// 5xx. Every request carries a key that may issue and redeem (checked
// before fuzzing, and a 401 or 403 fails the run), so the bodies reach
// the decoding and the points commands instead of stopping at the guard.
func FuzzPointsBody(f *testing.F) {
	for _, s := range []string{`{"account_id":"1234","amount":100}`, `{"account_id":"1234","amount":1e3}`, `{"account_id":"","amount":-0}`,
		`{"amount":9223372036854775808}`, `[{}]`, `"x"`, `{"account_id":"a","amount":1,"reference":"r"}`, "\x00", `{"account_id":"1234","amount":0.0000001}`,
		`{"account_id":"1234","amount":1e10000000}`, `{"account_id":"1234","amount":100.0}`} {
		f.Add(s)
	}
	a := newAPI(f, 365)
	key := a.apiKey("points:read", "points:write")
	a.must(201, "POST", "/points", `{"account_id":"1234","amount":100}`, "Authorization", key)
	f.Fuzz(func(t *testing.T, body string) {
		for _, method := range []string{"POST", "DELETE"} {
			w := httptest.NewRecorder()
			req := httptest.NewRequest(method, "/points", bytes.NewBufferString(body))
			req.Header.Set("Authorization", key)
			a.srv.Config.Handler.ServeHTTP(w, req)
			switch {
			case w.Code >= 500:
				t.Fatalf("%s %q: status %d %s", method, body, w.Code, w.Body)
			case w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden:
				t.Fatalf("%s %q: %d: the fuzzer's credentials were refused, so the body was never read", method, body, w.Code)
			}
		}
	})
}
