// Package compose wires the store's domains over a deployment's storage.
// The one-machine command (cmd/unicorn, on SQLite or DynamoDB) and the
// Lambda functions (cmd/lambda, on DynamoDB) build the same services from
// the same configuration here, so the two shapes cannot drift apart in how
// they are put together.
package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/adapters/jwtauth"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/adapters/webhookhttp"
	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/domains/tier"
	"github.com/unicornstore/unicorn/domains/webhooks"
	"github.com/unicornstore/unicorn/ports"
)

// Stores are the ports a deployment's storage provides.
type Stores struct {
	Ledger        ports.Ledger
	Snapshots     ports.Snapshots
	Balances      ports.Balances
	Campaigns     ports.Campaigns
	Catalog       ports.Catalog
	Stock         ports.Stock
	Wallets       ports.Wallets
	Orders        ports.Orders
	Publisher     ports.Publisher
	ProductSearch ports.ProductSearch
	SalesTallies  ports.SalesTallies
	Webhooks      ports.Webhooks
	// WebhookQueue, when set, is where deliveries are handed to a
	// deliverer (the cloud's queue); without it serve's worker polls.
	WebhookQueue ports.WebhookQueue
	Users        ports.Users
	APIKeys      ports.APIKeys
	Sessions     ports.Sessions
	Throttle     ports.Throttle
	Secrets      ports.Secrets
	// Ping tells whether the storage answers (GET /readyz).
	Ping func(context.Context) error
}

// Deps are what a test may replace: the clock, the ids, and the cost of
// password hashing.
type Deps struct {
	Clock ports.Clock
	IDs   ports.IDs
	Log   *slog.Logger
	Hash  identity.HashParams
	// People, when set, are the store's people instead of its users (a
	// test's user pool); otherwise CognitoPeople decides.
	People ports.People
	// NoIdentity leaves out identity and tokens: the functions that serve
	// no request (saga tasks, stream consumers, sweeps) never read the
	// token signing key, so their roles need no access to it.
	NoIdentity bool
}

// SagasFor gives the runners of the purchase and return sagas once their
// steps exist: the local executor registers the steps as its task
// handlers; Step Functions runs them in Lambda functions and needs only
// the state machines.
type SagasFor func(steps *retail.Steps) (Runners, error)

// Runners run the store's sagas.
type Runners struct {
	Purchases, Returns ports.Sagas
}

// Services are the domains, wired.
type Services struct {
	Points    *points.Service
	Reads     *points.ReadModel
	Sweeper   *points.Sweeper
	Campaigns *campaign.Service
	Tiers     *tier.Service
	Webhooks  *webhooks.Service
	Steps     *retail.Steps
	Catalog   *retail.Catalog
	Wallets   *retail.Wallets
	Sales     *retail.Sales
	Orders    *retail.Orders
	Identity  *identity.Service
	Signer    *jwtauth.Signer
	Verifier  *jwtauth.Verifier
	// SagaBacklog counts the purchases under way, where the sagas run in
	// this process (the local executor), for the API's bound on them.
	SagaBacklog func() int
	// Metrics, when set before Handler, is told of the API's requests.
	Metrics httpapi.Metrics

	cfg    Config
	stores Stores
	log    *slog.Logger
}

// NewServices builds every service of the store over s.
func NewServices(ctx context.Context, c Config, s Stores, d Deps, sagas SagasFor) (*Services, error) {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.IDs == nil {
		d.IDs = clock.UUIDs{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	v := &Services{cfg: c, stores: s, log: d.Log}
	var err error
	if v.Points, err = points.NewService(points.Deps{Ledger: s.Ledger, Snapshots: s.Snapshots, Clock: d.Clock, IDs: d.IDs, Log: d.Log},
		points.Config{TTLDays: c.TTLDays}); err != nil {
		return nil, err
	}
	if v.Reads, err = points.NewReadModel(s.Ledger, s.Balances, d.Clock); err != nil {
		return nil, err
	}
	v.Sweeper = points.NewSweeper(v.Points, s.Balances, d.Clock)
	if v.Campaigns, err = campaign.NewService(campaign.Deps{Store: s.Campaigns, Points: v.Points, Clock: d.Clock, Log: d.Log, Ceiling: c.PointsCeiling,
		Purchases: s.SalesTallies}); err != nil {
		return nil, err
	}
	if v.Tiers, err = tier.NewService(s.Campaigns, v.Points, d.Clock); err != nil {
		return nil, err
	}
	if v.Webhooks, err = webhooks.NewService(webhooks.Deps{Store: s.Webhooks, Sender: webhookhttp.New(), Balances: s.Balances,
		Queue: s.WebhookQueue, Clock: d.Clock, IDs: d.IDs, Log: d.Log},
		webhooks.Config{AllowPrivate: c.WebhookAllowPrivate, Timeout: c.WebhookTimeout, Workers: c.WebhookWorkers}); err != nil {
		return nil, err
	}
	// The sweep that matures and expires points reviews the tiers of the
	// members it visits: a demotion as points leave the window is recorded
	// then, if nothing else reviewed it first.
	v.Sweeper.Review = v.Tiers.Review
	retailCfg := retail.Config{PointValue: c.PointValue, ReservationTTL: c.ReservationTTL, PurchaseWait: c.PurchaseWait,
		ReturnWindow: time.Duration(c.ReturnDays) * 24 * time.Hour, Client: c.StoreClient}
	if v.Steps, err = retail.NewSteps(retail.StepDeps{Stock: s.Stock, Wallets: s.Wallets, Orders: s.Orders, Publisher: s.Publisher,
		Points: v.Points, Campaigns: v.Campaigns, Tiers: v.Tiers, Clock: d.Clock}, retailCfg); err != nil {
		return nil, err
	}
	runners, err := sagas(v.Steps)
	if err != nil {
		return nil, err
	}
	v.Catalog = retail.NewCatalog(s.Catalog, s.Stock, s.ProductSearch, d.Clock, c.StoreClient)
	if d.People == nil {
		if d.People, err = CognitoPeople(ctx, c); err != nil {
			return nil, err
		}
	}
	var people ports.People = s.Users
	if d.People != nil {
		people = d.People
	}
	if v.Wallets, err = retail.NewWallets(s.Wallets, people, d.Clock, c.StoreClient); err != nil {
		return nil, err
	}
	v.Sales = retail.NewSales(s.SalesTallies, d.Clock)
	if v.Orders, err = retail.NewOrders(retail.OrderDeps{Catalog: s.Catalog, Stock: s.Stock, Orders: s.Orders,
		Sagas: runners.Purchases, Returns: runners.Returns, Clock: d.Clock, IDs: d.IDs}, retailCfg); err != nil {
		return nil, err
	}
	if d.NoIdentity {
		return v, nil
	}
	if v.Signer, v.Verifier, err = tokens(ctx, c, s.Secrets, d.Clock); err != nil {
		return nil, err
	}
	if v.Identity, err = identity.NewService(identity.Deps{Users: s.Users, People: d.People, APIKeys: s.APIKeys, Sessions: s.Sessions,
		Throttle: s.Throttle, Tokens: v.Signer, Clock: d.Clock, IDs: d.IDs}, identity.Config{Hash: d.Hash}); err != nil {
		return nil, err
	}
	return v, nil
}

// Handler is the HTTP API (and the web app where one is configured).
func (v *Services) Handler() (http.Handler, error) {
	if v.Identity == nil {
		return nil, errors.New("the HTTP API needs identity: built with NoIdentity")
	}
	c := v.cfg
	// People sign in at a Cognito user pool when its tokens are the ones
	// accepted (the cloud shape); the web app learns it from /settings.
	var cognito *httpapi.Cognito
	if region, _, ok := jwtauth.CognitoPool(c.OIDCIssuer); ok {
		cognito = &httpapi.Cognito{Region: region, ClientID: c.OIDCAudience}
	}
	return httpapi.NewHandler(httpapi.Config{Points: v.Points, ReadModel: v.Reads, Campaigns: v.Campaigns, Tiers: v.Tiers, Webhooks: v.Webhooks, Cognito: cognito,
		Catalog: v.Catalog, Wallets: v.Wallets, Orders: v.Orders, Sales: v.Sales, Identity: v.Identity,
		Tokens: v.Verifier, JWKS: v.Signer.JWKS(), CORSOrigins: c.CORSOrigins, StoreClient: c.StoreClient, PointValue: c.PointValue,
		PointTTLDays: v.Points.TTLDays(), WebApp: httpapi.WebAppDir(c.WebAppDir), Log: v.log, Ready: v.stores.Ping, Metrics: v.Metrics,
		Limits: httpapi.Limits{ClientRate: c.ClientRate, CallerRate: c.CallerRate, MaxInFlight: c.MaxInFlight,
			MaxSagas: c.MaxSagas, SagaBacklog: v.SagaBacklog}})
}

// Consumer is a read model fed by the change stream: the SQLite outbox's
// dispatcher, DynamoDB Streams through a Lambda function, or a stream
// reader in the one-machine server on DynamoDB.
type Consumer struct {
	Name   string
	Topic  string
	Handle func(context.Context, ports.Message) error
}

// Consumers are the read models and what each is fed.
func (v *Services) Consumers() []Consumer {
	return []Consumer{
		{Name: "points-read-model", Topic: ports.TopicPointsLedger, Handle: func(ctx context.Context, m ports.Message) error {
			var ev ports.Event
			if err := json.Unmarshal(m.Payload, &ev); err != nil {
				return fmt.Errorf("decode ledger message %d: %w", m.ID, err)
			}
			return v.Reads.Apply(ctx, ev)
		}},
		{Name: "product-search", Topic: ports.TopicProducts, Handle: v.Catalog.IndexChange},
		{Name: "sales-tallies", Topic: ports.TopicPurchases, Handle: v.Sales.Record},
		// Webhooks: each event a client's endpoints subscribe to becomes a
		// delivery, stored before the message is acknowledged, so none is
		// lost to a crash (at least once; the event id deduplicates).
		{Name: "webhooks-points", Topic: ports.TopicPointsLedger, Handle: v.Webhooks.Handle},
		{Name: "webhooks-purchases", Topic: ports.TopicPurchases, Handle: v.Webhooks.Handle},
		{Name: "webhooks-returns", Topic: ports.TopicReturns, Handle: v.Webhooks.Handle},
	}
}

// StreamHandlers are the consumers of the given topics (every topic when
// none is given), by topic, as a stream handler takes them.
func (v *Services) StreamHandlers(topics ...string) lambda.Handlers {
	out := lambda.Handlers{}
	for _, c := range v.Consumers() {
		if len(topics) == 0 || slices.Contains(topics, c.Topic) {
			out[c.Topic] = append(out[c.Topic], c.Handle)
		}
	}
	return out
}

// tokens builds the signer of the store's access tokens, with the key kept
// in the store's secrets (made on first start), and the verifier that also
// accepts an external provider's tokens when one is configured.
func tokens(ctx context.Context, c Config, secrets ports.Secrets, clk ports.Clock) (*jwtauth.Signer, *jwtauth.Verifier, error) {
	key, err := secrets.Secret(ctx, "token-signing-key", jwtauth.NewKey)
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
