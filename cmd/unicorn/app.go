package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/adapters/jwtauth"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// app is the one-machine composition: every adapter and service, wired. The
// commands and the end-to-end tests build it the same way.
type app struct {
	cfg        config
	log        *slog.Logger
	db         *sqlite.DB
	points     *points.Service
	campaigns  *campaign.Service
	reads      *points.ReadModel
	sweeper    *points.Sweeper
	catalog    *retail.Catalog
	wallets    *retail.Wallets
	orders     *retail.Orders
	sales      *retail.Sales
	identity   *identity.Service
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

func newApp(ctx context.Context, c config, log *slog.Logger, d deps) (_ *app, err error) {
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
	ledger, balances := db.Ledger(), db.Balances()
	a.points, err = points.NewService(points.Deps{Ledger: ledger, Snapshots: db.Snapshots(), Clock: d.clock, IDs: d.ids, Log: log},
		points.Config{TTLDays: c.TTLDays})
	if err != nil {
		return nil, err
	}
	if a.reads, err = points.NewReadModel(ledger, balances, d.clock); err != nil {
		return nil, err
	}
	a.sweeper = points.NewSweeper(a.points, balances, d.clock)
	if a.campaigns, err = campaign.NewService(campaign.Deps{Store: db.Campaigns(), Points: a.points, Clock: d.clock, Log: log, Ceiling: c.PointsCeiling}); err != nil {
		return nil, err
	}

	retailCfg := retail.Config{PointValue: c.PointValue, ReservationTTL: c.ReservationTTL, PurchaseWait: c.PurchaseWait, Client: c.StoreClient}
	if a.executor, err = executor.New(executor.Config{Store: db.Executions(), Clock: d.clock, IDs: d.ids, Log: log, Workers: c.SagaWorkers}); err != nil {
		return nil, err
	}
	steps, err := retail.NewSteps(retail.StepDeps{Stock: db.Stock(), Wallets: db.Wallets(), Orders: db.Orders(), Publisher: db.Publisher(),
		Points: a.points, Campaigns: a.campaigns, Clock: d.clock}, retailCfg)
	if err != nil {
		return nil, err
	}
	if err := a.executor.Register(orchestration.PurchaseMachine, orchestration.Purchase, sagatasks.Handlers(steps, d.wrap)); err != nil {
		return nil, err
	}
	a.catalog = retail.NewCatalog(db.Catalog(), db.Stock(), db.ProductSearch(), d.clock, c.StoreClient)
	if a.wallets, err = retail.NewWallets(db.Wallets(), db.Users(), d.clock, c.StoreClient); err != nil {
		return nil, err
	}
	a.sales = retail.NewSales(db.SalesTallies(), d.clock)
	a.orders, err = retail.NewOrders(retail.OrderDeps{Catalog: db.Catalog(), Stock: db.Stock(), Orders: db.Orders(),
		Sagas: a.executor.Sagas(orchestration.PurchaseMachine), Clock: d.clock, IDs: d.ids}, retailCfg)
	if err != nil {
		return nil, err
	}

	// The outbox feeds the read models.
	a.dispatcher = db.NewDispatcher(log)
	a.dispatcher.Subscribe("points-read-model", func(ctx context.Context, m ports.Message) error {
		var ev ports.Event
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			return fmt.Errorf("decode ledger message %d: %w", m.ID, err)
		}
		return a.reads.Apply(ctx, ev)
	}, ports.TopicPointsLedger)
	a.dispatcher.Subscribe("product-search", a.catalog.IndexChange, ports.TopicProducts)
	a.dispatcher.Subscribe("sales-tallies", a.sales.Record, ports.TopicPurchases)

	signer, verifier, err := tokens(ctx, c, db, d.clock)
	if err != nil {
		return nil, err
	}
	a.identity, err = identity.NewService(identity.Deps{Users: db.Users(), APIKeys: db.APIKeys(), Sessions: db.Sessions(),
		Throttle: db.Throttle(), Tokens: signer, Clock: d.clock, IDs: d.ids}, identity.Config{Hash: d.hash})
	if err != nil {
		return nil, err
	}

	a.handler, err = httpapi.NewHandler(httpapi.Config{Points: a.points, ReadModel: a.reads, Campaigns: a.campaigns,
		Catalog: a.catalog, Wallets: a.wallets, Orders: a.orders, Sales: a.sales, Identity: a.identity,
		Tokens: verifier, JWKS: signer.JWKS(), CORSOrigins: c.CORSOrigins, StoreClient: c.StoreClient, PointValue: c.PointValue, PointTTLDays: a.points.TTLDays(),
		WebApp: httpapi.WebAppDir(c.WebAppDir), Log: log, Ready: db.Ping})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *app) Close() error { return a.db.Close() }

// tokens builds the signer of the store's access tokens, with the key kept
// in the database (made on first start), and the verifier that also
// accepts an external provider's tokens when one is configured.
func tokens(ctx context.Context, c config, db *sqlite.DB, clk ports.Clock) (*jwtauth.Signer, *jwtauth.Verifier, error) {
	key, err := db.Secrets().Secret(ctx, "token-signing-key", jwtauth.NewKey)
	if err != nil {
		return nil, nil, err
	}
	signer, err := jwtauth.NewSigner(key, c.TokenIssuer, c.TokenAudience, c.TokenTTL)
	if err != nil {
		return nil, nil, err
	}
	var provider *jwtauth.Provider
	if c.OIDCIssuer != "" {
		if c.OIDCAudience == "" {
			return nil, nil, errors.New("-oidc-issuer needs -oidc-audience (the app client id its tokens are for)")
		}
		jwks := c.OIDCJWKSURL
		if jwks == "" {
			jwks = strings.TrimSuffix(c.OIDCIssuer, "/") + "/.well-known/jwks.json"
		}
		provider = &jwtauth.Provider{Issuer: c.OIDCIssuer, Audience: c.OIDCAudience, JWKSURL: jwks, DefaultClient: c.StoreClient}
	}
	return signer, jwtauth.NewVerifier(signer, provider, clk.Now), nil
}
