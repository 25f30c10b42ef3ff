package porttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// NewWebhooks returns an empty webhooks store for one test.
type NewWebhooks func(t *testing.T) ports.Webhooks

func webhookEndpoint(client, id string, created time.Time) ports.WebhookEndpoint {
	return ports.WebhookEndpoint{ID: id, Client: client, URL: "https://hooks.example.com/" + id, Events: []string{"order.completed", "points.expiring"},
		Secret: "whsec_c2VjcmV0", ExpiringDays: 7, Active: true, CreatedAt: created, UpdatedAt: created, Version: 1}
}

func webhookDelivery(client, endpoint, event string, created time.Time) ports.WebhookDelivery {
	return ports.WebhookDelivery{ID: endpoint + "." + event, EndpointID: endpoint, Client: client, EventID: event, EventType: "order.completed",
		Payload: json.RawMessage(`{"id":"` + event + `","data":{"text":"ünïcode \"quoted\""}}`), Status: ports.WebhookPending,
		NextAttemptAt: created, CreatedAt: created, UpdatedAt: created, Version: 1}
}

// allDeliveries follows the log's cursors to its end.
func allDeliveries(t *testing.T, w ports.Webhooks, client, endpoint string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		page, next, err := w.Deliveries(context.Background(), client, endpoint, cursor, limit)
		if err != nil {
			t.Fatalf("Deliveries(%s, %q, %q): %v", client, endpoint, cursor, err)
		}
		if len(page) > limit {
			t.Fatalf("a page of %d deliveries, limit %d", len(page), limit)
		}
		for _, d := range page {
			ids = append(ids, d.ID)
		}
		if next == "" {
			return ids
		}
		cursor = next
	}
	t.Fatal("the log's cursors never end")
	return nil
}

// TestWebhooks is the contract of ports.Webhooks.
func TestWebhooks(t *testing.T, newWebhooks NewWebhooks) {
	ctx := context.Background()

	t.Run("endpoints are versioned and scoped by client", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		if _, err := w.Endpoint(ctx, "acme", "e1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Endpoint unknown: %v", err)
		}
		e1, e2 := webhookEndpoint("acme", "e1", t0.Add(time.Second)), webhookEndpoint("acme", "e2", t0)
		other := webhookEndpoint("globex", "e3", t0)
		for _, e := range []ports.WebhookEndpoint{e1, e2, other} {
			if err := w.SaveEndpoint(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.SaveEndpoint(ctx, e1); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("create twice: %v, want ErrConflict", err)
		}
		got, err := w.Endpoint(ctx, "acme", "e1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(e1, got); diff != "" {
			t.Errorf("Endpoint (-want +got):\n%s", diff)
		}
		if _, err := w.Endpoint(ctx, "globex", "e1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("another client's endpoint: %v, want ErrNotFound", err)
		}
		list, err := w.Endpoints(ctx, "acme")
		if err != nil || len(list) != 2 || list[0].ID != "e2" || list[1].ID != "e1" {
			t.Errorf("Endpoints (oldest first) = %v, %v", list, err)
		}
		if list, err := w.Endpoints(ctx, "initech"); err != nil || len(list) != 0 {
			t.Errorf("Endpoints of a client with none = %v, %v", list, err)
		}

		edit := e1
		edit.Version, edit.URL, edit.Events, edit.Active, edit.ExpiringDays = 2, "https://elsewhere.example.com/", []string{"tier.changed"}, false, 3
		edit.Secret, edit.UpdatedAt = "whsec_bmV3", t0.Add(time.Hour)
		if err := w.SaveEndpoint(ctx, edit); err != nil {
			t.Fatal(err)
		}
		got, _ = w.Endpoint(ctx, "acme", "e1")
		if diff := cmp.Diff(edit, got); diff != "" {
			t.Errorf("after update (-want +got):\n%s", diff)
		}
		stale := edit
		stale.URL = "https://stale.example.com/"
		if err := w.SaveEndpoint(ctx, stale); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("stale update: %v, want ErrConflict", err)
		}
		missing := webhookEndpoint("acme", "nope", t0)
		missing.Version = 2
		if err := w.SaveEndpoint(ctx, missing); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("update of no endpoint: %v, want ErrNotFound", err)
		}
		foreign := other
		foreign.Client, foreign.Version = "acme", 2
		if err := w.SaveEndpoint(ctx, foreign); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("update of another client's endpoint: %v, want ErrNotFound", err)
		}

		if err := w.DeleteEndpoint(ctx, "acme", "e1", 1); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("stale delete: %v, want ErrConflict", err)
		}
		if err := w.DeleteEndpoint(ctx, "acme", "e3", 1); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("delete of another client's endpoint: %v, want ErrNotFound", err)
		}
		if err := w.DeleteEndpoint(ctx, "acme", "e1", 2); err != nil {
			t.Fatal(err)
		}
		if err := w.DeleteEndpoint(ctx, "acme", "e1", 2); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("delete twice: %v, want ErrNotFound", err)
		}
		if list, err := w.Endpoints(ctx, "acme"); err != nil || len(list) != 1 || list[0].ID != "e2" {
			t.Errorf("Endpoints after delete = %v, %v", list, err)
		}
		if _, err := w.Endpoint(ctx, "globex", "e3"); err != nil {
			t.Errorf("the other client's endpoint: %v", err)
		}
	})

	t.Run("only one of 20 writers of an endpoint's version wins", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		e := webhookEndpoint("acme", "e1", t0)
		if err := w.SaveEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		wins := winners(t, func(i int) error {
			edit := e
			edit.Version, edit.URL = 2, fmt.Sprintf("https://hooks.example.com/%d", i)
			return w.SaveEndpoint(ctx, edit)
		})
		if wins != 1 {
			t.Errorf("%d writers won, want 1", wins)
		}
	})

	t.Run("enqueue is idempotent per delivery id", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		if _, err := w.Delivery(ctx, "e1.x"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Delivery unknown: %v", err)
		}
		a, b := webhookDelivery("acme", "e1", "evt-1", t0), webhookDelivery("acme", "e2", "evt-1", t0)
		if n, err := w.Enqueue(ctx, a, b); err != nil || n != 2 {
			t.Fatalf("Enqueue = %d, %v; want 2 new", n, err)
		}
		again := a
		again.Payload, again.CreatedAt = json.RawMessage(`{"other":true}`), t0.Add(time.Hour)
		c := webhookDelivery("acme", "e1", "evt-2", t0.Add(time.Minute))
		if n, err := w.Enqueue(ctx, again, c); err != nil || n != 1 {
			t.Fatalf("Enqueue again = %d, %v; want only the new one", n, err)
		}
		if n, err := w.Enqueue(ctx); err != nil || n != 0 {
			t.Errorf("Enqueue nothing = %d, %v", n, err)
		}
		got, err := w.Delivery(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Delivery after a repeated enqueue (-want +got):\n%s", diff)
		}
		if ids := allDeliveries(t, w, "acme", "", 10); len(ids) != 3 {
			t.Errorf("the log holds %v, want 3 deliveries", ids)
		}
	})

	t.Run("20 enqueues of one delivery at once store it once", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		var created atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				n, err := w.Enqueue(ctx, webhookDelivery("acme", "e1", "evt-1", t0))
				if err != nil {
					t.Error(err)
				}
				created.Add(int64(n))
			})
		}
		wg.Wait()
		if created.Load() != 1 {
			t.Errorf("%d enqueues created it, want 1", created.Load())
		}
		if ids := allDeliveries(t, w, "acme", "", 10); len(ids) != 1 {
			t.Errorf("the log holds %v, want one delivery", ids)
		}
	})

	t.Run("updates are conditional on the version", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		d := webhookDelivery("acme", "e1", "evt-1", t0)
		if _, err := w.Enqueue(ctx, d); err != nil {
			t.Fatal(err)
		}
		next := d
		next.Version, next.Attempts, next.Status = 2, 1, ports.WebhookFailed
		next.LastAttemptAt, next.NextAttemptAt, next.UpdatedAt = t0.Add(time.Second), t0.Add(time.Minute), t0.Add(time.Second)
		next.LastStatus, next.LastError, next.Replays = 503, "HTTP 503: unavailable", 1
		if err := w.UpdateDelivery(ctx, next); err != nil {
			t.Fatal(err)
		}
		got, err := w.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(next, got); diff != "" {
			t.Errorf("after update (-want +got):\n%s", diff)
		}
		if err := w.UpdateDelivery(ctx, next); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("stale update: %v, want ErrConflict", err)
		}
		missing := webhookDelivery("acme", "e1", "nope", t0)
		missing.Version = 2
		if err := w.UpdateDelivery(ctx, missing); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("update of no delivery: %v, want ErrNotFound", err)
		}
		wins := winners(t, func(i int) error {
			claim := next
			claim.Version, claim.Attempts = 3, 2+i
			return w.UpdateDelivery(ctx, claim)
		})
		if wins != 1 {
			t.Errorf("%d writers won, want 1", wins)
		}
	})

	t.Run("the log pages newest first, by client and by endpoint", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		var want, wantE1 []string
		for i := range 7 {
			ep := "e1"
			if i%3 == 2 {
				ep = "e2"
			}
			// Two deliveries at the same time are told apart by id.
			d := webhookDelivery("acme", ep, fmt.Sprintf("evt-%d", i), t0.Add(time.Duration(i/2)*time.Second))
			if _, err := w.Enqueue(ctx, d); err != nil {
				t.Fatal(err)
			}
			want = append([]string{d.ID}, want...)
			if ep == "e1" {
				wantE1 = append([]string{d.ID}, wantE1...)
			}
		}
		if _, err := w.Enqueue(ctx, webhookDelivery("globex", "e9", "evt-1", t0)); err != nil {
			t.Fatal(err)
		}
		got := allDeliveries(t, w, "acme", "", 3)
		if diff := cmp.Diff(sortedNewest(t, w, want), got); diff != "" {
			t.Errorf("client log (-want +got):\n%s", diff)
		}
		got = allDeliveries(t, w, "acme", "e1", 2)
		if diff := cmp.Diff(sortedNewest(t, w, wantE1), got); diff != "" {
			t.Errorf("endpoint log (-want +got):\n%s", diff)
		}
		if got := allDeliveries(t, w, "acme", "e9", 5); len(got) != 0 {
			t.Errorf("another client's endpoint's log: %v", got)
		}
		if got := allDeliveries(t, w, "globex", "", 5); len(got) != 1 {
			t.Errorf("the other client's log: %v", got)
		}
		if _, _, err := w.Deliveries(ctx, "acme", "", "not a cursor", 5); !errors.Is(err, ports.ErrBadCursor) {
			t.Errorf("a made-up cursor: %v, want ErrBadCursor", err)
		}
	})

	t.Run("due deliveries are pending ones, the longest due first", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		if _, err := w.DueDeliveries(ctx, t0, 10); errors.Is(err, errors.ErrUnsupported) {
			t.Skipf("the store lists no due deliveries: %v", err)
		} else if err != nil {
			t.Fatal(err)
		}
		later, sooner, done := webhookDelivery("acme", "e1", "a", t0), webhookDelivery("acme", "e1", "b", t0), webhookDelivery("acme", "e1", "c", t0)
		later.NextAttemptAt, sooner.NextAttemptAt = t0.Add(time.Minute), t0.Add(-time.Minute)
		future := webhookDelivery("globex", "e2", "d", t0)
		future.NextAttemptAt = t0.Add(time.Hour)
		if _, err := w.Enqueue(ctx, later, sooner, done, future); err != nil {
			t.Fatal(err)
		}
		done.Version, done.Status = 2, ports.WebhookDelivered
		if err := w.UpdateDelivery(ctx, done); err != nil {
			t.Fatal(err)
		}
		due, err := w.DueDeliveries(ctx, t0.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range due {
			ids = append(ids, d.ID)
		}
		if diff := cmp.Diff([]string{sooner.ID, later.ID}, ids); diff != "" {
			t.Errorf("due (-want +got):\n%s", diff)
		}
		if due, err := w.DueDeliveries(ctx, t0.Add(2*time.Hour), 1); err != nil || len(due) != 1 || due[0].ID != sooner.ID {
			t.Errorf("due, limit 1 = %v, %v", due, err)
		}
	})

	t.Run("finished deliveries created before the cutoff are forgotten, the oldest first; pending ones stay", func(t *testing.T) {
		t.Parallel()
		w := newWebhooks(t)
		if _, err := w.ForgetDeliveries(ctx, t0, 10); errors.Is(err, errors.ErrUnsupported) {
			t.Skipf("the store forgets deliveries on its own: %v", err)
		} else if err != nil {
			t.Fatal(err)
		}
		cutoff := t0.Add(ports.WebhookRetention)
		oldest, older, failed := webhookDelivery("acme", "e1", "a", t0), webhookDelivery("acme", "e1", "b", t0.Add(time.Hour)), webhookDelivery("globex", "e2", "c", t0.Add(2*time.Hour))
		stuck := webhookDelivery("acme", "e1", "d", t0)                     // pending, however old
		edge := webhookDelivery("acme", "e1", "e", cutoff)                  // not before the cutoff
		recent := webhookDelivery("acme", "e1", "f", cutoff.Add(time.Hour)) // young
		finished := []*ports.WebhookDelivery{&oldest, &older, &failed, &edge, &recent}
		if _, err := w.Enqueue(ctx, oldest, older, failed, stuck, edge, recent); err != nil {
			t.Fatal(err)
		}
		for _, d := range finished {
			d.Version, d.Status = 2, ports.WebhookDelivered
			if d == &failed {
				d.Status = ports.WebhookFailed
			}
			if err := w.UpdateDelivery(ctx, *d); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := w.ForgetDeliveries(ctx, cutoff, 1); err != nil || n != 1 {
			t.Fatalf("ForgetDeliveries(limit 1) = %d, %v; want 1", n, err)
		}
		if _, err := w.Delivery(ctx, oldest.ID); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("the oldest finished delivery: %v, want ErrNotFound", err)
		}
		if n, err := w.ForgetDeliveries(ctx, cutoff, 10); err != nil || n != 2 {
			t.Fatalf("ForgetDeliveries = %d, %v; want 2 (the other old ones, of any client)", n, err)
		}
		if n, err := w.ForgetDeliveries(ctx, cutoff, 10); err != nil || n != 0 {
			t.Errorf("ForgetDeliveries again = %d, %v; want 0", n, err)
		}
		want := sortedNewest(t, w, []string{stuck.ID, edge.ID, recent.ID})
		if diff := cmp.Diff(want, allDeliveries(t, w, "acme", "", 10)); diff != "" {
			t.Errorf("the log after forgetting (-want +got):\n%s", diff)
		}
		if got := allDeliveries(t, w, "globex", "", 10); len(got) != 0 {
			t.Errorf("globex's log: %v, want its old failed delivery forgotten", got)
		}
	})
}

// sortedNewest orders delivery ids as the log does: newest first, then by
// id, descending.
func sortedNewest(t *testing.T, w ports.Webhooks, ids []string) []string {
	t.Helper()
	type entry struct {
		id string
		at time.Time
	}
	var entries []entry
	for _, id := range ids {
		d, err := w.Delivery(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{id, d.CreatedAt})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.id
	}
	return out
}
