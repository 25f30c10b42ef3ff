package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is one recorded fact in an account's points stream. Type is a stable
// name ("points.issued") and Version the version of Data's schema, so that a
// Go rename never changes what is stored.
type Event struct {
	ID         string          `json:"id"`
	Account    string          `json:"account"`
	Seq        int64           `json:"seq"` // 1 for the first event of an account, then +1 without gaps
	Type       string          `json:"type"`
	Version    int             `json:"version"`
	Data       json.RawMessage `json:"data"`
	RecordedAt time.Time       `json:"recorded_at"`
}

// IdempotencyRecord remembers the outcome of a command sent with an
// idempotency key, so that a repeat returns the first result.
type IdempotencyRecord struct {
	Key         string
	Account     string
	Fingerprint string          // digest of the command: the same key with another command is refused
	Result      json.RawMessage // the first result, as the domain encoded it
	CreatedAt   time.Time
}

// MaxAppendEvents is the most events one append may hold. Every adapter
// writes an append atomically, and DynamoDB's transaction holds 100 items:
// the events, the version check, the idempotency record and the snapshot,
// with room to spare. A command that makes more events appends them in parts.
const MaxAppendEvents = 90

// Append is one atomic write to an account's stream.
type Append struct {
	Account string
	// ExpectedVersion is the Seq of the last event the decision was made
	// on (0 for an empty stream). Events must carry Seq ExpectedVersion+1,
	// ExpectedVersion+2, ...
	ExpectedVersion int64
	Events          []Event
	// Idempotency, when set, is stored in the same transaction as the events.
	Idempotency *IdempotencyRecord
	// Snapshot, when set, is the account's state after these events
	// (Version is the last event's Seq), stored in the same transaction in
	// place of the account's previous snapshot (see Snapshots).
	Snapshot *Snapshot
}

// Ledger is the append-only event store of the points domain.
//
// Append fails with ErrConflict when the stream's version is not
// ExpectedVersion, and with ErrDuplicate when the idempotency key is already
// recorded; in both cases nothing is written.
type Ledger interface {
	Append(ctx context.Context, a Append) error
	// Load returns the account's events with Seq > after, in order.
	Load(ctx context.Context, account string, after int64) ([]Event, error)
	// LoadBackward returns up to limit events with Seq < before, newest
	// first; before <= 0 means from the newest.
	LoadBackward(ctx context.Context, account string, before int64, limit int) ([]Event, error)
	// Version returns the Seq of the account's last event, 0 for none.
	Version(ctx context.Context, account string) (int64, error)
	// Idempotency returns the record stored under key, or ErrNotFound.
	Idempotency(ctx context.Context, key string) (IdempotencyRecord, error)
	// ReadAll pages through the events of every account, for projections.
	// cursor "" starts at the beginning; the returned cursor continues after
	// the last event returned and is "" when there is nothing more. Events
	// of one account come in Seq order; accounts may interleave.
	ReadAll(ctx context.Context, cursor string, limit int) (events []Event, next string, err error)
	// Count returns the number of events in the ledger (for progress).
	Count(ctx context.Context) (int64, error)
}

// Check reports a malformed append: no events or more than
// MaxAppendEvents, events of another account, or
// sequence numbers that do not continue ExpectedVersion without gaps.
// Adapters call it before writing.
func (a Append) Check() error {
	if len(a.Events) == 0 {
		return errors.New("append: no events")
	}
	if len(a.Events) > MaxAppendEvents {
		return fmt.Errorf("append to %s: %d events, at most %d", a.Account, len(a.Events), MaxAppendEvents)
	}
	for i, ev := range a.Events {
		if ev.Account != a.Account || ev.Seq != a.ExpectedVersion+int64(i)+1 {
			return fmt.Errorf("append to %s at version %d: event %d is %s seq %d", a.Account, a.ExpectedVersion, i, ev.Account, ev.Seq)
		}
	}
	if a.Idempotency != nil && a.Idempotency.Key == "" {
		return errors.New("append: idempotency record without a key")
	}
	if s := a.Snapshot; s != nil && (s.Account != a.Account || s.Version != a.ExpectedVersion+int64(len(a.Events))) {
		return fmt.Errorf("append to %s at version %d: a snapshot of %s at version %d is not the state after it", a.Account, a.ExpectedVersion, s.Account, s.Version)
	}
	return nil
}
