package httpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// productBody is what an admin sends to create or change a product.
type productBody struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Image       string          `json:"image"`
	Price       json.RawMessage `json:"price"`
	Stock       json.RawMessage `json:"stock"`
}

func (b productBody) draft(id string) (retail.ProductDraft, error) {
	price, err := money("price", b.Price)
	if err != nil {
		return retail.ProductDraft{}, err
	}
	d := retail.ProductDraft{ID: id, Name: b.Name, Description: b.Description, Image: b.Image, Price: price}
	if len(b.Stock) > 0 {
		if d.Stock, err = wholeNumber("stock", b.Stock); err != nil {
			return d, err
		}
	}
	return d, nil
}

// money reads a required JSON number exactly ("1700.50" as text is refused:
// money is a number), refusing numbers too long or too large to be money
// before any arithmetic is done on them.
func money(field string, raw json.RawMessage) (decimal.Decimal, error) {
	s := string(bytes.TrimSpace(raw))
	switch {
	case s == "" || s == "null":
		return decimal.Decimal{}, badRequest(field, field+" is required")
	case s[0] == '"':
		return decimal.Decimal{}, badRequest(field, field+" must be a number, not a string")
	}
	d, ok := limits.Decimal(s)
	if !ok || d.Abs().GreaterThan(decimal.NewFromInt(limits.MaxMoney)) || !d.Equal(d.Round(limits.MoneyDecimals)) {
		return decimal.Decimal{}, badRequest(field, fmt.Sprintf("%s must be an amount of at most %d with at most %d decimals", field, limits.MaxMoney, limits.MoneyDecimals))
	}
	return d, nil
}

func (s *server) listProducts(w http.ResponseWriter, r *http.Request) {
	products, err := s.catalog.Products(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]productView, len(products))
	for i, p := range products {
		out[i] = viewProduct(p)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) getProduct(w http.ResponseWriter, r *http.Request) {
	p, err := s.catalog.Product(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, http.StatusOK, viewProduct(p))
}

func (s *server) createProduct(w http.ResponseWriter, r *http.Request) {
	var b productBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	d, err := b.draft(b.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.catalog.Create(r.Context(), d)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	w.Header().Set("Location", "/products/"+p.ID)
	writeJSON(w, http.StatusCreated, viewProduct(p))
}

func (s *server) updateProduct(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var b productBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	if b.ID != "" && b.ID != r.PathValue("id") {
		writeError(w, r, badRequest("id", "the id in the body differs from the path"))
		return
	}
	if len(b.Stock) > 0 {
		writeError(w, r, badRequest("stock", "stock changes through POST /products/{id}/stock"))
		return
	}
	d, err := b.draft(r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.catalog.Update(r.Context(), d, version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, http.StatusOK, viewProduct(p))
}

func (s *server) deleteProduct(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.catalog.Delete(r.Context(), r.PathValue("id"), version); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) restock(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Delta json.RawMessage `json:"delta"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	delta, err := wholeNumber("delta", b.Delta)
	if err != nil {
		writeError(w, r, err)
		return
	}
	key, err := requestKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	n, err := s.catalog.Restock(r.Context(), r.PathValue("id"), delta, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"product_id": r.PathValue("id"), "stock": n})
}

// wallet answers GET /users/{username}/wallet and seed 003's
// GET /users/balance/{username} (which wins for /users/balance/wallet).
func (s *server) wallet(w http.ResponseWriter, r *http.Request) {
	var username string
	switch first, second := r.PathValue("first"), r.PathValue("second"); {
	case first == "balance":
		username = second
	case second == "wallet":
		username = first
	default:
		writeProblem(w, Problem{Type: problemType("not-found"), Title: "Not Found", Status: http.StatusNotFound,
			Detail: "no route for GET " + r.URL.Path, Instance: r.URL.Path})
		return
	}
	wallet, err := s.wallets.Balance(r.Context(), username)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, walletView{Username: wallet.Username, Balance: amount(wallet.Balance)})
}

// requestKey is the Idempotency-Key, or a fresh random one: without a key a
// request is simply not deduplicated.
func requestKey(r *http.Request) (string, error) {
	k, err := idempotencyKey(r)
	if err != nil || k != "" {
		return k, err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "random:" + hex.EncodeToString(b[:]), nil
}

func (s *server) deposit(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Amount json.RawMessage `json:"amount"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	sum, err := money("amount", b.Amount)
	if err != nil {
		writeError(w, r, err)
		return
	}
	key, err := requestKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	wallet, err := s.wallets.Deposit(r.Context(), r.PathValue("username"), sum, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, walletView{Username: wallet.Username, Balance: amount(wallet.Balance)})
}

// purchaseBody takes seed 003's form ({userId, productId, quantity}) or the
// full one ({user_id, items, redeem_points, expected_total}).
type purchaseBody struct {
	UserID        string          `json:"user_id"`
	Items         []itemBody      `json:"items"`
	RedeemPoints  json.RawMessage `json:"redeem_points"`
	ExpectedTotal json.RawMessage `json:"expected_total"`
	SeedUserID    string          `json:"userId"`
	SeedProduct   string          `json:"productId"`
	SeedQuantity  json.RawMessage `json:"quantity"`
}

// itemBody is one line of a purchase.
type itemBody struct {
	ProductID string          `json:"product_id"`
	Quantity  json.RawMessage `json:"quantity"`
}

func (b purchaseBody) command() (retail.PurchaseCommand, error) {
	if b.SeedUserID != "" || b.SeedProduct != "" {
		if b.UserID != "" || b.Items != nil {
			return retail.PurchaseCommand{}, badRequest("", "send either {userId, productId, quantity} or {user_id, items}, not both")
		}
		qty := int64(1)
		if len(b.SeedQuantity) > 0 {
			var err error
			if qty, err = wholeNumber("quantity", b.SeedQuantity); err != nil {
				return retail.PurchaseCommand{}, err
			}
		}
		return retail.PurchaseCommand{UserID: b.SeedUserID, Items: []retail.Item{{ProductID: b.SeedProduct, Quantity: qty}}}, nil
	}
	cmd := retail.PurchaseCommand{UserID: b.UserID}
	if len(b.Items) > limits.ItemsPerOrder {
		return cmd, badRequest("items", fmt.Sprintf("an order has 1 to %d items", limits.ItemsPerOrder))
	}
	for i, it := range b.Items {
		n, err := wholeNumber(fmt.Sprintf("items[%d].quantity", i), it.Quantity)
		if err != nil {
			return cmd, err
		}
		cmd.Items = append(cmd.Items, retail.Item{ProductID: it.ProductID, Quantity: n})
	}
	if present(b.RedeemPoints) {
		n, err := wholeNumber("redeem_points", b.RedeemPoints)
		if err != nil {
			return cmd, err
		}
		cmd.RedeemPoints = n
	}
	if present(b.ExpectedTotal) {
		total, err := money("expected_total", b.ExpectedTotal)
		if err != nil {
			return cmd, err
		}
		cmd.ExpectedTotal = &total
	}
	return cmd, nil
}

// present reports whether an optional field was sent (not absent, not null).
func present(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) > 0 && string(s) != "null"
}

// writeOrder answers with an order the saga has finished (201) or is still
// working on (202, with where to look). The order is read again for its
// saga's steps: one that finished meanwhile is a 201 too. async says the
// caller asked not to wait, which a 202 then confirms.
func (s *server) writeOrder(w http.ResponseWriter, r *http.Request, id string, done, async bool) {
	v, err := s.orders.Order(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/orders/"+id)
	status := http.StatusCreated
	if !done && v.Status() == retail.Pending {
		status = http.StatusAccepted
		if async {
			w.Header().Set("Preference-Applied", "respond-async")
		}
	}
	writeJSON(w, status, viewOrder(r, v.Order, v.Steps, v.ReturnSteps, s.orders.ReturnWindow()))
}

// prefersAsync reports whether the request asks for an answer before the
// work is done (RFC 7240's "Prefer: respond-async").
func prefersAsync(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for pref := range strings.SplitSeq(h, ",") {
			token, _, _ := strings.Cut(pref, ";")
			token, _, _ = strings.Cut(token, "=")
			if strings.EqualFold(strings.TrimSpace(token), "respond-async") {
				return true
			}
		}
	}
	return false
}

func (s *server) purchase(w http.ResponseWriter, r *http.Request) {
	if err := s.admission.sagaRoom(); err != nil {
		writeError(w, r, err)
		return
	}
	var b purchaseBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	cmd, err := b.command()
	if err != nil {
		writeError(w, r, err)
		return
	}
	if cmd.Key, err = idempotencyKey(r); err != nil {
		writeError(w, r, err)
		return
	}
	cmd.NoWait = prefersAsync(r)
	order, done, err := s.orders.Purchase(r.Context(), cmd)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeOrder(w, r, order.ID(), done, cmd.NoWait)
}

func (s *server) getOrder(w http.ResponseWriter, r *http.Request) {
	v, err := s.orders.Order(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOrder(r, v.Order, v.Steps, v.ReturnSteps, s.orders.ReturnWindow()))
}

func (s *server) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var (
		orders []*retail.Order
		next   string
		err    error
	)
	switch status := q.Get("status"); {
	case status != "" && q.Get("user_id") != "":
		err = badRequest("status", "list by user_id or by status, not both")
	case status == retail.NeedsAttention.String() || status == retail.Pending.String():
		// What is stuck, those waiting longest first: an operator's view
		// (the route's rule lets only a customer naming themself list by
		// user, so only staff get here).
		st, _ := retail.ParseOrderStatus(status)
		orders, err = s.orders.WithStatus(r.Context(), st, limits.PageSize)
	case status != "":
		err = badRequest("status", "the statuses to list by are needs_attention and pending")
	default:
		limit := defaultPage
		if v := q.Get("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxPage {
				err = badRequest("limit", "limit must be a whole number from 1 to 500")
				break
			}
		}
		if user := q.Get("user_id"); user != "" {
			orders, next, err = s.orders.OrdersOf(r.Context(), user, q.Get("cursor"), limit)
		} else {
			// Every customer's, newest first: the back office's list (the
			// route's rule lets a customer list only their own, by name).
			orders, next, err = s.orders.Recent(r.Context(), q.Get("cursor"), limit)
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]orderView, len(orders))
	for i, o := range orders {
		items[i] = viewOrder(r, o, nil, nil, s.orders.ReturnWindow())
	}
	resp := map[string]any{"items": items}
	if next != "" {
		resp["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *server) retryOrder(w http.ResponseWriter, r *http.Request) {
	order, done, err := s.orders.Retry(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeOrder(w, r, order.ID(), done, false)
}

// returnBody asks to return lines of an order; no lines returns all that
// is left (a cancellation).
type returnBody struct {
	Lines  []itemBody `json:"lines"`
	Reason string     `json:"reason"`
}

func (s *server) returnOrder(w http.ResponseWriter, r *http.Request) {
	if err := s.admission.sagaRoom(); err != nil {
		writeError(w, r, err)
		return
	}
	var b returnBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	p, _ := principalOf(r)
	cmd := retail.ReturnCommand{OrderID: r.PathValue("id"), Reason: b.Reason, By: p.Subject, Admin: p.Role == ports.RoleAdmin,
		NoWait: prefersAsync(r)}
	if b.Lines != nil && len(b.Lines) == 0 {
		writeError(w, r, badRequest("lines", "name the lines to return, or leave lines out to return everything"))
		return
	}
	if len(b.Lines) > limits.ItemsPerOrder {
		writeError(w, r, badRequest("lines", fmt.Sprintf("a return has at most %d lines", limits.ItemsPerOrder)))
		return
	}
	for i, l := range b.Lines {
		n, err := wholeNumber(fmt.Sprintf("lines[%d].quantity", i), l.Quantity)
		if err != nil {
			writeError(w, r, err)
			return
		}
		cmd.Lines = append(cmd.Lines, retail.Item{ProductID: l.ProductID, Quantity: n})
	}
	var err error
	if cmd.Key, err = idempotencyKey(r); err != nil {
		writeError(w, r, err)
		return
	}
	order, _, done, err := s.orders.Return(r.Context(), cmd)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, err := s.orders.Order(r.Context(), order.ID())
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/orders/"+order.ID())
	status := http.StatusCreated
	if !done {
		status = http.StatusAccepted
		if cmd.NoWait {
			w.Header().Set("Preference-Applied", "respond-async")
		}
	}
	writeJSON(w, status, viewOrder(r, v.Order, v.Steps, v.ReturnSteps, s.orders.ReturnWindow()))
}

func (s *server) analytics(w http.ResponseWriter, r *http.Request) {
	tallies, err := s.sales.Tallies(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]tallyView, len(tallies))
	for i, t := range tallies {
		items[i] = tallyView{ProductID: t.ProductID, Name: t.Name, Orders: t.Orders, Units: t.Units, Revenue: amount(t.Revenue)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// defaultAwardDays is the window of GET /analytics/campaigns without ?days=.
const defaultAwardDays = 30

// campaignAnalytics answers what the campaigns of ?client= (the caller's
// own by default, as for the campaign routes: the rule admits no other)
// gave per day over the last ?days= days.
func (s *server) campaignAnalytics(w http.ResponseWriter, r *http.Request) {
	days := defaultAwardDays
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, r, badRequest("days", fmt.Sprintf("days is a whole number from 1 to %d", retail.MaxAwardDays)))
			return
		}
		days = n
	}
	awards, err := s.sales.CampaignAwards(r.Context(), client(r), days)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, awards)
}
