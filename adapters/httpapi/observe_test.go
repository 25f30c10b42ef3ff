package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/internal/syncbuf"
	"github.com/unicornstore/unicorn/ports"
)

// recorded is what Metrics heard of one request.
type recorded struct {
	Route  string
	Status int
}

type recordingMetrics struct {
	mu       sync.Mutex
	requests []recorded
	signIns  []string
}

func (m *recordingMetrics) Request(route string, status int, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = append(m.requests, recorded{route, status})
}

func (m *recordingMetrics) SignInFailed(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.signIns = append(m.signIns, reason)
}

// Requests are measured under the pattern of the route that took them,
// never their path; a path no route takes is Unrouted, whatever it is.
func TestRequestsAreMeasuredByRoutePattern(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "gone" {
			writeProblem(w, Problem{Status: http.StatusNotFound, Title: "Not found"})
		}
		// Otherwise nothing is written: net/http answers 200.
	})
	mux.HandleFunc("GET /images/", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/tree/{x}/", func(http.ResponseWriter, *http.Request) {})
	var m recordingMetrics
	srv := httptest.NewServer(observe(slog.New(slog.DiscardHandler), "", &m,
		newRoutes(mux, []string{"GET /orders/{id}", "GET /images/", "/tree/{x}/"}), problems404(mux)))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tt := range []struct {
		method, path string
		want         recorded
	}{
		{"GET", "/orders/1", recorded{"GET /orders/{id}", 200}},
		{"GET", "/orders/gone", recorded{"GET /orders/{id}", 404}},
		{"HEAD", "/orders/2", recorded{"GET /orders/{id}", 200}},
		{"POST", "/orders/1", recorded{Unrouted, 405}},
		{"GET", "/any/thing/a/caller/makes/up", recorded{Unrouted, 404}},
		{"GET", "/images/any/thing", recorded{"GET /images/", 200}},
		// A path not in its clean form is refused, not redirected; the
		// mux redirects a CONNECT to a subtree under the caller's path.
		{"GET", "/orders/x/../1", recorded{Unrouted, 404}},
		{"POST", "//orders/1", recorded{Unrouted, 404}},
		{"CONNECT", "/tree/anything-at-all", recorded{Unrouted, 307}},
	} {
		m.mu.Lock()
		m.requests = nil
		m.mu.Unlock()
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// The measure is taken before the response ends, so it is there
		// once the client has read it.
		m.mu.Lock()
		got := m.requests
		m.mu.Unlock()
		if diff := cmp.Diff([]recorded{tt.want}, got); diff != "" {
			t.Errorf("%s %s measured (-want +got):\n%s", tt.method, tt.path, diff)
		}
	}
}

// A failed sign-in counts under one of a few reasons, whatever the error
// says.
func TestSignInFailureReasons(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{identity.ErrBadCredentials, SignInBadCredentials},
		{fmt.Errorf("sign in: %w", identity.ErrBadCredentials), SignInBadCredentials},
		{&identity.ThrottledError{Reason: "too many failures", RetryAfter: time.Minute}, SignInThrottled},
		{ports.Invalid("username", "a username is short"), SignInInvalid},
		{badRequest("", "malformed JSON"), SignInInvalid},
		{errors.New("disk I/O error"), SignInError},
	} {
		if got := signInFailure(tt.err); got != tt.want {
			t.Errorf("signInFailure(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// Every line logged while a request is handled names it: the API's own
// lines (logFor), and the lines of code that only has the request's
// context, such as a domain's logger; none names it twice. A line logged
// outside any request names none.
func TestEveryLineOfARequestCarriesItsID(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	log := slog.New(LogRequestIDs(slog.NewJSONHandler(&logs, nil)))
	domain := log.With("component", "points") // as a domain holds the logger it was given
	mux := http.NewServeMux()
	mux.HandleFunc("GET /errand", func(w http.ResponseWriter, r *http.Request) {
		logFor(r).Info("the handler's line")
		domain.WarnContext(r.Context(), "a domain's line")
		logFor(r).InfoContext(r.Context(), "the handler's line, with the context too")
		writeError(w, r, errors.New("something broke")) // logged as an internal error
	})
	srv := httptest.NewServer(observe(log, "", noMetrics{}, newRoutes(mux, []string{"GET /errand"}), problems404(mux)))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("GET", srv.URL+"/errand", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-Id", "req-42")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	domain.Info("after the request")

	var msgs []string
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		line := sc.Text()
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		msg := rec["msg"].(string)
		msgs = append(msgs, msg)
		want, times := "req-42", 1
		if msg == "after the request" {
			want, times = "", 0
		}
		if got, _ := rec["request_id"].(string); got != want || strings.Count(line, `"request_id"`) != times {
			t.Errorf("line %q: request_id %q, %d times; want %q, %d times", msg, got, strings.Count(line, `"request_id"`), want, times)
		}
	}
	want := []string{"the handler's line", "a domain's line", "the handler's line, with the context too", "internal error", "request", "after the request"}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}
