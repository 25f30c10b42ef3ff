package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// BenchmarkLedgerAppend: one append (an event, its outbox row and an
// idempotency record) to one of 1,000 accounts, on a file with
// synchronous=FULL.
func BenchmarkLedgerAppend(b *testing.B) {
	ctx := context.Background()
	ledger := openDB(b).Ledger()
	versions := make([]int64, 1000)
	data := json.RawMessage(`{"amount":100,"lot":"2026-11-21","expires_on":"2027-11-21"}`)
	i := 0
	for b.Loop() {
		i++
		acct := i % len(versions)
		account := fmt.Sprint("acct-", acct)
		err := ledger.Append(ctx, ports.Append{
			Account: account, ExpectedVersion: versions[acct],
			Events:      []ports.Event{{ID: fmt.Sprint("ev-", i), Account: account, Seq: versions[acct] + 1, Type: "points.issued", Version: 1, Data: data, RecordedAt: time.Now()}},
			Idempotency: &ports.IdempotencyRecord{Key: fmt.Sprint("key-", i), Account: account, Fingerprint: "f", Result: data, CreatedAt: time.Now()},
		})
		if err != nil {
			b.Fatal(err)
		}
		versions[acct]++
	}
}

// BenchmarkLedgerAppendParallel: the same appends from 16 goroutines, each
// on its own accounts, as concurrent requests make them. Group commit lets
// appends that arrive together share one commit and its fsync.
func BenchmarkLedgerAppendParallel(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	ledger := db.Ledger()
	data := json.RawMessage(`{"amount":100,"lot":"2026-11-21","expires_on":"2027-11-21"}`)
	var worker atomic.Int64
	before := db.CommitStats()
	b.SetParallelism(8) // 16 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		versions := make([]int64, 100)
		i := 0
		for pb.Next() {
			i++
			acct := i % len(versions)
			account := fmt.Sprint("w", w, "-acct-", acct)
			err := ledger.Append(ctx, ports.Append{
				Account: account, ExpectedVersion: versions[acct],
				Events:      []ports.Event{{ID: fmt.Sprint("w", w, "-ev-", i), Account: account, Seq: versions[acct] + 1, Type: "points.issued", Version: 1, Data: data, RecordedAt: time.Now()}},
				Idempotency: &ports.IdempotencyRecord{Key: fmt.Sprint("w", w, "-key-", i), Account: account, Fingerprint: "f", Result: data, CreatedAt: time.Now()},
			})
			if err != nil {
				b.Error(err)
				return
			}
			versions[acct]++
		}
	})
	after := db.CommitStats()
	if commits := after.Commits - before.Commits; commits > 0 {
		b.ReportMetric(float64(after.Writes-before.Writes)/float64(commits), "writes/commit")
	}
}
