package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/domains/tier"
	"github.com/unicornstore/unicorn/domains/webhooks"
	"github.com/unicornstore/unicorn/ports"
)

// Problem is an RFC 9457 problem detail, the body of every error response.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RequestID is the request's id, as in its X-Request-Id header and
	// every log line about it: what a caller quotes to an operator.
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	// Extension members of some problems.
	Available *int64 `json:"available,omitempty"`
	Requested *int64 `json:"requested,omitempty"`
	// A purchase refused for a changed price: today's lines and total.
	Total *amount    `json:"total,omitempty"`
	Lines []lineView `json:"lines,omitempty"`
}

// FieldError names the part of the request that is wrong; Position is the
// character offset in a formula.
type FieldError struct {
	Field    string `json:"field"`
	Message  string `json:"message"`
	Position *int   `json:"position,omitempty"`
}

// problemType builds the stable, machine-readable type of a problem.
func problemType(code string) string { return "urn:unicorn:problem:" + code }

// kind is how one class of error is shown to clients.
type kind struct {
	status int
	code   string
	title  string
	field  string // the request field at fault, when there is one
}

// errorKinds maps domain errors to HTTP, in one place. errors.Is decides, so
// wrapped errors map like their sentinel.
var errorKinds = []struct {
	err error
	kind
}{
	{points.ErrInvalidAccount, kind{http.StatusBadRequest, "invalid-request", "Invalid request", "account_id"}},
	{points.ErrInvalidLotPage, kind{http.StatusBadRequest, "invalid-request", "Invalid request", "limit"}},
	{points.ErrInvalidAmount, kind{http.StatusBadRequest, "invalid-request", "Invalid request", "amount"}},
	{points.ErrInsufficientPoints, kind{http.StatusConflict, "insufficient-points", "Insufficient points", ""}},
	{points.ErrKeyReused, kind{http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency key reused", "Idempotency-Key"}},
	{points.ErrTransactionNotFound, kind{http.StatusNotFound, "not-found", "Not found", ""}},
	{points.ErrAlreadyReversed, kind{http.StatusConflict, "already-reversed", "Already reversed", ""}},
	{points.ErrReversalTooLarge, kind{http.StatusConflict, "reversal-too-large", "More than is left to reverse", ""}},
	{points.ErrNotReversible, kind{http.StatusConflict, "not-reversible", "Not reversible", ""}},
	{points.ErrBusy, kind{http.StatusServiceUnavailable, "busy", "Busy, retry", ""}},
	{campaign.ErrInvalid, kind{http.StatusBadRequest, "invalid-campaign", "Invalid campaign", ""}},
	{campaign.ErrNotFound, kind{http.StatusNotFound, "not-found", "Not found", ""}},
	{campaign.ErrExists, kind{http.StatusConflict, "campaign-exists", "Campaign exists", "campaign_name"}},
	{campaign.ErrStale, kind{http.StatusPreconditionFailed, "stale-version", "Campaign changed", "If-Match"}},
	{campaign.ErrInvalidEvent, kind{http.StatusBadRequest, "invalid-event", "Invalid purchase event", "event"}},
	{ports.ErrInvalid, kind{http.StatusBadRequest, "invalid-request", "Invalid request", ""}},
	{retail.ErrNotFound, kind{http.StatusNotFound, "not-found", "Not found", ""}},
	{retail.ErrExists, kind{http.StatusConflict, "product-exists", "Product exists", "id"}},
	{retail.ErrStale, kind{http.StatusPreconditionFailed, "stale-version", "Changed meanwhile", "If-Match"}},
	{tier.ErrStale, kind{http.StatusPreconditionFailed, "stale-version", "Tiers changed", "If-Match"}},
	{webhooks.ErrNotFound, kind{http.StatusNotFound, "not-found", "Not found", ""}},
	{webhooks.ErrStale, kind{http.StatusPreconditionFailed, "stale-version", "Endpoint changed", "If-Match"}},
	{webhooks.ErrTooManyEndpoints, kind{http.StatusConflict, "too-many-endpoints", "Too many webhook endpoints", ""}},
	{webhooks.ErrNotReplayable, kind{http.StatusConflict, "not-replayable", "Not replayable", ""}},
	{retail.ErrKeyReused, kind{http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency key reused", "Idempotency-Key"}},
	{retail.ErrNotRetryable, kind{http.StatusConflict, "not-retryable", "Not retryable", ""}},
	{retail.ErrNotReturnable, kind{http.StatusConflict, "not-returnable", "Not returnable", ""}},
	{retail.ErrReturnWindowClosed, kind{http.StatusConflict, "return-window-closed", "Return window closed", ""}},
	{retail.ErrNothingToReturn, kind{http.StatusConflict, "nothing-to-return", "Nothing left to return", ""}},
	{retail.ErrTooManyReturns, kind{http.StatusConflict, "too-many-returns", "Too many returns", ""}},
	{retail.ErrPriceChanged, kind{http.StatusConflict, "price-changed", "Prices changed", "expected_total"}},
	{identity.ErrExists, kind{http.StatusConflict, "user-exists", "Exists already", "username"}},
	{identity.ErrNotFound, kind{http.StatusNotFound, "not-found", "Not found", ""}},
	{identity.ErrBadCredentials, kind{http.StatusUnauthorized, "bad-credentials", "Wrong username or password", ""}},
	{identity.ErrUnauthorized, kind{http.StatusUnauthorized, "unauthorized", "Unauthorized", ""}},
	{identity.ErrForbidden, kind{http.StatusForbidden, "forbidden", "Forbidden", ""}},
	{identity.ErrThrottled, kind{http.StatusTooManyRequests, "throttled", "Sign-in refused for now", ""}},
	{identity.ErrPeopleElsewhere, kind{http.StatusConflict, "people-elsewhere", "People are managed at the identity provider", ""}},
}

// requestError is a fault in the request itself, found by this adapter
// (malformed JSON, a missing field, a body too large).
type requestError struct {
	kind
	msg string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(field, msg string) error {
	return &requestError{kind{http.StatusBadRequest, "invalid-request", "Invalid request", field}, msg}
}

// writeError answers with the problem that err maps to. Errors that map to
// nothing are internal: logged in full, shown only as "internal error".
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := Problem{Instance: r.URL.Path}
	var re *requestError
	k, found := kind{}, false
	if errors.As(err, &re) {
		k, found = re.kind, true
	} else {
		for _, e := range errorKinds {
			if errors.Is(err, e.err) {
				k, found = e.kind, true
				break
			}
		}
	}
	switch {
	case found:
		p.Detail = err.Error()
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		k = kind{http.StatusServiceUnavailable, "unavailable", "Request cancelled or timed out", ""}
		logFor(r).Warn("request ended early", "err", err)
	default:
		k = kind{http.StatusInternalServerError, "internal", "Internal error", ""}
		p.Detail = "internal error; quote the request id to the store's operators"
		logFor(r).Error("internal error", "err", err)
	}
	p.Type, p.Title, p.Status = problemType(k.code), k.title, k.status
	if k.field != "" {
		p.Errors = []FieldError{{Field: k.field, Message: err.Error()}}
	}
	var fe *ports.FieldError
	if errors.As(err, &fe) {
		p.Errors = []FieldError{{Field: fe.Field, Message: fe.Message}}
	}
	if k.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="unicorn-store"`)
	}
	var ve *campaign.ValidationError
	if errors.As(err, &ve) {
		p.Detail = "the campaign has mistakes; each is listed under errors with its field"
		p.Errors = append(p.Errors, campaignErrors(ve)...)
	}
	var ip *points.InsufficientPointsError
	if errors.As(err, &ip) {
		p.Available, p.Requested = &ip.Available, &ip.Requested
	}
	var pc *retail.PriceChangedError
	if errors.As(err, &pc) {
		total := amount(pc.Total)
		p.Total, p.Lines = &total, viewLines(pc.Lines)
	}
	if k.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeProblem(w, p)
}

// campaignErrors lists a campaign's problems as the API names them.
func campaignErrors(ve *campaign.ValidationError) []FieldError {
	out := make([]FieldError, len(ve.Problems))
	for i, p := range ve.Problems {
		out[i] = FieldError{Field: p.Field, Message: p.Message, Position: p.Position}
	}
	return out
}

func writeProblem(w http.ResponseWriter, p Problem) {
	p.RequestID = w.Header().Get("X-Request-Id")
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func logFor(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
