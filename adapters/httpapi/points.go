package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/limits"
)

// transactionView is a points transaction as the API shows it (seed 003's
// names: transaction_type, date_time).
type transactionView struct {
	ID           string           `json:"id"`
	Account      string           `json:"account_id"`
	Seq          int64            `json:"seq"`
	Type         string           `json:"transaction_type"`
	Amount       int64            `json:"amount"`
	At           time.Time        `json:"date_time"`
	BalanceAfter *int64           `json:"balance,omitempty"`
	Lot          string           `json:"lot,omitempty"`
	ExpiresOn    string           `json:"expires_on,omitempty"`
	Allocations  []allocationView `json:"allocations,omitempty"`
	Reference    string           `json:"reference,omitempty"`
	Details      json.RawMessage  `json:"details,omitempty"`
	Reverses     string           `json:"reverses,omitempty"`
	Unrecovered  int64            `json:"unrecovered,omitempty"`
	// MaturesOn: an issue whose points are pending until that day.
	// Pending: what an issue reversal cancelled of pending points.
	MaturesOn string `json:"matures_on,omitempty"`
	Pending   int64  `json:"pending,omitempty"`
	// A tier change: to Tier from PreviousTier, and why.
	Tier         string `json:"tier,omitempty"`
	PreviousTier string `json:"previous_tier,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// allocationView is the part of a transaction taken from or given back to
// one lot.
type allocationView struct {
	Lot       string `json:"lot"`
	ExpiresOn string `json:"expires_on"`
	Amount    int64  `json:"amount"`
}

func viewTransaction(t points.Transaction) transactionView {
	v := transactionView{ID: t.ID, Account: t.Account.ID(), Seq: t.Seq, Type: t.Type, Amount: t.Amount, At: t.At, BalanceAfter: t.BalanceAfter,
		Lot: t.Lot, ExpiresOn: t.ExpiresOn, Reference: t.Reference, Details: t.Details, Reverses: t.Reverses, Unrecovered: t.Unrecovered,
		MaturesOn: t.MaturesOn, Pending: t.Pending, Tier: t.Tier, PreviousTier: t.PreviousTier, Reason: t.Reason}
	for _, a := range t.Allocations {
		v.Allocations = append(v.Allocations, allocationView{Lot: a.Lot, ExpiresOn: a.ExpiresOn, Amount: a.Amount})
	}
	return v
}

// pointsRequest is the body of POST and DELETE /points (seed 003's shape,
// with an optional reference such as an order id).
type pointsRequest struct {
	AccountID string          `json:"account_id"`
	Amount    json.RawMessage `json:"amount"`
	Reference string          `json:"reference"`
}

func (p *pointsRequest) read(r *http.Request) (points.AccountID, int64, error) {
	if err := decodeBody(r, p); err != nil {
		return points.AccountID{}, 0, err
	}
	account, err := accountOf(r, p.AccountID)
	if err != nil {
		return account, 0, err
	}
	if len(p.Reference) > limits.ReferenceChars {
		return account, 0, badRequest("reference", fmt.Sprintf("reference must be at most %d characters", limits.ReferenceChars))
	}
	amount, err := wholeNumber("amount", p.Amount)
	return account, amount, err
}

// accountOf names the points account a request means: the id it gives, in
// the caller's client. Account ids are scoped by client, so a caller can
// only ever reach its own client's accounts, whatever id it sends.
func accountOf(r *http.Request, id string) (points.AccountID, error) {
	if err := required("account_id", id); err != nil {
		return points.AccountID{}, err
	}
	p, _ := principalOf(r)
	return points.NewAccountID(p.Client, id)
}

// idempotencyKey reads the Idempotency-Key header and marks it as the API's,
// so that it cannot collide with keys the store's own workflows use. The
// domains scope it by the caller's client.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", nil
	}
	if len(k) > limits.IdempotencyKeyChars {
		return "", badRequest("Idempotency-Key", fmt.Sprintf("Idempotency-Key must be at most %d characters", limits.IdempotencyKeyChars))
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e {
			return "", badRequest("Idempotency-Key", "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return "api:" + k, nil
}

// pointsCommand reads a POST or DELETE /points request and runs it through
// do; both calls take the same body and headers.
func (s *server) pointsCommand(w http.ResponseWriter, r *http.Request, status int,
	do func(ctx context.Context, account points.AccountID, req pointsRequest, amount int64, key string) (points.Transaction, error)) {
	var req pointsRequest
	account, amount, err := req.read(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tx, err := do(r.Context(), account, req, amount, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, status, viewTransaction(tx))
}

func (s *server) issue(w http.ResponseWriter, r *http.Request) {
	s.pointsCommand(w, r, http.StatusCreated, func(ctx context.Context, account points.AccountID, req pointsRequest, amount int64, key string) (points.Transaction, error) {
		return s.points.Issue(ctx, points.IssueCommand{Account: account, Amount: amount, Key: key, Reference: req.Reference})
	})
}

func (s *server) redeem(w http.ResponseWriter, r *http.Request) {
	s.pointsCommand(w, r, http.StatusOK, func(ctx context.Context, account points.AccountID, req pointsRequest, amount int64, key string) (points.Transaction, error) {
		return s.points.Redeem(ctx, points.RedeemCommand{Account: account, Amount: amount, Key: key, Reference: req.Reference})
	})
}

// reversalRequest is the body of POST /points/transactions/{id}/reversal.
type reversalRequest struct {
	AccountID string `json:"account_id"`
}

func (s *server) reverse(w http.ResponseWriter, r *http.Request) {
	var req reversalRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	account, err := accountOf(r, req.AccountID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tx, err := s.points.Reverse(r.Context(), points.ReverseCommand{Account: account, TransactionID: r.PathValue("id"), Key: key})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, viewTransaction(tx))
}

// balanceEntry is one daily lot, in seed 003's balance_entries shape plus
// its expiry and what went in and expired.
type balanceEntry struct {
	IssuedDate  string    `json:"issued_date"`
	Balance     int64     `json:"balance"`
	LastUpdated time.Time `json:"last_updated"`
	Status      string    `json:"status"`
	ExpiresOn   string    `json:"expires_on"`
	Issued      int64     `json:"issued"`
	Expired     int64     `json:"expired"`
	// Pending is in the lot but not spendable before MaturesOn.
	Pending   int64  `json:"pending,omitempty"`
	MaturesOn string `json:"matures_on,omitempty"`
}

type balanceResponse struct {
	AccountID string `json:"account_id"`
	Balance   int64  `json:"balance"`
	// Pending is earned but not spendable yet: points of purchases
	// within their return window.
	Pending        int64          `json:"pending"`
	BalanceEntries []balanceEntry `json:"balance_entries"`
	// NextCursor continues balance_entries (as ?cursor=) when the account
	// has more lots than the page holds.
	NextCursor   string `json:"next_cursor,omitempty"`
	ExpiringSoon struct {
		Days   int   `json:"days"`
		Points int64 `json:"points"`
	} `json:"expiring_soon"`
	AsOf time.Time `json:"as_of"`
}

func (s *server) balance(w http.ResponseWriter, r *http.Request) {
	account, err := accountOf(r, r.URL.Query().Get("account_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	page := points.LotPage{After: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > points.MaxLotPage {
			writeError(w, r, badRequest("limit", fmt.Sprintf("limit must be a whole number from 1 to %d", points.MaxLotPage)))
			return
		}
		page.Limit = n
	}
	switch q.Get("status") {
	case "", "all":
	case "active":
		page.Active = true
	default:
		writeError(w, r, badRequest("status", `status must be "active" or "all"`))
		return
	}
	b, err := s.reads.Balance(r.Context(), account, page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := balanceResponse{AccountID: b.Account.ID(), Balance: b.Available, Pending: b.Pending, AsOf: b.AsOf, NextCursor: b.NextLots,
		BalanceEntries: make([]balanceEntry, 0, len(b.Lots))}
	resp.ExpiringSoon.Days, resp.ExpiringSoon.Points = points.ExpiringWindowDays, b.ExpiringSoon
	for _, l := range b.Lots {
		resp.BalanceEntries = append(resp.BalanceEntries, balanceEntry{IssuedDate: l.IssuedOn, Balance: l.Remaining,
			LastUpdated: l.LastUpdated, Status: l.Status, ExpiresOn: l.ExpiresOn, Issued: l.Issued, Expired: l.Expired,
			Pending: l.Pending, MaturesOn: l.MaturesOn})
	}
	writeJSON(w, http.StatusOK, resp)
}

const (
	defaultPage = 50
	maxPage     = 500
)

func (s *server) transactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	account, err := accountOf(r, q.Get("account_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	limit := defaultPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			writeError(w, r, badRequest("limit", fmt.Sprintf("limit must be a whole number from 1 to %d", maxPage)))
			return
		}
		limit = n
	}
	var before int64
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeError(w, r, badRequest("cursor", "cursor must be a next_cursor value from a previous page"))
			return
		}
		before = n
	}
	txs, next, err := s.reads.Transactions(r.Context(), account, before, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := struct {
		Items      []transactionView `json:"items"`
		NextCursor string            `json:"next_cursor,omitempty"`
	}{Items: make([]transactionView, len(txs))}
	for i, tx := range txs {
		resp.Items[i] = viewTransaction(tx)
	}
	if next > 0 {
		resp.NextCursor = strconv.FormatInt(next, 10)
	}
	writeJSON(w, http.StatusOK, resp)
}
