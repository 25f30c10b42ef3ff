package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

// app is the one-machine composition: every adapter and service, wired. The
// commands and the end-to-end tests build it the same way.
type app struct {
	log        *slog.Logger
	db         *sqlite.DB
	points     *points.Service
	campaigns  *campaign.Service
	reads      *points.ReadModel
	sweeper    *points.Sweeper
	dispatcher *sqlite.Dispatcher
	handler    http.Handler
}

// deps are the ports a deployment may replace (tests move the clock).
type deps struct {
	clock ports.Clock
	ids   ports.IDs
}

func newApp(ctx context.Context, c config, log *slog.Logger, d deps) (*app, error) {
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
	a := &app{log: log, db: db}
	ledger, balances := db.Ledger(), db.Balances()
	a.points, err = points.NewService(points.Deps{Ledger: ledger, Snapshots: db.Snapshots(), Clock: d.clock, IDs: d.ids, Log: log},
		points.Config{TTLDays: c.TTLDays})
	if err != nil {
		db.Close()
		return nil, err
	}
	if a.reads, err = points.NewReadModel(ledger, balances, d.clock); err != nil {
		db.Close()
		return nil, err
	}
	a.sweeper = points.NewSweeper(a.points, balances, d.clock)
	a.dispatcher = db.NewDispatcher(log)
	a.dispatcher.Subscribe("points-read-model", func(ctx context.Context, m ports.Message) error {
		var ev ports.Event
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			return fmt.Errorf("decode ledger message %d: %w", m.ID, err)
		}
		return a.reads.Apply(ctx, ev)
	}, ports.TopicPointsLedger)
	a.campaigns, err = campaign.NewService(campaign.Deps{Store: db.Campaigns(), Points: a.points, Clock: d.clock, Log: log})
	if err != nil {
		db.Close()
		return nil, err
	}
	a.handler, err = httpapi.NewHandler(httpapi.Config{Points: a.points, ReadModel: a.reads, Campaigns: a.campaigns, Log: log, Ready: db.Ping})
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.db.Close() }
