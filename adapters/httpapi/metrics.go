package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/ports"
)

// Metrics is what the API tells an operator's metrics. Every label it
// passes comes from a fixed set, never from what a caller sent: a caller
// who could mint label values could grow the metrics without bound.
type Metrics interface {
	// Request: a request was answered. route is the pattern of the route
	// table that took it ("GET /orders/{id}"), or Unrouted.
	Request(route string, status int, took time.Duration)
	// SignInFailed: POST /auth/token refused a sign-in, for one of the
	// SignIn* reasons.
	SignInFailed(reason string)
}

// Unrouted is the route of a request no route of the table takes (an
// unknown path, or a method the path does not take).
const Unrouted = "unrouted"

// Why a sign-in failed.
const (
	SignInBadCredentials = "bad_credentials" // wrong username or password
	SignInThrottled      = "throttled"       // too many failures, or too many at once
	SignInInvalid        = "invalid"         // not a username and password the store could hold
	SignInError          = "error"           // the store could not check
)

// signInFailure is the reason a sign-in's error counts under.
func signInFailure(err error) string {
	var re *requestError
	switch {
	case errors.As(err, &re):
		return SignInInvalid
	case errors.Is(err, identity.ErrBadCredentials):
		return SignInBadCredentials
	case errors.Is(err, identity.ErrThrottled):
		return SignInThrottled
	case errors.Is(err, ports.ErrInvalid):
		return SignInInvalid
	}
	return SignInError
}

// noMetrics is the Metrics of an API that keeps none.
type noMetrics struct{}

func (noMetrics) Request(string, int, time.Duration) {}
func (noMetrics) SignInFailed(string)                {}

// routes finds the route a request is measured under.
type routes struct {
	mux   *http.ServeMux
	table map[string]bool // the patterns of the route table
}

func newRoutes(mux *http.ServeMux, patterns []string) routes {
	table := make(map[string]bool, len(patterns))
	for _, p := range patterns {
		table[p] = true
	}
	return routes{mux: mux, table: table}
}

// of is the pattern of the route that takes r, or Unrouted. Only a pattern
// of the table is taken: for some requests (CONNECT) the mux names a path
// built from the request's own.
func (rs routes) of(r *http.Request) string {
	if _, ok := unclean(r); ok {
		return Unrouted // refused by problems404, whatever the mux would match
	}
	if _, pattern := rs.mux.Handler(r); rs.table[pattern] {
		return pattern
	}
	return Unrouted
}
