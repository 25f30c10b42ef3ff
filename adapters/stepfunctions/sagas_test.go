package stepfunctions_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/unicornstore/unicorn/adapters/stepfunctions"
	"github.com/unicornstore/unicorn/ports"
	"github.com/unicornstore/unicorn/ports/porttest"
)

// TestStepFunctions runs the adapter against a Step Functions API
// (orchestration/conformance/sfn-server.mjs on aws-local-stepfunctions)
// whose Task states invoke a fake Lambda over HTTP, through the AWS SDK for
// JavaScript: the path a Catch takes in the cloud. One server serves every
// subtest, each on sagas of its own.
func TestStepFunctions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	t.Run("a started execution runs to its end, and Wait and Steps follow it in the step store", func(t *testing.T) {
		t.Parallel()
		saga := "o-" + uuid.NewString()
		if err := h.sagas.Start(ctx, saga, input(t, saga, "")); err != nil {
			t.Fatal(err)
		}
		h.wait(t, saga)
		x := h.closed(t, saga)
		if x.Status != types.ExecutionStatusSucceeded || aws.ToString(x.Name) != saga {
			t.Fatalf("execution %s %s (%s: %s), want %s succeeded", aws.ToString(x.Name), x.Status, aws.ToString(x.Error), aws.ToString(x.Cause), saga)
		}
		// The Pass state's result and the task's travelled to the end.
		if out := aws.ToString(x.Output); !strings.Contains(out, `"prepared":"prepared"`) || !strings.Contains(out, `"reserved":{"units":1}`) || !strings.Contains(out, `"completed":{"completed":true}`) {
			t.Errorf("output %s", out)
		}
		got, err := h.sagas.Steps(ctx, saga)
		if err != nil {
			t.Fatal(err)
		}
		want := []ports.SagaStep{
			{Step: "Reserve", Status: "started"},
			{Step: "Reserve", Status: "succeeded"},
			{Step: "Complete", Status: "succeeded"},
			{Step: "Saga", Status: "succeeded"},
		}
		if d := cmp.Diff(want, got, cmpopts.IgnoreFields(ports.SagaStep{}, "At")); d != "" {
			t.Errorf("steps (-want +got):\n%s", d)
		}
	})

	t.Run("a Lambda's OutOfStock is caught by its name and routed to the compensation", func(t *testing.T) {
		t.Parallel()
		saga := "o-" + uuid.NewString()
		if err := h.sagas.Start(ctx, saga, input(t, saga, "out_of_stock")); err != nil {
			t.Fatal(err)
		}
		h.wait(t, saga)
		x := h.closed(t, saga)
		if x.Status != types.ExecutionStatusFailed || aws.ToString(x.Error) != "OutOfStock" || aws.ToString(x.Cause) != "the stock was released" {
			t.Errorf("execution %s (%s: %s), want failed at the Fail state after Release", x.Status, aws.ToString(x.Error), aws.ToString(x.Cause))
		}
		got, err := h.sagas.Steps(ctx, saga)
		if err != nil {
			t.Fatal(err)
		}
		want := []ports.SagaStep{
			{Step: "Reserve", Status: "started"},
			{Step: "Reserve", Status: "failed", Error: "OutOfStock"},
			{Step: "Release", Status: "succeeded", Error: "OutOfStock"}, // what the Catch put in $.error
			{Step: "Saga", Status: "failed"},
		}
		if d := cmp.Diff(want, got, cmpopts.IgnoreFields(ports.SagaStep{}, "At")); d != "" {
			t.Errorf("steps (-want +got):\n%s", d)
		}
		if n := h.lambda.callCount("ReserveFunction", saga); n != 1 {
			t.Errorf("Reserve invoked %d times, want 1", n)
		}
	})

	t.Run("starting a saga again starts nothing: no error while it runs, ErrSagaEnded once it has ended", func(t *testing.T) {
		t.Parallel()
		saga := "o-" + uuid.NewString()
		h.lambda.hold(saga)
		first := input(t, saga, "hold")
		if err := h.sagas.Start(ctx, saga, first); err != nil {
			t.Fatal(err)
		}
		h.recorded(t, saga, ports.SagaStep{Step: "Reserve", Status: "started"})
		// While it runs: the same input (Step Functions returns the
		// running execution) and another (ExecutionAlreadyExists).
		for _, in := range [][]byte{first, input(t, saga, "")} {
			if err := h.sagas.Start(ctx, saga, in); err != nil {
				t.Errorf("Start again with %s: %v", in, err)
			}
		}
		h.lambda.release(saga)
		h.wait(t, saga)
		h.closed(t, saga)
		// Once it has closed (ExecutionAlreadyExists for any input): the
		// run has ended, which the caller must hear.
		if err := h.sagas.Start(ctx, saga, first); !errors.Is(err, ports.ErrSagaEnded) {
			t.Errorf("Start after the end: %v, want ErrSagaEnded", err)
		}
		if x := h.describe(t, saga); aws.ToString(x.Input) != string(first) || x.Status != types.ExecutionStatusSucceeded {
			t.Errorf("the execution is %s with input %s; want the first, succeeded", x.Status, aws.ToString(x.Input))
		}
		if n := h.lambda.callCount("ReserveFunction", saga); n != 1 {
			t.Errorf("Reserve invoked %d times, want 1: a second execution ran", n)
		}
	})

	t.Run("saga names map to valid execution names, one for one", func(t *testing.T) {
		t.Parallel()
		order := "o-" + uuid.NewString()
		long := strings.Repeat("a.b_c@d:", 16) // 128 characters, the longest order id
		for _, saga := range []string{order + ".retry-2", order + "_2Eretry-2", long, long + ".retry-2"} {
			if err := h.sagas.Start(ctx, saga, input(t, saga, "")); err != nil {
				t.Fatalf("Start(%s): %v", saga, err)
			}
		}
		for _, saga := range []string{order + ".retry-2", order + "_2Eretry-2", long, long + ".retry-2"} {
			h.wait(t, saga)
			if x := h.closed(t, saga); x.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(x.Input), saga) {
				t.Errorf("execution of %s: %s, input %s", saga, x.Status, aws.ToString(x.Input))
			}
		}
		if x := h.describe(t, order+".retry-2"); aws.ToString(x.Name) != order+"_2Eretry-2" {
			t.Errorf("the retry's execution is named %s", aws.ToString(x.Name))
		}
	})

	t.Run("Wait does not end before the end marker, and ends after it", func(t *testing.T) {
		t.Parallel()
		saga := "o-" + uuid.NewString()
		h.lambda.hold(saga)
		if err := h.sagas.Start(ctx, saga, input(t, saga, "hold")); err != nil {
			t.Fatal(err)
		}
		h.recorded(t, saga, ports.SagaStep{Step: "Reserve", Status: "started"})
		// The task is held: a Wait that reaches its deadline (asking
		// Step Functions just before it, which says RUNNING) has not
		// ended.
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if ended, err := h.sagas.Wait(short, saga); ended || err != nil {
			t.Fatalf("Wait while the task is held = %v, %v; want not ended, no error", ended, err)
		}
		done := make(chan bool, 1)
		go func() {
			ended, err := h.sagas.Wait(ctx, saga)
			if err != nil {
				t.Error(err)
			}
			done <- ended
		}()
		select {
		case <-done:
			t.Fatal("Wait ended while the task was held")
		default:
		}
		h.lambda.release(saga)
		select {
		case ended := <-done:
			if !ended {
				t.Error("Wait returned without the end")
			}
		case <-time.After(generous):
			t.Fatalf("Wait did not end within %v of the release", generous)
		}
		steps, err := h.sagas.Steps(ctx, saga)
		if err != nil || steps[len(steps)-1] != (ports.SagaStep{Step: "Saga", Status: "succeeded", At: steps[len(steps)-1].At}) {
			t.Errorf("steps %v, %v: want the end marker last", steps, err)
		}
	})

	t.Run("a cancelled context ends Wait", func(t *testing.T) {
		t.Parallel()
		saga := "o-" + uuid.NewString()
		h.lambda.hold(saga)
		if err := h.sagas.Start(ctx, saga, input(t, saga, "hold")); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{saga, "o-never-started"} {
			wctx, cancel := context.WithCancel(ctx)
			type result struct {
				ended bool
				err   error
			}
			done := make(chan result, 1)
			go func() {
				ended, err := h.sagas.Wait(wctx, name)
				done <- result{ended, err}
			}()
			cancel()
			select {
			case r := <-done:
				if r.ended || r.err != nil {
					t.Errorf("Wait(%s) after cancel = %v, %v; want not ended, no error", name, r.ended, r.err)
				}
			case <-time.After(generous):
				t.Fatalf("Wait(%s) still waiting %v after its context was cancelled", name, generous)
			}
		}
	})

	t.Run("an execution that fails outside any task ends Wait through DescribeExecution", func(t *testing.T) {
		t.Parallel()
		// The Fail state comes before any task: the store never hears of
		// the run, so only Step Functions can tell it has ended.
		quick, err := stepfunctions.New(h.client, machineARN, h.steps, stepfunctions.WithDescribeAfter(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		early, err := stepfunctions.New(h.client, machineARN, h.steps, stepfunctions.WithDescribeMargin(generous-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			sagas *stepfunctions.Sagas
			ctx   func() (context.Context, context.CancelFunc)
		}{
			{"after a long wait", quick, func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, generous) }},
			// Asked ahead of the deadline: by a margin wide enough that
			// the answer arrives in time on the busiest machine.
			{"before the deadline", early, func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, generous) }},
		} {
			saga := "o-" + uuid.NewString()
			if err := tc.sagas.Start(ctx, saga, input(t, saga, "refuse")); err != nil {
				t.Fatal(err)
			}
			if x := h.closed(t, saga); x.Status != types.ExecutionStatusFailed || aws.ToString(x.Error) != "Refused" {
				t.Fatalf("%s: execution %s %s, want failed with Refused", tc.name, x.Status, aws.ToString(x.Error))
			}
			wctx, cancel := tc.ctx()
			ended, err := tc.sagas.Wait(wctx, saga)
			cancel()
			if !ended || err != nil {
				t.Errorf("%s: Wait = %v, %v; want ended", tc.name, ended, err)
			}
			if _, err := tc.sagas.Steps(ctx, saga); !errors.Is(err, ports.ErrNotFound) {
				t.Errorf("%s: Steps of a run no task recorded: %v, want ErrNotFound", tc.name, err)
			}
		}
		// A saga that was never started has no execution to end it.
		ended, err := quick.Wait(ctx, "o-"+uuid.NewString())
		if ended || !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Wait for a saga never started = %v, %v; want ErrNotFound", ended, err)
		}
	})

	t.Run("executions run at the same time", func(t *testing.T) {
		t.Parallel()
		var sagas []string
		for range 10 {
			saga := "o-" + uuid.NewString()
			sagas = append(sagas, saga)
			h.lambda.hold(saga)
		}
		var wg sync.WaitGroup
		for _, saga := range sagas {
			wg.Go(func() {
				if err := h.sagas.Start(ctx, saga, input(t, saga, "hold")); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// Every task is in Lambda before any is released.
		for _, saga := range sagas {
			h.recorded(t, saga, ports.SagaStep{Step: "Reserve", Status: "started"})
		}
		for _, saga := range sagas {
			h.lambda.release(saga)
		}
		for _, saga := range sagas {
			h.wait(t, saga)
		}
	})
}

// TestMemSteps holds the tests' step store to the port's contract.
func TestMemSteps(t *testing.T) {
	porttest.TestSagaSteps(t, newMemSteps())
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func TestExecutionName(t *testing.T) {
	long := strings.Repeat("x", 128)
	tests := []struct {
		saga, want string
	}{
		{"o-6f1c2a9e-8d4b-4a5e-9c1f-2b3d4e5f6a7b", "o-6f1c2a9e-8d4b-4a5e-9c1f-2b3d4e5f6a7b"},
		{"o-6f1c2a9e-8d4b-4a5e-9c1f-2b3d4e5f6a7b.retry-2", "o-6f1c2a9e-8d4b-4a5e-9c1f-2b3d4e5f6a7b_2Eretry-2"},
		{"a_b", "a_5Fb"},
		{"a.b", "a_2Eb"},
		{"user@client:1", "user_40client_3A1"},
		{"é", "_C3_A9"},
		{strings.Repeat("x", 80), strings.Repeat("x", 80)},
		{long, strings.Repeat("x", 62) + "_h" + "24da1b81d0b16df6"},
	}
	for _, tc := range tests {
		t.Run(tc.saga, func(t *testing.T) {
			got := stepfunctions.ExecutionName(tc.saga)
			if got != tc.want {
				t.Errorf("ExecutionName(%q) = %q, want %q", tc.saga, got, tc.want)
			}
			if !validName.MatchString(got) {
				t.Errorf("ExecutionName(%q) = %q: not a valid execution name", tc.saga, got)
			}
		})
	}
}

// TestExecutionNameOneForOne: names that an escape or a cut could confuse
// stay apart.
func TestExecutionNameOneForOne(t *testing.T) {
	base := strings.Repeat("o", 60)
	sagas := []string{
		"a.b", "a_b", "a_2Eb", "a_5Fb", "a-b", "ab",
		base + ".retry-2", base + ".retry-3", base + "_2Eretry-2",
		strings.Repeat("y", 80), strings.Repeat("y", 81), strings.Repeat("y", 62) + "_hffffffffffffffff",
	}
	for i := range 128 {
		sagas = append(sagas, strings.Repeat("z", i+1)+".retry-2")
	}
	seen := map[string]string{}
	for _, s := range sagas {
		name := stepfunctions.ExecutionName(s)
		if !validName.MatchString(name) {
			t.Errorf("ExecutionName(%q) = %q: not a valid execution name", s, name)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("%q and %q both map to %q", other, s, name)
		}
		seen[name] = s
		if again := stepfunctions.ExecutionName(s); again != name {
			t.Errorf("ExecutionName(%q) is %q, then %q", s, name, again)
		}
	}
}

func TestNew(t *testing.T) {
	var client stepfunctions.Client = &scripted{}
	steps := newMemSteps()
	tests := []struct {
		name   string
		client stepfunctions.Client
		arn    string
		steps  ports.SagaSteps
		opts   []stepfunctions.Option
		ok     bool
	}{
		{"valid", client, machineARN, steps, nil, true},
		{"options", client, machineARN, steps, []stepfunctions.Option{stepfunctions.WithPolling(time.Millisecond, time.Second), stepfunctions.WithDescribeAfter(time.Minute)}, true},
		{"no client", nil, machineARN, steps, nil, false},
		{"no step store", client, machineARN, nil, nil, false},
		{"no ARN", client, "", steps, nil, false},
		{"a Lambda ARN", client, "arn:aws:lambda:us-east-1:123456789012:function:f", steps, nil, false},
		{"an execution ARN", client, "arn:aws:states:us-east-1:123456789012:execution:m:x", steps, nil, false},
		{"a state machine without a name", client, "arn:aws:states:us-east-1:123456789012:stateMachine:", steps, nil, false},
		{"polling backwards", client, machineARN, steps, []stepfunctions.Option{stepfunctions.WithPolling(time.Second, time.Millisecond)}, false},
		{"no polling", client, machineARN, steps, []stepfunctions.Option{stepfunctions.WithPolling(0, time.Second)}, false},
		{"never describe", client, machineARN, steps, []stepfunctions.Option{stepfunctions.WithDescribeAfter(0)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := stepfunctions.New(tc.client, tc.arn, tc.steps, tc.opts...)
			if tc.ok != (err == nil) || tc.ok != (s != nil) {
				t.Errorf("New = %v, %v; want ok %v", s, err, tc.ok)
			}
		})
	}
}

// scripted is a Step Functions client that answers with set errors: for
// the failures the server cannot be made to produce.
type scripted struct {
	startErr, describeErr error
	describes             int
}

func (s *scripted) StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	return &sfn.StartExecutionOutput{}, s.startErr
}

func (s *scripted) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	s.describes++
	if s.describeErr != nil {
		return nil, s.describeErr
	}
	return &sfn.DescribeExecutionOutput{Status: types.ExecutionStatusRunning}, nil
}

// failingSteps is a step store that cannot be read.
type failingSteps struct{ memSteps }

var errStore = errors.New("store down")

func (*failingSteps) Steps(context.Context, string) ([]ports.SagaStep, error) { return nil, errStore }

func TestErrors(t *testing.T) {
	ctx := context.Background()
	failed := fmt.Errorf("operation error SFN: %w", &types.InvalidExecutionInput{Message: aws.String("no")})

	t.Run("Start passes on other errors, wrapped", func(t *testing.T) {
		t.Parallel()
		s, _ := stepfunctions.New(&scripted{startErr: failed}, machineARN, newMemSteps())
		if err := s.Start(ctx, "o-1", []byte(`{}`)); !errors.Is(err, failed) {
			t.Errorf("Start = %v, want the client's error", err)
		}
		if err := s.Start(ctx, "", []byte(`{}`)); err == nil {
			t.Error("Start with no name: no error")
		}
	})

	t.Run("a store that fails fails Steps and Wait", func(t *testing.T) {
		t.Parallel()
		s, _ := stepfunctions.New(&scripted{}, machineARN, &failingSteps{})
		if _, err := s.Steps(ctx, "o-1"); !errors.Is(err, errStore) {
			t.Errorf("Steps = %v, want the store's error", err)
		}
		if ended, err := s.Wait(ctx, "o-1"); ended || !errors.Is(err, errStore) {
			t.Errorf("Wait = %v, %v; want the store's error", ended, err)
		}
	})

	t.Run("a DescribeExecution that fails is no answer: Wait goes on until its context ends", func(t *testing.T) {
		t.Parallel()
		client := &scripted{describeErr: failed}
		s, _ := stepfunctions.New(client, machineARN, newMemSteps(), stepfunctions.WithDescribeAfter(time.Millisecond))
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if ended, err := s.Wait(wctx, "o-1"); ended || err != nil {
			t.Errorf("Wait = %v, %v; want not ended and no error (a throttled describe must not fail a purchase)", ended, err)
		}
		if client.describes == 0 {
			t.Error("DescribeExecution was never asked")
		}
	})

	t.Run("DescribeExecution is asked rarely", func(t *testing.T) {
		t.Parallel()
		client := &scripted{}
		s, _ := stepfunctions.New(client, machineARN, newMemSteps(), stepfunctions.WithPolling(time.Millisecond, 5*time.Millisecond))
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if ended, err := s.Wait(wctx, "o-1"); ended || err != nil {
			t.Errorf("Wait = %v, %v; want not ended", ended, err)
		}
		// Polled the store hundreds of times; asked Step Functions once,
		// just before the deadline.
		if client.describes != 1 {
			t.Errorf("DescribeExecution called %d times in a 3 s wait, want 1", client.describes)
		}
	})
}
