package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// TestSagaSteps is the contract of ports.SagaSteps.
func TestSagaSteps(t *testing.T, s ports.SagaSteps) {
	ctx := context.Background()

	t.Run("a run with no steps is not found", func(t *testing.T) {
		t.Parallel()
		if _, err := s.Steps(ctx, "no-such-run"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("steps come back in the order recorded, each run apart", func(t *testing.T) {
		t.Parallel()
		want := []ports.SagaStep{
			{Step: "ReserveStock", Status: "started", At: t0},
			{Step: "ReserveStock", Status: "failed", At: t0.Add(time.Second), Error: "OutOfStock", Cause: "only 2 of u1 left"},
			{Step: "ReleaseStock", Status: "started", At: t0.Add(2 * time.Second)},
			{Step: "ReleaseStock", Status: "succeeded", At: t0.Add(3 * time.Second)},
		}
		for _, st := range want {
			if err := s.Record(ctx, "order-a", st); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Record(ctx, "order-a.retry-2", ports.SagaStep{Step: "FailOrder", Status: "started", At: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Steps(ctx, "order-a")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
			t.Errorf("steps (-want +got):\n%s", d)
		}
		if got, err := s.Steps(ctx, "order-a.retry-2"); err != nil || len(got) != 1 {
			t.Errorf("the retry's steps = %v, %v; want its one step", got, err)
		}
	})

	t.Run("concurrent records are all kept", func(t *testing.T) {
		t.Parallel()
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := s.Record(ctx, "order-b", ports.SagaStep{Step: fmt.Sprintf("Step%d", i), Status: "succeeded", At: t0}); err != nil {
					t.Errorf("record %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		got, err := s.Steps(ctx, "order-b")
		if err != nil || len(got) != 20 {
			t.Errorf("got %d steps (%v), want 20", len(got), err)
		}
	})
}
