package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/ports"
)

// wantRefused checks r is a problem+json of the status and type, with
// Retry-After of at least minWait seconds and the request's id.
func wantRefused(t *testing.T, r response, status int, typ string, minWait int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d\n%s", r.status, status, r.body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(r.body, &p); err != nil || !strings.HasSuffix(p.Type, ":"+typ) || p.Detail == "" {
		t.Errorf("problem = %+v (%v), want type %s with a detail", p, err, typ)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if id := r.header.Get("X-Request-Id"); id == "" || p.RequestID != id {
		t.Errorf("request_id = %q, X-Request-Id = %q: the problem must quote the request's id", p.RequestID, id)
	}
	if wait, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || wait < minWait {
		t.Errorf("Retry-After = %q, want at least %d seconds", r.header.Get("Retry-After"), minWait)
	}
}

// TestCallerRateLimit: each caller has its own bucket — a signed-in user,
// an API key, an address for requests without credentials — and one that
// is empty answers 429 with when to come back, before any work.
func TestCallerRateLimit(t *testing.T) {
	t.Parallel()
	// A token every 100 s and a bucket of one: the second request of a
	// caller within the test is refused, whatever the machine's speed.
	a := newAPI(t, 365, limited(httpapi.Limits{CallerRate: 0.01}))
	// The harness signed the admin in from this address: its token is spent.
	wantRefused(t, a.do("GET", "/products", "", "Authorization", ""), 429, "rate-limited", 99)
	wantRefused(t, a.do("POST", "/auth/token", `{"username":"boss","password":"x"}`, "Authorization", ""), 429, "rate-limited", 99)
	// Failed credentials count against the address too, not a fresh bucket.
	wantRefused(t, a.do("GET", "/points?account_id=1", "", "Authorization", "Bearer forged"), 429, "rate-limited", 99)

	a.must(200, "GET", "/points?account_id=1", "")
	wantRefused(t, a.do("GET", "/points?account_id=1", ""), 429, "rate-limited", 99)

	key := a.apiKey("points:read")
	a.must(200, "GET", "/points?account_id=1", "", "Authorization", key)
	wantRefused(t, a.do("GET", "/points?account_id=1", "", "Authorization", key), 429, "rate-limited", 99)

	// The health check is never limited: a busy instance is not unhealthy.
	for range 3 {
		if r := a.do("GET", "/healthz", "", "Authorization", ""); r.status != 200 {
			t.Fatalf("/healthz: %d %s", r.status, r.body)
		}
	}
}

// TestClientRateLimit: the callers of one client share its bucket; another
// client's are not slowed by it.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, limited(httpapi.Limits{ClientRate: 0.01}))
	key := a.apiKey("points:read") // made directly, not by a request
	other := a.clientKey("PartnerAir", "points:read")
	a.must(200, "GET", "/points?account_id=1", "")
	wantRefused(t, a.do("GET", "/points?account_id=1", "", "Authorization", key), 429, "rate-limited", 99)
	a.must(200, "GET", "/points?account_id=1", "", "Authorization", other)
	// Requests without credentials belong to no client.
	if r := a.do("GET", "/products", "", "Authorization", ""); r.status != 200 {
		t.Errorf("GET /products without credentials: %d %s", r.status, r.body)
	}
}

// TestInFlightBound: with MaxInFlight requests being handled, one more is
// refused at once with 503, and is taken again once one ends.
func TestInFlightBound(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, limited(httpapi.Limits{MaxInFlight: 1}))
	// A request whose body never ends holds the only slot.
	body, feed := io.Pipe()
	req, err := http.NewRequest("POST", a.srv.URL+"/points", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", a.auth)
	req.Header.Set("Content-Type", "application/json")
	held := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	if _, err := feed.Write([]byte(`{"account_id":"held",`)); err != nil { // returns once the server reads it
		t.Fatal(err)
	}
	wantRefused(t, a.do("GET", "/products", ""), 503, "overloaded", 1)
	if r := a.do("GET", "/healthz", "", "Authorization", ""); r.status != 200 {
		t.Errorf("/healthz while overloaded: %d %s", r.status, r.body)
	}

	_, _ = feed.Write([]byte(`"amount":5}`))
	feed.Close()
	if status := <-held; status != 201 {
		t.Fatalf("the held request ended %d", status)
	}
	// The slot is given back when the handler returns, which may be a
	// moment after its answer reached the client.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r := a.do("GET", "/products", "")
		if r.status == 200 {
			break
		}
		if r.status != 503 || time.Now().After(deadline) {
			t.Fatalf("after the held request ended: %d %s", r.status, r.body)
		}
	}
}

// TestSagaBound: with MaxSagas purchases under way, a purchase is refused
// before anything is stored, and the executor's backlog counts the sagas
// it has started and not seen end.
func TestSagaBound(t *testing.T) {
	t.Parallel()
	var backlog atomic.Int64 // read by the server's goroutines
	backlog.Store(5)
	a := newAPI(t, 365, limited(httpapi.Limits{MaxSagas: 5, SagaBacklog: func() int { return int(backlog.Load()) }}))
	a.must(201, "POST", "/products", `{"id":"p1","name":"Sparkle","price":10,"stock":3}`)
	a.user("alice", ports.RoleCustomer, "UnicornStore")
	a.must(201, "POST", "/users/alice/wallet/deposits", `{"amount":100}`)
	wantRefused(t, a.do("POST", "/purchase", `{"user_id":"alice","items":[{"product_id":"p1","quantity":1}]}`, "Idempotency-Key", "k1"), 503, "overloaded", 1)
	if page := a.must(200, "GET", "/orders?user_id=alice", ""); len(page["items"].([]any)) != 0 {
		t.Fatalf("a refused purchase stored an order: %v", page)
	}

	backlog.Store(4)
	a.must(202, "POST", "/purchase", `{"user_id":"alice","items":[{"product_id":"p1","quantity":1}]}`, "Idempotency-Key", "k1", "Prefer", "respond-async")
	if n := a.sagas.Backlog(); n != 1 {
		t.Errorf("backlog after a purchase = %d, want 1", n)
	}
	if _, err := a.sagas.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := a.sagas.Backlog(); n != 0 {
		t.Errorf("backlog after its saga ended = %d, want 0", n)
	}
}
