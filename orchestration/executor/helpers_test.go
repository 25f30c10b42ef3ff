package executor_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/orchestration/asl"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type harness struct {
	t     testing.TB
	db    *sqlite.DB
	clock *clock.Manual
	ex    *executor.Executor
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewManual(t0)
	ex, err := executor.New(executor.Config{Store: db.Executions(), Clock: clk, IDs: &clock.Counter{Prefix: "id"},
		Jitter: func(max time.Duration) time.Duration { return max / 2 }})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, db: db, clock: clk, ex: ex}
}

// finish runs the execution to its end, moving the clock to each wake-up.
func (h *harness) finish(name string) ports.Execution {
	h.t.Helper()
	ctx := context.Background()
	for range 1000 {
		if _, err := h.ex.RunDue(ctx); err != nil {
			h.t.Fatal(err)
		}
		x, err := h.ex.Get(ctx, name)
		if err != nil {
			h.t.Fatal(err)
		}
		if executor.Terminal(x) {
			return x
		}
		if x.WakeAt.IsZero() || !x.WakeAt.After(h.clock.Now()) {
			h.t.Fatalf("execution %s is stuck: %+v", name, x)
		}
		h.clock.Set(x.WakeAt)
	}
	h.t.Fatalf("execution %s did not end", name)
	return ports.Execution{}
}

// script is a task that behaves per call as tasks.json says: a result,
// an echo of its input, or a named error. The last step repeats.
type script struct {
	mu    sync.Mutex
	steps []step
	calls int
	name  string
	log   *callLog
}

// callLog records the resources called, in order, across scripts.
type callLog struct {
	mu    sync.Mutex
	names []string
}

func (l *callLog) add(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, name)
}

type step struct {
	Result json.RawMessage `json:"result"`
	Echo   bool            `json:"echo"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
}

func (s *script) handle(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	if s.log != nil {
		s.log.add(s.name)
	}
	s.mu.Lock()
	st := s.steps[min(s.calls, len(s.steps)-1)]
	s.calls++
	s.mu.Unlock()
	switch {
	case st.Error != "":
		return nil, &asl.Error{Name: st.Error, Cause: st.Cause}
	case st.Echo:
		return input, nil
	}
	return st.Result, nil
}

// handlers builds a handler per resource of def from scripts (a missing
// script echoes).
func handlers(t testing.TB, def []byte, scripts map[string][]step) map[string]executor.Handler {
	return loggedHandlers(t, def, scripts, nil)
}

// loggedHandlers is handlers, recording each call in log.
func loggedHandlers(t testing.TB, def []byte, scripts map[string][]step, log *callLog) map[string]executor.Handler {
	t.Helper()
	sm, err := asl.Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]executor.Handler{}
	for _, r := range sm.Resources() {
		name := executor.ResourceName(r)
		steps := scripts[name]
		if len(steps) == 0 {
			steps = []step{{Echo: true}}
		}
		out[name] = (&script{steps: steps, name: name, log: log}).handle
	}
	return out
}
