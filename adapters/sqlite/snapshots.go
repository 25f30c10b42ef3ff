package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/unicornstore/unicorn/ports"
)

// Snapshots stores account snapshots (ports.Snapshots).
type Snapshots struct{ db *DB }

// Snapshots returns the snapshot store in db.
func (db *DB) Snapshots() *Snapshots { return &Snapshots{db: db} }

var _ ports.Snapshots = (*Snapshots)(nil)

func (s *Snapshots) Get(ctx context.Context, account string) (ports.Snapshot, error) {
	snap := ports.Snapshot{Account: account}
	var state, at string
	err := s.db.queryRow(ctx, `SELECT version, state, taken_at FROM point_snapshots WHERE account = ?`, account).Scan(&snap.Version, &state, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return snap, fmt.Errorf("snapshot of %s: %w", account, ports.ErrNotFound)
	}
	if err != nil {
		return snap, fmt.Errorf("snapshot of %s: %w", account, err)
	}
	snap.State = json.RawMessage(state)
	snap.TakenAt, err = parseTime(at)
	return snap, err
}

// putSnapshot stores an append's snapshot in its transaction, replacing an
// older one.
func putSnapshot(tx *txn, snap ports.Snapshot) error {
	_, err := tx.exec(`INSERT INTO point_snapshots (account, version, state, taken_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET version = excluded.version, state = excluded.state, taken_at = excluded.taken_at
		WHERE excluded.version > point_snapshots.version`, snap.Account, snap.Version, string(snap.State), formatTime(snap.TakenAt))
	if err != nil {
		return fmt.Errorf("put snapshot of %s: %w", snap.Account, err)
	}
	return nil
}
