package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestCrashDuringPurchases runs the real binary, sends 200 purchases from
// several clients and kills the process with SIGKILL three times while they
// are in flight. After the last restart, clients send every purchase again
// with its idempotency key: every order ends (completed or failed), and
// stock, money and points add up.
func TestCrashDuringPurchases(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for several seconds")
	}
	const (
		buyers  = 200
		stock   = 150
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
	for i := range buyers {
		mustCall("POST", fmt.Sprintf("%s/users/c%d/wallet/deposits", p.url, i), fmt.Sprintf(`{"amount":%d}`, deposit), 201, "Idempotency-Key", "start")
	}
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
	answered := map[int]bool{}
	for round := range 3 {
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
					for next < buyers && answered[next] {
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
					status, _, err := purchase(p.url, i)
					if err != nil {
						return // killed
					}
					mu.Lock()
					answered[i] = status == 201 || status == 202
					mu.Unlock()
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
	ids := make([]string, buyers)
	for i := range buyers {
		status, order, err := purchase(p.url, i)
		if err != nil || (status != 201 && status != 202) {
			t.Fatalf("purchase %d after the crashes: %d %v %v", i, status, err, order)
		}
		ids[i] = order["id"].(string)
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
}
