package sagatasks

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// memorySteps is a ports.SagaSteps in memory (the DynamoDB one runs the
// port's contract suite).
type memorySteps struct {
	mu    sync.Mutex
	steps map[string][]ports.SagaStep
	fail  bool
}

func (m *memorySteps) Record(_ context.Context, saga string, s ports.SagaStep) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("the table is unavailable")
	}
	m.steps[saga] = append(m.steps[saga], s)
	return nil
}

func (m *memorySteps) Steps(_ context.Context, saga string) ([]ports.SagaStep, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.steps[saga]) == 0 {
		return nil, ports.ErrNotFound
	}
	return m.steps[saga], nil
}

func TestRecordedSteps(t *testing.T) {
	ok := func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"ok":true}`), nil
	}
	short := func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, &InsufficientFunds{Cause: "the wallet holds 10"}
	}
	broken := func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return nil, errors.New("connection reset")
	}
	for _, tc := range []struct {
		name     string
		resource string
		h        executor.Handler
		input    string
		run      string
		want     []string
		wantErr  bool
	}{
		{"a step that succeeds", "ReserveStockFunctionArn", ok, `{"order_id":"o-1","saga":"o-1"}`, "o-1",
			[]string{"ReserveStock started ", "ReserveStock succeeded "}, false},
		{"a business failure keeps its name", "ChargeWalletFunctionArn", short, `{"order_id":"o-2","saga":"o-2"}`, "o-2",
			[]string{"ChargeWallet started ", "ChargeWallet failed InsufficientFunds"}, true},
		{"any other failure is States.TaskFailed", "ChargeWalletFunctionArn", broken, `{"order_id":"o-3"}`, "o-3",
			[]string{"ChargeWallet started ", "ChargeWallet failed States.TaskFailed"}, true},
		{"the last task ends the run", "PublishPurchaseCompletedFunctionArn", ok, `{"order_id":"o-4","saga":"o-4"}`, "o-4",
			[]string{"PublishPurchaseCompleted started ", "PublishPurchaseCompleted succeeded ", "Saga succeeded "}, false},
		{"a retry's steps go under its run, its end with the failure", "FailOrderFunctionArn", ok,
			`{"order_id":"o-5","saga":"o-5.retry-2","error":{"Error":"OutOfStock","Cause":"2 left"}}`, "o-5.retry-2",
			[]string{"FailOrder started ", "FailOrder succeeded ", "Saga failed OutOfStock"}, false},
		{"an order for an operator", "MarkNeedsAttentionFunctionArn", ok, `{"order_id":"o-7"}`, "o-7",
			[]string{"MarkNeedsAttention started ", "MarkNeedsAttention succeeded ", "Saga failed CompensationFailed"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &memorySteps{steps: map[string][]ports.SagaStep{}}
			h := Recorded(store, clock.NewManual(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)))(tc.resource, tc.h)
			_, err := h(context.Background(), json.RawMessage(tc.input))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			steps, _ := store.Steps(context.Background(), tc.run)
			var got []string
			for _, s := range steps {
				got = append(got, s.Step+" "+s.Status+" "+s.Error)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("steps %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a step whose record fails fails, to be retried", func(t *testing.T) {
		store := &memorySteps{steps: map[string][]ports.SagaStep{}, fail: true}
		ran := false
		h := Recorded(store, clock.System{})("ReserveStockFunctionArn", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			ran = true
			return nil, nil
		})
		if _, err := h(context.Background(), json.RawMessage(`{"order_id":"o-6"}`)); err == nil || ran {
			t.Errorf("err = %v, ran = %v: want an error before the step runs", err, ran)
		}
	})
}

// TestPlainCause: a Catch on Step Functions hands over the Lambda error
// payload; the order keeps its message, as on one machine.
func TestPlainCause(t *testing.T) {
	for in, want := range map[string]string{
		`{"errorMessage":"only 2 of u1 left","errorType":"OutOfStock"}`: "only 2 of u1 left",
		"only 2 of u1 left": "only 2 of u1 left",
		`{"other":"json"}`:  `{"other":"json"}`,
		`{not json`:         `{not json`,
		"":                  "",
	} {
		if got := PlainCause(in); got != want {
			t.Errorf("PlainCause(%q) = %q, want %q", in, got, want)
		}
	}
}
