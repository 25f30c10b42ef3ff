package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// app is the one-machine composition: the services over the storage, the
// local saga executor and the change feed that keeps the read models. The
// commands and the end-to-end tests build it the same way.
type app struct {
	*compose.Services
	cfg        compose.Config
	log        *slog.Logger
	db         *sqlite.DB
	executor   *executor.Executor
	dispatcher *sqlite.Dispatcher
	handler    http.Handler
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
	db, err := sqlite.Open(ctx, c.DBPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	a := &app{cfg: c, log: log, db: db}
	if a.executor, err = executor.New(executor.Config{Store: db.Executions(), Clock: d.clock, IDs: d.ids, Log: log, Workers: c.SagaWorkers}); err != nil {
		return nil, err
	}
	a.Services, err = compose.NewServices(ctx, c, compose.SQLiteStores(db), compose.Deps{Clock: d.clock, IDs: d.ids, Log: log, Hash: d.hash},
		func(steps *retail.Steps) (ports.Sagas, error) {
			if err := a.executor.Register(orchestration.PurchaseMachine, orchestration.Purchase, sagatasks.Handlers(steps, d.wrap)); err != nil {
				return nil, err
			}
			return a.executor.Sagas(orchestration.PurchaseMachine), nil
		})
	if err != nil {
		return nil, err
	}
	// The outbox feeds the read models.
	a.dispatcher = db.NewDispatcher(log)
	for _, c := range a.Consumers() {
		a.dispatcher.Subscribe(c.Name, c.Handle, c.Topic)
	}
	if a.handler, err = a.Handler(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.db.Close() }
