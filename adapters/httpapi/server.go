// Package httpapi is the HTTP adapter: it turns requests into calls of the
// domain services and their results and errors into JSON and RFC 9457
// problem details. Error-to-status mapping lives in one table (problem.go).
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
)

// Config is what the API serves.
type Config struct {
	Points    *points.Service
	ReadModel *points.ReadModel
	Campaigns *campaign.Service
	Catalog   *retail.Catalog
	Wallets   *retail.Wallets
	Orders    *retail.Orders
	Sales     *retail.Sales
	Log       *slog.Logger
	// Ready reports whether the storage answers; /healthz calls it.
	Ready func(context.Context) error
}

type server struct {
	points    *points.Service
	reads     *points.ReadModel
	campaigns *campaign.Service
	catalog   *retail.Catalog
	wallets   *retail.Wallets
	orders    *retail.Orders
	sales     *retail.Sales
	ready     func(context.Context) error
}

// NewHandler returns the API's handler.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Points == nil || cfg.ReadModel == nil || cfg.Campaigns == nil || cfg.Catalog == nil || cfg.Wallets == nil ||
		cfg.Orders == nil || cfg.Sales == nil || cfg.Log == nil {
		return nil, errors.New("httpapi: every service and a logger are required")
	}
	s := &server{points: cfg.Points, reads: cfg.ReadModel, campaigns: cfg.Campaigns, catalog: cfg.Catalog, wallets: cfg.Wallets,
		orders: cfg.Orders, sales: cfg.Sales, ready: cfg.Ready}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.health)
	mux.HandleFunc("POST /points", s.issue)
	mux.HandleFunc("DELETE /points", s.redeem)
	mux.HandleFunc("GET /points", s.balance)
	mux.HandleFunc("GET /points/transactions", s.transactions)
	mux.HandleFunc("POST /points/transactions/{id}/reversal", s.reverse)
	mux.HandleFunc("POST /points/awards", s.award)
	mux.HandleFunc("GET /campaigns", s.listCampaigns)
	mux.HandleFunc("POST /campaigns", s.createCampaign)
	mux.HandleFunc("POST /campaigns/simulate", s.simulate)
	mux.HandleFunc("GET /campaigns/{name}", s.getCampaign)
	mux.HandleFunc("PATCH /campaigns/{name}", s.updateCampaign)
	mux.HandleFunc("DELETE /campaigns/{name}", s.deleteCampaign)
	mux.HandleFunc("GET /campaigns/{name}/versions", s.campaignVersions)
	mux.HandleFunc("GET /products", s.listProducts)
	mux.HandleFunc("GET /products/{id}", s.getProduct)
	mux.HandleFunc("POST /products", s.createProduct)
	mux.HandleFunc("PUT /products/{id}", s.updateProduct)
	mux.HandleFunc("DELETE /products/{id}", s.deleteProduct)
	mux.HandleFunc("POST /products/{id}/stock", s.restock)
	mux.HandleFunc("GET /users/{first}/{second}", s.wallet) // {username}/wallet, and seed 003's balance/{username}
	mux.HandleFunc("POST /users/{username}/wallet/deposits", s.deposit)
	mux.HandleFunc("POST /purchase", s.purchase)
	mux.HandleFunc("GET /orders", s.listOrders)
	mux.HandleFunc("GET /orders/{id}", s.getOrder)
	mux.HandleFunc("POST /orders/{id}/retry", s.retryOrder)
	mux.HandleFunc("GET /analytics/products", s.analytics)
	mux.Handle("GET /images/", images())
	return observe(cfg.Log, problems404(mux)), nil
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
