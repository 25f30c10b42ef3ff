package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/adapters/metrics"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/orchestration"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// app is the one-machine composition: the services over the storage, the
// local saga executor and the change feed that keeps the read models. The
// commands and the end-to-end tests build it the same way.
type app struct {
	*compose.Services
	cfg      compose.Config
	log      *slog.Logger
	stores   compose.Stores
	executor *executor.Executor
	handler  http.Handler
	// feed keeps the read models: the outbox's dispatcher on SQLite, the
	// tables' stream readers on DynamoDB. It runs until ctx ends.
	feed  func(ctx context.Context) error
	close func() error
	// metrics are told what the API, the sagas and the storage do, and
	// read the state of the store when scraped (serve's -debug-addr).
	metrics *metrics.Metrics

	// On SQLite only (the operator commands use them).
	db         *sqlite.DB
	executions ports.Executions
	dispatcher *sqlite.Dispatcher
}

// deps are what a test may replace: the clock, the ids, and wrappers
// around the saga's tasks (to inject faults).
type deps struct {
	clock ports.Clock
	ids   ports.IDs
	wrap  sagatasks.Wrap
	hash  identity.HashParams // cheaper password hashing for tests
}

func newApp(ctx context.Context, c compose.Config, log *slog.Logger, d deps) (_ *app, err error) {
	if d.clock == nil {
		d.clock = clock.System{}
	}
	if d.ids == nil {
		d.ids = clock.UUIDs{}
	}
	if c.Store == "dynamodb" {
		return newDynamoApp(ctx, c, log, d)
	}
	db, err := sqlite.Open(ctx, c.DBPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	a := &app{cfg: c, log: log, db: db, stores: compose.SQLiteStores(db), executions: db.Executions(), close: db.Close,
		metrics: metrics.New(log)}
	db.ObserveCommits(a.metrics.Commit)
	if err := a.wire(ctx, d); err != nil {
		return nil, err
	}
	// The outbox feeds the read models.
	a.dispatcher = db.NewDispatcher(log)
	for _, c := range a.Consumers() {
		a.dispatcher.Subscribe(c.Name, c.Handle, c.Topic)
	}
	a.feed = a.dispatcher.Run
	orders := db.Orders()
	a.metrics.Watch(metrics.State{
		NeedsAttention: func(ctx context.Context) (int, error) {
			return orders.CountWithStatus(ctx, ports.OrderNeedsAttention)
		},
		Feed: func(ctx context.Context) ([]metrics.ConsumerLag, error) {
			lags, err := a.dispatcher.Lag(ctx)
			out := make([]metrics.ConsumerLag, len(lags))
			for i, l := range lags {
				out[i] = metrics.ConsumerLag{Consumer: l.Subscriber, Pending: l.Pending, Oldest: l.Oldest, Parked: l.Parked}
			}
			return out, err
		},
	})
	return a, nil
}

// giveUp is how many times in a row serve on DynamoDB hands a change
// record to the read models before it skips it (about two minutes of
// backing off), as the cloud's event source mappings send a record to
// their dead-letter queue after a finite number of retries.
const giveUp = 30

// newDynamoApp is the same server on DynamoDB (DynamoDB Local, or AWS):
// the local executor keeps its executions in a table, and stream readers
// hand the tables' changes to the read models through the same handler the
// Lambda consumers run.
func newDynamoApp(ctx context.Context, c compose.Config, log *slog.Logger, d deps) (*app, error) {
	store, cfg, err := compose.OpenDynamoDB(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := store.Ping(ctx); err != nil {
		return nil, fmt.Errorf("DynamoDB at %s, tables %s*: %w (create them with -create-tables)", cmp.Or(c.DynamoDBEndpoint, "AWS"), c.TablePrefix, err)
	}
	a := &app{cfg: c, log: log, stores: compose.DynamoStores(store), executions: store.Executions(), close: func() error { return nil },
		metrics: metrics.New(log)}
	if err := a.wire(ctx, d); err != nil {
		return nil, err
	}
	// The tables' streams keep no cursor here to measure a lag from; the
	// orders that need attention are listed from the status index, so the
	// gauge stops at a page of them.
	a.metrics.Watch(metrics.State{NeedsAttention: func(ctx context.Context) (int, error) {
		orders, err := a.stores.Orders.WithStatus(ctx, ports.OrderNeedsAttention, limits.PageSize)
		return len(orders), err
	}})
	streams := compose.OpenDynamoDBStreams(c, cfg)
	handle := lambda.Stream(dynamodb.StreamMessage, a.StreamHandlers(), log)
	tables := store.Tables()
	type reader struct {
		table string
		*dynamodb.StreamReader
	}
	var readers []reader
	for _, table := range []string{tables.Ledger, tables.Retail, tables.Messages} {
		arn, err := store.StreamARN(ctx, table)
		if err != nil {
			return nil, err
		}
		// From the oldest record the stream holds: a restart replays up
		// to a day of changes, which the read models apply once.
		readers = append(readers, reader{table, dynamodb.NewStreamReader(streams, arn, dynamodb.StreamReaderConfig{Log: log})})
	}
	a.feed = func(ctx context.Context) error {
		var wg sync.WaitGroup
		for _, r := range readers {
			table := r.table
			wg.Go(func() {
				if err := r.Run(ctx, func(ctx context.Context, batch []streamtypes.Record) error {
					return lambda.Consume(ctx, batch, handle, giveUp, func(seq string) {
						log.Error("a change record failed every try and was skipped: its read model misses it until rebuilt",
							"table", table, "sequence", seq, "tries", giveUp)
					})
				}); err != nil {
					log.Error("stream reader stopped", "err", err)
				}
			})
		}
		wg.Wait()
		return nil
	}
	return a, nil
}

// wire builds the services and the local executor over a.stores.
func (a *app) wire(ctx context.Context, d deps) (err error) {
	if a.executor, err = executor.New(executor.Config{Store: a.executions, Clock: d.clock, IDs: d.ids, Log: a.log, Workers: a.cfg.SagaWorkers,
		Ended: a.metrics.SagaEnded}); err != nil {
		return err
	}
	a.Services, err = compose.NewServices(ctx, a.cfg, a.stores, compose.Deps{Clock: d.clock, IDs: d.ids, Log: a.log, Hash: d.hash},
		func(steps *retail.Steps) (compose.Runners, error) {
			if err := a.executor.Register(orchestration.PurchaseMachine, orchestration.Purchase, sagatasks.Handlers(steps, d.wrap)); err != nil {
				return compose.Runners{}, err
			}
			if err := a.executor.Register(orchestration.ReturnMachine, orchestration.Return, sagatasks.ReturnHandlers(steps, d.wrap)); err != nil {
				return compose.Runners{}, err
			}
			return compose.Runners{Purchases: a.executor.Sagas(orchestration.PurchaseMachine),
				Returns: a.executor.Sagas(orchestration.ReturnMachine)}, nil
		})
	if err != nil {
		return err
	}
	a.SagaBacklog = a.executor.Backlog
	a.Services.Metrics = a.metrics
	a.handler, err = a.Handler()
	return err
}

func (a *app) Close() error { return a.close() }
