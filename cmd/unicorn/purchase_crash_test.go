package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/ports"
)

// TestCrashDuringPurchases runs the real binary, sends purchases from
// several clients and kills the process with SIGKILL while they are in
// flight: three times in make test, UNICORN_CRASH_KILLS times in make crash.
// After the last restart, clients send every purchase again with its
// idempotency key: each one answered before a kill gets the same order
// back (no acknowledged write is lost), every order ends (completed or
// failed), stock, money and points add up, and the file passes SQLite's
// integrity check.
func TestCrashDuringPurchases(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for several seconds")
	}
	kills := envInt(t, "UNICORN_CRASH_KILLS", 3, 1)
	// Enough buyers that purchases are still in flight at the last kill,
	// and a quarter more than the stock, so that some fail.
	buyers := max(200, 70*kills)
	stock := buyers * 3 / 4
	const (
		price   = 200
		deposit = 250
	)
	db := filepath.Join(t.TempDir(), "unicorn.db")
	p := startServe(t, db)
	auth := signIn(t, p.url, "admin") // valid across restarts: the key and the session are in the database
	mustCall := func(method, url, body string, want int, header ...string) []byte {
		t.Helper()
		status, b, err := call(method, url, body, append(header, "Authorization", auth)...)
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
	purchase := func(url string, i int) (int, map[string]any, error) {
		status, b, err := call("POST", url+"/purchase", fmt.Sprintf(`{"user_id":"c%d","items":[{"product_id":"crash","quantity":1}]}`, i), "Idempotency-Key", "buy", "Authorization", auth)
		var order map[string]any
		if err == nil {
			_ = json.Unmarshal(b, &order)
		}
		return status, order, err
	}

	rng := rand.New(rand.NewPCG(3, 5))
	var mu sync.Mutex
	answered := map[int]string{} // buyer -> the order id a purchase was answered with
	for round := range kills {
		if round > 0 {
			p = startServe(t, db)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		next := 0
		for range 8 {
			wg.Go(func() {
				for {
					mu.Lock()
					for next < buyers && answered[next] != "" {
						next++
					}
					i := next
					next++
					mu.Unlock()
					select {
					case <-stop:
						return
					default:
					}
					if i >= buyers {
						return
					}
					status, order, err := purchase(p.url, i)
					if err != nil {
						return // killed
					}
					if id, _ := order["id"].(string); status == 201 || status == 202 {
						mu.Lock()
						answered[i] = id
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(time.Duration(150+rng.IntN(400)) * time.Millisecond)
		p.kill9(t)
		close(stop)
		wg.Wait()
		t.Logf("kill %d: %d purchases answered so far", round+1, len(answered))
	}

	p = startServe(t, db)
	// Every order stored before a kill ends without its client asking
	// again: one whose saga had not started when the process died is
	// started at start-up.
	for i := range buyers {
		var page struct{ Items []map[string]any }
		_ = json.Unmarshal(mustCall("GET", fmt.Sprintf("%s/orders?user_id=c%d", p.url, i), "", 200), &page)
		for _, o := range page.Items {
			id := o["id"].(string)
			for deadline := time.Now().Add(60 * time.Second); o["status"] == "pending"; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("order %s of c%d is still pending after the restart, though nobody retried it", id, i)
				}
				_ = json.Unmarshal(mustCall("GET", p.url+"/orders/"+id, "", 200), &o)
			}
		}
	}
	ids := make([]string, buyers)
	for i := range buyers {
		status, order, err := purchase(p.url, i)
		if err != nil || (status != 201 && status != 202) {
			t.Fatalf("purchase %d after the crashes: %d %v %v", i, status, err, order)
		}
		ids[i] = order["id"].(string)
		if first := answered[i]; first != "" && first != ids[i] {
			t.Errorf("c%d was answered with order %s before a kill, and now with %s: an acknowledged purchase was lost", i, first, ids[i])
		}
	}
	completed, failed := 0, 0
	for i, id := range ids {
		var order map[string]any
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_ = json.Unmarshal(mustCall("GET", p.url+"/orders/"+id, "", 200), &order)
			if order["status"] != "pending" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("order %s of c%d is still pending", id, i)
			}
		}
		var wallet struct{ Balance float64 }
		_ = json.Unmarshal(mustCall("GET", fmt.Sprintf("%s/users/c%d/wallet", p.url, i), "", 200), &wallet)
		var pts struct{ Balance int64 }
		_ = json.Unmarshal(mustCall("GET", fmt.Sprintf("%s/points?account_id=c%d", p.url, i), "", 200), &pts)
		switch order["status"] {
		case "completed":
			completed++
			if wallet.Balance != deposit-price || pts.Balance != price/10 {
				t.Errorf("c%d completed: wallet %v, points %d; want %d and %d", i, wallet.Balance, pts.Balance, deposit-price, price/10)
			}
		case "failed":
			failed++
			if wallet.Balance != deposit || pts.Balance != 0 || order["failure_code"] != "OutOfStock" {
				t.Errorf("c%d failed (%v): wallet %v, points %d; want everything back", i, order["failure_code"], wallet.Balance, pts.Balance)
			}
		default:
			t.Errorf("order of c%d ended %v", i, order["status"])
		}
	}
	var product struct{ Stock int }
	_ = json.Unmarshal(mustCall("GET", p.url+"/products/crash", "", 200), &product)
	if completed+product.Stock != stock || completed+failed != buyers || completed != stock {
		t.Errorf("completed %d, failed %d, stock left %d; want %d completed and nothing left", completed, failed, product.Stock, stock)
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
	t.Logf("%d kills: %d purchases answered before a kill, all kept; %d completed, %d failed", kills, len(answered), completed, failed)
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
