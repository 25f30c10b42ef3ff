package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Handler consumes one outbox message. It must be idempotent: a message is
// delivered at least once, and again after a crash before its cursor moved.
type Handler func(ctx context.Context, m ports.Message) error

// Dispatcher drains the outbox in-process: each subscriber reads the
// messages of its topics in order from its own durable cursor, so a slow or
// failing subscriber holds up no other. A message that still fails after
// MaxAttempts is parked in outbox_dead for an operator and skipped.
type Dispatcher struct {
	db   *DB
	log  *slog.Logger
	subs []*subscriber

	// Poll is how often subscribers look for messages committed by other
	// processes (commits in this process wake them at once).
	Poll time.Duration
	// MaxAttempts is how many times a message is tried before it is parked.
	MaxAttempts int
	// Backoff is the wait after the first failure; it doubles up to 30 s.
	Backoff time.Duration
	// Batch is how many messages a subscriber reads at a time.
	Batch int
	// Parallel is how many keys of a batch are handled at once.
	Parallel int
}

type subscriber struct {
	name    string
	topics  []string
	handler Handler
	wake    chan struct{}
}

// NewDispatcher returns a dispatcher with no subscribers.
func (db *DB) NewDispatcher(log *slog.Logger) *Dispatcher {
	return &Dispatcher{db: db, log: log, Poll: time.Second, MaxAttempts: 8, Backoff: 50 * time.Millisecond, Batch: 200, Parallel: 16}
}

// Subscribe registers handler under a durable name for the topics. Call it
// before Run or Drain.
func (d *Dispatcher) Subscribe(name string, handler Handler, topics ...string) {
	d.subs = append(d.subs, &subscriber{name: name, topics: topics, handler: handler, wake: d.db.subscribeWakeups()})
}

// Run delivers messages until ctx is done, then returns nil. Delivered
// messages are pruned from the outbox once every subscriber is past them.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range d.subs {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := d.deliver(ctx, s, false); err != nil && ctx.Err() == nil {
					d.log.Error("outbox delivery", "subscriber", s.name, "err", err)
				}
				select {
				case <-ctx.Done():
				case <-s.wake:
				case <-time.After(d.Poll):
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Minute):
				if err := d.prune(ctx); err != nil && ctx.Err() == nil {
					d.log.Error("outbox prune", "err", err)
				}
			}
		}
	})
	wg.Wait()
	return nil
}

// Drain delivers every message committed so far to every subscriber and
// returns how many deliveries it made.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	total := 0
	for _, s := range d.subs {
		n, err := d.deliver(ctx, s, true)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, d.prune(ctx)
}

// deliver hands the subscriber everything past its cursor, batch by batch.
// Eager moves its cursor past other topics' messages even when it had none
// of its own (see below).
func (d *Dispatcher) deliver(ctx context.Context, s *subscriber, eager bool) (int, error) {
	delivered := 0
	for {
		cursor, err := d.cursor(ctx, s.name)
		if err != nil {
			return delivered, err
		}
		msgs, head, err := d.fetch(ctx, s, cursor)
		if err != nil {
			return delivered, err
		}
		n, err := d.handleBatch(ctx, s, msgs)
		delivered += n
		if err != nil {
			return delivered, err
		}
		// The cursor moves past other topics' messages too (up to head),
		// so that delivered rows can be pruned.
		next := head
		if len(msgs) == d.Batch {
			next = msgs[len(msgs)-1].ID
		}
		// Moving the cursor is a write, and a subscriber is woken by every
		// commit that enqueues, for any topic. One that had nothing of its
		// own moves only once it lags a batch (or when draining), which
		// bounds what it keeps from pruning without a write per wakeup.
		if next > cursor && (len(msgs) > 0 || eager || next-cursor >= int64(d.Batch)) {
			if err := d.setCursor(ctx, s.name, next); err != nil {
				return delivered, err
			}
		}
		if len(msgs) < d.Batch {
			return delivered, nil
		}
	}
}

// handleBatch hands a batch to the subscriber: each key's messages in
// order, different keys at the same time (at most Parallel at once). That is
// the order a DynamoDB stream keeps (per item), which every handler takes
// already, and handlers that run together share commits (group commit)
// instead of waiting for one each. It returns how many were handled; on an
// error the cursor stays, and the batch comes again (handlers are
// idempotent).
func (d *Dispatcher) handleBatch(ctx context.Context, s *subscriber, msgs []ports.Message) (int, error) {
	var keys []string
	byKey := map[string][]ports.Message{}
	for _, m := range msgs {
		if _, ok := byKey[m.Key]; !ok {
			keys = append(keys, m.Key)
		}
		byKey[m.Key] = append(byKey[m.Key], m)
	}
	if len(keys) == 1 || d.Parallel <= 1 {
		for i, m := range msgs {
			if err := d.handle(ctx, s, m); err != nil {
				return i, err
			}
		}
		return len(msgs), nil
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		handled int
		first   error
	)
	slots := make(chan struct{}, d.Parallel)
	for _, k := range keys {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			for _, m := range byKey[k] {
				err := d.handle(ctx, s, m)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil {
					handled++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return handled, first
}

// handle tries one message until it succeeds or its attempts are spent, in
// which case it is parked in outbox_dead. Only a failure to park, or ctx
// ending, stops the subscriber.
func (d *Dispatcher) handle(ctx context.Context, s *subscriber, m ports.Message) error {
	wait := d.Backoff
	var err error
	for attempt := 1; attempt <= d.MaxAttempts; attempt++ {
		if err = s.handler(ctx, m); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.log.Warn("outbox handler failed", "subscriber", s.name, "message", m.ID, "topic", m.Topic, "attempt", attempt, "err", err)
		if attempt == d.MaxAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
	d.log.Error("outbox message parked", "subscriber", s.name, "message", m.ID, "topic", m.Topic, "key", m.Key, "err", err)
	return d.db.tx(ctx, func(tx *txn) error {
		_, perr := tx.exec(`INSERT OR REPLACE INTO outbox_dead (subscriber, message_id, topic, key, payload, error, attempts, failed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.name, m.ID, m.Topic, m.Key, m.Payload, err.Error(), d.MaxAttempts, formatTime(time.Now()))
		return perr
	})
}

func (d *Dispatcher) cursor(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := d.db.queryRow(ctx, `SELECT position FROM outbox_cursors WHERE subscriber = ?`, name).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read cursor of %s: %w", name, err)
	}
	return pos, nil
}

func (d *Dispatcher) setCursor(ctx context.Context, name string, pos int64) error {
	err := d.db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(`INSERT INTO outbox_cursors (subscriber, position) VALUES (?, ?)
			ON CONFLICT (subscriber) DO UPDATE SET position = MAX(position, excluded.position)`, name, pos)
		return err
	})
	if err != nil {
		return fmt.Errorf("move cursor of %s: %w", name, err)
	}
	return nil
}

// fetch reads the next batch of the subscriber's topics after cursor, and
// the outbox's highest id at that moment.
func (d *Dispatcher) fetch(ctx context.Context, s *subscriber, cursor int64) ([]ports.Message, int64, error) {
	var msgs []ports.Message
	var head int64
	err := d.db.readTx(ctx, func(tx *txn) error {
		if err := tx.queryRow(`SELECT COALESCE(MAX(id), 0) FROM outbox`).Scan(&head); err != nil {
			return err
		}
		args := append(s.topicArgs(cursor, head), d.Batch)
		rows, err := tx.query(`SELECT id, topic, key, payload, created_at FROM outbox
			WHERE id > ? AND id <= ? AND topic IN (`+placeholders(len(s.topics))+`) ORDER BY id LIMIT ?`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m ports.Message
			var at string
			if err := rows.Scan(&m.ID, &m.Topic, &m.Key, &m.Payload, &at); err != nil {
				return err
			}
			if m.CreatedAt, err = parseTime(at); err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read outbox for %s: %w", s.name, err)
	}
	return msgs, head, nil
}

// Lag is how far one subscriber is behind the outbox.
type Lag struct {
	Subscriber string
	// Pending counts the messages of its topics past its cursor: written,
	// not yet consumed.
	Pending int64
	// Oldest is when the oldest of them was written (zero when none): how
	// stale its read model may be.
	Oldest time.Time
	// Parked counts its messages that failed every attempt and wait in
	// outbox_dead for an operator.
	Parked int64
}

// Lag reports what each subscriber has yet to consume, from one snapshot.
// It reads the topic index past each cursor, so it costs what the lag is,
// and is meant for an operator's metrics.
func (d *Dispatcher) Lag(ctx context.Context) ([]Lag, error) {
	out := make([]Lag, 0, len(d.subs))
	err := d.db.readTx(ctx, func(tx *txn) error {
		for _, s := range d.subs {
			l := Lag{Subscriber: s.name}
			var cursor int64
			err := tx.queryRow(`SELECT position FROM outbox_cursors WHERE subscriber = ?`, s.name).Scan(&cursor)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			var first sql.NullInt64
			if err := tx.queryRow(`SELECT COUNT(*), MIN(id) FROM outbox WHERE id > ? AND topic IN (`+placeholders(len(s.topics))+`)`,
				s.topicArgs(cursor)...).Scan(&l.Pending, &first); err != nil {
				return err
			}
			if first.Valid {
				var at string
				if err := tx.queryRow(`SELECT created_at FROM outbox WHERE id = ?`, first.Int64).Scan(&at); err != nil {
					return err
				}
				if l.Oldest, err = parseTime(at); err != nil {
					return err
				}
			}
			if err := tx.queryRow(`SELECT COUNT(*) FROM outbox_dead WHERE subscriber = ?`, s.name).Scan(&l.Parked); err != nil {
				return err
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox lag: %w", err)
	}
	return out, nil
}

// enqueue writes a message to the outbox in the caller's transaction; the
// DB wakes the subscribers once the transaction commits.
func (t *txn) enqueue(topic, key string, payload any, at time.Time) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode outbox message: %w", err)
	}
	if _, err := t.exec(`INSERT INTO outbox (topic, key, payload, created_at) VALUES (?, ?, ?, ?)`, topic, key, b, formatTime(at)); err != nil {
		return fmt.Errorf("insert outbox message: %w", err)
	}
	t.enqueued = true
	return nil
}

// prune deletes the messages every registered subscriber has consumed.
func (d *Dispatcher) prune(ctx context.Context) error {
	if len(d.subs) == 0 {
		return nil
	}
	names := make([]any, len(d.subs))
	for i, s := range d.subs {
		names[i] = s.name
	}
	return d.db.tx(ctx, func(tx *txn) error {
		var n int
		var low sql.NullInt64
		if err := tx.queryRow(`SELECT COUNT(*), MIN(position) FROM outbox_cursors WHERE subscriber IN (`+placeholders(len(names))+`)`, names...).Scan(&n, &low); err != nil {
			return fmt.Errorf("prune outbox: %w", err)
		}
		if n < len(names) || !low.Valid {
			return nil // a subscriber has not consumed anything yet
		}
		if _, err := tx.exec(`DELETE FROM outbox WHERE id <= ?`, low.Int64); err != nil {
			return fmt.Errorf("prune outbox: %w", err)
		}
		return nil
	})
}

// topicArgs is the query arguments before, then the subscriber's topics
// (for a "topic IN (...)" of placeholders(len(s.topics))).
func (s *subscriber) topicArgs(before ...any) []any {
	args := before
	for _, t := range s.topics {
		args = append(args, t)
	}
	return args
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
