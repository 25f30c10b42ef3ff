package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/sqs"
	"github.com/unicornstore/unicorn/adapters/stepfunctions"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// role builds one function's handler: fn is its entry in the catalog.
type role func(ctx context.Context, fn lambda.Function, c compose.Config, log *slog.Logger) (any, error)

var roles = map[string]role{
	"api": func(ctx context.Context, fn lambda.Function, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, fn, c, log, needs{startsSagas: true, servesRequests: true})
		if err != nil {
			return nil, err
		}
		h, err := w.Handler()
		if err != nil {
			return nil, err
		}
		return lambda.API(h), nil
	},
	// The ledger's stream feeds the points read model and the webhooks
	// of points expired, matured and tiers changed; the retail table's
	// (products) and the messages table's (orders completed and
	// returned) feed product search, the sales tallies and the webhooks
	// of orders.
	"ledger-stream": streamRole(ports.TopicPointsLedger),
	"retail-stream": streamRole(ports.TopicProducts, ports.TopicPurchases, ports.TopicReturns),
	// One attempt per delivery the queue hands over; the deliveries to
	// try again go back to the queue (Deliver does that), so only an
	// error fails a message.
	"webhook-deliverer": func(ctx context.Context, fn lambda.Function, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, fn, c, log, needs{})
		if err != nil {
			return nil, err
		}
		return lambda.Queue(func(ctx context.Context, id string) error {
			d, err := w.Webhooks.Deliver(ctx, id)
			if err != nil {
				return err
			}
			log.Info("webhook delivery", "delivery", id, "status", d.Status().String(), "attempts", d.Attempts(),
				"last_status", d.LastStatus(), "next_attempt_at", d.NextAttemptAt())
			return nil
		}, c.WebhookWorkers, log), nil
	},
	"webhook-expiring-scan": scheduled(func(ctx context.Context, w *wiring) (lambda.SweepResult, error) {
		res, err := w.Webhooks.ScanExpiring(ctx)
		out := lambda.SweepResult{Done: int64(res.Notices), Failed: int64(res.Failed)}
		if err != nil && res.Failed > 0 {
			// Some accounts failed: the next day's scan finds their lots
			// again (a lot is told of once, whenever it is found).
			w.log.Error("expiring scan: accounts failed", "accounts", res.Accounts, "notices", res.Notices, "failed", res.Failed, "err", err)
			return out, nil
		}
		w.log.Info("expiring scan", "accounts", res.Accounts, "notices", res.Notices, "err", err)
		return out, err
	}, false),
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
	return func(ctx context.Context, fn lambda.Function, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, fn, c, log, needs{})
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
// the API serves requests; only the functions the catalog lets send to
// the webhook queue have it.
func wire(ctx context.Context, fn lambda.Function, c compose.Config, log *slog.Logger, n needs) (*wiring, error) {
	store, cfg, err := compose.OpenDynamoDB(ctx, c)
	if err != nil {
		return nil, err
	}
	w := &wiring{store: store, log: log}
	stores := compose.DynamoStores(store)
	if stores.WebhookQueue, err = webhookQueue(fn, cfg); err != nil {
		return nil, err
	}
	// Only the API signs in and checks tokens: the other functions never
	// touch the signing key.
	w.Services, err = compose.NewServices(ctx, c, stores, compose.Deps{Log: log, NoIdentity: !n.servesRequests},
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
	return func(ctx context.Context, fn lambda.Function, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, fn, c, log, needs{})
		if err != nil {
			return nil, err
		}
		return lambda.Stream(dynamodb.StreamMessage, w.StreamHandlers(topics...), log), nil
	}
}

func scheduled(sweep func(context.Context, *wiring) (lambda.SweepResult, error), startsSagas bool) role {
	return func(ctx context.Context, fn lambda.Function, c compose.Config, log *slog.Logger) (any, error) {
		w, err := wire(ctx, fn, c, log, needs{startsSagas: startsSagas})
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

// webhookQueueEnv names the webhook queue's URL in the environment.
const webhookQueueEnv = "UNICORN_WEBHOOK_QUEUE_URL"

// webhookQueue is where the function hands webhook deliveries: the SQS
// queue when the catalog lets it send there (its URL from the
// environment, the client from the function's AWS configuration, whose
// endpoint AWS_ENDPOINT_URL_SQS may move), else a queue that refuses, so
// that a function storing deliveries it was not meant to store says so
// instead of leaving them unsent.
func webhookQueue(fn lambda.Function, cfg aws.Config) (ports.WebhookQueue, error) {
	if !slices.Contains(fn.SendsTo, lambda.WebhookQueue) {
		return noQueue{fn.Name}, nil
	}
	url := os.Getenv(webhookQueueEnv)
	if url == "" {
		return nil, fmt.Errorf("%s is required: the %s function hands webhook deliveries to their queue", webhookQueueEnv, fn.Name)
	}
	return sqs.NewWebhookQueue(awssqs.NewFromConfig(cfg), url, clock.System{})
}

// noQueue is the webhook queue of the functions that send none.
type noQueue struct{ fn string }

func (q noQueue) Push(context.Context, ...ports.WebhookDelivery) error {
	return fmt.Errorf("the %s function does not send to the webhook queue (the catalog's SendsTo)", q.fn)
}
