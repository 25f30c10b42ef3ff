package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
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
