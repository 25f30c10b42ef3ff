package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "unicorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// appendEvents appends n events to account through the ledger, which writes
// them to the outbox.
func appendEvents(t *testing.T, db *DB, account string, n int) {
	t.Helper()
	ctx := context.Background()
	l := db.Ledger()
	v, err := l.Version(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		v++
		ev := ports.Event{ID: fmt.Sprintf("%s-%d", account, v), Account: account, Seq: v, Type: "t", Version: 1, Data: json.RawMessage(`{}`), RecordedAt: time.Now()}
		if err := l.Append(ctx, ports.Append{Account: account, ExpectedVersion: v - 1, Events: []ports.Event{ev}}); err != nil {
			t.Fatal(err)
		}
	}
}

// recorder is a subscriber that remembers the seqs it was handed.
type recorder struct {
	mu   sync.Mutex
	seqs []int64
	fail func(ev ports.Event) error
}

func (r *recorder) handle(_ context.Context, m ports.Message) error {
	var ev ports.Event
	if err := json.Unmarshal(m.Payload, &ev); err != nil {
		return err
	}
	if r.fail != nil {
		if err := r.fail(ev); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seqs = append(r.seqs, ev.Seq)
	return nil
}

func (r *recorder) got() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seqs)
}

func count(t *testing.T, db *DB, query string) int {
	t.Helper()
	var n int
	if err := db.read.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newTestDispatcher(db *DB) *Dispatcher {
	d := db.NewDispatcher(slog.New(slog.DiscardHandler))
	d.MaxAttempts, d.Backoff, d.Batch, d.Poll = 3, time.Millisecond, 4, 20*time.Millisecond
	return d
}

func TestOutboxDeliversInOrderOnceAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	appendEvents(t, db, "alice", 10) // more than a batch of 4
	var first recorder
	d := newTestDispatcher(db)
	d.Subscribe("projection", first.handle, ports.TopicPointsLedger)
	if n, err := d.Drain(ctx); err != nil || n != 10 {
		t.Fatalf("Drain = %d, %v; want 10", n, err)
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(first.got(), want) {
		t.Errorf("delivered %v, want %v", first.got(), want)
	}
	// Everything consumed by every subscriber is pruned.
	if n := count(t, db, `SELECT COUNT(*) FROM outbox`); n != 0 {
		t.Errorf("%d messages left in the outbox after delivery", n)
	}
	// A new dispatcher (a restart) resumes from the durable cursor.
	appendEvents(t, db, "alice", 2)
	var second recorder
	d2 := newTestDispatcher(db)
	d2.Subscribe("projection", second.handle, ports.TopicPointsLedger)
	if _, err := d2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []int64{11, 12}; !slices.Equal(second.got(), want) {
		t.Errorf("after restart delivered %v, want %v", second.got(), want)
	}
}

func TestOutboxParksWhatKeepsFailing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	appendEvents(t, db, "alice", 5)
	attempts := 0
	flaky := recorder{fail: func(ev ports.Event) error {
		switch ev.Seq {
		case 2: // fails twice, then succeeds: retried, not parked
			if attempts++; attempts <= 2 {
				return errors.New("transient")
			}
		case 4:
			return errors.New("poison")
		}
		return nil
	}}
	var healthy recorder
	d := newTestDispatcher(db)
	d.Subscribe("flaky", flaky.handle, ports.TopicPointsLedger)
	d.Subscribe("healthy", healthy.handle, ports.TopicPointsLedger)
	if _, err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 5}; !slices.Equal(flaky.got(), want) {
		t.Errorf("flaky subscriber got %v, want %v", flaky.got(), want)
	}
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(healthy.got(), want) {
		t.Errorf("healthy subscriber got %v, want %v", healthy.got(), want)
	}
	var sub, errText string
	var tries int
	if err := db.read.QueryRow(`SELECT subscriber, error, attempts FROM outbox_dead`).Scan(&sub, &errText, &tries); err != nil {
		t.Fatalf("no parked message: %v", err)
	}
	if sub != "flaky" || errText != "poison" || tries != 3 {
		t.Errorf("parked: %s %q after %d attempts", sub, errText, tries)
	}
}

func TestOutboxRunWakesOnCommit(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	var r recorder
	d := newTestDispatcher(db)
	d.Poll = time.Hour // only a wake-up can deliver in time
	d.Subscribe("projection", r.handle, ports.TopicPointsLedger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// The first event is delivered by Run's first pass; once it is, the
	// subscriber goes to its wait, and only the commits' wake-ups can
	// deliver the next two before the hour-long poll.
	appendEvents(t, db, "alice", 1)
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); len(r.got()) < n && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1)
	appendEvents(t, db, "alice", 2)
	waitFor(3)
	if want := []int64{1, 2, 3}; !slices.Equal(r.got(), want) {
		t.Errorf("delivered %v, want %v", r.got(), want)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestOutboxSkipsOtherTopics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	err := db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(`INSERT INTO outbox (topic, key, payload, created_at) VALUES ('products', 'p1', '{}', ?)`, formatTime(time.Now()))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, db, "alice", 1)
	var r recorder
	d := newTestDispatcher(db)
	d.Subscribe("projection", r.handle, ports.TopicPointsLedger)
	if n, err := d.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("Drain = %d, %v; want 1", n, err)
	}
	// The cursor moved past the other topic too, so everything is pruned.
	if n := count(t, db, `SELECT COUNT(*) FROM outbox`); n != 0 {
		t.Errorf("%d messages left", n)
	}
}

// A running subscriber that has nothing of its own in what it is woken for
// writes no cursor (a commit) for it, until it lags a whole batch.
func TestOutboxIdleCursorMovesOncePerBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	d := newTestDispatcher(db) // Batch 4
	d.Subscribe("idle", func(context.Context, ports.Message) error { return nil }, "nobody-writes-this")
	s := d.subs[0]
	cursorWrites := func() int64 { return db.CommitStats().Writes }
	for i := range 3 {
		appendEvents(t, db, "alice", 1)
		before := cursorWrites()
		if _, err := d.deliver(ctx, s, false); err != nil {
			t.Fatal(err)
		}
		if w := cursorWrites() - before; w != 0 {
			t.Errorf("after message %d, the idle subscriber wrote %d times", i+1, w)
		}
	}
	appendEvents(t, db, "alice", 1) // the fourth: a batch behind
	if _, err := d.deliver(ctx, s, false); err != nil {
		t.Fatal(err)
	}
	if pos, err := d.cursor(ctx, "idle"); err != nil || pos != 4 {
		t.Errorf("cursor at %d, %v after a batch of others' messages; want 4", pos, err)
	}
}

// A batch's keys are handled at the same time, each key's messages in
// order: alice's first message waits until bob's has started.
func TestOutboxHandlesKeysConcurrentlyInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	appendEvents(t, db, "alice", 3)
	appendEvents(t, db, "bob", 3)
	bobStarted := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	seen := map[string][]int64{}
	handler := func(_ context.Context, m ports.Message) error {
		var ev ports.Event
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			return err
		}
		if ev.Account == "bob" {
			once.Do(func() { close(bobStarted) })
		} else if ev.Seq == 1 {
			select {
			case <-bobStarted:
			case <-time.After(30 * time.Second):
				return errors.New("bob's messages did not start while alice's waited")
			}
		}
		mu.Lock()
		defer mu.Unlock()
		seen[ev.Account] = append(seen[ev.Account], ev.Seq)
		return nil
	}
	d := newTestDispatcher(db)
	d.Batch, d.MaxAttempts = 10, 1
	d.Subscribe("both", handler, ports.TopicPointsLedger)
	if n, err := d.Drain(ctx); err != nil || n != 6 {
		t.Fatalf("Drain = %d, %v; want 6", n, err)
	}
	for _, acct := range []string{"alice", "bob"} {
		if got := fmt.Sprint(seen[acct]); got != "[1 2 3]" {
			t.Errorf("%s handled %s, want [1 2 3] in order", acct, got)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM outbox_dead`); n != 0 {
		t.Errorf("%d messages parked", n)
	}
}
