// Package sagatasks exposes the steps of the purchase and return sagas as
// task handlers: it
// decodes a task's JSON input, calls the step, and turns the step's
// business failures into the error names the state machine's Catch fields
// match. The local executor and the Lambda adapter use the same handlers.
package sagatasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration/asl"
	"github.com/unicornstore/unicorn/orchestration/executor"
)

// Step is one step of the purchase saga.
type Step = func(*retail.Steps, context.Context, retail.StepInput) error

// ReturnStep is one step of the return saga.
type ReturnStep = func(*retail.Steps, context.Context, retail.ReturnInput) error

// ReturnSteps maps each Resource name of return.asl.json to its step.
var ReturnSteps = map[string]ReturnStep{
	"ReverseReturnAwardFunctionArn":       (*retail.Steps).ReverseReturnAward,
	"RestoreReturnPointsFunctionArn":      (*retail.Steps).RestoreReturnPoints,
	"RefundReturnFunctionArn":             (*retail.Steps).RefundReturn,
	"RestockReturnFunctionArn":            (*retail.Steps).RestockReturn,
	"CompleteReturnFunctionArn":           (*retail.Steps).CompleteReturn,
	"PublishOrderReturnedFunctionArn":     (*retail.Steps).PublishOrderReturned,
	"MarkReturnNeedsAttentionFunctionArn": (*retail.Steps).MarkReturnNeedsAttention,
}

// Steps maps each Resource name of purchase.asl.json to its step.
var Steps = map[string]Step{
	"ReserveStockFunctionArn":             (*retail.Steps).ReserveStock,
	"RedeemPointsFunctionArn":             (*retail.Steps).RedeemPoints,
	"ChargeWalletFunctionArn":             (*retail.Steps).ChargeWallet,
	"AwardPointsFunctionArn":              (*retail.Steps).AwardPoints,
	"CompleteOrderFunctionArn":            (*retail.Steps).CompleteOrder,
	"PublishPurchaseCompletedFunctionArn": (*retail.Steps).PublishPurchaseCompleted,
	"ReverseAwardFunctionArn":             (*retail.Steps).ReverseAward,
	"RefundWalletFunctionArn":             (*retail.Steps).RefundWallet,
	"RestorePointsFunctionArn":            (*retail.Steps).RestorePoints,
	"ReleaseStockFunctionArn":             (*retail.Steps).ReleaseStock,
	"FailOrderFunctionArn":                (*retail.Steps).FailOrder,
	"MarkNeedsAttentionFunctionArn":       (*retail.Steps).MarkNeedsAttention,
}

// taskErrors turn the domain's business failures into the task errors
// the state machine's Catch fields match.
var taskErrors = []struct {
	err  error
	name string // the ASL error name: the task error's type name
	make func(cause string) error
}{
	{retail.ErrOutOfStock, "OutOfStock", func(c string) error { return &OutOfStock{c} }},
	{retail.ErrNoPoints, "InsufficientPoints", func(c string) error { return &InsufficientPoints{c} }},
	{retail.ErrNoFunds, "InsufficientFunds", func(c string) error { return &InsufficientFunds{c} }},
	{retail.ErrOrderClosed, "OrderClosed", func(c string) error { return &OrderClosed{c} }},
	{retail.ErrReservationGone, "ReservationExpired", func(c string) error { return &ReservationExpired{c} }},
}

// ErrorName returns the ASL error name of a step's error, "" for an error
// that is not a business failure (the executor reports it as
// States.TaskFailed and retries it).
func ErrorName(err error) string {
	if te := TaskError(err); te != nil {
		return te.(asl.Named).ErrorName()
	}
	return ""
}

// TaskError is the task error a step's business failure is reported as,
// or nil for any other error.
func TaskError(err error) error {
	for _, e := range taskErrors {
		if errors.Is(err, e.err) {
			return e.make(err.Error())
		}
	}
	return nil
}

// Wrap lets a caller put something around each handler, by resource name.
// Production passes none; tests inject faults with it.
type Wrap func(resource string, h executor.Handler) executor.Handler

// Handlers returns a handler for every step of the purchase saga.
func Handlers(steps *retail.Steps, wrap Wrap) map[string]executor.Handler {
	return handlers(steps, Steps, wrap, func(in retail.StepInput) (bool, []*retail.StepError) {
		return in.OrderID != "", []*retail.StepError{in.Failure, in.CompensationFailure}
	}, `a step needs {"order_id": ...}`)
}

// ReturnHandlers returns a handler for every step of the return saga.
func ReturnHandlers(steps *retail.Steps, wrap Wrap) map[string]executor.Handler {
	return handlers(steps, ReturnSteps, wrap, func(in retail.ReturnInput) (bool, []*retail.StepError) {
		return in.OrderID != "" && in.ReturnID != "", []*retail.StepError{in.Failure}
	}, `a return step needs {"order_id": ..., "return_id": ...}`)
}

// handlers makes a handler of each step of a saga: it decodes the task's
// input (check says whether it names what the step works on, and which
// caught errors it carries), runs the step, and reports a business
// failure as the task error the saga's Catch matches.
func handlers[In any](steps *retail.Steps, catalog map[string]func(*retail.Steps, context.Context, In) error, wrap Wrap,
	check func(In) (ok bool, caught []*retail.StepError), needs string) map[string]executor.Handler {
	out := make(map[string]executor.Handler, len(catalog))
	for resource, step := range catalog {
		var h executor.Handler = func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in In
			err := json.Unmarshal(input, &in)
			ok, caught := check(in)
			if err != nil || !ok {
				return nil, &BadInput{Cause: fmt.Sprintf("%s: %v", needs, err)}
			}
			for _, f := range caught {
				if f != nil {
					f.Cause = PlainCause(f.Cause)
				}
			}
			if err := step(steps, ctx, in); err != nil {
				if te := TaskError(err); te != nil {
					return nil, te
				}
				return nil, err
			}
			return json.RawMessage(`{"ok":true}`), nil
		}
		if wrap != nil {
			h = wrap(resource, h)
		}
		out[resource] = h
	}
	return out
}

// PlainCause is the text of a caught error's cause. Step Functions gives
// a Lambda function's error to a Catch as the function's whole error
// payload, {"errorMessage": ..., "errorType": ...}, where the local
// executor gives the message: the order keeps the message either way.
func PlainCause(cause string) string {
	var payload struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if strings.HasPrefix(cause, "{") && json.Unmarshal([]byte(cause), &payload) == nil && payload.ErrorMessage != nil {
		return *payload.ErrorMessage
	}
	return cause
}
