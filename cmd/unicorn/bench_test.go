package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/internal/benchlat"
)

// The purchase benchmarks run the whole store (HTTP, SQLite with
// synchronous=FULL, the executor running purchase.asl.json with its task
// handlers, the outbox feeding the read models) and time POST /purchase
// until it answers with the completed order. Buyers take turns; the
// product never runs out; each purchase awards points under campaign 1.

const benchBuyers = 100

func benchPurchaseStore(b testing.TB) (*store, *http.Client) {
	s := startStore(b, deps{})
	s.must(201, "POST", "/products", `{"id":"bench","name":"Bench Unicorn","description":"plenty","price":1700,"stock":1000000000}`)
	for i := range benchBuyers {
		s.customer(fmt.Sprint("buyer", i))
		s.must(201, "POST", fmt.Sprintf("/users/buyer%d/wallet/deposits", i), `{"amount":1000000000}`, "Idempotency-Key", "bench")
	}
	return s, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// purchase buys one unicorn for buyer i and fails unless it completed.
func purchase(client *http.Client, s *store, i int64) error {
	body := fmt.Sprintf(`{"user_id":"buyer%d","items":[{"product_id":"bench","quantity":1}]}`, i%benchBuyers)
	req, err := http.NewRequest("POST", s.srv.URL+"/purchase", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", s.auth)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var o struct{ Status string }
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated || o.Status != "completed" {
		return fmt.Errorf("purchase: %d %s", resp.StatusCode, o.Status)
	}
	return nil
}

// BenchmarkPurchase is one client buying: the latency of a purchase.
func BenchmarkPurchase(b *testing.B) {
	s, client := benchPurchaseStore(b)
	var lat benchlat.Recorder
	var i int64
	before := s.app.db.CommitStats()
	start := time.Now()
	for b.Loop() {
		i++
		t := time.Now()
		if err := purchase(client, s, i); err != nil {
			b.Fatal(err)
		}
		lat.Since(t)
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "purchases/s")
	reportCommits(b, s, before, i, time.Since(start))
	lat.Report(b)
}

// BenchmarkPurchaseConcurrent is 16 clients buying at once: throughput, and
// latency with queueing behind the saga workers and SQLite's one writer.
func BenchmarkPurchaseConcurrent(b *testing.B) {
	s, client := benchPurchaseStore(b)
	var lat benchlat.Recorder
	var n atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 clients
	before := s.app.db.CommitStats()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t := time.Now()
			if err := purchase(client, s, n.Add(1)); err != nil {
				b.Error(err)
				return
			}
			lat.Since(t)
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "purchases/s")
	reportCommits(b, s, before, n.Load(), time.Since(start))
	lat.Report(b)
}

// reportCommits reports the write transactions a purchase asked for and
// the commits (fsyncs) they took, counting the outbox's and read models'
// work the purchases caused while the benchmark ran.
func reportCommits(b *testing.B, s *store, before sqlite.CommitStats, purchases int64, elapsed time.Duration) {
	if purchases == 0 {
		return
	}
	after := s.app.db.CommitStats()
	b.ReportMetric(float64(after.Writes-before.Writes)/float64(purchases), "writes/purchase")
	b.ReportMetric(float64(after.Commits-before.Commits)/float64(purchases), "commits/purchase")
	b.ReportMetric(100*float64(after.Busy-before.Busy)/float64(elapsed), "%writer-busy")
}
