package ports

import (
	"context"
	"encoding/json"
	"time"
)

// Snapshot is an account's command-side state folded from its events 1 to
// Version, so that a command reads the snapshot and the events after it
// instead of the whole stream. State is the domain's own encoding.
type Snapshot struct {
	Account string
	Version int64
	State   json.RawMessage
	TakenAt time.Time
}

// Snapshots reads the latest snapshot of each account. Snapshots are
// written by the ledger, with the events they follow (Append.Snapshot), so
// one costs no write of its own. A snapshot is only an optimisation: the
// ledger stays the truth, and a missing or unreadable snapshot means
// reading the whole stream.
type Snapshots interface {
	// Get returns the account's latest snapshot, or ErrNotFound.
	Get(ctx context.Context, account string) (Snapshot, error)
}
