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

// NewSnapshots returns an empty snapshot store for one test.
type NewSnapshots func(t *testing.T) ports.Snapshots

func snapshot(account string, version int64) ports.Snapshot {
	return ports.Snapshot{Account: account, Version: version, State: json.RawMessage(fmt.Sprintf(`{"version":%d}`, version)),
		TakenAt: t0.Add(time.Duration(version) * time.Second)}
}

// TestSnapshots is the contract of ports.Snapshots.
func TestSnapshots(t *testing.T, newSnapshots NewSnapshots) {
	ctx := context.Background()

	t.Run("missing is not found", func(t *testing.T) {
		t.Parallel()
		s := newSnapshots(t)
		if _, err := s.Get(ctx, "nobody"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("the newest snapshot wins", func(t *testing.T) {
		t.Parallel()
		s := newSnapshots(t)
		for _, v := range []int64{5, 9, 7, 9} {
			if err := s.Put(ctx, snapshot("alice", v)); err != nil {
				t.Fatalf("put version %d: %v", v, err)
			}
		}
		if err := s.Put(ctx, snapshot("bob", 2)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(snapshot("alice", 9), got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
	})

	t.Run("concurrent puts keep the highest version", func(t *testing.T) {
		t.Parallel()
		s := newSnapshots(t)
		var wg sync.WaitGroup
		for v := int64(1); v <= 20; v++ {
			wg.Go(func() {
				if err := s.Put(ctx, snapshot("alice", v)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, err := s.Get(ctx, "alice"); err != nil || got.Version != 20 {
			t.Errorf("Get = version %d, %v; want 20", got.Version, err)
		}
	})
}
