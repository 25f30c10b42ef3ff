package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/adapters/webhookhttp"
	"github.com/unicornstore/unicorn/domains/webhooks"
	"github.com/unicornstore/unicorn/ports"
)

// webhookReceiver is a client's system receiving webhooks, as a careful
// one would: it verifies every signature (by the secret of the endpoint
// the path stands for) and the timestamp, refuses what does not verify,
// and handles each event once, however often it comes (by Webhook-Id).
type webhookReceiver struct {
	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	secrets  map[string]string            // path -> the endpoint's secret
	failures map[string]int               // path -> answers of 500 still to give
	requests map[string]int               // path -> verified requests, duplicates included
	stamps   map[string][]string          // path -> the Webhook-Timestamp of each verified request
	handled  map[string]map[string][]byte // path -> event id -> body, once per event
	rejected int
}

func newWebhookReceiver(t *testing.T, now func() time.Time) *webhookReceiver {
	t.Helper()
	r := &webhookReceiver{now: now, secrets: map[string]string{}, failures: map[string]int{}, requests: map[string]int{},
		stamps: map[string][]string{}, handled: map[string]map[string][]byte{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *webhookReceiver) url(path string) string { return r.srv.URL + path }

func (r *webhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	secret, ok := r.secrets[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	id, stamp := req.Header.Get(webhooks.HeaderID), req.Header.Get(webhooks.HeaderTimestamp)
	err = webhooks.VerifySignature(secret, id, stamp, body, req.Header.Get(webhooks.HeaderSignature), r.now(), webhooks.DefaultTolerance)
	var ev struct{ ID string }
	if err == nil && (json.Unmarshal(body, &ev) != nil || ev.ID != id || req.Header.Get("Content-Type") != "application/json") {
		err = errors.New("the body is not the event the headers name")
	}
	if err != nil {
		r.rejected++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	path := req.URL.Path
	r.requests[path]++
	r.stamps[path] = append(r.stamps[path], stamp)
	if r.failures[path] > 0 {
		r.failures[path]--
		http.Error(w, "try again later", http.StatusInternalServerError)
		return
	}
	if r.handled[path] == nil {
		r.handled[path] = map[string][]byte{}
	}
	if _, dup := r.handled[path][id]; !dup {
		r.handled[path][id] = body
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *webhookReceiver) setSecret(path, secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[path] = secret
}

func (r *webhookReceiver) failNext(path string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures[path] = n
}

// counts returns the verified requests to path and the events handled.
func (r *webhookReceiver) counts(path string) (requests, events int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[path], len(r.handled[path])
}

func (r *webhookReceiver) bodies(path string) map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]byte{}
	for id, b := range r.handled[path] {
		out[id] = b
	}
	return out
}

func (r *webhookReceiver) rejections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// webhookBackend is a storage the webhooks run on.
type webhookBackend struct {
	name    string
	polling bool // the store lists due deliveries (Run works)
	open    func(t *testing.T) (ports.Webhooks, ports.Balances)
}

var webhookBackends = []webhookBackend{
	{"sqlite", true, func(t *testing.T) (ports.Webhooks, ports.Balances) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "unicorn.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Webhooks(), db.Balances()
	}},
	{"dynamodb", false, func(t *testing.T) (ports.Webhooks, ports.Balances) {
		s := dynamotest.NewStore(t)
		return s.Webhooks(), s.Balances()
	}},
}

// webhookRig is the webhooks domain over one backend, on a hand-moved
// clock, sending to a receiver on this machine.
type webhookRig struct {
	svc      *webhooks.Service
	store    ports.Webhooks
	balances ports.Balances
	clock    *clock.Manual
	recv     *webhookReceiver
}

var webhookT0 = time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)

func newWebhookRig(t *testing.T, b webhookBackend, cfg webhooks.Config) *webhookRig {
	t.Helper()
	store, balances := b.open(t)
	clk := clock.NewManual(webhookT0)
	svc, err := webhooks.NewService(webhooks.Deps{Store: store, Sender: webhookhttp.New(), Balances: balances, Clock: clk,
		IDs: &clock.Counter{Prefix: "we"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &webhookRig{svc: svc, store: store, balances: balances, clock: clk, recv: newWebhookReceiver(t, clk.Now)}
}

// eachWebhookBackend runs test on every backend, in parallel, with
// private (local) receivers allowed.
func eachWebhookBackend(t *testing.T, test func(t *testing.T, r *webhookRig)) {
	for _, b := range webhookBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, newWebhookRig(t, b, webhooks.Config{AllowPrivate: true}))
		})
	}
}

// endpoint registers an endpoint of client's at path of the receiver.
func (r *webhookRig) endpoint(t *testing.T, client, path string, days int, events ...string) *webhooks.Endpoint {
	t.Helper()
	e, secret, err := r.svc.CreateEndpoint(context.Background(), client, webhooks.EndpointSpec{URL: r.recv.url(path), Events: events, ExpiringDays: days})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	r.recv.setSecret(path, secret)
	return e
}

// log returns every delivery of the client's log (of one endpoint).
func (r *webhookRig) log(t *testing.T, client, endpoint string) []*webhooks.Delivery {
	t.Helper()
	var out []*webhooks.Delivery
	cursor := ""
	for {
		page, next, err := r.svc.Deliveries(context.Background(), client, endpoint, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// deliverAll makes one attempt at every due delivery of the client.
func (r *webhookRig) deliverAll(t *testing.T, client string) {
	t.Helper()
	for _, d := range r.log(t, client, "") {
		if _, err := r.svc.Deliver(context.Background(), d.ID()); err != nil {
			t.Fatal(err)
		}
	}
}

func purchaseMessage(t *testing.T, client, order string, at time.Time) ports.Message {
	t.Helper()
	p, err := json.Marshal(ports.PurchaseCompleted{OrderID: order, UserID: "alice", Client: client, Total: decimal.RequireFromString("1700.50"),
		Charged: decimal.RequireFromString("1700.50"), PointsAwarded: 170, At: at,
		Lines: []ports.OrderLine{{ProductID: "sparkle", Name: "Sparkle", Quantity: 1, UnitPrice: decimal.RequireFromString("1700.50"),
			Amount: decimal.RequireFromString("1700.50")}}})
	if err != nil {
		t.Fatal(err)
	}
	return ports.Message{Topic: ports.TopicPurchases, Key: "order:" + order + ":completed", Payload: p, CreatedAt: at}
}

func ledgerEventMessage(t *testing.T, account string, seq int64, typ, data string) ports.Message {
	t.Helper()
	p, err := json.Marshal(ports.Event{ID: fmt.Sprintf("%s-%d", account, seq), Account: account, Seq: seq, Type: typ, Version: 1,
		Data: json.RawMessage(data), RecordedAt: webhookT0})
	if err != nil {
		t.Fatal(err)
	}
	return ports.Message{Topic: ports.TopicPointsLedger, Key: account, Payload: p, CreatedAt: webhookT0}
}

func handle(t *testing.T, svc *webhooks.Service, m ports.Message) {
	t.Helper()
	if err := svc.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func within(got, from time.Time, low, high time.Duration) bool {
	return !got.Before(from.Add(low)) && !got.After(from.Add(high))
}

// A delivery is signed so that the receiver can check it; a receiver
// refuses a wrong secret, a tampered body and an old timestamp, and
// handles an event that comes twice once.
func TestWebhookReceiverVerifiesAndDeduplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWebhookRig(t, webhookBackends[0], webhooks.Config{AllowPrivate: true})
	e := r.endpoint(t, "acme", "/orders", 0, "order.completed")
	handle(t, r.svc, purchaseMessage(t, "acme", "o-1", webhookT0))
	log := r.log(t, "acme", "")
	if len(log) != 1 {
		t.Fatalf("log %v, want one delivery", log)
	}
	d, err := r.svc.Deliver(ctx, log[0].ID())
	if err != nil || d.Status() != webhooks.Delivered || d.LastStatus() != http.StatusNoContent || d.Attempts() != 1 {
		t.Fatalf("Deliver = %+v, %v", d, err)
	}
	var body struct {
		ID         string          `json:"id"`
		Type       string          `json:"type"`
		OccurredAt time.Time       `json:"occurred_at"`
		Client     string          `json:"client"`
		Data       json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.recv.bodies("/orders")[d.EventID()], &body); err != nil {
		t.Fatal(err)
	}
	if body.ID != d.EventID() || body.Type != "order.completed" || !body.OccurredAt.Equal(webhookT0) || body.Client != "acme" ||
		!strings.Contains(string(body.Data), `"order_id":"o-1"`) || !strings.Contains(string(body.Data), `"total":"1700.5"`) {
		t.Errorf("the receiver got %+v %s", body, body.Data)
	}

	// The same event again (a replay here; a retry after a lost answer
	// looks the same): the same Webhook-Id, handled once.
	if _, err := r.svc.Replay(ctx, "acme", d.ID()); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Second)
	if d, err := r.svc.Deliver(ctx, d.ID()); err != nil || d.Status() != webhooks.Delivered || d.Replays() != 1 {
		t.Fatalf("Deliver after replay = %+v, %v", d, err)
	}
	if requests, events := r.recv.counts("/orders"); requests != 2 || events != 1 {
		t.Errorf("the receiver had %d requests for %d events, want 2 for 1", requests, events)
	}

	// Forgeries.
	stored, err := r.store.Delivery(ctx, d.ID())
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := r.svc.CreateEndpoint(ctx, "acme", webhooks.EndpointSpec{URL: r.recv.url("/other"), Events: []string{"order.completed"}})
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, _ := r.store.Endpoint(ctx, "acme", other.ID())
	ownSecret, _ := r.store.Endpoint(ctx, "acme", e.ID())
	now := strconv.FormatInt(r.clock.Now().Unix(), 10)
	old := strconv.FormatInt(r.clock.Now().Add(-10*time.Minute).Unix(), 10)
	tampered := []byte(strings.Replace(string(stored.Payload), "1700.5", "1.5", 1))
	for _, f := range []struct {
		name, secret, stamp string
		body, signed        []byte
	}{
		{"signed with another endpoint's secret", otherSecret.Secret, now, stored.Payload, stored.Payload},
		{"a tampered body", ownSecret.Secret, now, tampered, stored.Payload},
		{"an old timestamp", ownSecret.Secret, old, stored.Payload, stored.Payload},
	} {
		sig, err := webhooks.Sign(f.secret, stored.EventID, f.stamp, f.signed)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, r.recv.url("/orders"), strings.NewReader(string(f.body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhooks.HeaderID, stored.EventID)
		req.Header.Set(webhooks.HeaderTimestamp, f.stamp)
		req.Header.Set(webhooks.HeaderSignature, sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: the receiver answered %d", f.name, res.StatusCode)
		}
	}
	if n := r.recv.rejections(); n != 3 {
		t.Errorf("the receiver refused %d requests, want the 3 forgeries", n)
	}
	if requests, events := r.recv.counts("/orders"); requests != 2 || events != 1 {
		t.Errorf("after forgeries the receiver had %d requests for %d events", requests, events)
	}
}

// A receiver that fails twice gets the event on the third attempt, each
// after the backoff's wait (with its jitter), each freshly timestamped.
func TestWebhookRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	eachWebhookBackend(t, func(t *testing.T, r *webhookRig) {
		ctx := context.Background()
		r.endpoint(t, "acme", "/hook", 0, "order.completed")
		r.recv.failNext("/hook", 2)
		handle(t, r.svc, purchaseMessage(t, "acme", "o-1", webhookT0))
		id := r.log(t, "acme", "")[0].ID()

		var attempts []time.Time
		for i, wait := range []time.Duration{webhooks.DefaultBackoff[0], webhooks.DefaultBackoff[1]} {
			attempts = append(attempts, r.clock.Now())
			d, err := r.svc.Deliver(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status() != webhooks.Pending || d.Attempts() != i+1 || d.LastStatus() != 500 || !strings.Contains(d.LastError(), "try again later") {
				t.Fatalf("after attempt %d: %s, %d attempts, last %d %q", i+1, d.Status(), d.Attempts(), d.LastStatus(), d.LastError())
			}
			if !within(d.NextAttemptAt(), r.clock.Now(), wait*8/10, wait*12/10) {
				t.Errorf("attempt %d: next at %s, want %s after %s, give or take a fifth", i+1, d.NextAttemptAt(), wait, r.clock.Now())
			}
			// Not due yet: nothing is sent.
			r.clock.Set(d.NextAttemptAt().Add(-time.Second))
			if d, err := r.svc.Deliver(ctx, id); err != nil || d.Attempts() != i+1 {
				t.Fatalf("early Deliver = %d attempts, %v", d.Attempts(), err)
			}
			r.clock.Set(d.NextAttemptAt())
		}
		attempts = append(attempts, r.clock.Now())
		d, err := r.svc.Deliver(ctx, id)
		if err != nil || d.Status() != webhooks.Delivered || d.Attempts() != 3 || d.LastStatus() != http.StatusNoContent || d.LastError() != "" {
			t.Fatalf("third attempt: %+v, %v", d, err)
		}
		if !d.LastAttemptAt().Equal(attempts[2]) {
			t.Errorf("last attempt at %s, want %s", d.LastAttemptAt(), attempts[2])
		}
		if requests, events := r.recv.counts("/hook"); requests != 3 || events != 1 {
			t.Errorf("the receiver had %d requests for %d events, want 3 for 1", requests, events)
		}
		r.recv.mu.Lock()
		stamps := r.recv.stamps["/hook"]
		r.recv.mu.Unlock()
		for i, at := range attempts {
			if want := strconv.FormatInt(at.Unix(), 10); i >= len(stamps) || stamps[i] != want {
				t.Errorf("attempt %d was stamped %v, want %s", i+1, stamps, want)
			}
		}
		// Delivered is final: another call sends nothing.
		if _, err := r.svc.Deliver(ctx, id); err != nil {
			t.Fatal(err)
		}
		if requests, _ := r.recv.counts("/hook"); requests != 3 {
			t.Errorf("a delivered delivery was sent again (%d requests)", requests)
		}
	})
}

// After the last attempt a delivery fails; an admin's replay sends it
// again with a fresh round of attempts.
func TestWebhookGivesUpThenReplays(t *testing.T) {
	t.Parallel()
	eachWebhookBackend(t, func(t *testing.T, r *webhookRig) {
		ctx := context.Background()
		r.endpoint(t, "acme", "/down", 0, "order.completed")
		r.recv.failNext("/down", 1000)
		handle(t, r.svc, purchaseMessage(t, "acme", "o-1", webhookT0))
		id := r.log(t, "acme", "")[0].ID()
		if _, err := r.svc.Replay(ctx, "acme", id); !errors.Is(err, webhooks.ErrNotReplayable) {
			t.Errorf("replay of a pending delivery: %v, want ErrNotReplayable", err)
		}
		var d *webhooks.Delivery
		for i := 1; i <= r.svc.MaxAttempts(); i++ {
			var err error
			if d, err = r.svc.Deliver(ctx, id); err != nil {
				t.Fatal(err)
			}
			if d.Attempts() != i {
				t.Fatalf("attempt %d counted as %d", i, d.Attempts())
			}
			if i < r.svc.MaxAttempts() {
				if d.Status() != webhooks.Pending {
					t.Fatalf("after attempt %d: %s", i, d.Status())
				}
				r.clock.Set(d.NextAttemptAt())
			}
		}
		if d.Status() != webhooks.Failed || d.LastStatus() != 500 || !d.NextAttemptAt().IsZero() {
			t.Fatalf("after the last attempt: %s, last %d, next %s", d.Status(), d.LastStatus(), d.NextAttemptAt())
		}
		if span := r.clock.Now().Sub(webhookT0); span < 55*time.Hour || span > 90*time.Hour {
			t.Errorf("the attempts spanned %s, want about three days", span)
		}
		r.clock.Advance(time.Hour)
		if d, _ := r.svc.Deliver(ctx, id); d.Attempts() != r.svc.MaxAttempts() {
			t.Error("a failed delivery was tried again by itself")
		}
		if requests, _ := r.recv.counts("/down"); requests != 12 {
			t.Errorf("the receiver had %d requests, want 12", requests)
		}

		if _, err := r.svc.Replay(ctx, "globex", id); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("another client's replay: %v, want ErrNotFound", err)
		}
		r.recv.failNext("/down", 0)
		replayed, err := r.svc.Replay(ctx, "acme", id)
		if err != nil || replayed.Status() != webhooks.Pending || replayed.Attempts() != 0 || replayed.Replays() != 1 ||
			!replayed.NextAttemptAt().Equal(r.clock.Now()) {
			t.Fatalf("Replay = %+v, %v", replayed, err)
		}
		if d, err = r.svc.Deliver(ctx, id); err != nil || d.Status() != webhooks.Delivered || d.Attempts() != 1 {
			t.Fatalf("Deliver after replay = %+v, %v", d, err)
		}
		if got, err := r.svc.Delivery(ctx, "acme", id); err != nil || got.Status() != webhooks.Delivered || got.Replays() != 1 {
			t.Errorf("the log shows %+v, %v", got, err)
		}
	})
}

// A client's events reach only its own endpoints, and a client reads and
// replays only its own deliveries.
func TestWebhookEventsStayWithTheirClient(t *testing.T) {
	t.Parallel()
	eachWebhookBackend(t, func(t *testing.T, r *webhookRig) {
		ctx := context.Background()
		a := r.endpoint(t, "acme", "/acme", 0, "order.completed", "points.expired")
		g := r.endpoint(t, "globex", "/globex", 0, "order.completed", "points.expired")
		handle(t, r.svc, purchaseMessage(t, "acme", "o-1", webhookT0))
		handle(t, r.svc, ledgerEventMessage(t, "globex/bob", 7, "points.expired", `{"lot":"2025-11-21","expires_on":"2026-11-21","amount":25}`))
		acme, globex := r.log(t, "acme", ""), r.log(t, "globex", "")
		if len(acme) != 1 || acme[0].EndpointID() != a.ID() || acme[0].EventType() != "order.completed" {
			t.Errorf("acme's log: %+v", acme)
		}
		if len(globex) != 1 || globex[0].EndpointID() != g.ID() || globex[0].EventType() != "points.expired" {
			t.Errorf("globex's log: %+v", globex)
		}
		if got := r.log(t, "acme", g.ID()); len(got) != 0 {
			t.Errorf("acme reads globex's endpoint's log: %v", got)
		}
		if _, err := r.svc.Delivery(ctx, "acme", globex[0].ID()); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("acme reads globex's delivery: %v", err)
		}
		if _, err := r.svc.Endpoint(ctx, "acme", g.ID()); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("acme reads globex's endpoint: %v", err)
		}
		if err := r.svc.DeleteEndpoint(ctx, "acme", g.ID(), 1); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("acme deletes globex's endpoint: %v", err)
		}
		r.deliverAll(t, "acme")
		r.deliverAll(t, "globex")
		for path, client := range map[string]string{"/acme": "acme", "/globex": "globex"} {
			bodies := r.recv.bodies(path)
			if len(bodies) != 1 {
				t.Errorf("%s got %d events, want 1", path, len(bodies))
			}
			for _, b := range bodies {
				if !strings.Contains(string(b), `"client":"`+client+`"`) {
					t.Errorf("%s got %s", path, b)
				}
			}
		}
		if !strings.Contains(string(r.recv.bodies("/globex")[globex[0].EventID()]), `"account_id":"bob","lot":"2025-11-21","expires_on":"2026-11-21","points":25`) {
			t.Errorf("globex got %s", r.recv.bodies("/globex"))
		}
	})
}

// Only subscribed, active endpoints are sent an event; a delivery whose
// endpoint is gone fails instead of being tried.
func TestWebhookSubscriptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWebhookRig(t, webhookBackends[0], webhooks.Config{AllowPrivate: true})
	orders := r.endpoint(t, "acme", "/orders", 0, "order.completed", "order.returned")
	tiers := r.endpoint(t, "acme", "/tiers", 0, "tier.changed")
	off := r.endpoint(t, "acme", "/off", 0, "order.completed", "tier.changed")
	no := false
	if _, err := r.svc.UpdateEndpoint(ctx, "acme", off.ID(), off.Version(), webhooks.EndpointChange{Active: &no}); err != nil {
		t.Fatal(err)
	}
	handle(t, r.svc, purchaseMessage(t, "acme", "o-1", webhookT0))
	handle(t, r.svc, ledgerEventMessage(t, "acme/alice", 3, "points.tier_changed", `{"from":"","to":"gold","earned":900,"window_days":365,"reason":"earned"}`))
	handle(t, r.svc, ledgerEventMessage(t, "acme/alice", 4, "points.issued", `{"amount":5,"lot":"2026-11-21","expires_on":"2027-11-21"}`))
	ret, _ := json.Marshal(ports.OrderReturned{OrderID: "o-1", ReturnID: "r1", UserID: "alice", Client: "acme", At: webhookT0})
	handle(t, r.svc, ports.Message{Topic: ports.TopicReturns, Key: "order:o-1:return:r1:returned", Payload: ret})
	types := map[string][]string{}
	for _, d := range r.log(t, "acme", "") {
		types[d.EndpointID()] = append(types[d.EndpointID()], d.EventType())
	}
	slices.Sort(types[orders.ID()])
	if got := strings.Join(types[orders.ID()], ","); got != "order.completed,order.returned" {
		t.Errorf("the orders endpoint got %s", got)
	}
	if got := strings.Join(types[tiers.ID()], ","); got != "tier.changed" {
		t.Errorf("the tiers endpoint got %s", got)
	}
	if len(types[off.ID()]) != 0 {
		t.Errorf("the inactive endpoint got %v", types[off.ID()])
	}
	if err := r.svc.DeleteEndpoint(ctx, "acme", tiers.ID(), tiers.Version()); err != nil {
		t.Fatal(err)
	}
	d, err := r.svc.Deliver(ctx, r.log(t, "acme", tiers.ID())[0].ID())
	if err != nil || d.Status() != webhooks.Failed || d.Attempts() != 0 || !strings.Contains(d.LastError(), "deleted") {
		t.Errorf("a delivery to a deleted endpoint: %+v, %v", d, err)
	}
	if requests, _ := r.recv.counts("/tiers"); requests != 0 {
		t.Errorf("the deleted endpoint was sent %d requests", requests)
	}
}

// The rules of endpoints, with their storage: at most MaxEndpoints per
// client, versions, and secrets shown once and rotated.
func TestWebhookEndpointRules(t *testing.T) {
	t.Parallel()
	eachWebhookBackend(t, func(t *testing.T, r *webhookRig) {
		ctx := context.Background()
		for i := range webhooks.MaxEndpoints {
			r.endpoint(t, "acme", fmt.Sprintf("/e%d", i), 0, "order.completed")
		}
		spec := webhooks.EndpointSpec{URL: r.recv.url("/one-more"), Events: []string{"order.completed"}}
		if _, _, err := r.svc.CreateEndpoint(ctx, "acme", spec); !errors.Is(err, webhooks.ErrTooManyEndpoints) {
			t.Errorf("endpoint %d: %v, want ErrTooManyEndpoints", webhooks.MaxEndpoints+1, err)
		}
		if _, _, err := r.svc.CreateEndpoint(ctx, "globex", spec); err != nil {
			t.Errorf("another client's first endpoint: %v", err)
		}
		for _, bad := range []webhooks.EndpointSpec{
			{URL: "ftp://example.com/", Events: []string{"order.completed"}},
			{URL: r.recv.url("/x"), Events: []string{"points.issued"}},
			{URL: r.recv.url("/x")},
			{URL: r.recv.url("/x"), Events: []string{"points.expiring"}, ExpiringDays: 400},
		} {
			if _, _, err := r.svc.CreateEndpoint(ctx, "globex", bad); !errors.Is(err, webhooks.ErrInvalid) {
				t.Errorf("CreateEndpoint(%+v) = %v, want ErrInvalid", bad, err)
			}
		}

		list, err := r.svc.Endpoints(ctx, "acme")
		if err != nil || len(list) != webhooks.MaxEndpoints {
			t.Fatalf("Endpoints = %d, %v", len(list), err)
		}
		e := list[0]
		if e.ExpiringDays() != webhooks.DefaultExpiringDays || !e.Active() || e.Version() != 1 || len(e.Events()) != 1 {
			t.Errorf("endpoint %+v", e)
		}
		if _, _, err := r.svc.RotateSecret(ctx, "acme", e.ID(), 7); !errors.Is(err, webhooks.ErrStale) {
			t.Errorf("rotation at a stale version: %v, want ErrStale", err)
		}
		rotated, secret, err := r.svc.RotateSecret(ctx, "acme", e.ID(), 1)
		if err != nil || rotated.Version() != 2 || !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("RotateSecret = %+v, %q, %v", rotated, secret, err)
		}
		// The receiver still knows the old secret: it refuses what the
		// new one signs, until it is told the new one.
		handle(t, r.svc, purchaseMessage(t, "acme", "o-1", webhookT0))
		id := r.log(t, "acme", e.ID())[0].ID()
		if d, err := r.svc.Deliver(ctx, id); err != nil || d.Status() != webhooks.Pending || d.LastStatus() != http.StatusUnauthorized {
			t.Fatalf("delivery signed with the new secret to a receiver knowing the old: %+v, %v", d, err)
		}
		r.recv.setSecret("/e0", secret)
		d, _ := r.svc.Delivery(ctx, "acme", id)
		r.clock.Set(d.NextAttemptAt())
		if d, err := r.svc.Deliver(ctx, id); err != nil || d.Status() != webhooks.Delivered {
			t.Fatalf("delivery once the receiver knows the new secret: %+v, %v", d, err)
		}

		url := r.recv.url("/moved")
		if _, err := r.svc.UpdateEndpoint(ctx, "acme", e.ID(), 1, webhooks.EndpointChange{URL: &url}); !errors.Is(err, webhooks.ErrStale) {
			t.Errorf("update at a stale version: %v, want ErrStale", err)
		}
		days := 3
		updated, err := r.svc.UpdateEndpoint(ctx, "acme", e.ID(), 2, webhooks.EndpointChange{URL: &url, ExpiringDays: &days,
			Events: []string{"points.expiring", "order.completed"}})
		if err != nil || updated.URL() != url || updated.ExpiringDays() != 3 || updated.Version() != 3 ||
			!updated.Subscribed(webhooks.PointsExpiring) || !updated.Subscribed(webhooks.OrderCompleted) {
			t.Fatalf("UpdateEndpoint = %+v, %v", updated, err)
		}
		if err := r.svc.DeleteEndpoint(ctx, "acme", e.ID(), 2); !errors.Is(err, webhooks.ErrStale) {
			t.Errorf("delete at a stale version: %v, want ErrStale", err)
		}
		if err := r.svc.DeleteEndpoint(ctx, "acme", e.ID(), 3); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Endpoint(ctx, "acme", e.ID()); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("a deleted endpoint: %v", err)
		}
		if got := r.log(t, "acme", e.ID()); len(got) != 1 {
			t.Errorf("a deleted endpoint's log: %d deliveries, want it kept", len(got))
		}
	})
}

// Where private addresses are not allowed, an endpoint whose host
// resolves to one when a delivery is sent (it moved, or was stored
// before the rule) is not connected to.
func TestWebhookRefusesPrivateAddressesAtDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newWebhookRig(t, webhookBackends[0], webhooks.Config{})
	if _, _, err := r.svc.CreateEndpoint(ctx, "acme", webhooks.EndpointSpec{URL: "https://127.0.0.1/hook", Events: []string{"order.completed"}}); !errors.Is(err, webhooks.ErrInvalid) {
		t.Errorf("a loopback endpoint: %v, want ErrInvalid", err)
	}
	// As if it had resolved to a public address when it was registered.
	stored := ports.WebhookEndpoint{ID: "moved", Client: "acme", URL: r.recv.url("/hook"), Events: []string{"order.completed"},
		Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", ExpiringDays: 7, Active: true, CreatedAt: webhookT0, UpdatedAt: webhookT0, Version: 1}
	if err := r.store.SaveEndpoint(ctx, stored); err != nil {
		t.Fatal(err)
	}
	r.recv.setSecret("/hook", stored.Secret)
	handle(t, r.svc, purchaseMessage(t, "acme", "o-1", webhookT0))
	d, err := r.svc.Deliver(ctx, r.log(t, "acme", "")[0].ID())
	if err != nil || d.Status() != webhooks.Pending || d.LastStatus() != 0 || !strings.Contains(d.LastError(), "not public") {
		t.Errorf("a delivery to a loopback address: %+v, %v", d, err)
	}
	if requests, _ := r.recv.counts("/hook"); requests != 0 {
		t.Errorf("the loopback receiver was sent %d requests", requests)
	}
}

// The worker sends what is enqueued at once, and retries when the
// (hand-moved) clock reaches a retry.
func TestWebhookWorkerDelivers(t *testing.T) {
	t.Parallel()
	r := newWebhookRig(t, webhookBackends[0], webhooks.Config{AllowPrivate: true, Poll: 5 * time.Millisecond, Workers: 3})
	r.endpoint(t, "acme", "/a", 0, "order.completed")
	r.endpoint(t, "acme", "/b", 0, "order.completed")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.svc.Run(ctx) }()

	r.recv.failNext("/b", 1)
	for i := range 5 {
		handle(t, r.svc, purchaseMessage(t, "acme", fmt.Sprintf("o-%d", i), webhookT0))
	}
	waitFor(t, "first attempts", func() bool {
		a, _ := r.recv.counts("/a")
		b, _ := r.recv.counts("/b")
		return a == 5 && b == 5
	})
	waitFor(t, "the failed one pending", func() bool {
		for _, d := range r.log(t, "acme", "") {
			if d.Status() == webhooks.Pending && d.LastStatus() == 500 {
				return true
			}
		}
		return false
	})
	r.clock.Advance(time.Minute) // past the first retry's wait
	waitFor(t, "every delivery delivered", func() bool {
		for _, d := range r.log(t, "acme", "") {
			if d.Status() != webhooks.Delivered {
				return false
			}
		}
		return true
	})
	if _, events := r.recv.counts("/b"); events != 5 {
		t.Errorf("/b handled %d events, want 5", events)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// The worker forgets finished deliveries once they are past their
// retention, so the log of one machine does not grow forever; younger
// ones stay. A backlog of several batches is worked off at once: the
// poll here is an hour, which the test would wait for otherwise.
func TestWebhookWorkerForgetsOldDeliveries(t *testing.T) {
	t.Parallel()
	r := newWebhookRig(t, webhookBackends[0], webhooks.Config{AllowPrivate: true, Poll: time.Hour})
	ctx := context.Background()
	e := r.endpoint(t, "acme", "/a", 0, "order.completed")
	for i := range 3 {
		handle(t, r.svc, purchaseMessage(t, "acme", fmt.Sprintf("old-%d", i), webhookT0))
	}
	r.deliverAll(t, "acme")
	r.clock.Advance(ports.WebhookRetention + time.Hour)
	handle(t, r.svc, purchaseMessage(t, "acme", "young", r.clock.Now()))
	r.deliverAll(t, "acme")
	// More than a batch, failed long ago, as a store's years would hold.
	for i := range 600 {
		d := ports.WebhookDelivery{ID: fmt.Sprint("failed-", i), EndpointID: e.ID(), Client: "acme", EventID: fmt.Sprint("ev-", i), EventType: "order.completed",
			Payload: []byte(`{}`), Status: ports.WebhookPending, NextAttemptAt: webhookT0, CreatedAt: webhookT0, UpdatedAt: webhookT0, Version: 1}
		if _, err := r.store.Enqueue(ctx, d); err != nil {
			t.Fatal(err)
		}
		d.Status, d.Version = ports.WebhookFailed, 2
		if err := r.store.UpdateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	logged := func() []ports.WebhookDelivery {
		page, _, err := r.store.Deliveries(ctx, "acme", "", "", 2000)
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	if got := len(logged()); got != 604 {
		t.Fatalf("%d deliveries in the log, want 604", got)
	}

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.svc.Run(ctx) }()
	waitFor(t, "the old deliveries forgotten", func() bool { return len(logged()) == 1 })
	if d := logged()[0]; d.Status != ports.WebhookDelivered || !d.CreatedAt.Equal(r.clock.Now()) {
		t.Errorf("the delivery left: %s created %v, want the young one, delivered", d.Status, d.CreatedAt)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// On DynamoDB the worker has no queue to poll: it says so at once rather
// than spinning.
func TestWebhookWorkerNeedsAQueueOnDynamoDB(t *testing.T) {
	t.Parallel()
	r := newWebhookRig(t, webhookBackends[1], webhooks.Config{AllowPrivate: true})
	if err := r.svc.Run(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Run on DynamoDB = %v, want errors.ErrUnsupported", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// brokenEnqueue stores only the first delivery of an enqueue, then fails:
// a process that dies half-way through writing them (DynamoDB writes
// them one by one).
type brokenEnqueue struct {
	ports.Webhooks
	broken bool
}

func (b *brokenEnqueue) Enqueue(ctx context.Context, ds ...ports.WebhookDelivery) (int, error) {
	if !b.broken || len(ds) < 2 {
		return b.Webhooks.Enqueue(ctx, ds...)
	}
	n, err := b.Webhooks.Enqueue(ctx, ds[:1]...)
	if err != nil {
		return n, err
	}
	return n, errors.New("the process died half-way")
}

// The consumer runs in the outbox's dispatcher: when handling a message
// fails half-way, or the message is never acknowledged, it comes again,
// and exactly one delivery per endpoint exists in the end.
func TestWebhookMessageHandledAgainAfterAFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &brokenEnqueue{Webhooks: db.Webhooks(), broken: true}
	clk := clock.NewManual(webhookT0)
	svc, err := webhooks.NewService(webhooks.Deps{Store: store, Sender: webhookhttp.New(), Clock: clk, IDs: &clock.Counter{Prefix: "we"}},
		webhooks.Config{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/a", "/b", "/c"} {
		if _, _, err := svc.CreateEndpoint(ctx, "acme", webhooks.EndpointSpec{URL: "http://127.0.0.1:9" + path, Events: []string{"order.completed"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Publisher().Publish(ctx, purchaseMessage(t, "acme", "o-1", webhookT0)); err != nil {
		t.Fatal(err)
	}
	calls, afterHalfWay := 0, -1
	d := db.NewDispatcher(slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.Backoff = time.Millisecond
	d.Subscribe("webhooks", func(ctx context.Context, m ports.Message) error {
		calls++
		switch calls {
		case 1: // dies half-way through the enqueue
			return svc.Handle(ctx, m)
		case 2: // enqueues everything, then dies before the acknowledgement
			page, _, err := db.Webhooks().Deliveries(ctx, "acme", "", "", 10)
			if err != nil {
				return err
			}
			afterHalfWay = len(page)
			store.broken = false
			if err := svc.Handle(ctx, m); err != nil {
				return err
			}
			return errors.New("the process died before acknowledging")
		}
		return svc.Handle(ctx, m)
	}, ports.TopicPurchases)
	// The dispatcher hands a message that failed to its handler again
	// until it succeeds.
	if n, err := d.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	if calls != 3 || afterHalfWay != 1 {
		t.Errorf("the message was handled %d times, with %d deliveries after the first; want 3 times, 1 delivery", calls, afterHalfWay)
	}
	if n, err := d.Drain(ctx); err != nil || n != 0 {
		t.Errorf("a second drain handled %d messages (%v): the message was not acknowledged", n, err)
	}
	page, _, err := db.Webhooks().Deliveries(ctx, "acme", "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	endpoints := map[string]int{}
	for _, d := range page {
		endpoints[d.EndpointID]++
	}
	if len(page) != 3 || len(endpoints) != 3 {
		t.Errorf("deliveries per endpoint: %v, want one for each of 3", endpoints)
	}
}

// The crash test: a child process (this test binary) is killed with
// SIGKILL, first after enqueueing the deliveries of a message and before
// the outbox acknowledged it, then after sending a delivery and before
// recording the answer. In the end every endpoint has the event, once
// per endpoint, and the receiver has handled it once.
const webhookCrashEnv = "UNICORN_WEBHOOK_CRASH_CHILD"

func TestWebhooksSurviveCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "unicorn.db")
	recv := newWebhookReceiver(t, time.Now)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := webhooks.NewService(webhooks.Deps{Store: db.Webhooks(), Sender: webhookhttp.New(), Clock: clock.System{}, IDs: clock.UUIDs{}},
		webhooks.Config{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a", "/b"} {
		_, secret, err := svc.CreateEndpoint(ctx, "acme", webhooks.EndpointSpec{URL: recv.url(p), Events: []string{"order.completed"}})
		if err != nil {
			t.Fatal(err)
		}
		recv.setSecret(p, secret)
	}
	if err := db.Publisher().Publish(ctx, purchaseMessage(t, "acme", "o-1", time.Now().UTC())); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out := runCrashChild(t, "enqueue", dir)
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	page, _, err := db.Webhooks().Deliveries(ctx, "acme", "", "", 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("after the first crash: %d deliveries (%v), want 2\n%s", len(page), err, out)
	}
	db.Close()

	out = runCrashChild(t, "deliver", dir)
	if !strings.Contains(out, "message handled again: 1") {
		t.Errorf("the unacknowledged message did not come again:\n%s", out)
	}
	a, _ := recv.counts("/a")
	b, _ := recv.counts("/b")
	if a+b != 1 {
		t.Fatalf("before the second crash the receiver had %d requests, want 1", a+b)
	}
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	page, _, err = db.Webhooks().Deliveries(ctx, "acme", "", "", 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("after the second crash: %d deliveries (%v), want 2", len(page), err)
	}
	claimed := 0
	for _, d := range page {
		if d.Status != ports.WebhookPending {
			t.Errorf("delivery %s is %s after the crash", d.ID, d.Status)
		}
		if d.Attempts == 1 {
			claimed++
			if !d.NextAttemptAt.After(time.Now()) {
				t.Errorf("the interrupted attempt holds no lease: next at %s", d.NextAttemptAt)
			}
		}
	}
	if claimed != 1 {
		t.Errorf("%d deliveries were claimed, want the one the crash interrupted", claimed)
	}

	// A restart, once the interrupted attempt's lease has ended.
	clk := clock.NewManual(time.Now().Add(2 * time.Minute))
	svc, err = webhooks.NewService(webhooks.Deps{Store: db.Webhooks(), Sender: webhookhttp.New(), Clock: clk, IDs: clock.UUIDs{}},
		webhooks.Config{AllowPrivate: true, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()
	waitFor(t, "both delivered after the restart", func() bool {
		page, _, err := db.Webhooks().Deliveries(ctx, "acme", "", "", 10)
		if err != nil {
			return false
		}
		for _, d := range page {
			if d.Status != ports.WebhookDelivered {
				return false
			}
		}
		return true
	})
	cancel()
	<-done
	ra, ea := recv.counts("/a")
	rb, eb := recv.counts("/b")
	if ea != 1 || eb != 1 || ra+rb != 3 {
		t.Errorf("the receiver had %d+%d requests for %d+%d events, want 3 requests (one a repeat) for one event at each", ra, rb, ea, eb)
	}
}

// runCrashChild runs this test binary as a child in mode and checks that
// it was killed at the crash point, not that it ended by itself.
func runCrashChild(t *testing.T, mode, dir string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWebhookCrashChild$", "-test.count=1", "-test.v")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UNICORN_REQUIRE_DYNAMODB=") && !strings.HasPrefix(kv, "DYNAMODB_LOCAL_DIR=") {
			env = append(env, kv)
		}
	}
	// The child needs no DynamoDB Local: point it at none.
	cmd.Env = append(env, webhookCrashEnv+"="+mode+":"+dir, "DYNAMODB_LOCAL_DIR="+filepath.Join(dir, "no-dynamodb"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Exited() {
		t.Fatalf("the %s child was not killed (%v):\n%s", mode, err, out)
	}
	return string(out)
}

// TestWebhookCrashChild is the child of TestWebhooksSurviveCrashes.
func TestWebhookCrashChild(t *testing.T) {
	spec := os.Getenv(webhookCrashEnv)
	if spec == "" {
		t.Skip("run by TestWebhooksSurviveCrashes in a child process")
	}
	mode, dir, _ := strings.Cut(spec, ":")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := webhooks.NewService(webhooks.Deps{Store: db.Webhooks(), Sender: webhookhttp.New(), Clock: clock.System{}, IDs: clock.UUIDs{}},
		webhooks.Config{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	kill := func() {
		p, _ := os.FindProcess(os.Getpid())
		_ = p.Kill() // SIGKILL: no deferred function, no cleanup runs
		select {}
	}
	d := db.NewDispatcher(slog.New(slog.NewTextHandler(io.Discard, nil)))
	switch mode {
	case "enqueue":
		d.Subscribe("webhooks", func(ctx context.Context, m ports.Message) error {
			if err := svc.Handle(ctx, m); err != nil {
				return err
			}
			kill() // enqueued, not acknowledged
			return nil
		}, ports.TopicPurchases)
		_, err := d.Drain(ctx)
		t.Fatalf("the message never came: %v", err)
	case "deliver":
		handled := 0
		d.Subscribe("webhooks", func(ctx context.Context, m ports.Message) error {
			handled++
			return svc.Handle(ctx, m)
		}, ports.TopicPurchases)
		if _, err := d.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("message handled again: %d\n", handled)
		due, err := db.Webhooks().DueDeliveries(ctx, time.Now(), 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("due deliveries: %d, %v", len(due), err)
		}
		dying, err := webhooks.NewService(webhooks.Deps{Store: db.Webhooks(), Sender: killAfterSend{webhookhttp.New(), kill},
			Clock: clock.System{}, IDs: clock.UUIDs{}}, webhooks.Config{AllowPrivate: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = dying.Deliver(ctx, due[0].ID)
		t.Fatalf("the delivery was not sent: %v", err)
	}
}

// killAfterSend is a sender that kills its process once the receiver
// has answered, before the answer is recorded.
type killAfterSend struct {
	*webhookhttp.Sender
	kill func()
}

func (k killAfterSend) Send(ctx context.Context, r ports.WebhookRequest) (ports.WebhookResponse, error) {
	res, err := k.Sender.Send(ctx, r)
	if err == nil {
		k.kill()
	}
	return res, err
}

// The daily scan tells each endpoint of the lots expiring within its
// days, once per account and lot however often it runs, and only the
// endpoints of the account's client.
func TestWebhookExpiringScan(t *testing.T) {
	t.Parallel()
	eachWebhookBackend(t, func(t *testing.T, r *webhookRig) {
		ctx := context.Background()
		day := func(n int) string { return webhookT0.AddDate(0, 0, n).Format(time.DateOnly) }
		lot := func(expiresIn int, remaining int64) ports.Lot {
			return ports.Lot{IssuedOn: webhookT0.AddDate(-1, 0, expiresIn).Format(time.DateOnly), ExpiresOn: day(expiresIn),
				Issued: remaining + 5, Remaining: remaining, LastUpdated: webhookT0}
		}
		view := func(account string, lots ...ports.Lot) {
			err := r.balances.Update(ctx, account, func(v *ports.BalanceView) (bool, error) {
				v.Seq, v.Lots, v.UpdatedAt, v.NextDue = 1, lots, webhookT0, ""
				for _, l := range lots {
					if l.Remaining > 0 && (v.NextDue == "" || l.ExpiresOn < v.NextDue) {
						v.NextDue = l.ExpiresOn
					}
				}
				return true, nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		view("acme/alice", lot(-1, 5), lot(1, 0), lot(2, 10), lot(5, 20), lot(10, 30))
		view("acme/bob", lot(3, 7))
		view("acme/carol", lot(90, 7))
		view("globex/dave", lot(1, 40))
		week := r.endpoint(t, "acme", "/week", 7, "points.expiring")
		short := r.endpoint(t, "acme", "/short", 3, "points.expiring", "order.completed")
		r.endpoint(t, "acme", "/orders", 0, "order.completed")
		r.endpoint(t, "globex", "/globex", 0, "order.completed")

		res, err := r.svc.ScanExpiring(ctx)
		// carol's lot is beyond MaxExpiringDays: her account is not read.
		if err != nil || res.Accounts != 2 || res.Notices != 3 || res.Failed != 0 {
			t.Fatalf("ScanExpiring = %+v, %v", res, err)
		}
		wantWeek := []string{"bob " + day(3) + " 7 3d", "alice " + day(5) + " 20 5d", "alice " + day(2) + " 10 2d"}
		wantShort := []string{"bob " + day(3) + " 7 3d", "alice " + day(2) + " 10 2d"}
		expectSet := func(when string) {
			t.Helper()
			for _, c := range []struct {
				e    *webhooks.Endpoint
				want []string
			}{{week, wantWeek}, {short, wantShort}} {
				got := map[string]bool{}
				for _, d := range r.log(t, "acme", c.e.ID()) {
					got[expiringNotice(t, d)] = true
				}
				if len(got) != len(c.want) {
					t.Errorf("%s, %d days: got %v, want %v", when, c.e.ExpiringDays(), got, c.want)
				}
				for _, w := range c.want {
					if !got[w] {
						t.Errorf("%s, %d days: got %v, want %v", when, c.e.ExpiringDays(), got, c.want)
						break
					}
				}
			}
			if got := r.log(t, "globex", ""); len(got) != 0 {
				t.Errorf("%s: globex, with no expiring endpoint, has %d deliveries", when, len(got))
			}
		}
		expectSet("first scan")

		// Again the same day, and again later: nothing new for what was
		// told, and the lots that came within the window since.
		if res, err := r.svc.ScanExpiring(ctx); err != nil || res.Notices != 3 {
			t.Fatalf("second ScanExpiring = %+v, %v", res, err)
		}
		expectSet("a second scan")
		r.clock.Advance(3 * 24 * time.Hour)
		if _, err := r.svc.ScanExpiring(ctx); err != nil {
			t.Fatal(err)
		}
		wantWeek = append(wantWeek, "alice "+day(10)+" 30 7d")
		wantShort = append(wantShort, "alice "+day(5)+" 20 2d")
		expectSet("three days later")

		r.deliverAll(t, "acme")
		for path, n := range map[string]int{"/week": 4, "/short": 3, "/orders": 0} {
			if requests, events := r.recv.counts(path); requests != n || events != n {
				t.Errorf("%s: %d requests for %d events, want %d", path, requests, events, n)
			}
		}
		// The same lot is the same event at every endpoint.
		weekIDs, shortIDs := r.recv.bodies("/week"), r.recv.bodies("/short")
		shared := 0
		for id := range shortIDs {
			if _, ok := weekIDs[id]; ok {
				shared++
			}
		}
		if shared != 3 {
			t.Errorf("%d events shared by both endpoints, want 3 (every lot the short one was told of)", shared)
		}
	})
}

// expiringNotice sums up a points.expiring delivery: "account expires_on
// points days_leftd".
func expiringNotice(t *testing.T, d *webhooks.Delivery) string {
	t.Helper()
	var body struct {
		Type string `json:"type"`
		Data struct {
			Account  string `json:"account_id"`
			Expires  string `json:"expires_on"`
			Points   int64  `json:"points"`
			DaysLeft int    `json:"days_left"`
		} `json:"data"`
	}
	if err := json.Unmarshal(d.Payload(), &body); err != nil || body.Type != "points.expiring" {
		t.Fatalf("a delivery of %s: %v", d.Payload(), err)
	}
	return fmt.Sprintf("%s %s %d %dd", body.Data.Account, body.Data.Expires, body.Data.Points, body.Data.DaysLeft)
}
