package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

// Who may call a route is decided here, before its handler runs, from the
// route's rule in the table of routes (server.go): which kinds of
// principal it admits, and what the request is about, so that a customer
// reaches only their own account, orders and wallet, and a marketer only
// their client's campaigns. Points accounts need no check here for anyone
// else: their ids are scoped by the caller's client (points.AccountID), so
// an API key reaches its own client's accounts whatever id it sends, and
// learns nothing of another client's. The check only reads: it never
// writes state, and a request it cannot read (malformed, too large) goes
// on to its handler, which refuses it with the right status.

// Principals a rule can admit.
const (
	anyone   = "anyone"   // no credentials needed
	signedIn = "signedIn" // any principal
	customer = ports.RoleCustomer
	marketer = ports.RoleMarketer
	admin    = ports.RoleAdmin
	// API keys are admitted by scope.
	keyRead  = "key:" + identity.ScopePointsRead
	keyWrite = "key:" + identity.ScopePointsWrite
)

// rule is a route's policy.
type rule struct {
	who   []string
	about []subject
}

// subject names what a request is about: a points account or user (the
// same thing for a customer), an order, or a client.
type subject struct {
	kind string // "account", "order" or "client"
	// value reads where the request names it; nil when the request cannot
	// be read (malformed, too large): its handler refuses it with the
	// right status, so the check lets it through.
	value func(r *http.Request) []string
}

func allow(who ...string) rule { return rule{who: who} }

func (r rule) on(s ...subject) rule { r.about = s; return r }

// Where requests name their subject.
func pathValue(name string) func(*http.Request) []string {
	return func(r *http.Request) []string { return []string{r.PathValue(name)} }
}

func queryValue(name string) func(*http.Request) []string {
	return func(r *http.Request) []string { return []string{r.URL.Query().Get(name)} }
}

// fromBody reads what a request is about from its body, decoded into the
// handler's own request type the handler's own way, then puts the body
// back for the handler. Any other reading (a map lookup of "account_id")
// could disagree with the handler's on a body such as
// {"account_id":"mine","ACCOUNT_ID":"yours"} and check one account while
// the handler acts on another. A body that does not decode names nothing:
// the handler refuses it.
func fromBody[T any](fields func(T) []string) func(*http.Request) []string {
	return func(r *http.Request) []string {
		var v T
		if decodeBytes(peekBody(r), &v) != nil {
			return nil
		}
		return fields(v)
	}
}

// fromEvent reads a purchase event's fields as the award handler does.
func fromEvent(fields func(campaign.Event) []string) func(*http.Request) []string {
	return func(r *http.Request) []string {
		ev, err := campaign.ParseEvent(peekBody(r))
		if err != nil {
			return nil
		}
		return fields(ev)
	}
}

// walletUser is the user of GET /users/{first}/{second}, as the handler
// reads it.
func walletUser(r *http.Request) []string {
	if r.PathValue("first") == "balance" {
		return []string{r.PathValue("second")}
	}
	return []string{r.PathValue("first")}
}

// What a request is about, and where it names it.
func anAccount(from func(*http.Request) []string) subject {
	return subject{kind: "account", value: from}
}
func anOrder(from func(*http.Request) []string) subject { return subject{kind: "order", value: from} }
func aClient(from func(*http.Request) []string) subject { return subject{kind: "client", value: from} }

// peekBody reads the body and puts it back for the handler, with the
// error that ended the read (a body over the limit stays a 413).
func peekBody(r *http.Request) []byte {
	body, err := io.ReadAll(r.Body)
	var rest io.Reader = bytes.NewReader(body)
	if err != nil {
		rest = io.MultiReader(rest, failing{err})
	}
	r.Body = io.NopCloser(rest)
	return body
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

type principalKey struct{}

// principalOf returns the request's principal, if it has one.
func principalOf(r *http.Request) (ports.Principal, bool) {
	p, ok := r.Context().Value(principalKey{}).(ports.Principal)
	return p, ok
}

// TokenVerifier checks an access token and says whose it is.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (ports.Principal, error)
}

// credentials reads the request's credentials: a bearer token (an access
// token, or an API key) or an X-Api-Key header. No credentials is not an
// error: ok is false.
func (s *server) credentials(r *http.Request) (p ports.Principal, ok bool, err error) {
	raw := r.Header.Get("X-Api-Key")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, found := strings.Cut(h, " ")
		if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return p, false, fmt.Errorf("the Authorization header must be \"Bearer <token or API key>\": %w", identity.ErrUnauthorized)
		}
		raw = strings.TrimSpace(token)
	}
	if raw == "" {
		return p, false, nil
	}
	if identity.LooksLikeAPIKey(raw) {
		p, err = s.identity.AuthenticateKey(r.Context(), raw)
		return p, err == nil, err
	}
	p, err = s.tokens.Verify(r.Context(), raw)
	if err != nil {
		return p, false, fmt.Errorf("%v: %w", err, identity.ErrUnauthorized)
	}
	if err := s.identity.Check(r.Context(), p); err != nil {
		return p, false, err
	}
	return p, true, nil
}

func admits(who []string, p ports.Principal) bool {
	if slices.Contains(who, signedIn) {
		return true
	}
	if p.Kind == ports.PrincipalAPIKey {
		for _, sc := range p.Scopes {
			if slices.Contains(who, "key:"+sc) {
				return true
			}
		}
		return false
	}
	return slices.Contains(who, p.Role)
}

// guard runs a route's rule before its handler.
func (s *server) guard(rl rule, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(rl.who, anyone) {
			if r.URL.Path == "/healthz" || s.admission.throttle(w, r, ports.Principal{}, false) {
				if err := plainQuery(r); err != nil {
					writeError(w, r, err)
					return
				}
				next(w, r)
			}
			return
		}
		p, ok, err := s.credentials(r)
		if err == nil && !ok {
			err = fmt.Errorf("sign in (POST /auth/token) and send \"Authorization: Bearer <access token>\", or send an API key: %w", identity.ErrUnauthorized)
		}
		// Callers are counted before anything else is decided; one whose
		// credentials fail is counted by its address.
		if !s.admission.throttle(w, r, p, err == nil) {
			return
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !admits(rl.who, p) {
			writeError(w, r, fmt.Errorf("%s: %w", denial(p), identity.ErrForbidden))
			return
		}
		if err := plainQuery(r); err != nil {
			writeError(w, r, err)
			return
		}
		for _, about := range rl.about {
			if err := s.reaches(r, p, about); err != nil {
				writeError(w, r, err)
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// plainQuery refuses a query string that does not read one way only: one
// that is malformed (a bad %-escape, a ";"), whose pairs the parser would
// drop, or that gives a parameter twice. No parameter of the API takes a
// list, and which of two values counts differs from reader to reader:
// this check and the handler read the first, a gateway or a cache in
// front may read the last. Checked before the rule's subjects are read
// from the query.
func plainQuery(r *http.Request) error {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return badRequest("", "the query string is malformed: "+err.Error())
	}
	names := slices.Sorted(maps.Keys(values))
	for _, name := range names {
		if n := len(values[name]); n > 1 {
			return badRequest(name, fmt.Sprintf("%s is given %d times; give it once", name, n))
		}
	}
	return nil
}

func denial(p ports.Principal) string {
	if p.Kind == ports.PrincipalAPIKey {
		return fmt.Sprintf("an API key with scopes %v cannot do this", p.Scopes)
	}
	return fmt.Sprintf("a %s cannot do this", p.Role)
}

// reaches checks that p may act on what the request is about.
func (s *server) reaches(r *http.Request, p ports.Principal, about subject) error {
	values := about.value(r)
	forbidden := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), identity.ErrForbidden)
	}
	switch about.kind {
	case "client":
		for _, c := range values {
			if c != "" && c != p.Client {
				return forbidden("you work for client %s, not %s", p.Client, c)
			}
		}
		return nil
	}
	// Only a customer is confined to one account: their own.
	if p.Kind != ports.PrincipalUser || p.Role != ports.RoleCustomer || values == nil {
		return nil
	}
	if about.kind == "order" {
		buyer, err := s.orders.Buyer(r.Context(), values[0])
		if errors.Is(err, retail.ErrNotFound) {
			return nil // nobody's: the handler answers 404
		}
		if err != nil {
			return err // never let a failed read pass as allowed
		}
		values = []string{buyer}
	}
	named := false
	for _, v := range values {
		if v == "" {
			continue
		}
		if v != p.Subject {
			return forbidden("you can only reach your own account, %s", p.Subject)
		}
		named = true
	}
	if !named {
		return forbidden("name your own account, %s", p.Subject)
	}
	return nil
}
