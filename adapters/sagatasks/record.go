package sagatasks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/unicornstore/unicorn/orchestration/asl"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// runEnds are the tasks after which a purchase or return run has ended,
// and how: the state each leads to (the Succeed and Fail states of
// purchase.asl.json and return.asl.json), told as the local executor tells
// an execution's end. FailOrder's Fail state takes its error from the
// input's "error" (the failure that started the compensations).
var runEnds = map[string]ports.SagaStep{
	"PublishPurchaseCompleted": {Step: "Saga", Status: "succeeded"},
	"FailOrder":                {Step: "Saga", Status: "failed"},
	"MarkNeedsAttention": {Step: "Saga", Status: "failed", Error: "CompensationFailed",
		Cause: "a compensation kept failing: the order needs an operator"},
	"PublishOrderReturned": {Step: "Saga", Status: "succeeded"},
	"MarkReturnNeedsAttention": {Step: "Saga", Status: "failed", Error: "ReturnNeedsAttention",
		Cause: "a step of the return kept failing: an admin must look"},
}

// Recorded records every task's steps in a store, for runs whose history a
// workflow service keeps (Step Functions): the order page and a waiting
// purchase read them there rather than calling the service, whose APIs are
// throttled. A task records "started" before it runs and "succeeded" or
// "failed" (with its error name) after; the last task of a path also
// records the run's end, as the step "Saga". A task that runs twice (a
// retry) records twice, as the local executor's history shows a retry.
// The run is the task input's "saga": purchase.asl.json passes the
// execution's name there ($$.Execution.Name), the name Step Functions
// knows the run by (an operator's retry runs under a name of its own), so
// the Step Functions adapter reads the steps back under that name.
func Recorded(steps ports.SagaSteps, clock ports.Clock) Wrap {
	return func(resource string, h executor.Handler) executor.Handler {
		state := strings.TrimSuffix(resource, "FunctionArn")
		return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct {
				OrderID string `json:"order_id"`
				Saga    string `json:"saga"`
				Error   *struct {
					Error string `json:"Error"`
					Cause string `json:"Cause"`
				} `json:"error"`
			}
			if json.Unmarshal(input, &in) != nil || cmp.Or(in.Saga, in.OrderID) == "" {
				return h(ctx, input) // the handler refuses the input with its own error
			}
			run := cmp.Or(in.Saga, in.OrderID)
			if err := steps.Record(ctx, run, ports.SagaStep{Step: state, Status: "started", At: clock.Now()}); err != nil {
				return nil, err
			}
			out, err := h(ctx, input)
			step := ports.SagaStep{Step: state, Status: "succeeded", At: clock.Now()}
			if err != nil {
				step.Status, step.Error, step.Cause = "failed", "States.TaskFailed", err.Error()
				var named asl.Named
				if errors.As(err, &named) {
					step.Error = named.ErrorName()
				}
			}
			if rerr := steps.Record(ctx, run, step); rerr != nil && err == nil {
				// The task's effect is done and idempotent: failing it
				// makes the state machine retry, and the retry records.
				return nil, rerr
			}
			if end, ok := runEnds[state]; ok && err == nil {
				if end.Error == "" && end.Status == "failed" && in.Error != nil {
					end.Error, end.Cause = in.Error.Error, PlainCause(in.Error.Cause)
				}
				end.At = clock.Now()
				if err := steps.Record(ctx, run, end); err != nil {
					return nil, err
				}
			}
			return out, err
		}
	}
}
