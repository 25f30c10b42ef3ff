package porttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// NewSnapshots returns an empty ledger and the snapshots it writes, for
// one test.
type NewSnapshots func(t *testing.T) (ports.Ledger, ports.Snapshots)

func snapshot(account string, version int64) ports.Snapshot {
	return ports.Snapshot{Account: account, Version: version, State: json.RawMessage(fmt.Sprintf(`{"version":%d}`, version)),
		TakenAt: t0.Add(time.Duration(version) * time.Second)}
}

// appendWithSnapshot appends one event at version v-1 of account, with the
// snapshot at v when snap is set, and returns the append's error.
func appendWithSnapshot(ctx context.Context, l ports.Ledger, account string, v int64, key string, snap bool) error {
	a := ports.Append{Account: account, ExpectedVersion: v - 1, Events: []ports.Event{{ID: fmt.Sprint(account, "-", v), Account: account, Seq: v,
		Type: "points.issued", Version: 1, Data: json.RawMessage(`{}`), RecordedAt: t0}}}
	if key != "" {
		a.Idempotency = &ports.IdempotencyRecord{Key: key, Account: account, Fingerprint: "f", Result: json.RawMessage(`[]`), CreatedAt: t0}
	}
	if snap {
		s := snapshot(account, v)
		a.Snapshot = &s
	}
	return l.Append(ctx, a)
}

// TestSnapshots is the contract of ports.Snapshots, whose snapshots the
// ledger writes with the events they follow.
func TestSnapshots(t *testing.T, newSnapshots NewSnapshots) {
	ctx := context.Background()

	t.Run("missing is not found", func(t *testing.T) {
		t.Parallel()
		l, s := newSnapshots(t)
		if err := appendWithSnapshot(ctx, l, "alice", 1, "", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "alice"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("the newest snapshot wins", func(t *testing.T) {
		t.Parallel()
		l, s := newSnapshots(t)
		for v := int64(1); v <= 9; v++ {
			if err := appendWithSnapshot(ctx, l, "alice", v, "", v == 5 || v == 7); err != nil {
				t.Fatalf("append version %d: %v", v, err)
			}
		}
		if err := appendWithSnapshot(ctx, l, "bob", 1, "", true); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(snapshot("alice", 7), got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
	})

	t.Run("a refused append stores no snapshot", func(t *testing.T) {
		t.Parallel()
		l, s := newSnapshots(t)
		if err := appendWithSnapshot(ctx, l, "alice", 1, "k", true); err != nil {
			t.Fatal(err)
		}
		if err := appendWithSnapshot(ctx, l, "alice", 1, "", true); !errors.Is(err, ports.ErrConflict) {
			t.Fatalf("append at a taken version: %v, want ErrConflict", err)
		}
		if err := appendWithSnapshot(ctx, l, "alice", 2, "k", true); !errors.Is(err, ports.ErrDuplicate) {
			t.Fatalf("append with a used key: %v, want ErrDuplicate", err)
		}
		if got, err := s.Get(ctx, "alice"); err != nil || got.Version != 1 {
			t.Errorf("Get = version %d, %v; want 1", got.Version, err)
		}
	})

	t.Run("a snapshot must be of the state after the append", func(t *testing.T) {
		t.Parallel()
		l, _ := newSnapshots(t)
		s := snapshot("alice", 2)
		err := l.Append(ctx, ports.Append{Account: "alice", Events: []ports.Event{{ID: "e", Account: "alice", Seq: 1, Type: "t", Version: 1, Data: json.RawMessage(`{}`), RecordedAt: t0}}, Snapshot: &s})
		if err == nil {
			t.Error("an append at version 1 stored a snapshot of version 2")
		}
	})
}
