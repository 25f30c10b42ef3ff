package executor

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/unicornstore/unicorn/ports"
)

// Sagas runs one registered machine behind the ports.Sagas port.
type Sagas struct {
	ex      *Executor
	machine string
}

// Sagas returns the port for a registered machine.
func (e *Executor) Sagas(machine string) *Sagas { return &Sagas{ex: e, machine: machine} }

var _ ports.Sagas = (*Sagas)(nil)

func (s *Sagas) Start(ctx context.Context, name string, input json.RawMessage) error {
	x, created, err := s.ex.Start(ctx, s.machine, name, input)
	if err == nil && !created && Terminal(x) {
		return fmt.Errorf("start saga %s: %w", name, ports.ErrSagaEnded)
	}
	return err
}

func (s *Sagas) Wait(ctx context.Context, name string) (bool, error) {
	x, err := s.ex.Wait(ctx, name)
	if err != nil {
		return false, err
	}
	return Terminal(x), nil
}

// Steps turns an execution's history into the steps a customer sees: each
// task started, succeeded, failed, retrying or caught, and how it ended.
func (s *Sagas) Steps(ctx context.Context, name string) ([]ports.SagaStep, error) {
	hist, err := s.ex.History(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []ports.SagaStep
	for _, ev := range hist {
		var d struct {
			Error string `json:"error"`
			Cause string `json:"cause"`
		}
		if len(ev.Details) > 0 {
			if err := json.Unmarshal(ev.Details, &d); err != nil {
				return nil, err
			}
		}
		step := ports.SagaStep{Step: ev.State, At: ev.At, Error: d.Error, Cause: d.Cause}
		switch ev.Type {
		case "TaskScheduled":
			step.Status, step.Error, step.Cause = "started", "", ""
		case "TaskSucceeded":
			step.Status = "succeeded"
		case "TaskFailed":
			step.Status = "failed"
		case "RetryScheduled":
			step.Status = "retrying"
		case "ErrorCaught":
			step.Status = "caught"
		case "ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted":
			step.Step, step.Status = "Saga", map[string]string{"ExecutionSucceeded": "succeeded", "ExecutionFailed": "failed",
				"ExecutionTimedOut": "timed_out", "ExecutionAborted": "aborted"}[ev.Type]
		default:
			continue
		}
		out = append(out, step)
	}
	return out, nil
}
