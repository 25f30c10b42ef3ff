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

// Snapshots stores the latest snapshot of each account. A snapshot is only
// an optimisation: the ledger stays the truth, and a missing or unreadable
// snapshot means reading the whole stream.
type Snapshots interface {
	// Get returns the account's latest snapshot, or ErrNotFound.
	Get(ctx context.Context, account string) (Snapshot, error)
	// Put stores s unless a snapshot of the same or a later version is
	// already stored, in which case it does nothing and returns nil.
	Put(ctx context.Context, s Snapshot) error
}
