package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// holdWriter occupies the writer with a transaction that waits for the
// returned release function, so that the writes queued meanwhile are
// certain to commit as one group, whatever the machine's speed.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.tx(context.Background(), func(*txn) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("holding transaction: %v", err)
		}
	}
}

// waitQueued polls until n transactions wait for the writer.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		db.group.mu.Lock()
		queued := len(db.group.queue)
		db.group.mu.Unlock()
		if queued >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions queued after 30 s, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func issued(account string, seq int64, key string) ports.Append {
	ev := ports.Event{ID: fmt.Sprint(account, "-", seq), Account: account, Seq: seq, Type: "points.issued", Version: 1, Data: []byte(`{"amount":1}`), RecordedAt: time.Now()}
	return ports.Append{
		Account: account, ExpectedVersion: seq - 1, Events: []ports.Event{ev},
		Idempotency: &ports.IdempotencyRecord{Key: key, Account: account, Fingerprint: "f", Result: []byte(`{}`), CreatedAt: time.Now()},
	}
}

// appendAll appends concurrently while the writer is held, so that all of
// them share one commit, and returns each append's outcome.
func appendAll(t *testing.T, db *DB, appends []ports.Append) []error {
	t.Helper()
	release := holdWriter(t, db)
	before := db.CommitStats()
	outcomes := make([]error, len(appends))
	var wg sync.WaitGroup
	for i, a := range appends {
		wg.Go(func() { outcomes[i] = db.Ledger().Append(context.Background(), a) })
	}
	waitQueued(t, db, len(appends))
	release()
	wg.Wait()
	after := db.CommitStats()
	if got := after.Commits - before.Commits; got != 2 { // the holder's, then the group's
		t.Errorf("%d appends queued together took %d commits, want 2 (the holder's and one)", len(appends), got)
	}
	return outcomes
}

// Appends that share a commit are decided one after another, each against
// what the earlier ones left: of 50 appends at version 0 to 10 accounts,
// exactly one per account wins and 40 conflict; the losers leave no event,
// no outbox message and no idempotency record.
func TestGroupedAppendsConflictPerCaller(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	var appends []ports.Append
	for i := range 50 {
		appends = append(appends, issued(fmt.Sprint("acct-", i%10), 1, fmt.Sprint("key-", i)))
	}
	won := map[string]int{}
	for i, err := range appendAll(t, db, appends) {
		switch {
		case err == nil:
			won[appends[i].Account]++
		case !errors.Is(err, ports.ErrConflict):
			t.Errorf("append %d: %v, want success or ErrConflict", i, err)
		}
	}
	if len(won) != 10 {
		t.Errorf("%d accounts got an event, want 10", len(won))
	}
	for acct, n := range won {
		if n != 1 {
			t.Errorf("%s: %d appends at version 0 succeeded, want 1", acct, n)
		}
	}
	for _, table := range []string{"ledger_events", "outbox", "idempotency_keys"} {
		if n := count(t, db, "SELECT COUNT(*) FROM "+table); n != 10 {
			t.Errorf("%s holds %d rows, want 10", table, n)
		}
	}
}

// One idempotency key used by 20 appends in one commit: one succeeds, the
// other 19 are told it is a duplicate.
func TestGroupedAppendsIdempotencyPerCaller(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	var appends []ports.Append
	for i := range 20 {
		appends = append(appends, issued(fmt.Sprint("acct-", i), 1, "same-key"))
	}
	ok := 0
	for i, err := range appendAll(t, db, appends) {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ports.ErrDuplicate):
			t.Errorf("append %d: %v, want success or ErrDuplicate", i, err)
		}
	}
	if ok != 1 || count(t, db, "SELECT COUNT(*) FROM ledger_events") != 1 {
		t.Errorf("%d appends succeeded, %d events stored; want 1 and 1", ok, count(t, db, "SELECT COUNT(*) FROM ledger_events"))
	}
}

// A function that fails or panics in the middle of a group is undone alone;
// the functions around it commit. The panic reaches its own caller.
func TestGroupedFailureIsUndoneAlone(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	insert := func(key string) func(*txn) error {
		return func(tx *txn) error {
			_, err := tx.exec(`INSERT INTO idempotency_keys (key, account, fingerprint, result, created_at) VALUES (?, 'a', 'f', '{}', '')`, key)
			return err
		}
	}
	boom := errors.New("boom")
	fns := map[string]func(*txn) error{
		"first": insert("first"),
		"fails": func(tx *txn) error {
			if err := insert("fails")(tx); err != nil {
				return err
			}
			return boom
		},
		"panics": func(tx *txn) error {
			if err := insert("panics")(tx); err != nil {
				return err
			}
			panic("bad programmer")
		},
		"duplicate": insert("first"), // a constraint error after its statement began
		"last":      insert("last"),
	}
	release := holdWriter(t, db)
	outcomes := map[string]any{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Queued one by one, so that their order in the group is known.
	for i, name := range []string{"first", "fails", "panics", "duplicate", "last"} {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					mu.Lock()
					outcomes[name] = fmt.Sprint("panic: ", v)
					mu.Unlock()
				}
			}()
			err := db.tx(context.Background(), fns[name])
			mu.Lock()
			outcomes[name] = err
			mu.Unlock()
		})
		waitQueued(t, db, i+1)
	}
	release()
	wg.Wait()

	if outcomes["first"] != nil || outcomes["last"] != nil {
		t.Errorf("first: %v, last: %v; want both committed", outcomes["first"], outcomes["last"])
	}
	if err, _ := outcomes["fails"].(error); !errors.Is(err, boom) {
		t.Errorf("fails: %v, want its own error", outcomes["fails"])
	}
	if s, _ := outcomes["panics"].(string); !strings.Contains(s, "bad programmer") {
		t.Errorf("panics: %v, want the panic re-raised in its caller", outcomes["panics"])
	}
	if err, _ := outcomes["duplicate"].(error); err == nil || !isConstraint(err) {
		t.Errorf("duplicate: %v, want a constraint error", outcomes["duplicate"])
	}
	rows, err := db.query(context.Background(), `SELECT key FROM idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if got := strings.Join(keys, ","); got != "first,last" {
		t.Errorf("stored keys %q, want first,last", got)
	}
}

// A caller whose context ends while it waits is not run, and is told so.
func TestGroupedCancelledCallerIsSkipped(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	done := make(chan error, 1)
	go func() {
		done <- db.tx(ctx, func(*txn) error { ran = true; return nil })
	}()
	waitQueued(t, db, 1)
	cancel()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled caller: err %v, ran %v; want context.Canceled and not run", err, ran)
	}
}

func insertKey(key string) func(*txn) error {
	return func(tx *txn) error {
		_, err := tx.exec(`INSERT INTO idempotency_keys (key, account, fingerprint, result, created_at) VALUES (?, 'a', 'f', '{}', '')`, key)
		return err
	}
}

// In a step scope a write is answered as soon as it has run, while its
// group is still open; the step's end waits for its commit.
func TestStepScopeAnswersEarly(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)
	ctx := db.StepScope(context.Background())
	release := holdWriter(t, db)
	early := make(chan error, 1)
	go func() { early <- db.tx(ctx, insertKey("effect")) }()
	waitQueued(t, db, 1)
	// Behind the scoped write, in the same group, one that waits.
	unblock, blocked := make(chan struct{}), make(chan error, 1)
	go func() {
		blocked <- db.tx(context.Background(), func(tx *txn) error { <-unblock; return insertKey("other")(tx) })
	}()
	waitQueued(t, db, 2)
	release()
	if err := <-early; err != nil { // answered while the group is held open
		t.Fatalf("scoped write: %v", err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM idempotency_keys"); n != 0 {
		t.Errorf("%d rows visible before the commit, want 0", n)
	}
	close(unblock)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := db.txStepEnd(ctx, insertKey("transition")); err != nil {
		t.Fatalf("step end: %v", err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM idempotency_keys"); n != 3 {
		t.Errorf("%d rows after the step's end, want 3", n)
	}
}

// If the group of an early answer does not commit, the step's end is
// refused, so the step runs again; a failure that undid no early answer
// refuses nothing.
func TestStepScopeRefusesALostStep(t *testing.T) {
	t.Parallel()
	db := openTestDB(t)

	// An unrelated caller's failure after a step's early answer committed.
	ctx := db.StepScope(context.Background())
	if err := db.tx(ctx, insertKey("committed-effect")); err != nil {
		t.Fatal(err)
	}
	if err := db.tx(context.Background(), insertKey("committed-effect")); err == nil {
		t.Fatal("a duplicate key was stored")
	}
	if err := db.txStepEnd(ctx, insertKey("committed-transition")); err != nil {
		t.Errorf("step end after an unrelated failure: %v", err)
	}

	// A group undone after the scoped write was answered: a neighbour
	// ends the transaction under it, so its savepoint cannot be released.
	ctx = db.StepScope(context.Background())
	release := holdWriter(t, db)
	early := make(chan error, 1)
	go func() { early <- db.tx(ctx, insertKey("lost-effect")) }()
	waitQueued(t, db, 1)
	breaker := make(chan error, 1)
	go func() {
		breaker <- db.tx(context.Background(), func(tx *txn) error {
			_, err := tx.tx.ExecContext(context.Background(), "ROLLBACK")
			return err
		})
	}()
	waitQueued(t, db, 2)
	release()
	if err := <-early; err != nil {
		t.Fatalf("scoped write: %v", err)
	}
	if err := <-breaker; err == nil {
		t.Fatal("the group that lost its transaction reported success")
	}
	if err := db.txStepEnd(ctx, insertKey("lost-transition")); !errors.Is(err, errStepLost) {
		t.Errorf("step end after its effect was lost: %v, want errStepLost", err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM idempotency_keys WHERE key LIKE 'lost-%'"); n != 0 {
		t.Errorf("%d rows of the lost step stored, want 0", n)
	}
}
