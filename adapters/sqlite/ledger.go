package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/unicornstore/unicorn/ports"
)

// Ledger is the points event store (ports.Ledger). Every append also writes
// its events to the outbox under ports.TopicPointsLedger, in the same
// transaction, so the read model hears of every event that exists and of no
// other.
type Ledger struct{ db *DB }

// Ledger returns the ledger stored in db.
func (db *DB) Ledger() *Ledger { return &Ledger{db: db} }

var _ ports.Ledger = (*Ledger)(nil)

func (l *Ledger) Append(ctx context.Context, a ports.Append) error {
	if err := a.Check(); err != nil {
		return err
	}
	err := l.db.tx(ctx, func(tx *txn) error {
		if rec := a.Idempotency; rec != nil {
			var one int
			err := tx.queryRow(`SELECT 1 FROM idempotency_keys WHERE key = ?`, rec.Key).Scan(&one)
			if err == nil {
				return fmt.Errorf("idempotency key %q: %w", rec.Key, ports.ErrDuplicate)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var version int64
		if err := tx.queryRow(`SELECT COALESCE(MAX(seq), 0) FROM ledger_events WHERE account = ?`, a.Account).Scan(&version); err != nil {
			return err
		}
		if version != a.ExpectedVersion {
			return fmt.Errorf("account %s is at version %d, not %d: %w", a.Account, version, a.ExpectedVersion, ports.ErrConflict)
		}
		for _, ev := range a.Events {
			at := formatTime(ev.RecordedAt)
			if _, err := tx.exec(`INSERT INTO ledger_events (account, seq, id, type, version, data, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				ev.Account, ev.Seq, ev.ID, ev.Type, ev.Version, string(ev.Data), at); err != nil {
				if isConstraint(err) {
					return fmt.Errorf("insert event %s seq %d: %w", ev.Account, ev.Seq, ports.ErrConflict)
				}
				return fmt.Errorf("insert event: %w", err)
			}
			if err := tx.enqueue(ports.TopicPointsLedger, ev.Account, ev, ev.RecordedAt); err != nil {
				return err
			}
		}
		if rec := a.Idempotency; rec != nil {
			if _, err := tx.exec(`INSERT INTO idempotency_keys (key, account, fingerprint, result, created_at) VALUES (?, ?, ?, ?, ?)`,
				rec.Key, rec.Account, rec.Fingerprint, string(rec.Result), formatTime(rec.CreatedAt)); err != nil {
				return fmt.Errorf("insert idempotency key: %w", err)
			}
		}
		if a.Snapshot != nil {
			return putSnapshot(tx, *a.Snapshot)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append to %s: %w", a.Account, err)
	}
	return nil
}

const eventColumns = `account, seq, id, type, version, data, recorded_at`

func scanEvents(rows *sql.Rows, extra ...any) ([]ports.Event, error) {
	defer rows.Close()
	var out []ports.Event
	for rows.Next() {
		var ev ports.Event
		var data, at string
		dest := append([]any{&ev.Account, &ev.Seq, &ev.ID, &ev.Type, &ev.Version, &data, &at}, extra...)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, err
		}
		ev.Data, ev.RecordedAt = json.RawMessage(data), t
		out = append(out, ev)
	}
	return out, rows.Err()
}

func (l *Ledger) Load(ctx context.Context, account string, after int64) ([]ports.Event, error) {
	rows, err := l.db.query(ctx, `SELECT `+eventColumns+` FROM ledger_events WHERE account = ? AND seq > ? ORDER BY seq`, account, after)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", account, err)
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", account, err)
	}
	return events, nil
}

func (l *Ledger) LoadBackward(ctx context.Context, account string, before int64, limit int) ([]ports.Event, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := l.db.query(ctx, `SELECT `+eventColumns+` FROM ledger_events WHERE account = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, account, before, limit)
	if err != nil {
		return nil, fmt.Errorf("load %s backward: %w", account, err)
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("load %s backward: %w", account, err)
	}
	return events, nil
}

func (l *Ledger) Version(ctx context.Context, account string) (int64, error) {
	var v int64
	if err := l.db.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM ledger_events WHERE account = ?`, account).Scan(&v); err != nil {
		return 0, fmt.Errorf("version of %s: %w", account, err)
	}
	return v, nil
}

func (l *Ledger) Idempotency(ctx context.Context, key string) (ports.IdempotencyRecord, error) {
	rec := ports.IdempotencyRecord{Key: key}
	var result, at string
	err := l.db.queryRow(ctx, `SELECT account, fingerprint, result, created_at FROM idempotency_keys WHERE key = ?`, key).
		Scan(&rec.Account, &rec.Fingerprint, &result, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("idempotency key %q: %w", key, ports.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("idempotency key %q: %w", key, err)
	}
	rec.Result = json.RawMessage(result)
	rec.CreatedAt, err = parseTime(at)
	return rec, err
}

func (l *Ledger) ReadAll(ctx context.Context, cursor string, limit int) ([]ports.Event, string, error) {
	var from int64
	if cursor != "" {
		var err error
		if from, err = strconv.ParseInt(cursor, 10, 64); err != nil || from < 0 {
			return nil, "", fmt.Errorf("read all: bad cursor %q", cursor)
		}
	}
	rows, err := l.db.query(ctx, `SELECT `+eventColumns+`, position FROM ledger_events WHERE position > ? ORDER BY position LIMIT ?`, from, limit)
	if err != nil {
		return nil, "", fmt.Errorf("read all: %w", err)
	}
	var last int64
	events, err := scanEvents(rows, &last)
	if err != nil {
		return nil, "", fmt.Errorf("read all: %w", err)
	}
	if len(events) < limit {
		return events, "", nil
	}
	return events, strconv.FormatInt(last, 10), nil
}

func (l *Ledger) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := l.db.queryRow(ctx, `SELECT COUNT(*) FROM ledger_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}
