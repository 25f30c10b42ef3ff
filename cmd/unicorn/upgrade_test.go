package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/points"
)

// The fixture testdata/upgrade/previous-release.sql is a store made and
// used by the previous release (schema version 11, before migration 0012);
// its README says how it was made. What follows is what that release
// showed of it, recorded by hand when the fixture was made.
const (
	// previousReleasePassword is every user's password in the fixture.
	previousReleasePassword = "previous-release-password"
	// partnerKey is the fixture's API key of the client PartnerAir.
	partnerKey = "uk_b8b5abd09518ff18_5iXL7yIdGPfv5wekHrDX2gvKRxQcKayQMdJvNiJyI5I"
	// previousSchema is the fixture's schema version.
	previousSchema = 11
)

// fixtureTime is a moment of the day the fixture was made, after its last
// write: the upgraded store runs on a clock stopped there, so that its
// lots (365 days, and one of a day) stay as they were whenever the test runs.
var fixtureTime = time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)

// previousLot is an account's one lot (all its points were issued on the
// fixture's day).
type previousLot struct {
	issued, remaining int64
	expiresOn         string
}

var previousPoints = map[string]previousLot{
	"UnicornStore/derick": {273, 123, "2027-12-02"},
	"UnicornStore/alice":  {1141, 831, "2027-12-02"},
	"UnicornStore/bob":    {409, 64, "2027-12-02"},
	"UnicornStore/guest":  {40, 25, "2026-12-03"}, // issued with -point-ttl-days 1
	"PartnerAir/member-7": {1250, 850, "2027-12-02"},
	"PartnerAir/member-8": {75, 75, "2027-12-02"},
}

type previousOrder struct {
	id, status, total, charged string
	redeemed, awarded          int64
	failure                    string
}

// previousOrders are each customer's orders, newest first, as GET /orders
// listed them.
var previousOrders = map[string][]previousOrder{
	"derick": {
		{"o-01a2381f-e1f0-77fc-ae0c-d549d57ddfa1", "completed", "650", "648.5", 150, 64, ""},
		{"o-01a2381f-e15c-7a18-a993-bbb9778a29c5", "failed", "3100", "0", 0, 0, "InsufficientFunds"},
		{"o-01a2381f-c0e3-767b-8dcf-3b9c64ac5b4d", "completed", "899.99", "899.99", 0, 89, ""},
	},
	"alice": {
		{"o-01a2381f-dff5-7883-bd4e-f0e840552fcb", "completed", "1700", "1697.5", 250, 253, ""},
		{"o-01a2381f-df4d-7f17-a9ec-1af7b2ae5021", "completed", "2599.5", "2599.5", 0, 388, ""},
		{"o-01a2381f-c43e-703e-9a48-2cb1b5792f26", "failed", "1700", "0", 0, 0, "InsufficientFunds"},
		{"o-01a2381f-c1a7-70ab-a689-2dac4751a09f", "failed", "2599.5", "0", 0, 0, "InsufficientFunds"},
	},
	"bob": {
		{"o-01a2381f-e0af-776d-9969-df1aa889f342", "completed", "650", "647", 300, 64, ""},
		{"o-01a2381f-c608-7849-8a38-3e0ec46343b9", "failed", "650", "0", 0, 0, "InsufficientFunds"},
		{"o-01a2381f-c50e-74e4-81c1-9b58d131d862", "failed", "2450", "0", 0, 0, "InsufficientFunds"},
	},
}

var previousWallets = map[string]string{"derick": "2002.01", "alice": "703", "bob": "53"}

var previousProducts = map[string]struct {
	price string
	stock int64
}{
	"1": {"1700", 3}, "2": {"899.99", 11}, "3": {"2450", 8}, "4": {"3100", 2}, "5": {"1299.5", 6}, "6": {"650", 16},
}

var previousUsers = []string{"admin", "alice", "bob", "derick", "marketer"}

// TestUpgradeFromPreviousRelease loads a database made by the previous
// release, opens it as serve does (which migrates it), and checks that
// everything it held still reads as that release showed it, that the
// points read model still equals the ledger, that the store keeps working
// on it, and that opening it again changes nothing.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "unicorn.db")
	loadFixture(t, path)
	rowsBefore := rowCountsOf(t, path)

	clk := clock.NewManual(fixtureTime)
	u := openAsServe(t, path, clk)
	admin := u.signIn(t, "admin", previousReleasePassword)
	partner := []string{"X-Api-Key", partnerKey}

	// The schema is the one a new store gets, at the latest version.
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	newest, err := sqlite.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	newest.Close()
	if got, want := userVersionOf(t, path), userVersionOf(t, fresh); got != want || want <= previousSchema {
		t.Errorf("schema version after the upgrade = %d, a new store's = %d, the fixture's = %d", got, want, previousSchema)
	}
	if diff := cmp.Diff(schemaOf(t, fresh), schemaOf(t, path)); diff != "" {
		t.Errorf("the upgraded schema differs from a new store's (-new +upgraded):\n%s", diff)
	}
	// No row was lost.
	for table, n := range rowCountsOf(t, path) {
		if n < rowsBefore[table] {
			t.Errorf("table %s holds %d rows after the upgrade, %d before", table, n, rowsBefore[table])
		}
	}

	// Points: every account reads as the previous release showed it, and
	// as the sum of its ledger events; the balance's stored total (what
	// migration 0012 computed) is the sum of its lots.
	ledger := ledgerSums(t, path)
	if len(ledger) != len(previousPoints) {
		t.Errorf("the ledger holds %d accounts, want %d: %v", len(ledger), len(previousPoints), ledger)
	}
	for account, want := range previousPoints {
		got := u.points(t, account, admin, partner)
		if got.Balance != want.remaining || ledger[account] != want.remaining {
			t.Errorf("%s: GET /points %d, ledger %d, the previous release showed %d", account, got.Balance, ledger[account], want.remaining)
		}
		wantLots := []lotView{{IssuedDate: "2026-12-02", Balance: want.remaining, Status: "active", ExpiresOn: want.expiresOn, Issued: want.issued}}
		if diff := cmp.Diff(wantLots, got.Lots); diff != "" {
			t.Errorf("%s: lots (-previous +upgraded):\n%s", account, diff)
		}
	}
	checkBalanceTotals(t, path)
	for _, user := range []string{"admin", "marketer"} { // no points, never had any
		if got := u.points(t, "UnicornStore/"+user, admin, partner); got.Balance != 0 || len(got.Lots) != 0 {
			t.Errorf("%s: %+v, want no points", user, got)
		}
	}

	// Users sign in with the password they had; a wrong one is refused.
	tokens := map[string]string{"admin": admin}
	for _, user := range previousUsers {
		tokens[user] = u.signIn(t, user, previousReleasePassword)
	}
	if status, body, err := call("POST", u.url+"/auth/token", `{"username":"alice","password":"not-her-password"}`); err != nil || status != 401 {
		t.Errorf("sign in with a wrong password: %d %v %s", status, err, body)
	}
	var users struct {
		Items []struct {
			Username string `json:"username"`
		} `json:"items"`
	}
	u.get(t, "/users", &users, "Authorization", admin)
	var names []string
	for _, us := range users.Items {
		names = append(names, us.Username)
	}
	slices.Sort(names)
	if !slices.Equal(names, previousUsers) {
		t.Errorf("users %v, want %v", names, previousUsers)
	}

	// Orders, wallets, products and campaigns.
	for user, want := range previousOrders {
		if diff := cmp.Diff(want, u.orders(t, user, tokens[user]), cmp.AllowUnexported(previousOrder{})); diff != "" {
			t.Errorf("orders of %s (-previous +upgraded):\n%s", user, diff)
		}
	}
	var order struct {
		Status string `json:"status"`
		Saga   []struct {
			Step   string `json:"step"`
			Status string `json:"status"`
		} `json:"saga"`
	}
	u.get(t, "/orders/o-01a2381f-e0af-776d-9969-df1aa889f342", &order, "Authorization", tokens["bob"])
	if order.Status != "completed" || len(order.Saga) == 0 || order.Saga[len(order.Saga)-1].Step != "Saga" {
		t.Errorf("bob's order and its saga history: %+v", order)
	}
	for user, want := range previousWallets {
		if got := u.wallet(t, user, admin); !got.Equal(decimal.RequireFromString(want)) {
			t.Errorf("wallet of %s: %s, the previous release showed %s", user, got, want)
		}
	}
	products := u.products(t, "")
	for id, want := range previousProducts {
		got, ok := products[id]
		if !ok || got.Stock != want.stock || !got.Price.Equal(decimal.RequireFromString(want.price)) {
			t.Errorf("product %s: %+v, the previous release showed %s and %d in stock", id, got, want.price, want.stock)
		}
	}
	if len(products) != len(previousProducts) {
		t.Errorf("%d products, want %d", len(products), len(previousProducts))
	}
	if found := u.products(t, "galloper"); len(found) != 1 || found["3"].Stock != 8 {
		t.Errorf(`search "galloper" found %v, want product 3`, found)
	}
	var campaigns struct {
		Items []struct {
			Name   string `json:"campaign_name"`
			Status string `json:"status"`
		} `json:"items"`
	}
	u.get(t, "/campaigns?client=UnicornStore", &campaigns, "Authorization", tokens["marketer"])
	var campaignNames []string
	for _, c := range campaigns.Items {
		campaignNames = append(campaignNames, c.Name+":"+c.Status)
	}
	slices.Sort(campaignNames)
	if want := []string{"1:active", "winter:active"}; !slices.Equal(campaignNames, want) {
		t.Errorf("campaigns %v, want %v", campaignNames, want)
	}

	// A request the previous release answered, sent again with its
	// Idempotency-Key, gets the same answer and changes nothing.
	for _, again := range []struct {
		method, body, key, id string
		header                []string
	}{
		{"POST", `{"account_id":"alice","amount":500,"reference":"welcome"}`, "pts-alice-1", "01a2381f-c28b-72dd-a94b-8610498efe2d", []string{"Authorization", admin}},
		{"DELETE", `{"account_id":"derick","amount":35,"reference":"coffee"}`, "red-derick-1", "01a2381f-c6db-7b86-92f5-4fd7c724f244", []string{"Authorization", tokens["derick"]}},
		{"POST", `{"account_id":"member-8","amount":75,"reference":"LH9"}`, "air-4", "01a23820-1493-712d-a72a-7334a4313903", partner},
	} {
		status, body, err := call(again.method, u.url+"/points", again.body, append(again.header, "Idempotency-Key", again.key)...)
		var tx struct {
			ID string `json:"id"`
		}
		if err != nil || status/100 != 2 || json.Unmarshal(body, &tx) != nil || tx.ID != again.id {
			t.Errorf("%s /points again with key %s: %d %v %s, want transaction %s", again.method, again.key, status, err, body, again.id)
		}
	}
	u.send(t, "POST", "/users/bob/wallet/deposits", `{"amount":700}`, 201, nil, "Authorization", admin, "Idempotency-Key", "dep-bob-1")
	if got := u.wallet(t, "bob", admin); !got.Equal(decimal.RequireFromString(previousWallets["bob"])) {
		t.Errorf("bob's wallet after his deposit was sent again: %s, want %s", got, previousWallets["bob"])
	}
	if got := ledgerSums(t, path); !maps.Equal(got, ledger) {
		t.Errorf("requests sent again changed the ledger: %v, was %v", got, ledger)
	}

	// The upgraded store works: a purchase that pays partly with points,
	// and new points for a store customer and a partner's member.
	status, body, err := call("POST", u.url+"/purchase", `{"user_id":"alice","items":[{"product_id":"6","quantity":1}],"redeem_points":100}`,
		"Authorization", tokens["alice"], "Idempotency-Key", "after-upgrade-1")
	if err != nil || (status != 201 && status != 202) {
		t.Fatalf("purchase after the upgrade: %d %v %s", status, err, body)
	}
	var bought orderJSON
	if err := json.Unmarshal(body, &bought); err != nil {
		t.Fatal(err)
	}
	bought = u.follow(t, bought.ID, tokens["alice"])
	if bought.Status != "completed" || bought.PointsRedeemed != 100 || bought.PointsAwarded <= 0 {
		t.Fatalf("purchase after the upgrade: %+v", bought)
	}
	wantAlice := previousPoints["UnicornStore/alice"].remaining - 100 + bought.PointsAwarded
	if got := u.points(t, "UnicornStore/alice", admin, partner).held(); got != wantAlice {
		t.Errorf("alice after her purchase: %d points, want %d", got, wantAlice)
	}
	if got, want := u.wallet(t, "alice", admin), decimal.RequireFromString(previousWallets["alice"]).Sub(bought.Charged); !got.Equal(want) || !bought.Charged.IsPositive() {
		t.Errorf("alice's wallet after paying %s: %s, want %s", bought.Charged, got, want)
	}
	if got := u.products(t, "")["6"].Stock; got != previousProducts["6"].stock-1 {
		t.Errorf("stock of product 6 after the purchase: %d, want %d", got, previousProducts["6"].stock-1)
	}
	u.issue(t, `{"account_id":"derick","amount":30,"reference":"after the upgrade"}`, "Authorization", admin, "Idempotency-Key", "after-upgrade-2")
	u.issue(t, `{"account_id":"member-8","amount":25,"reference":"after the upgrade"}`, append(partner, "Idempotency-Key", "after-upgrade-3")...)
	wantNow := map[string]int64{"UnicornStore/alice": wantAlice, "UnicornStore/derick": 153, "PartnerAir/member-8": 100}
	ledger = ledgerSums(t, path)
	for account := range previousPoints {
		want, ok := wantNow[account]
		if !ok {
			want = previousPoints[account].remaining
		}
		if got := u.points(t, account, admin, partner).held(); got != want || ledger[account] != want {
			t.Errorf("%s after the new writes: GET /points %d, ledger %d, want %d", account, got, ledger[account], want)
		}
	}

	// A lot the previous release issued expires after the upgrade: at
	// read time, and then in the ledger when the sweeper runs.
	clk.Set(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	admin = u.signIn(t, "admin", previousReleasePassword) // the clock jumped past the token's life
	guest := u.points(t, "UnicornStore/guest", admin, partner)
	if guest.Balance != 0 || len(guest.Lots) != 1 || guest.Lots[0].Status != "expired" {
		t.Errorf("guest after the day its lot expired: %+v", guest)
	}
	if res, err := u.app.Sweeper.Sweep(ctx); err != nil || res.Points != previousPoints["UnicornStore/guest"].remaining {
		t.Errorf("sweep: %+v, %v; want the guest's %d points expired", res, err, previousPoints["UnicornStore/guest"].remaining)
	}
	ledger = ledgerSums(t, path)
	for account := range previousPoints {
		id, err := points.ParseAccountID(account)
		if err != nil {
			t.Fatal(err)
		}
		b, err := u.app.Reads.Balance(ctx, id, points.LotPage{})
		if err != nil {
			t.Fatal(err)
		}
		acct, err := u.app.Points.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available+b.Pending != ledger[account] || acct.Available(clk.Now())+acct.Pending() != ledger[account] {
			t.Errorf("%s after the sweep: read model %d (%d pending), ledger events %d, account %d", account, b.Available, b.Pending,
				ledger[account], acct.Available(clk.Now())+acct.Pending())
		}
	}
	u.close(t)
	checkBalanceTotals(t, path)
	if got := integrityOf(t, path); got != "ok" {
		t.Errorf("integrity_check after the upgrade: %s", got)
	}

	// Opened again, by the binary as an operator starts it, the upgraded
	// file is left as it is: no migration runs twice.
	before := dumpDB(t, path)
	p := startServe(t, path, "UNICORN_SWEEP_INTERVAL=0", "UNICORN_WEBAPP_DIR="+t.TempDir())
	if status, body, err := call("GET", p.url+"/products/3", ""); err != nil || status != 200 || !strings.Contains(string(body), "Midnight Galloper") {
		t.Errorf("product 3 from the binary on the upgraded file: %d %v %s", status, err, body)
	}
	stopServe(t, p)
	if diff := cmp.Diff(before, dumpDB(t, path)); diff != "" {
		t.Errorf("opening the upgraded file again changed it (-before +after):\n%s", diff)
	}
	if got := integrityOf(t, path); got != "ok" {
		t.Errorf("integrity_check after opening again: %s", got)
	}
}

// loadFixture writes the previous release's database, from its SQL, to path.
func loadFixture(t *testing.T, path string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "upgrade", "previous-release.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(script)); err != nil {
		t.Fatalf("load the previous release's database: %v", err)
	}
	if _, err := db.Exec("PRAGMA journal_mode = WAL"); err != nil { // as the previous release left it
		t.Fatal(err)
	}
	if got := userVersionOf(t, path); got != previousSchema {
		t.Fatalf("the fixture is at schema version %d, want %d", got, previousSchema)
	}
}

// upgraded is the app opened on the upgraded file as serve opens it, its
// API served by a test server.
type upgraded struct {
	app    *app
	url    string
	stop   func()
	closed bool
}

// openAsServe opens the database at path as serve does (newApp, which
// migrates it; the demo loaders, which must leave a store with data alone;
// the orders left pending), with its background work running, on clk.
func openAsServe(t *testing.T, path string, clk *clock.Manual) *upgraded {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := compose.Defaults()
	c.DBPath = path
	a, err := newApp(ctx, c, slog.New(slog.DiscardHandler), deps{clock: clk})
	if err != nil {
		cancel()
		t.Fatalf("open the previous release's database: %v", err)
	}
	srv := httptest.NewServer(a.handler)
	var wg sync.WaitGroup
	u := &upgraded{app: a, url: srv.URL}
	u.stop = func() {
		srv.Close()
		cancel()
		wg.Wait()
	}
	t.Cleanup(func() {
		if !u.closed {
			u.stop()
			a.Close()
		}
	})
	if err := loadDemoUsers(ctx, a, "a-password-nobody-uses", srv.URL, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := loadDemo(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Orders.ResumeStranded(ctx, 0); err != nil || n != 0 {
		t.Errorf("resume pending orders: %d, %v (the previous release left none)", n, err)
	}
	wg.Go(func() { _ = a.feed(ctx) })
	wg.Go(func() { _ = a.executor.Run(ctx) })
	wg.Go(func() { // a saga's retry waits on the stopped clock: move it there
		for ctx.Err() == nil {
			if next, err := a.db.Executions().NextWake(ctx, clk.Now()); err == nil && next.After(clk.Now()) {
				clk.Set(next)
				a.executor.Poke()
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	return u
}

// close stops the app once the change feed has delivered everything, so
// that a later opening has nothing left to do.
func (u *upgraded) close(t *testing.T) {
	t.Helper()
	u.stop()
	if _, err := u.app.dispatcher.Drain(context.Background()); err != nil {
		t.Errorf("drain the outbox: %v", err)
	}
	u.closed = true
	if err := u.app.Close(); err != nil {
		t.Fatal(err)
	}
}

func (u *upgraded) signIn(t *testing.T, username, password string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	u.send(t, "POST", "/auth/token", fmt.Sprintf(`{"username":%q,"password":%q}`, username, password), 200, &tok)
	return "Bearer " + tok.AccessToken
}

// send calls the API and decodes the answer, which must have status want.
func (u *upgraded) send(t *testing.T, method, path, body string, want int, into any, header ...string) {
	t.Helper()
	status, b, err := call(method, u.url+path, body, header...)
	if err != nil || status != want {
		t.Fatalf("%s %s: %d %v %s", method, path, status, err, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
}

func (u *upgraded) get(t *testing.T, path string, into any, header ...string) {
	t.Helper()
	u.send(t, "GET", path, "", 200, into, header...)
}

func (u *upgraded) issue(t *testing.T, body string, header ...string) {
	t.Helper()
	u.send(t, "POST", "/points", body, 201, nil, header...)
}

type lotView struct {
	IssuedDate string `json:"issued_date"`
	Balance    int64  `json:"balance"`
	Status     string `json:"status"`
	ExpiresOn  string `json:"expires_on"`
	Issued     int64  `json:"issued"`
	Expired    int64  `json:"expired"`
}

type pointsView struct {
	Balance int64     `json:"balance"`
	Pending int64     `json:"pending"` // a purchase's points, within its return window
	Lots    []lotView `json:"balance_entries"`
}

// held is what the account holds, spendable or pending: the signed sum of
// its ledger.
func (v pointsView) held() int64 { return v.Balance + v.Pending }

// points reads GET /points for an account ("client/id"): the store's as
// its admin, the partner's with the partner's key.
func (u *upgraded) points(t *testing.T, account, admin string, partner []string) pointsView {
	t.Helper()
	client, id, _ := strings.Cut(account, "/")
	header := []string{"Authorization", admin}
	switch client {
	case "UnicornStore":
	case "PartnerAir":
		header = partner
	default:
		t.Fatalf("no credentials for the client of %s", account)
	}
	var v pointsView
	u.get(t, "/points?account_id="+id, &v, header...)
	return v
}

type orderJSON struct {
	ID             string          `json:"id"`
	Status         string          `json:"status"`
	Total          decimal.Decimal `json:"total"`
	Charged        decimal.Decimal `json:"charged"`
	PointsRedeemed int64           `json:"points_redeemed"`
	PointsAwarded  int64           `json:"points_awarded"`
	FailureCode    string          `json:"failure_code"`
}

func (u *upgraded) orders(t *testing.T, user, auth string) []previousOrder {
	t.Helper()
	var page struct {
		Items []orderJSON `json:"items"`
	}
	u.get(t, "/orders?user_id="+user, &page, "Authorization", auth)
	out := make([]previousOrder, 0, len(page.Items))
	for _, o := range page.Items {
		out = append(out, previousOrder{o.ID, o.Status, o.Total.String(), o.Charged.String(), o.PointsRedeemed, o.PointsAwarded, o.FailureCode})
	}
	return out
}

// follow reads an order until it is no longer pending.
func (u *upgraded) follow(t *testing.T, id, auth string) orderJSON {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var o orderJSON
		u.get(t, "/orders/"+id, &o, "Authorization", auth)
		if o.Status != "pending" {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s still pending after two minutes", id)
		}
	}
}

func (u *upgraded) wallet(t *testing.T, user, auth string) decimal.Decimal {
	t.Helper()
	var w struct {
		Balance decimal.Decimal `json:"balance"`
	}
	u.get(t, "/users/"+user+"/wallet", &w, "Authorization", auth)
	return w.Balance
}

type productJSON struct {
	Price decimal.Decimal `json:"price"`
	Stock int64           `json:"stock"`
}

func (u *upgraded) products(t *testing.T, query string) map[string]productJSON {
	t.Helper()
	var list []struct {
		ID string `json:"id"`
		productJSON
	}
	u.get(t, "/products?q="+query, &list)
	out := map[string]productJSON{}
	for _, p := range list {
		out[p.ID] = p.productJSON
	}
	return out
}

// stopServe ends the binary with SIGTERM, as an operator stops it.
func stopServe(t *testing.T, p *process) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve on the upgraded file ended with %v:\n%s", err, p.log())
		}
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop after SIGTERM:\n%s", p.log())
	}
}

// inspectDB runs fn on a read-only handle of the database at path.
func inspectDB(t *testing.T, path string, fn func(*sql.DB) error) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := fn(db); err != nil {
		t.Fatal(err)
	}
}

func userVersionOf(t *testing.T, path string) int {
	t.Helper()
	var v int
	inspectDB(t, path, func(db *sql.DB) error { return db.QueryRow("PRAGMA user_version").Scan(&v) })
	return v
}

func integrityOf(t *testing.T, path string) string {
	t.Helper()
	var res []string
	inspectDB(t, path, func(db *sql.DB) error {
		rows, err := db.Query("PRAGMA integrity_check")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			res = append(res, s)
		}
		return rows.Err()
	})
	return strings.Join(res, "; ")
}

// ledgerSums adds up each account's ledger events, read from the table
// itself: what the points are, whatever the read model says.
func ledgerSums(t *testing.T, path string) map[string]int64 {
	t.Helper()
	sums := map[string]int64{}
	inspectDB(t, path, func(db *sql.DB) error {
		rows, err := db.Query(`SELECT account, type, json_extract(data, '$.amount') FROM ledger_events ORDER BY position`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var account, typ string
			var amount int64
			if err := rows.Scan(&account, &typ, &amount); err != nil {
				return err
			}
			switch typ {
			case points.EventIssued, points.EventRedemptionReversed:
				sums[account] += amount
			case points.EventRedeemed, points.EventExpired, points.EventIssueReversed:
				sums[account] -= amount
			case points.EventMatured: // pending points became spendable: the account holds as much
			default:
				return fmt.Errorf("ledger event of unknown type %q", typ)
			}
		}
		return rows.Err()
	})
	return sums
}

// checkBalanceTotals: each balance's stored total is the sum of its lots.
func checkBalanceTotals(t *testing.T, path string) {
	t.Helper()
	inspectDB(t, path, func(db *sql.DB) error {
		rows, err := db.Query(`SELECT b.account, b.remaining + b.pending,
			(SELECT COALESCE(SUM(l.remaining + l.pending), 0) FROM point_lots l WHERE l.account = b.account)
			FROM point_balances b ORDER BY b.account`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var account string
			var total, lots int64
			if err := rows.Scan(&account, &total, &lots); err != nil {
				return err
			}
			if total != lots {
				t.Errorf("%s: the balance's total is %d, its lots hold %d", account, total, lots)
			}
		}
		return rows.Err()
	})
}

// schemaOf lists the tables, indexes and triggers and how they are made.
func schemaOf(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	inspectDB(t, path, func(db *sql.DB) error {
		rows, err := db.Query(`SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var typ, name, table, text string
			if err := rows.Scan(&typ, &name, &table, &text); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s %s on %s: %s", typ, name, table, text))
		}
		return rows.Err()
	})
	return out
}

func tableNames(db *sql.DB) ([]string, error) {
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// rowCountsOf counts the rows of every table.
func rowCountsOf(t *testing.T, path string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	inspectDB(t, path, func(db *sql.DB) error {
		names, err := tableNames(db)
		if err != nil {
			return err
		}
		for _, name := range names {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM "` + name + `"`).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", name, err)
			}
			counts[name] = n
		}
		return nil
	})
	return counts
}

// dumpDB is the database as sorted lines: its version, its schema, and
// every row of every table.
func dumpDB(t *testing.T, path string) []string {
	t.Helper()
	out := append([]string{fmt.Sprint("user_version ", userVersionOf(t, path))}, schemaOf(t, path)...)
	inspectDB(t, path, func(db *sql.DB) error {
		names, err := tableNames(db)
		if err != nil {
			return err
		}
		for _, name := range names {
			var rows []string
			if err := func() error {
				r, err := db.Query(`SELECT * FROM "` + name + `"`)
				if err != nil {
					return err
				}
				defer r.Close()
				cols, err := r.Columns()
				if err != nil {
					return err
				}
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				for r.Next() {
					if err := r.Scan(ptrs...); err != nil {
						return err
					}
					var b strings.Builder
					b.WriteString(name)
					for _, v := range vals {
						if bs, ok := v.([]byte); ok {
							v = string(bs)
						}
						fmt.Fprintf(&b, " %#v", v)
					}
					rows = append(rows, b.String())
				}
				return r.Err()
			}(); err != nil {
				return fmt.Errorf("dump %s: %w", name, err)
			}
			slices.Sort(rows)
			out = append(out, rows...)
		}
		return nil
	})
	return out
}
