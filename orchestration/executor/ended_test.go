package executor_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// ending is what Config.Ended was told of one execution.
type ending struct {
	Machine, Status string
	Took            time.Duration
}

// Config.Ended hears of each execution once, when the executor stores its
// end, whatever the end: with its machine, status, and the time it ran on
// the executor's clock. Waiting for an ended execution tells it nothing
// more.
func TestEndedIsToldOfEachEndOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		def     string
		scripts map[string][]step
		end     func(h *harness, name string)
		want    ending
	}{
		{"succeeded", retrying, nil, nil, ending{"m", ports.ExecutionSucceeded, 0}},
		// Retried after 2 s, 6 s and 10 s (18 s capped), then failed.
		{"failed", retrying, map[string][]step{"ChargeWalletFunctionArn": {{Error: "Transient", Cause: "down"}}}, nil,
			ending{"m", ports.ExecutionFailed, 18 * time.Second}},
		{"timed out", `{"TimeoutSeconds":30,"StartAt":"Long","States":{"Long":{"Type":"Wait","Seconds":3600,"End":true}}}`, nil, nil,
			ending{"m", ports.ExecutionTimedOut, 30 * time.Second}},
		{"aborted", `{"StartAt":"Long","States":{"Long":{"Type":"Wait","Seconds":3600,"End":true}}}`, nil,
			func(h *harness, name string) {
				h.clock.Advance(time.Minute)
				if err := h.ex.Abort(context.Background(), name, "operator"); err != nil {
					t.Fatal(err)
				}
			},
			ending{"m", ports.ExecutionAborted, time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []ending
			h := newObservedHarness(t, func(machine, status string, took time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, ending{machine, status, took})
			})
			def := []byte(tt.def)
			if err := h.ex.Register("m", def, handlers(t, def, tt.scripts)); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, _, err := h.ex.Start(ctx, "m", "x-1", json.RawMessage(`{}`)); err != nil {
				t.Fatal(err)
			}
			if _, err := h.ex.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			if tt.end != nil {
				tt.end(h, "x-1")
			}
			h.finish("x-1")
			if _, err := h.ex.Wait(ctx, "x-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := h.ex.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]ending{tt.want}, got); diff != "" {
				t.Errorf("ends told (-want +got):\n%s", diff)
			}
		})
	}
}

// newObservedHarness is newHarness with ended told of each end.
func newObservedHarness(t *testing.T, ended func(machine, status string, took time.Duration)) *harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewManual(t0)
	ex, err := executor.New(executor.Config{Store: db.Executions(), Clock: clk, IDs: &clock.Counter{Prefix: "id"},
		Jitter: func(max time.Duration) time.Duration { return max / 2 }, Ended: ended})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, db: db, clock: clk, ex: ex}
}
