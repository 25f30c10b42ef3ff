package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/orchestration/executor"
)

// taskChain is a machine of n Task states in a row, each a no-op.
func taskChain(n int) []byte {
	var states []string
	for i := range n {
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		states = append(states, fmt.Sprintf(`"S%d":{"Type":"Task","Resource":"${Noop}","Parameters":{"step":%d,"order.$":"$.order"},%s}`, i, i, next))
	}
	return []byte(`{"StartAt":"S0","States":{` + strings.Join(states, ",") + `}}`)
}

// BenchmarkTransition: the cost of one stored transition (SQLite,
// synchronous=FULL): a task's result and the move to the next state, stored
// before the next task runs. Each op runs one execution through 50 no-op
// tasks; ns/transition is the figure to read.
func BenchmarkTransition(b *testing.B) {
	h := newHarness(b)
	noop := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }
	if err := h.ex.Register("chain", taskChain(50), map[string]executor.Handler{"Noop": noop}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	for b.Loop() {
		name := fmt.Sprint("x-", n)
		n++
		if _, _, err := h.ex.Start(ctx, "chain", name, json.RawMessage(`{"order":"o-1"}`)); err != nil {
			b.Fatal(err)
		}
		if _, err := h.ex.RunDue(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*50), "ns/transition")
}

// BenchmarkExecutions: executions per second of a three-task machine whose
// tasks do nothing, run by the production loop with 4 workers.
func BenchmarkExecutions(b *testing.B) {
	h := newHarness(b)
	def := []byte(`{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"${Noop}","Next":"B"},
		"B":{"Type":"Task","Resource":"${Noop}","Next":"C"},
		"C":{"Type":"Task","Resource":"${Noop}","End":true}}}`)
	noop := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }
	if err := h.ex.Register("m", def, map[string]executor.Handler{"Noop": noop}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.ex.Run(ctx)
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, _, err := h.ex.Start(context.Background(), "m", fmt.Sprint("e-", n), json.RawMessage(`{"order":1}`)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	for i := range n {
		x, err := h.ex.Wait(context.Background(), fmt.Sprint("e-", i))
		if err != nil || !executor.Terminal(x) {
			b.Fatalf("e-%d: %+v %v", i, x.Status, err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "executions/s")
}
