package porttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// NewLedger returns an empty ledger for one test.
type NewLedger func(t *testing.T) ports.Ledger

var t0 = time.Date(2026, 11, 21, 9, 30, 0, 123456789, time.UTC)

// event builds a well-formed event of account at seq.
func event(account string, seq int64) ports.Event {
	return ports.Event{
		ID: fmt.Sprintf("%s-%d", account, seq), Account: account, Seq: seq, Type: "test.happened", Version: 1,
		Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"text":"ünïcode \"quoted\""}`, seq)), RecordedAt: t0.Add(time.Duration(seq) * time.Second),
	}
}

func appendN(t *testing.T, l ports.Ledger, account string, from, to int64) []ports.Event {
	t.Helper()
	var evs []ports.Event
	for s := from; s <= to; s++ {
		evs = append(evs, event(account, s))
	}
	if err := l.Append(context.Background(), ports.Append{Account: account, ExpectedVersion: from - 1, Events: evs}); err != nil {
		t.Fatalf("append %s %d..%d: %v", account, from, to, err)
	}
	return evs
}

// TestLedger is the contract of ports.Ledger.
func TestLedger(t *testing.T, newLedger NewLedger) {
	ctx := context.Background()

	t.Run("append and load in order", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := appendN(t, l, "alice", 1, 3)
		want = append(want, appendN(t, l, "alice", 4, 4)...)
		appendN(t, l, "bob", 1, 2)
		got, err := l.Load(ctx, "alice", 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Load (-want +got):\n%s", diff)
		}
		got, err = l.Load(ctx, "alice", 2)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[2:], got); diff != "" {
			t.Errorf("Load after 2 (-want +got):\n%s", diff)
		}
		if v, err := l.Version(ctx, "alice"); err != nil || v != 4 {
			t.Errorf("Version = %d, %v; want 4", v, err)
		}
		if n, err := l.Count(ctx); err != nil || n != 6 {
			t.Errorf("Count = %d, %v; want 6", n, err)
		}
	})

	t.Run("unknown account is empty", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		got, err := l.Load(ctx, "nobody", 0)
		if err != nil || len(got) != 0 {
			t.Errorf("Load = %v, %v; want empty", got, err)
		}
		if v, err := l.Version(ctx, "nobody"); err != nil || v != 0 {
			t.Errorf("Version = %d, %v; want 0", v, err)
		}
	})

	t.Run("stale or future expected version conflicts and writes nothing", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		appendN(t, l, "alice", 1, 2)
		for _, expected := range []int64{0, 1, 3, 7} {
			var evs []ports.Event
			evs = append(evs, event("alice", expected+1), event("alice", expected+2))
			err := l.Append(ctx, ports.Append{Account: "alice", ExpectedVersion: expected, Events: evs,
				Idempotency: &ports.IdempotencyRecord{Key: fmt.Sprint("k", expected), Account: "alice", Fingerprint: "f", Result: json.RawMessage(`{}`), CreatedAt: t0}})
			if !errors.Is(err, ports.ErrConflict) {
				t.Errorf("expected version %d: err = %v, want ErrConflict", expected, err)
			}
			if _, err := l.Idempotency(ctx, fmt.Sprint("k", expected)); !errors.Is(err, ports.ErrNotFound) {
				t.Errorf("expected version %d: idempotency key was stored by a failed append (err %v)", expected, err)
			}
		}
		if v, _ := l.Version(ctx, "alice"); v != 2 {
			t.Errorf("Version = %d after failed appends, want 2", v)
		}
	})

	t.Run("idempotency record is stored with the events, once", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		rec := ports.IdempotencyRecord{Key: "order:1:award", Account: "alice", Fingerprint: "fp1", Result: json.RawMessage(`[{"id":"x","amount":170}]`), CreatedAt: t0}
		if err := l.Append(ctx, ports.Append{Account: "alice", Events: []ports.Event{event("alice", 1)}, Idempotency: &rec}); err != nil {
			t.Fatal(err)
		}
		got, err := l.Idempotency(ctx, rec.Key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rec, got); diff != "" {
			t.Errorf("Idempotency (-want +got):\n%s", diff)
		}
		// The same key at the right version is a duplicate, and writes nothing.
		rec2 := rec
		rec2.Fingerprint = "fp2"
		err = l.Append(ctx, ports.Append{Account: "alice", ExpectedVersion: 1, Events: []ports.Event{event("alice", 2)}, Idempotency: &rec2})
		if !errors.Is(err, ports.ErrDuplicate) {
			t.Errorf("second append with the key: err = %v, want ErrDuplicate", err)
		}
		if v, _ := l.Version(ctx, "alice"); v != 1 {
			t.Errorf("Version = %d after a duplicate, want 1", v)
		}
		if got, _ := l.Idempotency(ctx, rec.Key); got.Fingerprint != "fp1" {
			t.Errorf("duplicate overwrote the record: %+v", got)
		}
		if _, err := l.Idempotency(ctx, "never-used"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("unknown key: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("only one of 20 concurrent writers at a version wins", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		appendN(t, l, "alice", 1, 1)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for i := range 20 {
			wg.Go(func() {
				ev := event("alice", 2)
				ev.ID = fmt.Sprint("writer-", i)
				err := l.Append(ctx, ports.Append{Account: "alice", ExpectedVersion: 1, Events: []ports.Event{ev}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, ports.ErrConflict):
					conflicts++
				default:
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != 19 {
			t.Errorf("wins = %d, conflicts = %d; want 1 and 19", wins, conflicts)
		}
		if v, _ := l.Version(ctx, "alice"); v != 2 {
			t.Errorf("Version = %d, want 2", v)
		}
	})

	t.Run("20 concurrent appends with one key: one is stored", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 20 {
			wg.Go(func() {
				// Different accounts, so only the key can collide.
				account := fmt.Sprint("acct-", i)
				err := l.Append(ctx, ports.Append{Account: account, Events: []ports.Event{event(account, 1)},
					Idempotency: &ports.IdempotencyRecord{Key: "shared", Account: account, Fingerprint: "f", Result: json.RawMessage(`{}`), CreatedAt: t0}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, ports.ErrDuplicate):
				default:
					t.Errorf("append %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if n, _ := l.Count(ctx); wins != 1 || n != 1 {
			t.Errorf("wins = %d, events = %d; want 1 and 1", wins, n)
		}
	})

	t.Run("load backward pages newest first", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		all := appendN(t, l, "alice", 1, 7)
		var seqs []int64
		before := int64(0)
		for range 10 {
			page, err := l.LoadBackward(ctx, "alice", before, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, ev := range page {
				seqs = append(seqs, ev.Seq)
			}
			before = page[len(page)-1].Seq
		}
		if diff := cmp.Diff([]int64{7, 6, 5, 4, 3, 2, 1}, seqs); diff != "" {
			t.Errorf("seqs (-want +got):\n%s", diff)
		}
		page, _ := l.LoadBackward(ctx, "alice", 0, 1)
		if diff := cmp.Diff(all[6:], page); diff != "" {
			t.Errorf("newest (-want +got):\n%s", diff)
		}
	})

	t.Run("read all pages through every event, accounts in seq order", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		want := map[string]int64{}
		for i := range 5 {
			account := fmt.Sprint("acct-", i)
			for s := int64(1); s <= int64(i+2); s++ {
				appendN(t, l, account, s, s)
			}
			want[account] = int64(i + 2)
		}
		seen := map[string]int64{}
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("ReadAll does not end")
			}
			evs, next, err := l.ReadAll(ctx, cursor, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Seq != seen[ev.Account]+1 {
					t.Fatalf("%s: seq %d after %d", ev.Account, ev.Seq, seen[ev.Account])
				}
				seen[ev.Account] = ev.Seq
				if diff := cmp.Diff(event(ev.Account, ev.Seq), ev); diff != "" {
					t.Fatalf("event (-want +got):\n%s", diff)
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("events seen per account (-want +got):\n%s", diff)
		}
	})
}
