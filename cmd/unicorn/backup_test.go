package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
)

// TestBackupUnderLoadAndRestore: a backup taken while points are issued
// and purchases run holds every write acknowledged before it began; the
// restored store opens, finishes the sagas it holds, and its read model
// equals its ledger for every account.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, nil)
	const accounts = 8
	var (
		mu    sync.Mutex
		acked []string // keys of acknowledged issues
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				key := fmt.Sprintf("load-%d-%d", w, i)
				code, resp := s.do("POST", "/points", fmt.Sprintf(`{"account_id":"acct%d","amount":%d}`, i%accounts, 1+i%50), "Idempotency-Key", key)
				if code != 201 {
					t.Errorf("issue %s: %d %v", key, code, resp)
					return
				}
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			if code, resp := s.do("POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`); code != 201 && code != 202 {
				t.Errorf("purchase: %d %v", code, resp)
				return
			}
		}
	})
	// Let the load get going, then back up in the middle of it.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	file := filepath.Join(t.TempDir(), "backup.db")
	var out strings.Builder
	if err := run(ctx, []string{"backup", "-db", s.app.cfg.DBPath, file}, noEnv, nil, &out, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "backed up") {
		t.Errorf("backup said %q", out.String())
	}
	if err := run(ctx, []string{"backup", "-db", s.app.cfg.DBPath, file}, noEnv, nil, io.Discard, io.Discard); err == nil {
		t.Error("a second backup over the first succeeded")
	}
	stop.Store(true)
	wg.Wait()

	restored := filepath.Join(t.TempDir(), "restored.db")
	if err := run(ctx, []string{"restore", "-db", restored, file}, noEnv, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("restore: %v", err)
	}
	c := compose.Defaults()
	c.DBPath = restored
	a, err := newApp(ctx, c, slog.New(slog.DiscardHandler), deps{hash: testHash})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, key := range before { // "api:" and the client: how the API scopes a key
		if _, err := a.stores.Ledger.Idempotency(ctx, "UnicornStore/api:"+key); err != nil {
			t.Fatalf("issue %s was acknowledged before the backup began, and is not in it: %v", key, err)
		}
	}
	// The restored store finishes the sagas the backup caught mid-way,
	// and, as serve does when it starts, starts those of orders the backup
	// caught stored but not yet started.
	if _, err := a.Orders.ResumeStranded(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := a.executor.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		next, err := a.db.Executions().NextWake(ctx, time.Now())
		if err != nil || next.IsZero() {
			break
		}
		time.Sleep(time.Until(next))
	}
	if _, err := a.dispatcher.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if pending, err := a.Orders.WithStatus(ctx, retail.Pending, 10); err != nil || len(pending) != 0 {
		t.Errorf("orders still pending after the restored store ran: %d, %v", len(pending), err)
	}
	for i := range accounts {
		id := points.MustAccountID("UnicornStore", fmt.Sprint("acct", i))
		acct, err := a.Points.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := a.Reads.Balance(ctx, id, points.LotPage{})
		if err != nil {
			t.Fatal(err)
		}
		if acct.Available(time.Now()) != b.Available {
			t.Errorf("acct%d: ledger %d, read model %d", i, acct.Available(time.Now()), b.Available)
		}
	}
}

// TestRestoreRefusesWhatIsNotABackup: a file that is not a database, or is
// a damaged one, is refused before anything is replaced.
func TestRestoreRefusesWhatIsNotABackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := writeFile(junk, strings.Repeat("not a database ", 1000)); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "unicorn.db")
	if err := writeFile(target, "the current database"); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{junk, filepath.Join(dir, "missing.db")} {
		if err := run(context.Background(), []string{"restore", "-db", target, from}, noEnv, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("restore from %s succeeded", from)
		}
	}
	if got, _ := readFile(target); got != "the current database" {
		t.Errorf("a refused restore changed the database: %q", got)
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
