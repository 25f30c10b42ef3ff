package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/unicornstore/unicorn/ports"
)

// Balances is the points read model (ports.Balances).
type Balances struct{ db *DB }

// Balances returns the read model stored in db.
func (db *DB) Balances() *Balances { return &Balances{db: db} }

var _ ports.Balances = (*Balances)(nil)

func getView(q *txn, account string) (ports.BalanceView, error) {
	v := ports.BalanceView{Account: account}
	var next sql.NullString
	var at string
	err := q.queryRow(`SELECT seq, next_expiry, updated_at, pending FROM point_balances WHERE account = ?`, account).Scan(&v.Seq, &next, &at, &v.Pending)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ports.ErrNotFound
	}
	if err != nil {
		return v, err
	}
	v.NextDue = next.String
	if v.UpdatedAt, err = parseTime(at); err != nil {
		return v, err
	}
	rows, err := q.query(`SELECT `+lotColumns+` FROM point_lots WHERE account = ? ORDER BY issued_on`, account)
	if err != nil {
		return v, err
	}
	v.Lots, err = scanLots(rows)
	return v, err
}

const lotColumns = `issued_on, expires_on, issued, remaining, expired, pending, matures_on, last_updated`

func scanLots(rows *sql.Rows) ([]ports.Lot, error) {
	defer rows.Close()
	var out []ports.Lot
	for rows.Next() {
		var l ports.Lot
		var at string
		if err := rows.Scan(&l.IssuedOn, &l.ExpiresOn, &l.Issued, &l.Remaining, &l.Expired, &l.Pending, &l.MaturesOn, &at); err != nil {
			return nil, err
		}
		var err error
		if l.LastUpdated, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (b *Balances) Get(ctx context.Context, account string) (ports.BalanceView, error) {
	var v ports.BalanceView
	err := b.db.readTx(ctx, func(tx *txn) error {
		var err error
		v, err = getView(tx, account)
		return err
	})
	if err != nil {
		return v, fmt.Errorf("get balance %s: %w", account, err)
	}
	return v, nil
}

func (b *Balances) Summary(ctx context.Context, account string, days ...string) (ports.BalanceView, []int64, error) {
	v := ports.BalanceView{Account: account}
	sums := make([]int64, len(days))
	err := b.db.readTx(ctx, func(tx *txn) error {
		var next sql.NullString
		var at string
		var total int64
		err := tx.queryRow(`SELECT seq, next_expiry, updated_at, remaining, pending FROM point_balances WHERE account = ?`, account).Scan(&v.Seq, &next, &at, &total, &v.Pending)
		if errors.Is(err, sql.ErrNoRows) {
			return ports.ErrNotFound
		}
		if err != nil {
			return err
		}
		v.NextDue = next.String
		if v.UpdatedAt, err = parseTime(at); err != nil {
			return err
		}
		// The total, less what expires by the day: lots with points left
		// that expire by then are few (point_lots_live).
		for i, day := range days {
			var by int64
			if err := tx.queryRow(`SELECT COALESCE(SUM(remaining), 0) FROM point_lots WHERE account = ? AND remaining > 0 AND expires_on <= ?`, account, day).Scan(&by); err != nil {
				return err
			}
			sums[i] = total - by
		}
		return nil
	})
	if err != nil {
		return v, nil, fmt.Errorf("balance summary %s: %w", account, err)
	}
	return v, sums, nil
}

func (b *Balances) Lots(ctx context.Context, account, after string, limit int, expiringAfter string) ([]ports.Lot, error) {
	rows, err := b.db.query(ctx, `SELECT `+lotColumns+` FROM point_lots WHERE account = ? AND issued_on > ? AND expires_on > ? ORDER BY issued_on LIMIT ?`,
		account, after, expiringAfter, limit)
	if err != nil {
		return nil, fmt.Errorf("lots of %s: %w", account, err)
	}
	lots, err := scanLots(rows)
	if err != nil {
		return nil, fmt.Errorf("lots of %s: %w", account, err)
	}
	return lots, nil
}

func (b *Balances) Update(ctx context.Context, account string, fn func(*ports.BalanceView) (bool, error)) error {
	err := b.db.tx(ctx, func(tx *txn) error {
		old, err := getView(tx, account)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		v := old
		v.Lots = append([]ports.Lot(nil), old.Lots...)
		changed, err := fn(&v)
		if err != nil || !changed {
			return err
		}
		var next any
		if v.NextDue != "" {
			next = v.NextDue
		}
		var remaining, pending int64
		for _, l := range v.Lots {
			remaining += l.Remaining
			pending += l.Pending
		}
		if _, err := tx.exec(`INSERT INTO point_balances (account, seq, next_expiry, updated_at, remaining, pending) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account) DO UPDATE SET seq = excluded.seq, next_expiry = excluded.next_expiry, updated_at = excluded.updated_at,
			remaining = excluded.remaining, pending = excluded.pending`,
			account, v.Seq, next, formatTime(v.UpdatedAt), remaining, pending); err != nil {
			return err
		}
		// Write only the lots that changed: an account keeps a lot per day.
		before := make(map[string]ports.Lot, len(old.Lots))
		for _, l := range old.Lots {
			before[l.IssuedOn] = l
		}
		for _, l := range v.Lots {
			if prev, ok := before[l.IssuedOn]; ok && sameLot(prev, l) {
				delete(before, l.IssuedOn)
				continue
			}
			delete(before, l.IssuedOn)
			if _, err := tx.exec(`INSERT INTO point_lots (account, issued_on, expires_on, issued, remaining, expired, pending, matures_on, last_updated)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (account, issued_on) DO UPDATE SET expires_on = excluded.expires_on, issued = excluded.issued,
				remaining = excluded.remaining, expired = excluded.expired, pending = excluded.pending, matures_on = excluded.matures_on,
				last_updated = excluded.last_updated`,
				account, l.IssuedOn, l.ExpiresOn, l.Issued, l.Remaining, l.Expired, l.Pending, l.MaturesOn, formatTime(l.LastUpdated)); err != nil {
				return err
			}
		}
		for day := range before {
			if _, err := tx.exec(`DELETE FROM point_lots WHERE account = ? AND issued_on = ?`, account, day); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update balance %s: %w", account, err)
	}
	return nil
}

func (b *Balances) Due(ctx context.Context, day, cursor string, limit int) ([]string, string, error) {
	rows, err := b.db.query(ctx, `SELECT account FROM point_balances
		WHERE next_expiry IS NOT NULL AND next_expiry <= ? AND account > ? ORDER BY account LIMIT ?`, day, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("accounts due: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, "", fmt.Errorf("accounts due: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("accounts due: %w", err)
	}
	if len(out) < limit {
		return out, "", nil
	}
	return out, out[len(out)-1], nil
}

func (b *Balances) Reset(ctx context.Context) error {
	err := b.db.tx(ctx, func(tx *txn) error {
		if _, err := tx.exec(`DELETE FROM point_lots`); err != nil {
			return err
		}
		_, err := tx.exec(`DELETE FROM point_balances`)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset balances: %w", err)
	}
	return nil
}

func sameLot(a, b ports.Lot) bool {
	return a.IssuedOn == b.IssuedOn && a.ExpiresOn == b.ExpiresOn && a.Issued == b.Issued &&
		a.Remaining == b.Remaining && a.Expired == b.Expired && a.Pending == b.Pending && a.MaturesOn == b.MaturesOn &&
		a.LastUpdated.Equal(b.LastUpdated)
}
