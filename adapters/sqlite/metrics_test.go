package sqlite

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// The commit observer hears of every group that commits, with the writes
// it held; a write that fails alone commits nothing and is not heard of.
func TestObserveCommits(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	var mu sync.Mutex
	var groups []int
	db.ObserveCommits(func(writes int, took time.Duration) {
		if took <= 0 {
			t.Errorf("a commit of %d writes took %v", writes, took)
		}
		mu.Lock()
		defer mu.Unlock()
		groups = append(groups, writes)
	})
	appends := make([]ports.Append, 5)
	for i := range appends {
		appends[i] = issued(string(rune('a'+i)), 1, string(rune('a'+i)))
	}
	for i, err := range appendAll(t, db, appends) { // the holder alone, then five together
		if err != nil {
			t.Errorf("append %d: %v", i, err)
		}
	}
	failed := errors.New("refused")
	if err := db.tx(context.Background(), func(*txn) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("failing write: %v", err)
	}
	mu.Lock()
	got := slices.Clone(groups)
	mu.Unlock()
	if diff := cmp.Diff([]int{1, 5}, got); diff != "" {
		t.Errorf("observed groups (-want +got):\n%s", diff)
	}
}

// Lag counts, per subscriber, the messages of its topics past its cursor
// and the time of the oldest; messages it gave up on are counted apart.
func TestOutboxLag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	before := time.Now()
	appendEvents(t, db, "alice", 3)
	after := time.Now()
	var r recorder
	poisoned := recorder{fail: func(ev ports.Event) error {
		if ev.Seq == 2 {
			return errors.New("poison")
		}
		return nil
	}}
	d := newTestDispatcher(db)
	d.Subscribe("projection", r.handle, ports.TopicPointsLedger)
	d.Subscribe("picky", poisoned.handle, ports.TopicPointsLedger)
	d.Subscribe("products", func(context.Context, ports.Message) error { return nil }, ports.TopicProducts)

	lags, err := d.Lag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lags[:2] {
		if l.Oldest.Before(before) || l.Oldest.After(after) {
			t.Errorf("%s: oldest pending message written at %v, not between %v and %v", l.Subscriber, l.Oldest, before, after)
		}
	}
	ignoreOldest := cmp.Comparer(func(a, b time.Time) bool { return a.IsZero() == b.IsZero() })
	want := []Lag{{Subscriber: "projection", Pending: 3, Oldest: before}, {Subscriber: "picky", Pending: 3, Oldest: before}, {Subscriber: "products"}}
	if diff := cmp.Diff(want, lags, ignoreOldest); diff != "" {
		t.Errorf("lag before delivery (-want +got):\n%s", diff)
	}

	if _, err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	lags, err = d.Lag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want = []Lag{{Subscriber: "projection"}, {Subscriber: "picky", Parked: 1}, {Subscriber: "products"}}
	if diff := cmp.Diff(want, lags); diff != "" {
		t.Errorf("lag after delivery (-want +got):\n%s", diff)
	}
}

// CountWithStatus counts the orders of one status.
func TestCountOrdersWithStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	orders := openTestDB(t).Orders()
	now := time.Now()
	for i, status := range []string{ports.OrderPending, ports.OrderNeedsAttention, ports.OrderCompleted, ports.OrderNeedsAttention} {
		o := ports.Order{ID: string(rune('a' + i)), UserID: "ann", Client: "UnicornStore", Status: status, Attempt: 1,
			Total: decimal.NewFromInt(1), PointsValue: decimal.Zero, Charged: decimal.NewFromInt(1), CreatedAt: now, UpdatedAt: now, Version: 1}
		if _, _, err := orders.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for status, want := range map[string]int{ports.OrderNeedsAttention: 2, ports.OrderPending: 1, ports.OrderFailed: 0} {
		if n, err := orders.CountWithStatus(ctx, status); err != nil || n != want {
			t.Errorf("CountWithStatus(%s) = %d, %v; want %d", status, n, err, want)
		}
	}
}
