package porttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// NewExecutions returns an empty execution store for one test.
type NewExecutions func(t *testing.T) ports.Executions

func execution(name string) ports.Execution {
	return ports.Execution{Name: name, StateMachine: "purchase", Status: ports.ExecutionRunning, Input: json.RawMessage(`{"order":1}`),
		StartedAt: t0, Checkpoint: json.RawMessage(`{"state":"Reserve"}`), Version: 1, Events: 2}
}

func startEvents(name string) []ports.ExecutionEvent {
	return []ports.ExecutionEvent{
		{Execution: name, Seq: 1, Type: "ExecutionStarted", At: t0, Details: json.RawMessage(`{"input":{"order":1}}`)},
		{Execution: name, Seq: 2, Type: "TaskStateEntered", State: "Reserve", At: t0},
	}
}

// TestExecutions is the contract of ports.Executions.
func TestExecutions(t *testing.T, newExecutions NewExecutions) {
	ctx := context.Background()

	t.Run("start, advance, history", func(t *testing.T) {
		t.Parallel()
		s := newExecutions(t)
		if _, err := s.Get(ctx, "o-1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get unknown: %v, want ErrNotFound", err)
		}
		if _, err := s.History(ctx, "o-1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("History unknown: %v, want ErrNotFound", err)
		}
		e := execution("o-1")
		got, created, err := s.Start(ctx, e, startEvents("o-1"))
		if err != nil || !created {
			t.Fatalf("Start = %v, %v", created, err)
		}
		if diff := cmp.Diff(e, got); diff != "" {
			t.Errorf("Start returned (-want +got):\n%s", diff)
		}
		next := e
		next.Version, next.Events, next.Status = 2, 3, ports.ExecutionSucceeded
		next.Output, next.StoppedAt, next.Checkpoint = json.RawMessage(`{"ok":true}`), t0.Add(time.Second), nil
		ev := ports.ExecutionEvent{Execution: "o-1", Seq: 3, Type: "ExecutionSucceeded", At: t0.Add(time.Second), Details: json.RawMessage(`{"output":{"ok":true}}`)}
		if err := s.Advance(ctx, next, []ports.ExecutionEvent{ev}); err != nil {
			t.Fatal(err)
		}
		got, err = s.Get(ctx, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(next, got); diff != "" {
			t.Errorf("Get after Advance (-want +got):\n%s", diff)
		}
		hist, err := s.History(ctx, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(append(startEvents("o-1"), ev), hist); diff != "" {
			t.Errorf("History (-want +got):\n%s", diff)
		}
	})

	t.Run("a stale advance conflicts and writes nothing", func(t *testing.T) {
		t.Parallel()
		s := newExecutions(t)
		e := execution("o-1")
		if _, _, err := s.Start(ctx, e, startEvents("o-1")); err != nil {
			t.Fatal(err)
		}
		for _, v := range []int64{1, 3} {
			bad := e
			bad.Version = v
			if err := s.Advance(ctx, bad, []ports.ExecutionEvent{{Execution: "o-1", Seq: 3, Type: "X", At: t0}}); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("advance to version %d: %v, want ErrConflict", v, err)
			}
		}
		if hist, _ := s.History(ctx, "o-1"); len(hist) != 2 {
			t.Errorf("history has %d events, want 2", len(hist))
		}
		missing := execution("nope")
		missing.Version = 2
		if err := s.Advance(ctx, missing, nil); !errors.Is(err, ports.ErrConflict) && !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("advance of an unknown execution: %v", err)
		}
	})

	t.Run("20 concurrent starts of one name create one execution", func(t *testing.T) {
		t.Parallel()
		s := newExecutions(t)
		var created atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				e := execution("o-7")
				e.Input = json.RawMessage(fmt.Sprintf(`{"attempt":%d}`, i))
				got, ok, err := s.Start(ctx, e, startEvents("o-7"))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					created.Add(1)
				}
				if got.Name != "o-7" || got.Version < 1 {
					t.Errorf("start %d returned %+v", i, got)
				}
			})
		}
		wg.Wait()
		if created.Load() != 1 {
			t.Errorf("%d starts created the execution, want 1", created.Load())
		}
		if hist, _ := s.History(ctx, "o-7"); len(hist) != 2 {
			t.Errorf("history has %d events, want 2", len(hist))
		}
	})

	t.Run("due executions and the next wake", func(t *testing.T) {
		t.Parallel()
		s := newExecutions(t)
		for i, wake := range []time.Duration{0, 5 * time.Second, -time.Second, time.Minute} {
			e := execution(fmt.Sprint("o-", i))
			if wake != 0 {
				e.WakeAt = t0.Add(wake)
			}
			if _, _, err := s.Start(ctx, e, startEvents(e.Name)); err != nil {
				t.Fatal(err)
			}
		}
		done := execution("o-done")
		if _, _, err := s.Start(ctx, done, startEvents("o-done")); err != nil {
			t.Fatal(err)
		}
		done.Version, done.Status, done.StoppedAt = 2, ports.ExecutionFailed, t0
		if err := s.Advance(ctx, done, nil); err != nil {
			t.Fatal(err)
		}
		due, err := s.Due(ctx, t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"o-0", "o-2"}, slices.Sorted(slices.Values(due))); diff != "" {
			t.Errorf("Due at t0 (-want +got):\n%s", diff)
		}
		if due, _ := s.Due(ctx, t0.Add(10*time.Second), 1); len(due) != 1 {
			t.Errorf("Due with limit 1 = %v", due)
		}
		next, err := s.NextWake(ctx, t0)
		if err != nil || !next.Equal(t0.Add(5*time.Second)) {
			t.Errorf("NextWake = %v, %v; want t0+5s", next, err)
		}
		if next, _ := s.NextWake(ctx, t0.Add(time.Hour)); !next.IsZero() {
			t.Errorf("NextWake after everything = %v, want zero", next)
		}
	})
}
