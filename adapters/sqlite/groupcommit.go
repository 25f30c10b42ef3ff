package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. With synchronous=FULL a commit costs an fsync, and the fsync,
// not the SQL, is what a write transaction spends most of its time on. So
// write transactions that arrive while another is committing wait for it and
// then commit together: one BEGIN IMMEDIATE, each caller's function inside
// its own SAVEPOINT, one COMMIT and one fsync for all of them.
//
// Each caller still gets its own outcome, exactly as if the transactions had
// run one after another in arrival order: a function that fails is rolled
// back to its savepoint and leaves no trace, and the next function sees the
// database as the earlier ones left it (so an optimistic-concurrency check or
// an idempotency key is decided per caller, against everything before it).
// Nobody is told of success before the COMMIT that contains their write is
// durable; if that COMMIT fails, every caller of the group gets the error.

// maxGroup bounds how many transactions share one commit, which bounds the
// time the first of them waits for the last.
const maxGroup = 128

// pending is one caller's transaction function waiting for its group.
type pending struct {
	ctx  context.Context
	fn   func(*txn) error
	done chan error // receives the caller's outcome, once
	// In a step scope (below), a write is answered as soon as it has run,
	// unless it is the step's durable end.
	scope   *stepScope
	durable bool
}

// committer queues write transactions and runs them in groups, one group at
// a time, on a goroutine that lives while there is work.
type committer struct {
	mu      sync.Mutex
	queue   []*pending
	running bool

	commits, writes, busy atomic.Int64 // for CommitStats; busy in ns

	// observe, when set, is told of every group (ObserveCommits).
	observe atomic.Pointer[func(writes int, took time.Duration)]

	// Groups are numbered (epoch, the writer's alone) and the last one
	// whose commit failed is remembered, for step scopes.
	epoch, failed int64
}

// A step scope lets the writes of one saga step be answered as soon as they
// have run in their group, before its commit: a task's effect need not wait
// for an fsync of its own, because the step's transition, written last
// under the same scope (txStepEnd), waits for its commit, which is the same
// as theirs or a later one (groups commit in order). If a group holding an
// early answer fails to commit, the transition is refused, so the step is
// run again (its task is idempotent) rather than recorded as done. So a saga
// step costs one commit wait, not two, and the transition is never durable
// without the effects it records.
type stepScope struct {
	since int64 // the first group with an early answer; 0: none. Writer only.
}

type scopeKey struct{}

// StepScope returns ctx under which writes are answered before their
// commit until the step's end is written (see stepScope).
func (db *DB) StepScope(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, &stepScope{})
}

// errStepLost refuses a step's end when a commit after its early answers
// failed: what they wrote may be lost, so the step must run again.
var errStepLost = errors.New("a write of this step was answered but its commit failed: run the step again")

// CommitStats reports how many write transactions callers asked for and
// how many commits (fsyncs) they took: the ratio is the group commit's gain.
type CommitStats struct {
	Writes, Commits int64
	// Busy is the time the writer spent running groups, commits included:
	// its share of the elapsed time says how close it is to saturation.
	Busy time.Duration
}

// CommitStats returns the counts since the database was opened.
func (db *DB) CommitStats() CommitStats {
	return CommitStats{Writes: db.group.writes.Load(), Commits: db.group.commits.Load(), Busy: time.Duration(db.group.busy.Load())}
}

// ObserveCommits has fn told of every group the writer commits: how many
// write transactions it held and how long it took, BEGIN to COMMIT (the
// fsync included). It is for metrics, so it may be set while the database
// is in use; fn runs on the writer's goroutine and must not block.
func (db *DB) ObserveCommits(fn func(writes int, took time.Duration)) {
	db.group.observe.Store(&fn)
}

// tx runs fn in a write transaction and returns once that transaction is
// committed (nil) or fn's changes are undone (fn's error); under a step
// scope, once fn has run (see stepScope). fn must only touch the database
// through the txn: it may share the transaction with other callers'
// functions, and it runs on another goroutine.
func (db *DB) tx(ctx context.Context, fn func(*txn) error) error {
	return db.queue(ctx, fn, false)
}

// txStepEnd is tx for the write that ends a saga step: in a step scope it
// is answered only after its commit, and refused if a commit failed after
// the step's early answers.
func (db *DB) txStepEnd(ctx context.Context, fn func(*txn) error) error {
	return db.queue(ctx, fn, true)
}

func (db *DB) queue(ctx context.Context, fn func(*txn) error, durable bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &pending{ctx: ctx, fn: fn, done: make(chan error, 1), durable: durable}
	p.scope, _ = ctx.Value(scopeKey{}).(*stepScope)
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if !g.running {
		g.running = true
		go db.commitLoop()
	}
	g.mu.Unlock()
	// Wait even if ctx ends: once queued, the write may already be in a
	// commit, and the caller must not hear "cancelled" for a write that
	// lands. A cancelled caller not yet started is skipped (below).
	err := <-p.done
	var pe *panicked
	if errors.As(err, &pe) {
		panic(fmt.Sprintf("%v\n\n(in a write transaction)\n%s", pe.value, pe.stack))
	}
	return err
}

// commitLoop runs the queued transactions in groups until none is left.
func (db *DB) commitLoop() {
	g := &db.group
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.running = false
			g.queue = nil
			g.mu.Unlock()
			return
		}
		group := make([]*pending, n)
		copy(group, g.queue)
		g.queue = g.queue[n:]
		g.mu.Unlock()
		start := time.Now()
		writes := db.commitGroup(group)
		took := time.Since(start)
		g.busy.Add(int64(took))
		if fn := g.observe.Load(); fn != nil && *fn != nil && writes > 0 {
			(*fn)(writes, took)
		}
	}
}

// commitGroup runs the functions of group in one transaction, each in a
// savepoint, commits, and tells each caller its outcome. It returns how
// many callers' functions the commit held, 0 when nothing was committed.
func (db *DB) commitGroup(group []*pending) int {
	live := group[:0]
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.done <- err
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return 0
	}
	// The statements run under a context no single caller can cancel: an
	// interrupted write statement may roll back the whole transaction,
	// everybody else's work with it.
	ctx := context.Background()
	g := &db.group
	g.epoch++
	epoch := g.epoch
	outcomes := make([]error, len(live))
	answered := make([]bool, len(live))
	// answer tells a scoped caller its outcome before the commit.
	answer := func(i int) {
		p := live[i]
		if p.scope == nil || p.durable {
			return
		}
		if outcomes[i] == nil && p.scope.since == 0 {
			p.scope.since = epoch
		}
		p.done <- outcomes[i]
		answered[i] = true
	}
	// lost reports a step end whose early answers a failed commit undid.
	lost := func(p *pending) bool {
		return p.scope != nil && p.durable && p.scope.since != 0 && p.scope.since <= g.failed
	}
	finish := func(all error) {
		for i := range live {
			if all != nil && answered[i] && outcomes[i] == nil {
				g.failed = epoch // an answered write is undone
				break
			}
		}
		for i, p := range live {
			switch {
			case answered[i]:
			case all != nil:
				p.done <- all
			default:
				p.done <- outcomes[i]
			}
		}
	}
	db.group.writes.Add(int64(len(live)))
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		finish(fmt.Errorf("begin: %w", err))
		return 0
	}
	t := &txn{ctx: ctx, tx: tx, stmts: &db.writeStmts}
	defer t.cacheMissed()
	abort := func(err error) {
		finish(errors.Join(err, ignoreDone(tx.Rollback())))
	}

	if len(live) == 1 { // alone: no savepoint needed, a failure rolls back
		if lost(live[0]) {
			outcomes[0] = errStepLost
		} else {
			outcomes[0] = run(live[0].fn, t)
		}
		if outcomes[0] != nil {
			abort(outcomes[0])
			return 0
		}
		answer(0)
	} else {
		for i, p := range live {
			if lost(p) {
				outcomes[i] = errStepLost
				continue
			}
			if _, err := t.exec(`SAVEPOINT caller`); err != nil {
				abort(fmt.Errorf("savepoint: %w", err))
				return 0
			}
			if outcomes[i] = run(p.fn, t); outcomes[i] != nil {
				if _, err := t.exec(`ROLLBACK TO caller`); err != nil {
					abort(fmt.Errorf("roll back to savepoint: %w", err))
					return 0
				}
			}
			if _, err := t.exec(`RELEASE caller`); err != nil {
				abort(fmt.Errorf("release savepoint: %w", err))
				return 0
			}
			answer(i)
		}
	}
	if err := tx.Commit(); err != nil {
		finish(fmt.Errorf("commit: %w", err))
		return 0
	}
	db.group.commits.Add(1)
	if t.enqueued {
		db.wake()
	}
	finish(nil)
	return len(live)
}

// panicked carries a panic from a transaction function back to its caller,
// whose goroutine re-raises it.
type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprint("panic in a write transaction: ", p.value) }

func run(fn func(*txn) error, t *txn) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{value: v, stack: debug.Stack()}
		}
	}()
	return fn(t)
}
