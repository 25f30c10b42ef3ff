package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/internal/benchlat"
)

// These benchmarks drive the real handler over loopback HTTP (keep-alive
// client) on a real SQLite file with synchronous=FULL: what a client of
// `unicorn serve` sees, minus the network. Each reports the median and 99th
// percentile latency of its requests besides the mean (ns/op).

const benchAccounts = 1000

func benchRequest(b *testing.B, client *http.Client, auth, method, url, body string) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", auth)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Fatalf("%s %s: %d", method, url, resp.StatusCode)
	}
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// BenchmarkPOSTPoints issues points, one client, to 1,000 accounts in turn.
func BenchmarkPOSTPoints(b *testing.B) {
	a := newAPI(b, 365)
	key := a.apiKey("points:read", "points:write")
	client := benchClient()
	var lat benchlat.Recorder
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		benchRequest(b, client, key, "POST", a.srv.URL+"/points", fmt.Sprintf(`{"account_id":"acct-%d","amount":10}`, i%benchAccounts))
		lat.Since(start)
	}
	lat.Report(b)
}

// BenchmarkPOSTPointsConcurrent issues points from 8 concurrent clients.
func BenchmarkPOSTPointsConcurrent(b *testing.B) {
	a := newAPI(b, 365)
	key := a.apiKey("points:read", "points:write")
	client := benchClient()
	var lat benchlat.Recorder
	var n atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 clients
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			start := time.Now()
			benchRequest(b, client, key, "POST", a.srv.URL+"/points", fmt.Sprintf(`{"account_id":"acct-%d","amount":10}`, i%benchAccounts))
			lat.Since(start)
		}
	})
	lat.Report(b)
}

// BenchmarkGETPoints reads balances of 1,000 accounts holding 10 lots each
// (10 days of issues and a redemption a day).
func BenchmarkGETPoints(b *testing.B) {
	a := newAPI(b, 365)
	key := a.apiKey("points:read", "points:write")
	client := benchClient()
	for day := range 10 {
		for acct := range benchAccounts {
			benchRequest(b, client, key, "POST", a.srv.URL+"/points", fmt.Sprintf(`{"account_id":"acct-%d","amount":100}`, acct))
			if day > 0 {
				benchRequest(b, client, key, "DELETE", a.srv.URL+"/points", fmt.Sprintf(`{"account_id":"acct-%d","amount":30}`, acct))
			}
		}
		a.clock.Advance(24 * time.Hour)
	}
	// Warm the read model as the dispatcher would have.
	for acct := range benchAccounts {
		benchRequest(b, client, key, "GET", fmt.Sprintf("%s/points?account_id=acct-%d", a.srv.URL, acct), "")
	}
	var lat benchlat.Recorder
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		benchRequest(b, client, key, "GET", fmt.Sprintf("%s/points?account_id=acct-%d", a.srv.URL, i%benchAccounts), "")
		lat.Since(start)
	}
	lat.Report(b)
}

// BenchmarkDELETEPointsHotAccount redeems from one account with a long
// history: the command reads a snapshot and the events after it.
func BenchmarkDELETEPointsHotAccount(b *testing.B) {
	a := newAPI(b, 365)
	key := a.apiKey("points:read", "points:write")
	client := benchClient()
	benchRequest(b, client, key, "POST", a.srv.URL+"/points", `{"account_id":"hot","amount":1000000000}`)
	var lat benchlat.Recorder
	for b.Loop() {
		start := time.Now()
		benchRequest(b, client, key, "DELETE", a.srv.URL+"/points", `{"account_id":"hot","amount":1}`)
		lat.Since(start)
	}
	lat.Report(b)
}
