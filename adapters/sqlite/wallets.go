package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// Wallets stores wallets and their deposits and charges (ports.Wallets).
type Wallets struct{ db *DB }

// Wallets returns the wallets in db.
func (db *DB) Wallets() *Wallets { return &Wallets{db: db} }

var _ ports.Wallets = (*Wallets)(nil)

func getWallet(q interface {
	queryRow(string, ...any) row
}, username string) (ports.Wallet, error) {
	w := ports.Wallet{Username: username}
	var balance, at string
	err := q.queryRow(`SELECT balance, updated_at FROM wallets WHERE username = ?`, username).Scan(&balance, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("wallet %s: %w", username, ports.ErrNotFound)
	}
	if err != nil {
		return w, err
	}
	if w.Balance, err = decimal.NewFromString(balance); err != nil {
		return w, err
	}
	w.UpdatedAt, err = parseTime(at)
	return w, err
}

func putWallet(tx *txn, w ports.Wallet) error {
	_, err := tx.exec(`INSERT INTO wallets (username, balance, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (username) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at`,
		w.Username, w.Balance.String(), formatTime(w.UpdatedAt))
	return err
}

// reader runs a get function, written for a transaction, on the reader
// pool.
type reader struct {
	ctx context.Context
	db  *DB
}

func (r reader) queryRow(q string, args ...any) row { return r.db.queryRow(r.ctx, q, args...) }

func (s *Wallets) Get(ctx context.Context, username string) (ports.Wallet, error) {
	return getWallet(reader{ctx, s.db}, username)
}

func (s *Wallets) Payment(ctx context.Context, orderID string) (ports.Payment, error) {
	p := ports.Payment{OrderID: orderID}
	var amount, at string
	err := s.db.queryRow(ctx, `SELECT username, amount, status, version, at FROM wallet_charges WHERE order_id = ?`, orderID).
		Scan(&p.Username, &amount, &p.Status, &p.Version, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("payment of %s: %w", orderID, ports.ErrNotFound)
	}
	if err == nil {
		p.Amount, err = decimal.NewFromString(amount)
	}
	if err == nil {
		p.At, err = parseTime(at)
	}
	if err != nil {
		return p, fmt.Errorf("payment of %s: %w", orderID, err)
	}
	return p, nil
}

func (s *Wallets) Deposit(ctx context.Context, key string) (ports.Deposit, error) {
	d := ports.Deposit{Key: key}
	var amount, at string
	err := s.db.queryRow(ctx, `SELECT username, amount, at FROM wallet_deposits WHERE key = ?`, key).Scan(&d.Username, &amount, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("deposit %q: %w", key, ports.ErrNotFound)
	}
	if err == nil {
		d.Amount, err = decimal.NewFromString(amount)
	}
	if err == nil {
		d.At, err = parseTime(at)
	}
	if err != nil {
		return d, fmt.Errorf("deposit %q: %w", key, err)
	}
	return d, nil
}

func (s *Wallets) Apply(ctx context.Context, c ports.WalletChange) (ports.Wallet, error) {
	w := ports.Wallet{Username: c.Username, Balance: decimal.Zero}
	err := s.db.tx(ctx, func(tx *txn) error {
		if p := c.Payment; p != nil {
			var res sql.Result
			var err error
			if p.Version == 1 {
				res, err = tx.exec(`INSERT INTO wallet_charges (order_id, username, amount, status, at, version) VALUES (?, ?, ?, ?, ?, 1)
					ON CONFLICT (order_id) DO NOTHING`, p.OrderID, p.Username, p.Amount.String(), p.Status, formatTime(p.At))
			} else {
				res, err = tx.exec(`UPDATE wallet_charges SET username = ?, amount = ?, status = ?, at = ?, version = ? WHERE order_id = ? AND version = ?`,
					p.Username, p.Amount.String(), p.Status, formatTime(p.At), p.Version, p.OrderID, p.Version-1)
			}
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return errors.Join(err, fmt.Errorf("payment of %s moved from version %d: %w", p.OrderID, p.Version-1, ports.ErrConflict))
			}
		}
		if d := c.Deposit; d != nil {
			res, err := tx.exec(`INSERT INTO wallet_deposits (key, username, amount, at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
				d.Key, d.Username, d.Amount.String(), formatTime(d.At))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return errors.Join(err, fmt.Errorf("deposit %q: %w", d.Key, ports.ErrDuplicate))
			}
		}
		if c.Username == "" {
			return nil
		}
		cur, err := getWallet(tx, c.Username)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			cur = ports.Wallet{Username: c.Username, Balance: decimal.Zero}
		case err != nil:
			return err
		}
		if cur.Balance.Add(c.Delta).IsNegative() {
			return &ports.InsufficientError{What: "wallet", ID: c.Username, Available: cur.Balance.String()}
		}
		w = ports.Wallet{Username: c.Username, Balance: cur.Balance.Add(c.Delta), UpdatedAt: c.At}
		return putWallet(tx, w)
	})
	if err != nil {
		return w, fmt.Errorf("wallet change of %s: %w", c.Username, err)
	}
	return w, nil
}
