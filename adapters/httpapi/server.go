// Package httpapi is the HTTP adapter: it turns requests into calls of the
// domain services and their results and errors into JSON and RFC 9457
// problem details. Error-to-status mapping lives in one table (problem.go).
package httpapi

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/domains/tier"
	"github.com/unicornstore/unicorn/domains/webhooks"
)

// Config is what the API serves.
type Config struct {
	Points    *points.Service
	ReadModel *points.ReadModel
	Campaigns *campaign.Service
	Tiers     *tier.Service
	Webhooks  *webhooks.Service
	Catalog   *retail.Catalog
	Wallets   *retail.Wallets
	Orders    *retail.Orders
	Sales     *retail.Sales
	Identity  *identity.Service
	// Tokens checks access tokens; JWKS is the public key set it trusts
	// for the store's own tokens, served at /.well-known/jwks.json.
	Tokens TokenVerifier
	JWKS   []byte
	// StoreClient is the client the store is: the catalog, wallets and
	// orders are its staff's to manage. Required.
	StoreClient string
	// CORSOrigins are the web origins allowed to call the API from a
	// browser ("https://shop.example.com"); none by default.
	CORSOrigins []string
	// PointValue (the money one point is worth when it pays for an order)
	// and PointTTLDays (how many days points live) are the store's
	// settings GET /settings shows, for a web app to offer points at
	// checkout. Both are required: a wrong price in points is worse than
	// none.
	PointValue   decimal.Decimal
	PointTTLDays int
	// Cognito, when set, is where people sign in instead of POST
	// /auth/token (the cloud shape): GET /settings tells the web app.
	Cognito *Cognito
	// WebApp is the built web app (index.html, assets/, favicon.svg),
	// served at /. Without an index.html, / says it is not built.
	WebApp fs.FS
	// Limits hold load: rate limits per client and caller, and bounds on
	// the requests and purchases under way. The zero value limits nothing.
	Limits Limits
	Log    *slog.Logger
	// Metrics, when set, is told of every request and failed sign-in.
	Metrics Metrics
	// Ready reports whether the storage answers; /healthz calls it.
	Ready func(context.Context) error
}

type server struct {
	points    *points.Service
	reads     *points.ReadModel
	campaigns *campaign.Service
	tierRules *tier.Service
	webhooks  *webhooks.Service
	catalog   *retail.Catalog
	wallets   *retail.Wallets
	orders    *retail.Orders
	sales     *retail.Sales
	identity  *identity.Service
	store     string // the store's client
	tokens    TokenVerifier
	jwks      []byte
	settings  settings
	webApp    fs.FS
	ready     func(context.Context) error
	admission *admission
	metrics   Metrics
}

// route is a path pattern, its handler, and who may call it.
type route struct {
	pattern string
	handler http.HandlerFunc
	rule    rule
}

// routes is the table of every route and its rule. A route cannot be
// added without a rule, and the access test walks every route with every
// kind of caller.
func (s *server) routes() []route {
	accountInQuery := anAccount(queryValue("account_id"))
	// The store (catalog, wallets, orders, sales) is seed 003's client's:
	// other clients use the loyalty API only.
	store := aClient(func(*http.Request) []string { return []string{s.store} })
	points := func(p pointsRequest) []string { return []string{p.AccountID} }
	return []route{
		{"GET /{$}", s.webAppIndex, allow(anyone)},
		{"GET /assets/", s.webAppAsset, allow(anyone)},
		{"GET /favicon.svg", s.favicon, allow(anyone)},
		{"GET /healthz", s.health, allow(anyone)},
		{"GET /settings", s.storeSettings, allow(anyone)},
		{"GET /.well-known/jwks.json", s.jwksDoc, allow(anyone)},
		{"GET /openapi.json", s.openAPI, allow(anyone)},
		{"POST /auth/token", s.signIn, allow(anyone)},
		{"POST /auth/refresh", s.refresh, allow(anyone)},
		{"POST /auth/logout", s.signOut, allow(anyone)},
		{"GET /auth/me", s.me, allow(signedIn)},
		{"GET /users", s.listUsers, allow(admin)},
		{"POST /users", s.createUser, allow(admin)},

		{"POST /points", s.issue, allow(admin, keyWrite)},
		{"DELETE /points", s.redeem, allow(customer, admin, keyWrite).on(anAccount(fromBody(points)))},
		{"GET /points", s.balance, allow(customer, admin, keyRead).on(accountInQuery)},
		{"GET /points/transactions", s.transactions, allow(customer, admin, keyRead).on(accountInQuery)},
		{"GET /points/tier", s.standing, allow(customer, admin, keyRead).on(accountInQuery)},
		{"POST /points/transactions/{id}/reversal", s.reverse, allow(admin, keyWrite)},
		{"POST /points/awards", s.award, allow(admin, keyWrite).on(
			aClient(fromEvent(func(ev campaign.Event) []string { return []string{ev.Client} })))},

		{"GET /campaigns", s.listCampaigns, allow(marketer, admin).on(aClient(queryValue("client")))},
		{"POST /campaigns", s.createCampaign, allow(marketer, admin).on(aClient(fromDraft))},
		{"POST /campaigns/validate", s.validateCampaign, allow(marketer, admin).on(aClient(fromDraft))},
		{"POST /campaigns/simulate", s.simulate, allow(marketer, admin).on(
			aClient(fromBody(func(r simulateRequest) []string { return []string{r.Client} })))},
		{"POST /campaigns/backtest", s.backtest, allow(marketer, admin).on(
			aClient(fromBody(func(r backtestRequest) []string { return []string{r.Client} })))},
		{"GET /campaigns/{name}", s.getCampaign, allow(marketer, admin).on(aClient(queryValue("client")))},
		{"PATCH /campaigns/{name}", s.updateCampaign, allow(marketer, admin).on(aClient(queryValue("client")))},
		{"DELETE /campaigns/{name}", s.deleteCampaign, allow(marketer, admin).on(aClient(queryValue("client")))},
		{"GET /campaigns/{name}/versions", s.campaignVersions, allow(marketer, admin).on(aClient(queryValue("client")))},
		{"GET /points-ceiling", s.pointsCeiling, allow(admin).on(aClient(queryValue("client")))},
		{"PUT /points-ceiling", s.setPointsCeiling, allow(admin).on(aClient(queryValue("client")))},
		{"GET /tiers", s.tiers, allow(marketer, admin).on(aClient(queryValue("client")))},
		// A client's webhooks are its admins' (the caller's own client's).
		{"POST /webhooks/endpoints", s.createEndpoint, allow(admin)},
		{"GET /webhooks/endpoints", s.listEndpoints, allow(admin)},
		{"DELETE /webhooks/endpoints/{id}", s.deleteEndpoint, allow(admin)},
		{"POST /webhooks/endpoints/{id}/secret", s.rotateSecret, allow(admin)},
		{"GET /webhooks/deliveries", s.listDeliveries, allow(admin)},
		{"POST /webhooks/deliveries/{id}/replay", s.replayDelivery, allow(admin)},
		{"PUT /tiers", s.setTiers, allow(admin).on(aClient(queryValue("client")))},

		{"GET /products", s.listProducts, allow(anyone)},
		{"GET /products/{id}", s.getProduct, allow(anyone)},
		{"POST /products", s.createProduct, allow(admin).on(store)},
		{"PUT /products/{id}", s.updateProduct, allow(admin).on(store)},
		{"DELETE /products/{id}", s.deleteProduct, allow(admin).on(store)},
		{"POST /products/{id}/stock", s.restock, allow(admin).on(store)},
		{"GET /images/", images().ServeHTTP, allow(anyone)},

		// {username}/wallet, and seed 003's balance/{username}
		{"GET /users/{first}/{second}", s.wallet, allow(customer, admin).on(store, anAccount(walletUser))},
		{"POST /users/{username}/wallet/deposits", s.deposit, allow(admin).on(store)},
		{"POST /purchase", s.purchase, allow(customer, admin).on(store,
			anAccount(fromBody(func(b purchaseBody) []string { return []string{b.UserID, b.SeedUserID} })))},
		{"GET /orders", s.listOrders, allow(customer, admin).on(store, anAccount(queryValue("user_id")))},
		{"GET /orders/{id}", s.getOrder, allow(customer, admin).on(store, anOrder(pathValue("id")))},
		{"POST /orders/{id}/retry", s.retryOrder, allow(admin).on(store, anOrder(pathValue("id")))},
		{"POST /orders/{id}/returns", s.returnOrder, allow(customer, admin).on(store, anOrder(pathValue("id")))},
		{"GET /analytics/products", s.analytics, allow(marketer, admin).on(store)},
		{"GET /analytics/campaigns", s.campaignAnalytics, allow(marketer, admin).on(aClient(queryValue("client")))},
	}
}

// fromDraft is the client a new campaign names, read as the handler reads
// the draft.
func fromDraft(r *http.Request) []string {
	d, err := campaign.DecodeDraft(peekBody(r))
	if err != nil {
		return nil
	}
	return []string{d.Client}
}

// Routes lists every route pattern, for tests that walk them all.
func Routes() []string {
	var out []string
	for _, rt := range RouteTable() {
		out = append(out, rt.Pattern)
	}
	return out
}

// RouteAccess is a route as a gateway in front of the server sees it:
// which callers may reach the handler at all. The server still checks
// every request itself; a gateway only turns away callers that no rule
// of the route could admit.
type RouteAccess struct {
	Pattern string // as http.ServeMux reads it: "GET /orders/{id}"
	// Anonymous routes admit callers without credentials.
	Anonymous bool
	// APIKeys routes admit partner systems by their X-Api-Key.
	APIKeys bool
}

// RouteTable lists every route with its access, in the order of the
// table of routes (the cloud's API Gateway is built from it).
func RouteTable() []RouteAccess {
	var out []RouteAccess
	for _, rt := range (&server{}).routes() {
		out = append(out, RouteAccess{Pattern: rt.pattern,
			Anonymous: slices.Contains(rt.rule.who, anyone),
			APIKeys:   slices.Contains(rt.rule.who, keyRead) || slices.Contains(rt.rule.who, keyWrite)})
	}
	return out
}

// NewHandler returns the API's handler.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Points == nil || cfg.ReadModel == nil || cfg.Campaigns == nil || cfg.Tiers == nil || cfg.Webhooks == nil || cfg.Catalog == nil || cfg.Wallets == nil ||
		cfg.Orders == nil || cfg.Sales == nil || cfg.Identity == nil || cfg.Tokens == nil || cfg.Log == nil {
		return nil, errors.New("httpapi: every service, a token verifier and a logger are required")
	}
	if cfg.StoreClient == "" {
		return nil, errors.New("httpapi: the store's client is required")
	}
	if err := cfg.Limits.validate(); err != nil {
		return nil, err
	}
	if !cfg.PointValue.IsPositive() || cfg.PointTTLDays < 1 {
		return nil, errors.New("httpapi: the point value and the points' lifetime in days are required")
	}
	s := &server{points: cfg.Points, reads: cfg.ReadModel, campaigns: cfg.Campaigns, tierRules: cfg.Tiers, webhooks: cfg.Webhooks, catalog: cfg.Catalog, wallets: cfg.Wallets,
		orders: cfg.Orders, sales: cfg.Sales, identity: cfg.Identity, store: cfg.StoreClient, tokens: cfg.Tokens, jwks: cfg.JWKS, ready: cfg.Ready,
		settings: settings{PointValue: amount(cfg.PointValue), PointTTLDays: cfg.PointTTLDays}, webApp: cfg.WebApp,
		admission: newAdmission(cfg.Limits), metrics: cfg.Metrics}
	if s.metrics == nil {
		s.metrics = noMetrics{}
	}
	if c := cfg.Cognito; c != nil {
		if c.Region == "" || c.ClientID == "" {
			return nil, errors.New("httpapi: Cognito needs its region and app client id")
		}
		s.settings.SignIn = &signInView{Provider: "cognito", Region: c.Region, ClientID: c.ClientID}
	}
	mux := http.NewServeMux()
	var patterns []string
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.pattern, s.guard(rt.rule, rt.handler))
		patterns = append(patterns, rt.pattern)
	}
	return observe(cfg.Log, ContentSecurityPolicy(cfg.Cognito), s.metrics, newRoutes(mux, patterns),
		s.admission.bound(cors(cfg.CORSOrigins, problems404(mux)))), nil
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			logFor(r).Error("health check", "err", err)
			writeProblem(w, Problem{Type: problemType("unavailable"), Title: "Storage unavailable",
				Status: http.StatusServiceUnavailable, Instance: r.URL.Path})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// settings are the store's choices a client needs to price an order in
// points. The point value is money, so a JSON number like every amount of
// the API (written with its exact digits).
type settings struct {
	PointValue   amount      `json:"point_value"`
	PointTTLDays int         `json:"point_ttl_days"`
	SignIn       *signInView `json:"sign_in,omitempty"`
}

// signInView says where people sign in when it is not the store.
type signInView struct {
	Provider string `json:"provider"`
	Region   string `json:"region"`
	ClientID string `json:"client_id"`
}

// Cognito is a Cognito user pool's app client that people sign in with
// (USER_PASSWORD_AUTH); its ID tokens are what the API then accepts.
type Cognito struct {
	Region   string
	ClientID string
}

// Endpoint is the user pool service's address in the region.
func (c Cognito) Endpoint() string { return "https://cognito-idp." + c.Region + ".amazonaws.com" }

func (s *server) storeSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.settings)
}
