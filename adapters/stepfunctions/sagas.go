// Package stepfunctions runs sagas on AWS Step Functions (Standard
// workflows): the cloud shape's ports.Sagas.
//
// Step Functions runs the executions; what the order page shows comes from
// the step store (ports.SagaSteps) that the saga's tasks write, because the
// service's read APIs are throttled per account and must not be called per
// request. Wait therefore polls the step store, and asks Step Functions
// only rarely (see Wait).
package stepfunctions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/unicornstore/unicorn/ports"
)

// Client is what Sagas calls of Step Functions (*sfn.Client has it).
type Client interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// sagaStep is the step the task recorder adds when a run has ended, with
// one of endStatuses. The task recorder writes succeeded or failed; the
// local executor's Steps reports the same vocabulary, timed_out and aborted
// included, and those end a run here too.
const sagaStep = "Saga"

var endStatuses = map[string]bool{"succeeded": true, "failed": true, "timed_out": true, "aborted": true}

// Defaults of the options.
const (
	defaultPollFirst     = 50 * time.Millisecond
	defaultPollMax       = time.Second
	defaultDescribeAfter = 30 * time.Second
	// maxDescribeGap bounds how far apart the DescribeExecution calls of
	// one very long Wait get.
	maxDescribeGap = 5 * time.Minute
	// defaultDescribeMargin is how long before its context's deadline
	// Wait asks Step Functions, so that the answer can arrive in time.
	defaultDescribeMargin = 250 * time.Millisecond
)

// Sagas starts purchase sagas as executions of one Standard state machine
// and follows them through the step store.
type Sagas struct {
	client        Client
	stateMachine  string // ARN
	executionARN  string // the ARN of an execution, less its name
	steps         ports.SagaSteps
	pollFirst     time.Duration
	pollMax       time.Duration
	describeAfter time.Duration
	// describeMargin: how long before its context's deadline Wait asks.
	describeMargin time.Duration
}

var _ ports.Sagas = (*Sagas)(nil)

// Option changes how Sagas waits.
type Option func(*Sagas)

// WithPolling sets the first and the longest interval between two reads of
// the step store while Wait waits (default 50 ms, doubling up to 1 s).
func WithPolling(first, max time.Duration) Option {
	return func(s *Sagas) { s.pollFirst, s.pollMax = first, max }
}

// WithDescribeAfter sets how long Wait waits on the step store before it
// asks Step Functions whether the execution has ended (default 30 s; the
// gap doubles after each question, up to 5 minutes).
func WithDescribeAfter(d time.Duration) Option {
	return func(s *Sagas) { s.describeAfter = d }
}

// WithDescribeMargin sets how long before its context's deadline Wait asks
// Step Functions (default 250 ms).
func WithDescribeMargin(d time.Duration) Option {
	return func(s *Sagas) { s.describeMargin = d }
}

// New returns the sagas of the Standard state machine stateMachineARN
// (arn:aws:states:<region>:<account>:stateMachine:<name>), whose tasks
// record their steps in steps.
func New(client Client, stateMachineARN string, steps ports.SagaSteps, opts ...Option) (*Sagas, error) {
	if client == nil || steps == nil {
		return nil, errors.New("step functions sagas: a client and a step store are required")
	}
	a, err := arn.Parse(stateMachineARN)
	if err != nil {
		return nil, fmt.Errorf("step functions sagas: state machine %q: %w", stateMachineARN, err)
	}
	machine, ok := strings.CutPrefix(a.Resource, "stateMachine:")
	if a.Service != "states" || !ok || machine == "" || strings.Contains(machine, ":") {
		return nil, fmt.Errorf("step functions sagas: %q is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)", stateMachineARN)
	}
	s := &Sagas{
		client:         client,
		stateMachine:   stateMachineARN,
		steps:          steps,
		pollFirst:      defaultPollFirst,
		pollMax:        defaultPollMax,
		describeAfter:  defaultDescribeAfter,
		describeMargin: defaultDescribeMargin,
	}
	// The documented shape of an execution's ARN, so that Wait can name
	// an execution this process did not start.
	a.Resource = "execution:" + machine + ":"
	s.executionARN = a.String()
	for _, o := range opts {
		o(s)
	}
	if s.pollFirst <= 0 || s.pollMax < s.pollFirst || s.describeAfter <= 0 || s.describeMargin < 0 {
		return nil, fmt.Errorf("step functions sagas: polling %v up to %v and describing after %v: each must be positive, the first no longer than the longest",
			s.pollFirst, s.pollMax, s.describeAfter)
	}
	return s, nil
}

// Start starts the execution named ExecutionName(name) with input. A name
// started already is not started again: Step Functions Standard returns
// the running execution for the same name and input (no error here), and
// answers ExecutionAlreadyExists for another input or a closed execution,
// which DescribeExecution tells apart: a closed one is ports.ErrSagaEnded.
func (s *Sagas) Start(ctx context.Context, name string, input json.RawMessage) error {
	if name == "" {
		return errors.New("start saga: a name is required")
	}
	_, err := s.client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(s.stateMachine),
		Name:            aws.String(ExecutionName(name)),
		Input:           aws.String(string(input)),
	})
	if _, ok := errors.AsType[*types.ExecutionAlreadyExists](err); ok {
		// Another input, or a closed execution: only the second needs
		// telling apart (a rare path: a repeat of an order whose run
		// ended, or a stranded order resumed).
		closed, derr := s.closed(ctx, name)
		if derr != nil {
			return fmt.Errorf("start saga %s: it exists, and %w", name, derr)
		}
		if closed {
			return fmt.Errorf("start saga %s: %w", name, ports.ErrSagaEnded)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("start saga %s: %w", name, err)
	}
	return nil
}

// Steps returns the steps the run's tasks recorded, in order, or
// ports.ErrNotFound while none has.
func (s *Sagas) Steps(ctx context.Context, name string) ([]ports.SagaStep, error) {
	steps, err := s.steps.Steps(ctx, ExecutionName(name))
	if err != nil {
		return nil, fmt.Errorf("steps of saga %s: %w", name, err)
	}
	return steps, nil
}

// Wait returns when the run has ended (ended is true) or ctx is done
// (false, and no error). A run has ended when its steps hold the marker the
// task recorder writes after the run's last task: step "Saga", status
// succeeded or failed.
//
// It reads the step store at once, then after 50 ms, and less and less
// often (up to every second). An execution can also end where no task records
// it: a States.Runtime error, a timeout, an operator's stop. To see those,
// Wait asks Step Functions (DescribeExecution) just before ctx's deadline
// and after a long wait (30 s, then ever more rarely); never per poll,
// because the service throttles DescribeExecution per account, and every
// waiting purchase would spend that budget. An execution that has closed
// ends the wait, whatever the store holds.
func (s *Sagas) Wait(ctx context.Context, name string) (bool, error) {
	start := time.Now()
	interval := s.pollFirst
	gap := s.describeAfter
	describeAt := s.nextDescribe(ctx, start, start.Add(gap))
	for {
		ended, err := s.ended(ctx, name)
		if ctx.Err() != nil {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if ended {
			return true, nil
		}
		if now := time.Now(); !now.Before(describeAt) {
			closed, err := s.closed(ctx, name)
			if ctx.Err() != nil {
				return false, nil
			}
			if closed || errors.Is(err, ports.ErrNotFound) {
				return closed, err
			}
			// Any other error (throttled, most likely) is no answer:
			// the store still tells, so the wait goes on.
			gap = min(2*gap, maxDescribeGap)
			describeAt = s.nextDescribe(ctx, now, now.Add(gap))
		}
		t := time.NewTimer(min(interval, time.Until(describeAt)))
		select {
		case <-ctx.Done():
			t.Stop()
			return false, nil
		case <-t.C:
		}
		interval = min(2*interval, s.pollMax)
	}
}

// nextDescribe is when Wait asks Step Functions next: at later, or just
// before ctx's deadline if that comes first and is still ahead.
func (s *Sagas) nextDescribe(ctx context.Context, now, later time.Time) time.Time {
	if deadline, ok := ctx.Deadline(); ok {
		if before := deadline.Add(-s.describeMargin); before.After(now) && before.Before(later) {
			return before
		}
	}
	return later
}

// ended reports whether the run's steps hold its end marker.
func (s *Sagas) ended(ctx context.Context, name string) (bool, error) {
	steps, err := s.steps.Steps(ctx, ExecutionName(name))
	if errors.Is(err, ports.ErrNotFound) {
		return false, nil // no task has recorded a step yet
	}
	if err != nil {
		return false, fmt.Errorf("wait for saga %s: %w", name, err)
	}
	for _, st := range steps {
		if st.Step == sagaStep && endStatuses[st.Status] {
			return true, nil
		}
	}
	return false, nil
}

// closed asks Step Functions whether the run's execution has closed. An
// execution that does not exist is ports.ErrNotFound: nothing will end it.
func (s *Sagas) closed(ctx context.Context, name string) (bool, error) {
	out, err := s.client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{
		ExecutionArn: aws.String(s.executionARN + ExecutionName(name)),
	})
	if _, ok := errors.AsType[*types.ExecutionDoesNotExist](err); ok {
		return false, fmt.Errorf("saga %s has no execution: %w", name, ports.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("describe the execution of saga %s: %w", name, err)
	}
	switch out.Status {
	case types.ExecutionStatusSucceeded, types.ExecutionStatusFailed, types.ExecutionStatusTimedOut, types.ExecutionStatusAborted:
		return true, nil
	default: // running, or pending a redrive, which runs it again
		return false, nil
	}
}

// maxNameLen is the longest execution name Step Functions accepts.
const maxNameLen = 80

// ExecutionName is the Step Functions execution name of a saga run: one
// saga name always gives the same execution name, and two saga names never
// give the same one.
//
// Execution names are 1 to 80 characters; we keep to A-Z a-z 0-9 - _
// (what the service accepts everywhere, CloudWatch Logs included). Letters,
// digits and '-' stay as they are; every other byte becomes '_' and its two
// hexadecimal digits, upper case ("o-1.retry-2" is "o-1_2Eretry-2", '_' is
// "_5F"), so no two saga names meet. A result over 80 characters (ids
// may have 128) keeps its first 62 and ends with "_h" and 16 hexadecimal
// digits of the SHA-256 of the saga name: an escape never has 'h' after
// '_', so such a name cannot meet a short one, and two long names only
// would if their hashes' first 64 bits collided.
func ExecutionName(saga string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(saga); i++ {
		c := saga[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	name := b.String()
	if len(name) <= maxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(saga))
	return name[:maxNameLen-18] + "_h" + hex.EncodeToString(sum[:8])
}
