package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/domains/webhooks"
)

// receiver is a client's webhook endpoint: it checks every request's
// signature and handles each event id once, and can be told to fail.
type receiver struct {
	t      *testing.T
	secret string
	now    func() time.Time
	mu     sync.Mutex
	fail   int            // answer 503 to the next fail requests
	seen   map[string]int // requests per event id
	events []string       // event types handled, once each
	forged int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	id := r.Header.Get("Webhook-Id")
	if err := webhooks.VerifySignature(rc.secret, id, r.Header.Get("Webhook-Timestamp"), body, r.Header.Get("Webhook-Signature"),
		rc.now(), 5*time.Minute); err != nil {
		rc.forged++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	rc.seen[id]++
	if rc.seen[id] == 1 {
		var ev struct{ Type string }
		_ = json.Unmarshal(body, &ev)
		rc.events = append(rc.events, ev.Type)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) handled() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.events)
}

// TestWebhooksOfOrders: an admin registers an endpoint; a purchase and its
// return reach it as signed order.completed and order.returned events, a
// delivery the endpoint refuses is retried, and the log an admin reads says
// what happened; a replay reaches the receiver again under the same event
// id, which it handles once.
func TestWebhooksOfOrders(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	rc := &receiver{t: t, now: s.clock.Now, seen: map[string]int{}, fail: 1}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ep := s.must(201, "POST", "/webhooks/endpoints", `{"url":"`+srv.URL+`/hooks","events":["order.completed","order.returned"]}`)
	rc.mu.Lock()
	rc.secret = ep["secret"].(string)
	rc.mu.Unlock()
	if list := s.must(200, "GET", "/webhooks/endpoints", "")["items"].([]any); len(list) != 1 || list[0].(map[string]any)["secret"] != nil {
		t.Errorf("endpoints = %v: one, without its secret", list)
	}
	s.must(403, "GET", "/webhooks/endpoints", "", "Authorization", s.signIn("derick"))

	order := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"6","quantity":2}]}`)
	s.must(201, "POST", "/orders/"+order["id"].(string)+"/returns", `{"lines":[{"product_id":"6","quantity":1}]}`)
	deliveries := func(done func([]any) bool) []any {
		t.Helper()
		var items []any
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			// Time passes for the retry of a refused delivery.
			s.clock.Advance(time.Minute)
			s.app.Webhooks.Poke()
			if items = s.must(200, "GET", "/webhooks/deliveries", "")["items"].([]any); done(items) {
				return items
			}
		}
		t.Fatalf("deliveries = %v", items)
		return nil
	}
	allDelivered := func(items []any) bool {
		for _, d := range items {
			if d.(map[string]any)["status"] != "delivered" {
				return false
			}
		}
		return len(items) == 2
	}
	items := deliveries(allDelivered)
	attempts := 0
	for _, d := range items {
		attempts += int(num(d.(map[string]any)["attempts"]))
	}
	if got := rc.handled(); len(got) != 2 || !slices.Contains(got, "order.completed") || !slices.Contains(got, "order.returned") || attempts != 3 {
		t.Errorf("the receiver handled %v in %d attempts; want order.completed and order.returned, one refused once", got, attempts)
	}

	// A replay comes with the same event id: the receiver handles it once.
	first := items[0].(map[string]any)
	s.must(202, "POST", "/webhooks/deliveries/"+first["id"].(string)+"/replay", "")
	deliveries(func(items []any) bool {
		for _, d := range items {
			if m := d.(map[string]any); m["id"] == first["id"] {
				return m["status"] == "delivered" && num(m["replays"]) == 1
			}
		}
		return false
	})
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen[first["event_id"].(string)] != 2 || len(rc.events) != 2 || rc.forged != 0 {
		t.Errorf("after the replay: %d requests for the event, %d events handled, %d forged", rc.seen[first["event_id"].(string)], len(rc.events), rc.forged)
	}
}
