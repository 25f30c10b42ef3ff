package webhookhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/webhookhttp"
	"github.com/unicornstore/unicorn/ports"
)

func allowAll(netip.Addr) error { return nil }

func TestSendPostsBodyAndHeaders(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, body, sig, ctype string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, string(b), r.Header.Get("Webhook-Signature"), r.Header.Get("Content-Type")}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, strings.Repeat("x", ports.WebhookResponseLimit+100))
	}))
	t.Cleanup(srv.Close)
	res, err := webhookhttp.New().Send(context.Background(), ports.WebhookRequest{URL: srv.URL + "/hook", Body: []byte(`{"id":"evt_1"}`),
		Headers: map[string]string{"Webhook-Signature": "v1,abc", "Content-Type": "application/json"}, Timeout: 5 * time.Second, Allow: allowAll})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusAccepted || len(res.Body) != ports.WebhookResponseLimit {
		t.Errorf("response: %d with %d bytes, want 202 with %d", res.Status, len(res.Body), ports.WebhookResponseLimit)
	}
	if s := <-got; s.method != http.MethodPost || s.body != `{"id":"evt_1"}` || s.sig != "v1,abc" || s.ctype != "application/json" {
		t.Errorf("the receiver saw %+v", s)
	}
}

// A redirect is an answer: following it would send the signed body
// somewhere nobody registered (and past the address check).
func TestSendFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var followed atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Store(true) }))
	t.Cleanup(target.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	res, err := webhookhttp.New().Send(context.Background(), ports.WebhookRequest{URL: srv.URL, Body: []byte("{}"), Timeout: 5 * time.Second, Allow: allowAll})
	if err != nil || res.Status != http.StatusTemporaryRedirect {
		t.Errorf("Send = %d, %v; want the 307 itself", res.Status, err)
	}
	if followed.Load() {
		t.Error("the redirect was followed")
	}
}

// The address rule is asked at connection time: a refused address is
// never connected to.
func TestSendAsksTheAddressRule(t *testing.T) {
	t.Parallel()
	var reached atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Store(true) }))
	t.Cleanup(srv.Close)
	var asked atomic.Value
	refuse := func(a netip.Addr) error {
		asked.Store(a)
		return errors.New("not public")
	}
	s := webhookhttp.New()
	_, err := s.Send(context.Background(), ports.WebhookRequest{URL: srv.URL, Body: []byte("{}"), Timeout: 5 * time.Second, Allow: refuse})
	if err == nil || !strings.Contains(err.Error(), "not public") {
		t.Errorf("Send to a refused address: %v", err)
	}
	if a, _ := asked.Load().(netip.Addr); !a.IsLoopback() {
		t.Errorf("the rule was asked about %v, want the loopback address", a)
	}
	if reached.Load() {
		t.Error("the refused address was reached")
	}
	if _, err := s.Send(context.Background(), ports.WebhookRequest{URL: srv.URL, Body: []byte("{}")}); err == nil {
		t.Error("a request without an address rule was sent")
	}
}

func TestSendTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	_, err := webhookhttp.New().Send(context.Background(), ports.WebhookRequest{URL: srv.URL, Body: []byte("{}"), Timeout: 50 * time.Millisecond, Allow: allowAll})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send to a receiver that never answers: %v, want a deadline", err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	s := webhookhttp.New()
	addrs, err := s.Resolve(context.Background(), "127.0.0.1")
	if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("Resolve(an IP) = %v, %v", addrs, err)
	}
	addrs, err = s.Resolve(context.Background(), "localhost")
	if err != nil || len(addrs) == 0 || !addrs[0].IsLoopback() {
		t.Errorf("Resolve(localhost) = %v, %v", addrs, err)
	}
}
