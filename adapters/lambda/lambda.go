// Package lambda adapts the store to AWS Lambda: API Gateway HTTP API
// events served by the same HTTP handler as the one-machine server, saga
// tasks invoked by Step Functions, DynamoDB stream batches fed to the read
// models, SQS message batches (the webhook deliveries to try), and
// scheduled sweeps. It decides nothing itself: every handler calls the
// same code the one-machine server runs.
package lambda

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// API serves API Gateway HTTP API events (payload format 2.0) with h. The
// caller's identity comes from the bearer token, verified by h as on one
// machine: the gateway's JWT authorizer turns away a bad token before it
// costs an invocation, and the handler does not trust the gateway alone.
func API(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(h).ProxyWithContext
}

// TaskHandler is a saga task as the local executor runs it: the state's
// input in, the task's result or its named error out.
type TaskHandler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// Task runs one saga task for Step Functions. The handler's error is
// returned as it is: aws-lambda-go reports it under its Go type's name
// (an *OutOfStock as errorType "OutOfStock"), which is what the state
// machine's Catch matches, so it must not be wrapped here.
func Task(h TaskHandler) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		return h(ctx, input)
	}
}

// SweepResult is what a scheduled sweep did, for the function's log and
// its response.
type SweepResult struct {
	Done int64 `json:"done"`
	// Failed counts the items the sweep could not handle (they are
	// logged); the next run tries them again.
	Failed int64 `json:"failed,omitempty"`
}

// Scheduled runs a sweep on a schedule (EventBridge Scheduler). The event
// carries nothing the sweep needs: a sweep finds its own work, so a late
// or repeated invocation is harmless. A sweep that handled some items and
// failed others succeeds with the failures counted: an error would make
// the scheduler run the whole sweep again and again for one bad item.
func Scheduled(sweep func(context.Context) (SweepResult, error)) func(context.Context, json.RawMessage) (SweepResult, error) {
	return func(ctx context.Context, _ json.RawMessage) (SweepResult, error) {
		return sweep(ctx)
	}
}
