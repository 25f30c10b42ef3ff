package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/ports"
)

// TestCrashUnderMixedLoad runs the real binary under a mixed load —
// purchases (some paying partly with points), points issued by a partner
// system's API key, points redeemed by that key or by an admin, wallet
// deposits and restocks — and kills it with SIGKILL while requests are in
// flight: three times in make test, UNICORN_CRASH_KILLS times in make
// crash. Every write carries an Idempotency-Key and is kept. After the
// last restart:
//
//   - every order left pending by a kill ends without its client asking
//     again, and none stays pending;
//   - every write is sent again with its key: one acknowledged before a
//     kill gets the same answer (the same order, the same transaction, the
//     same stock figure) and is not applied twice, and one never
//     acknowledged is applied now, once;
//   - through the API, stock on hand + reserved + sold = initial stock +
//     restocks; each wallet + what its completed orders were charged =
//     its deposits; each points account's balance = issued - redeemed +
//     what completed orders awarded - the points they spent, and its
//     ledger holds each issue and redemption once;
//   - the file passes SQLite's integrity check.
func TestCrashUnderMixedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for several seconds")
	}
	kills := envInt(t, "UNICORN_CRASH_KILLS", 3, 1)
	const (
		buyers  = 40
		stock   = 60
		price   = 150 // over the demo campaign's 100: purchases earn points
		deposit = 600
	)
	db := filepath.Join(t.TempDir(), "unicorn.db")
	key := apiKey(t, db, "points:read,points:write") // in the database: valid across restarts
	p := startServe(t, db)
	auth := signIn(t, p.url, "admin") // so is the admin's session
	admin := []string{"Authorization", auth}
	partner := []string{"X-Api-Key", key}
	mustCall := func(method, url, body string, want int, header ...string) []byte {
		t.Helper()
		status, b, err := callAnswered(method, url, body, append(header, "Authorization", auth)...)
		if err != nil || status != want {
			t.Fatalf("%s %s: %d %v %s", method, url, status, err, b)
		}
		return b
	}
	mustCall("POST", p.url+"/products", fmt.Sprintf(`{"id":"crash","name":"Crash Test Unicorn","price":%d,"stock":%d}`, price, stock), 201)
	var setup sync.WaitGroup
	for w := range 4 {
		setup.Go(func() {
			for i := w; i < buyers; i += 4 {
				mustCall("POST", p.url+"/users", fmt.Sprintf(`{"username":"c%d","role":"customer","password":"a-long-password-%d"}`, i, i), 201)
				mustCall("POST", fmt.Sprintf("%s/users/c%d/wallet/deposits", p.url, i), fmt.Sprintf(`{"amount":%d}`, deposit), 201, "Idempotency-Key", "start")
			}
		})
	}
	setup.Wait()

	// newRequest makes the n-th write of a worker: what it is decides from
	// rng, and it is kept as sent, to send again.
	newRequest := func(rng *rand.Rand, name string) *mixedRequest {
		buyer := rng.IntN(buyers)
		r := &mixedRequest{buyer: buyer, key: name}
		switch n := rng.IntN(100); {
		case n < 40:
			r.kind, r.method, r.path, r.header = "purchase", "POST", "/purchase", admin
			r.body = fmt.Sprintf(`{"user_id":"c%d","items":[{"product_id":"crash","quantity":1}]`, buyer)
			if rng.IntN(3) == 0 {
				r.body += fmt.Sprintf(`,"redeem_points":%d`, 1+rng.IntN(200))
			}
			r.body += "}"
		case n < 60:
			r.kind, r.method, r.path, r.header, r.amount = "issue", "POST", "/points", partner, int64(10+rng.IntN(290))
			r.body = fmt.Sprintf(`{"account_id":"c%d","amount":%d,"reference":%q}`, buyer, r.amount, name)
		case n < 75:
			r.kind, r.method, r.path, r.header, r.amount = "redeem", "DELETE", "/points", partner, int64(1+rng.IntN(100))
			if rng.IntN(2) == 0 {
				r.header = admin
			}
			r.body = fmt.Sprintf(`{"account_id":"c%d","amount":%d,"reference":%q}`, buyer, r.amount, name)
		case n < 90:
			r.kind, r.method, r.header, r.amount = "deposit", "POST", admin, int64(50+rng.IntN(250))
			r.path, r.body = fmt.Sprintf("/users/c%d/wallet/deposits", buyer), fmt.Sprintf(`{"amount":%d}`, r.amount)
		default:
			r.kind, r.method, r.path, r.header, r.amount = "restock", "POST", "/products/crash/stock", admin, int64(1+rng.IntN(2))
			r.body = fmt.Sprintf(`{"delta":%d}`, r.amount)
		}
		return r
	}

	rng := rand.New(rand.NewPCG(3, 5))
	var mu sync.Mutex
	var sent []*mixedRequest
	for round := range kills {
		if round > 0 {
			p = startServe(t, db)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 8 {
			wrng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					r := newRequest(wrng, fmt.Sprintf("r%d-w%d-%d", round, w, n))
					mu.Lock()
					sent = append(sent, r)
					mu.Unlock()
					a := r.send(p.url)
					mu.Lock()
					r.first = a
					mu.Unlock()
					if a.err != nil {
						return // killed
					}
				}
			})
		}
		time.Sleep(time.Duration(150+rng.IntN(400)) * time.Millisecond)
		p.kill9(t)
		close(stop)
		wg.Wait()
		t.Logf("kill %d: %d writes sent so far", round+1, len(sent))
	}

	p = startServe(t, db)
	// Every order stored before a kill ends without its client asking
	// again: one whose saga had not started when the process died is
	// started at start-up.
	waitNonePending := func(when string) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			var page struct{ Items []map[string]any }
			_ = json.Unmarshal(mustCall("GET", p.url+"/orders?status=pending", "", 200), &page)
			if len(page.Items) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s, %d orders are still pending, such as %v", when, len(page.Items), page.Items[0])
			}
		}
	}
	waitNonePending("after the restart, though nobody asked again")

	// Every write again, with its key.
	acked, kept, unanswered := map[string]int{}, map[string]int{}, 0
	jobs := make(chan *mixedRequest)
	var resend sync.WaitGroup
	for range 8 {
		resend.Go(func() {
			for r := range jobs {
				r.final = r.sendUntilAnswered(p.url)
			}
		})
	}
	for _, r := range sent {
		jobs <- r
	}
	close(jobs)
	resend.Wait()
	for _, r := range sent {
		if !r.final.applied(r.kind) && !r.final.refused(r.kind) {
			t.Fatalf("%s %s (%s) after the crashes: %d %s", r.method, r.path, r.body, r.final.status, r.final.raw)
		}
		if r.first.err != nil {
			unanswered++
		}
		if !r.first.applied(r.kind) {
			continue
		}
		acked[r.kind]++
		if r.final.status != r.first.status || r.final.id != r.first.id || r.final.stock != r.first.stock {
			t.Errorf("%s %s %s (key %s) was answered %d %s before a kill, and %d %s now: an acknowledged write was lost",
				r.method, r.path, r.body, r.key, r.first.status, r.first.raw, r.final.status, r.final.raw)
			continue
		}
		kept[r.kind]++
	}
	waitNonePending("after every write was sent again")

	// What the writes did, by their final answers.
	restocked := int64(0)
	deposited := map[int]int64{}
	issued, redeemed := map[int]int64{}, map[int]int64{}
	refs := map[int]map[string]bool{} // by buyer: the points writes applied, by key
	orders := map[string]int{}        // order id -> buyer
	for _, r := range sent {
		if !r.final.applied(r.kind) {
			continue
		}
		switch r.kind {
		case "purchase":
			orders[r.final.id] = r.buyer
		case "issue", "redeem":
			if refs[r.buyer] == nil {
				refs[r.buyer] = map[string]bool{}
			}
			refs[r.buyer][r.key] = true
			if r.kind == "issue" {
				issued[r.buyer] += r.amount
			} else {
				redeemed[r.buyer] += r.amount
			}
		case "deposit":
			deposited[r.buyer] += r.amount
		case "restock":
			restocked += r.amount
		}
	}
	// The orders the store holds are those the purchases were answered
	// with, no more.
	for i := range buyers {
		for cursor := ""; ; {
			var page struct {
				Items      []map[string]any
				NextCursor string `json:"next_cursor"`
			}
			_ = json.Unmarshal(mustCall("GET", fmt.Sprintf("%s/orders?user_id=c%d&limit=500&cursor=%s", p.url, i, cursor), "", 200), &page)
			for _, o := range page.Items {
				if _, ok := orders[o["id"].(string)]; !ok {
					t.Errorf("c%d has order %s (%v), which no purchase was answered with", i, o["id"], o["status"])
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	sold, completed, failed, failures := int64(0), 0, 0, map[string]int{}
	charged := map[int]decimal.Decimal{}
	awarded, spent := map[int]int64{}, map[int]int64{}
	for id, buyer := range orders {
		var o struct {
			Status         string
			FailureCode    string `json:"failure_code"`
			Charged        decimal.Decimal
			PointsAwarded  int64 `json:"points_awarded"`
			PointsRedeemed int64 `json:"points_redeemed"`
			Lines          []struct{ Quantity int64 }
		}
		if err := json.Unmarshal(mustCall("GET", p.url+"/orders/"+id, "", 200), &o); err != nil {
			t.Fatal(err)
		}
		switch o.Status {
		case "completed":
			completed++
			for _, l := range o.Lines {
				sold += l.Quantity
			}
			charged[buyer] = charged[buyer].Add(o.Charged)
			awarded[buyer] += o.PointsAwarded
			spent[buyer] += o.PointsRedeemed
		case "failed":
			failed++
			failures[o.FailureCode]++
			if !o.Charged.IsZero() || o.PointsAwarded != 0 || o.PointsRedeemed != 0 {
				t.Errorf("failed order %s kept effects: %+v", id, o)
			}
		default:
			t.Errorf("order %s of c%d ended %s", id, buyer, o.Status)
		}
	}
	var product struct{ Stock int64 }
	_ = json.Unmarshal(mustCall("GET", p.url+"/products/crash", "", 200), &product)
	caughtUp := time.Now().Add(time.Minute) // by when the read models must have caught up
	for i := range buyers {
		var wallet struct{ Balance decimal.Decimal }
		_ = json.Unmarshal(mustCall("GET", fmt.Sprintf("%s/users/c%d/wallet", p.url, i), "", 200), &wallet)
		if want := decimal.NewFromInt(deposit + deposited[i]); !wallet.Balance.Add(charged[i]).Equal(want) {
			t.Errorf("c%d: wallet %s + charged %s != deposits %s", i, wallet.Balance, charged[i], want)
		}
		// The ledger holds each points write applied once, and nothing
		// the writes did not ask for; an award an order took back after
		// the buyer had spent it is recorded as unrecovered.
		txs := transactions(t, p.url, fmt.Sprintf("c%d", i), key)
		seen := map[string]int{}
		var unrecovered int64
		issues := map[string]bool{}
		for _, tx := range txs {
			if tx.Type == "issue" && strings.HasPrefix(tx.Reference, "order:") {
				issues[tx.ID] = true
			}
		}
		for _, tx := range txs {
			switch {
			case (tx.Type == "issue" || tx.Type == "redeem") && !strings.HasPrefix(tx.Reference, "order:"):
				seen[tx.Reference]++
			case tx.Type == "issue_reversal" && issues[tx.Reverses]:
				unrecovered += tx.Unrecovered
			}
		}
		for ref, n := range seen {
			if n != 1 || !refs[i][ref] {
				t.Errorf("c%d: the ledger holds %s %d times (applied: %v)", i, ref, n, refs[i][ref])
			}
		}
		for ref := range refs[i] {
			if seen[ref] != 1 {
				t.Errorf("c%d: %s was answered, and the ledger holds it %d times", i, ref, seen[ref])
			}
		}
		want := issued[i] - redeemed[i] + awarded[i] - spent[i] + unrecovered
		var got int64
		for ; ; time.Sleep(20 * time.Millisecond) {
			if got = pointsBalance(t, p.url, fmt.Sprintf("c%d", i), key); got == want || time.Now().After(caughtUp) {
				break // the read model catches up with the ledger
			}
		}
		if got != want {
			t.Errorf("c%d: %d points; want %d issued - %d redeemed + %d awarded - %d spent on orders + %d kept = %d",
				i, got, issued[i], redeemed[i], awarded[i], spent[i], unrecovered, want)
		}
	}
	p.kill9(t)
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity check after %d kills: %q %v", kills, check, err)
	}
	// Stock held by reservations: none once no order is pending.
	reserved := int64(0)
	rows, err := conn.Query(`SELECT lines FROM reservations WHERE status = 'reserved'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var raw string
		var lines []ports.StockLine
		if err := rows.Scan(&raw); err != nil || json.Unmarshal([]byte(raw), &lines) != nil {
			t.Fatalf("reservation lines %q: %v", raw, err)
		}
		for _, l := range lines {
			reserved += l.Quantity
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if product.Stock < 0 || product.Stock+reserved+sold != stock+restocked {
		t.Errorf("stock: %d on hand + %d reserved + %d sold != %d initial + %d restocked", product.Stock, reserved, sold, stock, restocked)
	}
	t.Logf("%d kills, %d writes, %d cut off by a kill; acknowledged before a kill (kept / acknowledged): purchases %d/%d, issues %d/%d, redemptions %d/%d, deposits %d/%d, restocks %d/%d; %d orders completed, %d failed %v",
		kills, len(sent), unanswered, kept["purchase"], acked["purchase"], kept["issue"], acked["issue"], kept["redeem"], acked["redeem"],
		kept["deposit"], acked["deposit"], kept["restock"], acked["restock"], completed, failed, failures)
}

// mixedRequest is one write of the crash campaign's load, kept as sent.
type mixedRequest struct {
	kind                    string // purchase, issue, redeem, deposit, restock
	method, path, body, key string
	header                  []string
	buyer                   int
	amount                  int64 // points issued or redeemed, money deposited, units restocked
	first, final            answer
}

// answer is what the store answered a write.
type answer struct {
	status int
	id     string // the order, or the points transaction
	stock  int64  // a restock's stock after it
	raw    []byte
	err    error
}

// applied tells an answer that says the write took effect.
func (a answer) applied(kind string) bool {
	switch kind {
	case "purchase":
		return a.err == nil && (a.status == 201 || a.status == 202) && a.id != ""
	case "redeem", "restock":
		return a.err == nil && a.status == 200
	}
	return a.err == nil && a.status == 201 // issue, deposit
}

// refused tells an answer that refuses the write for a business reason,
// which leaves nothing behind: not enough points.
func (a answer) refused(kind string) bool {
	return a.err == nil && (kind == "redeem" && a.status == 409 || kind == "purchase" && (a.status == 409 || a.status == 422))
}

func (r *mixedRequest) send(url string) answer {
	status, b, err := call(r.method, url+r.path, r.body, append(slices.Clone(r.header), "Idempotency-Key", r.key)...)
	a := answer{status: status, raw: b, err: err}
	if err == nil {
		var v struct {
			ID    string `json:"id"`
			Stock int64  `json:"stock"`
		}
		_ = json.Unmarshal(b, &v)
		a.id, a.stock = v.ID, v.Stock
	}
	return a
}

// sendUntilAnswered sends the write until the store answers it, waiting
// out the answers that ask to come back later (429, 503).
func (r *mixedRequest) sendUntilAnswered(url string) answer {
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		a := r.send(url)
		if a.err == nil && a.status != 429 && a.status != 503 || time.Now().After(deadline) {
			return a
		}
	}
}

// callAnswered is call for the checks, which read faster than the store
// lets one caller: an answer that asks to come back later (429, 503) is
// waited out.
func callAnswered(method, url, body string, header ...string) (int, []byte, error) {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		status, b, err := call(method, url, body, header...)
		if err != nil || status != 429 && status != 503 || time.Now().After(deadline) {
			return status, b, err
		}
	}
}

// pointsBalance reads an account's balance with the API key.
// pointsBalance is what an account holds: spendable, and pending (what
// purchases earned within their return window).
func pointsBalance(t *testing.T, url, account, key string) int64 {
	t.Helper()
	status, body, err := callAnswered("GET", url+"/points?account_id="+account, "", "X-Api-Key", key)
	if err != nil || status != 200 {
		t.Fatalf("balance of %s: %d %v %s", account, status, err, body)
	}
	var b struct{ Balance, Pending int64 }
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b.Balance + b.Pending
}

// ledgerEntry is a points transaction as GET /points/transactions lists it.
type ledgerEntry struct {
	ID          string `json:"id"`
	Type        string `json:"transaction_type"`
	Reference   string `json:"reference"`
	Reverses    string `json:"reverses"`
	Unrecovered int64  `json:"unrecovered"`
}

// transactions lists an account's points transactions, every page.
func transactions(t *testing.T, url, account, key string) []ledgerEntry {
	t.Helper()
	var out []ledgerEntry
	for cursor := ""; ; {
		status, body, err := callAnswered("GET", url+"/points/transactions?account_id="+account+"&limit=500&cursor="+cursor, "", "X-Api-Key", key)
		if err != nil || status != 200 {
			t.Fatalf("transactions of %s: %d %v %s", account, status, err, body)
		}
		var page struct {
			Items      []ledgerEntry `json:"items"`
			NextCursor string        `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
}

// TestStrandedOrderResumesAtStart: a crash between storing an order and
// starting its saga leaves a pending order nothing else would move. The
// next start of serve starts its saga, and the order completes without
// its client asking again.
func TestStrandedOrderResumesAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	db := filepath.Join(t.TempDir(), "unicorn.db")
	p := startServe(t, db) // the demo: derick has 3300, unicorn 1 costs 1700
	p.kill9(t)

	// The state such a crash leaves: the order, and no execution.
	store, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Minute)
	price := decimal.NewFromInt(1700)
	order := ports.Order{ID: "o-stranded", UserID: "derick", Client: "UnicornStore", Status: ports.OrderPending, Attempt: 1,
		Lines: []ports.OrderLine{{ProductID: "1", Name: "Unicorn Air (2023 Model)", Quantity: 1, UnitPrice: price, Amount: price}},
		Total: price, PointsValue: decimal.Zero, Charged: price, CreatedAt: at, UpdatedAt: at, Version: 1}
	if _, _, err := store.Orders().Create(context.Background(), order); err != nil {
		t.Fatal(err)
	}
	store.Close()

	p = startServe(t, db)
	auth := signIn(t, p.url, "admin")
	var got map[string]any
	for deadline := time.Now().Add(60 * time.Second); got["status"] != "completed"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stranded order is still %v:\n%s", got["status"], p.log())
		}
		_, b, err := call("GET", p.url+"/orders/o-stranded", "", "Authorization", auth)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(b, &got)
	}
	if num(got["charged"]) != 1700 || num(got["points_awarded"]) != 170 {
		t.Errorf("resumed order = %v", got)
	}
}
