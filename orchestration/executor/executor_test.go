package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/orchestration/asl"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

const retrying = `{
  "StartAt": "Charge",
  "States": {
    "Charge": {"Type": "Task", "Resource": "${ChargeWalletFunctionArn}",
      "Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3, "MaxDelaySeconds": 10},
                {"ErrorEquals": ["Flaky"], "IntervalSeconds": 4, "JitterStrategy": "FULL"}],
      "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
}`

func types(evs []ports.ExecutionEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
		if ev.State != "" {
			out[i] += ":" + ev.State
		}
	}
	return out
}

// TestRetryDelaysFollowTheClock: retries wait IntervalSeconds ×
// BackoffRate^n (capped by MaxDelaySeconds, halved by the test's jitter)
// on the clock, without sleeping.
func TestRetryDelaysFollowTheClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	calls := 0
	var at []time.Duration
	err := h.ex.Register("pay", []byte(retrying), map[string]executor.Handler{
		"ChargeWalletFunctionArn": func(context.Context, json.RawMessage) (json.RawMessage, error) {
			at = append(at, h.clock.Now().Sub(t0))
			calls++
			switch calls {
			case 1, 2, 3:
				return nil, asl.NewError("Transient", "try %d", calls)
			case 4:
				return nil, asl.NewError("Flaky", "once")
			}
			return json.RawMessage(`{"charged":true}`), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.ex.Start(context.Background(), "pay", "o-1", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	x := h.finish("o-1")
	if x.Status != ports.ExecutionSucceeded || string(x.Output) != `{"charged":true}` {
		t.Fatalf("execution = %+v", x)
	}
	// 2 s, then 6 s, then 18 s capped to 10 s; the Flaky retrier's own
	// 4 s, halved by jitter.
	want := []time.Duration{0, 2 * time.Second, 8 * time.Second, 18 * time.Second, 20 * time.Second}
	if diff := cmp.Diff(want, at); diff != "" {
		t.Errorf("call times (-want +got):\n%s", diff)
	}
}

func TestRetriesExhaustedFailTheExecution(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := []byte(retrying)
	if err := h.ex.Register("pay", def, handlers(t, def, map[string][]step{"ChargeWalletFunctionArn": {{Error: "Transient", Cause: "down"}}})); err != nil {
		t.Fatal(err)
	}
	h.ex.Start(context.Background(), "pay", "o-1", json.RawMessage(`{}`))
	x := h.finish("o-1")
	if x.Status != ports.ExecutionFailed || x.Error != "Transient" || x.Cause != "down" {
		t.Errorf("execution = %+v", x)
	}
	hist, _ := h.ex.History(context.Background(), "o-1")
	got := strings.Join(types(hist), " ")
	want := "ExecutionStarted TaskStateEntered:Charge TaskScheduled:Charge TaskFailed:Charge RetryScheduled:Charge " +
		"TaskScheduled:Charge TaskFailed:Charge RetryScheduled:Charge TaskScheduled:Charge TaskFailed:Charge RetryScheduled:Charge " +
		"TaskScheduled:Charge TaskFailed:Charge TaskStateFailed:Charge ExecutionFailed"
	if got != want {
		t.Errorf("history:\n got %s\nwant %s", got, want)
	}
}

// TestStartIsIdempotentByName: 20 concurrent starts of one name start one
// execution, and every caller gets it.
func TestStartIsIdempotentByName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var runs atomic.Int64
	def := []byte(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${Work}","End":true}}}`)
	err := h.ex.Register("m", def, map[string]executor.Handler{"Work": func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		runs.Add(1)
		return in, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var created atomic.Int64
	for i := range 20 {
		wg.Go(func() {
			x, ok, err := h.ex.Start(context.Background(), "m", "order-1", json.RawMessage(fmt.Sprintf(`{"try":%d}`, i)))
			if err != nil || x.Name != "order-1" {
				t.Errorf("start %d: %+v, %v", i, x, err)
			}
			if ok {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	h.finish("order-1")
	if created.Load() != 1 || runs.Load() != 1 {
		t.Errorf("created %d executions, ran the task %d times; want 1 and 1", created.Load(), runs.Load())
	}
	// Through the sagas port: a run that is going is no error to start
	// again; one that has ended says so.
	sagas := h.ex.Sagas("m")
	if err := sagas.Start(context.Background(), "order-1", json.RawMessage(`{}`)); !errors.Is(err, ports.ErrSagaEnded) {
		t.Errorf("starting an ended run: %v, want ErrSagaEnded", err)
	}
	if err := sagas.Start(context.Background(), "order-2", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := sagas.Start(context.Background(), "order-2", json.RawMessage(`{}`)); err != nil {
		t.Errorf("starting a run that is going: %v", err)
	}
}

func TestWaitAndHistory(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := []byte(`{"StartAt":"Pause","States":{
		"Pause":{"Type":"Wait","Seconds":60,"Next":"Stamp"},
		"Stamp":{"Type":"Pass","Parameters":{"entered.$":"$$.State.EnteredTime","name.$":"$$.Execution.Name","id.$":"States.UUID()"},"End":true}}}`)
	if err := h.ex.Register("m", def, nil); err != nil {
		t.Fatal(err)
	}
	h.ex.Start(context.Background(), "m", "w-1", json.RawMessage(`{}`))
	if _, err := h.ex.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	x, _ := h.ex.Get(context.Background(), "w-1")
	if x.Status != ports.ExecutionRunning || !x.WakeAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("waiting execution = %+v", x)
	}
	h.clock.Advance(59 * time.Second)
	h.ex.RunDue(context.Background())
	if x, _ := h.ex.Get(context.Background(), "w-1"); executor.Terminal(x) {
		t.Fatal("the wait ended early")
	}
	x = h.finish("w-1")
	want := `{"entered":"2026-11-21T12:01:00Z","id":"id-1","name":"w-1"}`
	if string(x.Output) != want {
		t.Errorf("output = %s, want %s", x.Output, want)
	}
	hist, _ := h.ex.History(context.Background(), "w-1")
	if got := strings.Join(types(hist), " "); got != "ExecutionStarted WaitStateEntered:Pause WaitScheduled:Pause WaitStateExited:Pause PassStateEntered:Stamp PassStateExited:Stamp ExecutionSucceeded" {
		t.Errorf("history = %s", got)
	}
	for i, ev := range hist {
		if ev.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d", i, ev.Seq)
		}
	}
}

func TestTaskTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := []byte(`{"StartAt":"Slow","States":{"Slow":{"Type":"Task","Resource":"${Slow}","TimeoutSeconds":1,
		"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Wrong"},{"ErrorEquals":["States.Timeout"],"Next":"TimedOut"}],"End":true},
		"Wrong":{"Type":"Fail","Error":"Wrong"},"TimedOut":{"Type":"Pass","End":true}}}`)
	err := h.ex.Register("m", def, map[string]executor.Handler{"Slow": func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done() // a well-behaved task stops when its time is up
		return nil, ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.ex.Start(context.Background(), "m", "slow", json.RawMessage(`{"a":1}`))
	x := h.finish("slow")
	if x.Status != ports.ExecutionSucceeded || !strings.Contains(string(x.Output), `"Error":"States.Timeout"`) {
		t.Errorf("execution = %+v (States.TaskFailed must not catch a timeout)", x)
	}
}

func TestExecutionTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := []byte(`{"TimeoutSeconds":30,"StartAt":"Long","States":{"Long":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	if err := h.ex.Register("m", def, nil); err != nil {
		t.Fatal(err)
	}
	h.ex.Start(context.Background(), "m", "late", json.RawMessage(`{}`))
	x := h.finish("late")
	if x.Status != ports.ExecutionTimedOut || x.Error != asl.ErrorTimeout || !x.StoppedAt.Equal(t0.Add(30*time.Second)) {
		t.Errorf("execution = %+v", x)
	}
}

func TestAbort(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := []byte(`{"StartAt":"Long","States":{"Long":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	h.ex.Register("m", def, nil)
	h.ex.Start(context.Background(), "m", "a", json.RawMessage(`{}`))
	h.ex.RunDue(context.Background())
	if err := h.ex.Abort(context.Background(), "a", "operator"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Hour)
	h.ex.RunDue(context.Background())
	if x, _ := h.ex.Get(context.Background(), "a"); x.Status != ports.ExecutionAborted || x.Cause != "operator" {
		t.Errorf("execution = %+v", x)
	}
}

func TestRegisterAndStartErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := []byte(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"${Missing}","End":true}}}`)
	if err := h.ex.Register("m", def, nil); err == nil || !strings.Contains(err.Error(), "no handler") {
		t.Errorf("Register without a handler: %v", err)
	}
	if _, _, err := h.ex.Start(context.Background(), "nope", "x", json.RawMessage(`{}`)); !errors.Is(err, executor.ErrUnknownMachine) {
		t.Errorf("Start of an unknown machine: %v", err)
	}
	h.ex.Register("p", []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), nil)
	if _, _, err := h.ex.Start(context.Background(), "p", "x", json.RawMessage(`{not json`)); err == nil {
		t.Error("Start with bad input succeeded")
	}
	if _, _, err := h.ex.Start(context.Background(), "p", strings.Repeat("n", 81), json.RawMessage(`{}`)); err == nil {
		t.Error("Start with an 81-character name succeeded")
	}
}

func TestResourceName(t *testing.T) {
	for in, want := range map[string]string{
		"${ReserveStockFunctionArn}":                                  "ReserveStockFunctionArn",
		"arn:aws:lambda:eu-west-1:123456789012:function:Reserve":      "Reserve",
		"arn:aws:lambda:eu-west-1:123456789012:function:Reserve:live": "Reserve",
		"arn:aws:states:::lambda:invoke":                              "arn:aws:states:::lambda:invoke",
		"plain":                                                       "plain",
	} {
		if got := executor.ResourceName(in); got != want {
			t.Errorf("ResourceName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRunLoop: the production loop moves executions started while it runs,
// with a bounded pool, and stops when its context ends.
func TestRunLoop(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := []byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${Work}","Next":"B"},"B":{"Type":"Pass","End":true}}}`)
	h.ex.Register("m", def, map[string]executor.Handler{"Work": func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.ex.Run(ctx) }()
	for i := range 30 {
		if _, _, err := h.ex.Start(context.Background(), "m", fmt.Sprint("e-", i), json.RawMessage(`{"i":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		x, err := h.ex.Wait(wctx, fmt.Sprint("e-", i))
		wcancel()
		if err != nil || x.Status != ports.ExecutionSucceeded {
			t.Fatalf("e-%d: %+v, %v", i, x, err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestTaskTimesAreItsOwn: a task that takes 3 s ends 3 s after it was
// scheduled in the history, and a retry's delay counts from the failure.
func TestTaskTimesAreItsOwn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var at []time.Duration
	calls := 0
	def := []byte(`{"StartAt":"Slow","States":{"Slow":{"Type":"Task","Resource":"${Slow}",
		"Retry":[{"ErrorEquals":["Transient"],"IntervalSeconds":2,"MaxAttempts":1}],"End":true}}}`)
	err := h.ex.Register("m", def, map[string]executor.Handler{"Slow": func(context.Context, json.RawMessage) (json.RawMessage, error) {
		at = append(at, h.clock.Now().Sub(t0))
		h.clock.Advance(3 * time.Second)
		if calls++; calls == 1 {
			return nil, asl.NewError("Transient", "slow and failing")
		}
		return json.RawMessage(`{}`), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.ex.Start(context.Background(), "m", "s-1", json.RawMessage(`{}`))
	h.finish("s-1")
	if want := []time.Duration{0, 5 * time.Second}; !slices.Equal(at, want) {
		t.Errorf("calls at %v, want %v (3 s of work, then 2 s of delay)", at, want)
	}
	hist, _ := h.ex.History(context.Background(), "s-1")
	var got []string
	for _, ev := range hist {
		if strings.HasPrefix(ev.Type, "Task") && ev.Type != "TaskStateEntered" && ev.Type != "TaskStateExited" {
			got = append(got, fmt.Sprintf("%s@%s", ev.Type, ev.At.Sub(t0)))
		}
	}
	want := []string{"TaskScheduled@0s", "TaskFailed@3s", "TaskScheduled@5s", "TaskSucceeded@8s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("task events (-want +got):\n%s", diff)
	}
}

// TestTransitionsAreStoredPerTask: the states that decide alone (Choice,
// Pass, Succeed) are stored with the task before or after them, so this
// machine of six states is stored three times (its start and once per
// task), while its history still shows every state in order.
func TestTransitionsAreStoredPerTask(t *testing.T) {
	t.Parallel()
	const def = `{
  "StartAt": "Which",
  "States": {
    "Which": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "A"}], "Default": "A"},
    "A": {"Type": "Task", "Resource": "${ReserveStockFunctionArn}", "Next": "Tag"},
    "Tag": {"Type": "Pass", "Result": {"go": true}, "Next": "Again"},
    "Again": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "B"}], "Default": "B"},
    "B": {"Type": "Task", "Resource": "${ChargeWalletFunctionArn}", "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
}`
	h := newHarness(t)
	if err := h.ex.Register("m", []byte(def), handlers(t, []byte(def), nil)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.ex.Start(context.Background(), "m", "x", json.RawMessage(`{"go":true}`)); err != nil {
		t.Fatal(err)
	}
	x := h.finish("x")
	if x.Status != ports.ExecutionSucceeded || x.Version != 3 {
		t.Errorf("ended %s at version %d; want SUCCEEDED at 3 (start, A, B)", x.Status, x.Version)
	}
	hist, err := h.ex.History(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	var entered []string
	for _, ev := range hist {
		if strings.HasSuffix(ev.Type, "StateEntered") {
			entered = append(entered, ev.State)
		}
	}
	if got := strings.Join(entered, " "); got != "Which A Tag Again B Done" {
		t.Errorf("states entered: %s", got)
	}
}
