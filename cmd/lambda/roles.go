package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/stepfunctions"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// role builds one function's handler.
type role func(ctx context.Context, c compose.Config, log *slog.Logger) (any, error)

var roles = map[string]role{
	"api": func(ctx context.Context, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, c, log, needs{startsSagas: true, servesRequests: true})
		if err != nil {
			return nil, err
		}
		h, err := w.Handler()
		if err != nil {
			return nil, err
		}
		return lambda.API(h), nil
	},
	"ledger-stream": streamRole(ports.TopicPointsLedger),
	"retail-stream": streamRole(ports.TopicProducts, ports.TopicPurchases),
	"expire-points": scheduled(func(ctx context.Context, w *wiring) (lambda.SweepResult, error) {
		res, err := w.Sweeper.Sweep(ctx)
		out := lambda.SweepResult{Done: res.Points, Failed: int64(res.Failed)}
		if err != nil && res.Failed > 0 {
			// Some accounts failed, the others expired: say which, and
			// let the next run try them again.
			w.log.Error("expiry sweep: accounts failed", "accounts", res.Accounts, "points", res.Points, "failed", res.Failed, "err", err)
			return out, nil
		}
		w.log.Info("expiry sweep", "accounts", res.Accounts, "points", res.Points, "err", err)
		return out, err
	}, false),
	"release-stock": scheduled(func(ctx context.Context, w *wiring) (lambda.SweepResult, error) {
		n, err := w.Orders.ReleaseExpired(ctx)
		return lambda.SweepResult{Done: int64(n)}, err
	}, false),
	"resume-orders": scheduled(func(ctx context.Context, w *wiring) (lambda.SweepResult, error) {
		// An order pending for longer than this was never started, or
		// its start failed: starting it again is harmless (the execution
		// name is the order's).
		n, err := w.Orders.ResumeStranded(ctx, time.Minute)
		return lambda.SweepResult{Done: int64(n)}, err
	}, true),
}

func init() {
	// One role per Task of the purchase and return sagas, named as its
	// state.
	for resource := range sagatasks.Steps {
		roles[taskRole(resource)] = task(resource, sagatasks.Handlers)
	}
	for resource := range sagatasks.ReturnSteps {
		roles[taskRole(resource)] = task(resource, sagatasks.ReturnHandlers)
	}
}

// taskRole is the role of the task that fills a saga's resource
// placeholder: the placeholder's name without "FunctionArn".
func taskRole(resource string) string { return strings.TrimSuffix(resource, "FunctionArn") }

// task is the role of one saga task: its handler among a saga's, each
// recording its steps for the order page.
func task(resource string, handlers func(*retail.Steps, sagatasks.Wrap) map[string]executor.Handler) role {
	return func(ctx context.Context, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, c, log, needs{})
		if err != nil {
			return nil, err
		}
		h := handlers(w.Steps, sagatasks.Recorded(w.store.SagaSteps(), clock.System{}))[resource]
		return lambda.Task(lambda.TaskHandler(h)), nil
	}
}

// needs says what of the store a function uses beyond the domains.
type needs struct {
	startsSagas    bool // the state machine (and its ARN)
	servesRequests bool // identity: users, sessions, the token signing key
}

// wiring is the services over DynamoDB, and the store itself.
type wiring struct {
	*compose.Services
	store *dynamodb.Store
	log   *slog.Logger
}

// wire builds the services over DynamoDB. Only the functions that start
// sagas (the API, the stranded-order sweep) need the state machine; only
// the API serves requests.
func wire(ctx context.Context, c compose.Config, log *slog.Logger, n needs) (*wiring, error) {
	store, cfg, err := compose.OpenDynamoDB(ctx, c)
	if err != nil {
		return nil, err
	}
	w := &wiring{store: store, log: log}
	// Only the API signs in and checks tokens: the other functions never
	// touch the signing key.
	w.Services, err = compose.NewServices(ctx, c, compose.DynamoStores(store), compose.Deps{Log: log, NoIdentity: !n.servesRequests},
		func(*retail.Steps) (compose.Runners, error) {
			if !n.startsSagas {
				return compose.Runners{Purchases: noSagas{}, Returns: noSagas{}}, nil
			}
			if c.StateMachineARN == "" || c.ReturnStateMachineARN == "" {
				return compose.Runners{}, errors.New("UNICORN_STATE_MACHINE_ARN and UNICORN_RETURN_STATE_MACHINE_ARN are required: this function starts sagas")
			}
			client := sfn.NewFromConfig(cfg)
			purchases, err := stepfunctions.New(client, c.StateMachineARN, store.SagaSteps())
			if err != nil {
				return compose.Runners{}, err
			}
			returns, err := stepfunctions.New(client, c.ReturnStateMachineARN, store.SagaSteps())
			return compose.Runners{Purchases: purchases, Returns: returns}, err
		})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func streamRole(topics ...string) role {
	return func(ctx context.Context, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, c, log, needs{})
		if err != nil {
			return nil, err
		}
		return lambda.Stream(dynamodb.StreamMessage, w.StreamHandlers(topics...), log), nil
	}
}

func scheduled(sweep func(context.Context, *wiring) (lambda.SweepResult, error), startsSagas bool) role {
	return func(ctx context.Context, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, c, log, needs{startsSagas: startsSagas})
		if err != nil {
			return nil, err
		}
		return lambda.Scheduled(func(ctx context.Context) (lambda.SweepResult, error) { return sweep(ctx, w) }), nil
	}
}

// noSagas is the saga runner of functions that never start one (a task,
// a stream consumer): a call is a programming error, said plainly.
type noSagas struct{}

var errNoSagas = errors.New("this function does not start sagas")

func (noSagas) Start(context.Context, string, json.RawMessage) error { return errNoSagas }
func (noSagas) Wait(context.Context, string) (bool, error)           { return false, errNoSagas }
func (noSagas) Steps(context.Context, string) ([]ports.SagaStep, error) {
	return nil, errNoSagas
}
