package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/unicornstore/unicorn/domains/points"
)

// pointsRequest is the body of POST and DELETE /points (seed 003's shape,
// with an optional reference such as an order id).
type pointsRequest struct {
	AccountID string          `json:"account_id"`
	Amount    json.RawMessage `json:"amount"`
	Reference string          `json:"reference"`
}

func (p *pointsRequest) read(r *http.Request) (int64, error) {
	if err := decodeBody(r, p); err != nil {
		return 0, err
	}
	if err := required("account_id", p.AccountID); err != nil {
		return 0, err
	}
	if len(p.Reference) > 256 {
		return 0, badRequest("reference", "reference must be at most 256 characters")
	}
	return wholeNumber("amount", p.Amount)
}

// idempotencyKey reads the Idempotency-Key header and scopes it to this API,
// so that it cannot collide with keys the store's own workflows use.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", nil
	}
	if len(k) > 255 {
		return "", badRequest("Idempotency-Key", "Idempotency-Key must be at most 255 characters")
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
	do func(ctx context.Context, req pointsRequest, amount int64, key string) (points.Transaction, error)) {
	var req pointsRequest
	amount, err := req.read(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tx, err := do(r.Context(), req, amount, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, status, tx)
}

func (s *server) issue(w http.ResponseWriter, r *http.Request) {
	s.pointsCommand(w, r, http.StatusCreated, func(ctx context.Context, req pointsRequest, amount int64, key string) (points.Transaction, error) {
		return s.points.Issue(ctx, points.IssueCommand{Account: req.AccountID, Amount: amount, Key: key, Reference: req.Reference})
	})
}

func (s *server) redeem(w http.ResponseWriter, r *http.Request) {
	s.pointsCommand(w, r, http.StatusOK, func(ctx context.Context, req pointsRequest, amount int64, key string) (points.Transaction, error) {
		return s.points.Redeem(ctx, points.RedeemCommand{Account: req.AccountID, Amount: amount, Key: key, Reference: req.Reference})
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
	if err := required("account_id", req.AccountID); err != nil {
		writeError(w, r, err)
		return
	}
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tx, err := s.points.Reverse(r.Context(), points.ReverseCommand{Account: req.AccountID, TransactionID: r.PathValue("id"), Key: key})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, tx)
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
}

type balanceResponse struct {
	AccountID      string         `json:"account_id"`
	Balance        int64          `json:"balance"`
	BalanceEntries []balanceEntry `json:"balance_entries"`
	ExpiringSoon   struct {
		Days   int   `json:"days"`
		Points int64 `json:"points"`
	} `json:"expiring_soon"`
	AsOf time.Time `json:"as_of"`
}

func (s *server) balance(w http.ResponseWriter, r *http.Request) {
	account := r.URL.Query().Get("account_id")
	if err := required("account_id", account); err != nil {
		writeError(w, r, err)
		return
	}
	b, err := s.reads.Balance(r.Context(), account)
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := balanceResponse{AccountID: b.Account, Balance: b.Available, AsOf: b.AsOf, BalanceEntries: make([]balanceEntry, 0, len(b.Lots))}
	resp.ExpiringSoon.Days, resp.ExpiringSoon.Points = points.ExpiringWindowDays, b.ExpiringSoon
	for _, l := range b.Lots {
		resp.BalanceEntries = append(resp.BalanceEntries, balanceEntry{IssuedDate: l.IssuedOn, Balance: l.Remaining,
			LastUpdated: l.LastUpdated, Status: l.Status, ExpiresOn: l.ExpiresOn, Issued: l.Issued, Expired: l.Expired})
	}
	writeJSON(w, http.StatusOK, resp)
}

const (
	defaultPage = 50
	maxPage     = 500
)

func (s *server) transactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	account := q.Get("account_id")
	if err := required("account_id", account); err != nil {
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
		Items      []points.Transaction `json:"items"`
		NextCursor string               `json:"next_cursor,omitempty"`
	}{Items: txs}
	if next > 0 {
		resp.NextCursor = strconv.FormatInt(next, 10)
	}
	writeJSON(w, http.StatusOK, resp)
}
