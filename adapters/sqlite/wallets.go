package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// walletReader runs getWallet on the reader pool.
type walletReader struct {
	ctx context.Context
	db  *DB
}

func (r walletReader) queryRow(q string, args ...any) row { return r.db.queryRow(r.ctx, q, args...) }

func (s *Wallets) Get(ctx context.Context, username string) (ports.Wallet, error) {
	return getWallet(walletReader{ctx, s.db}, username)
}

func (s *Wallets) Deposit(ctx context.Context, username string, amount decimal.Decimal, key string, at time.Time) (ports.Wallet, error) {
	var w ports.Wallet
	err := s.db.tx(ctx, func(tx *txn) error {
		var err error
		w, err = getWallet(tx, username)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		var one int
		switch err := tx.queryRow(`SELECT 1 FROM wallet_deposits WHERE key = ?`, key).Scan(&one); {
		case err == nil:
			return nil // deposited already
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		w.Balance, w.UpdatedAt = w.Balance.Add(amount), at
		if _, err := tx.exec(`INSERT INTO wallet_deposits (key, username, amount, at) VALUES (?, ?, ?, ?)`, key, username, amount.String(), formatTime(at)); err != nil {
			return err
		}
		return putWallet(tx, w)
	})
	if err != nil {
		return w, fmt.Errorf("deposit to %s: %w", username, err)
	}
	return w, nil
}

func (s *Wallets) Charge(ctx context.Context, username, orderID string, amount decimal.Decimal, at time.Time) (ports.Wallet, error) {
	var w ports.Wallet
	err := s.db.tx(ctx, func(tx *txn) error {
		var status string
		switch err := tx.queryRow(`SELECT status FROM wallet_charges WHERE order_id = ?`, orderID).Scan(&status); {
		case err == nil && status == "refunded":
			return fmt.Errorf("order %s was refunded: %w", orderID, ports.ErrConflict)
		case err == nil:
			var gerr error
			w, gerr = getWallet(tx, username)
			return gerr // charged already
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var err error
		if w, err = getWallet(tx, username); err != nil {
			if errors.Is(err, ports.ErrNotFound) {
				return &ports.InsufficientError{What: "wallet", ID: username, Available: "0"}
			}
			return err
		}
		if w.Balance.LessThan(amount) {
			return &ports.InsufficientError{What: "wallet", ID: username, Available: w.Balance.String()}
		}
		w.Balance, w.UpdatedAt = w.Balance.Sub(amount), at
		if _, err := tx.exec(`INSERT INTO wallet_charges (order_id, username, amount, status, at) VALUES (?, ?, ?, 'charged', ?)`,
			orderID, username, amount.String(), formatTime(at)); err != nil {
			return err
		}
		return putWallet(tx, w)
	})
	if err != nil {
		return w, fmt.Errorf("charge %s for %s: %w", username, orderID, err)
	}
	return w, nil
}

func (s *Wallets) Refund(ctx context.Context, orderID string, at time.Time) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		var username, amount, status string
		err := tx.queryRow(`SELECT username, amount, status FROM wallet_charges WHERE order_id = ?`, orderID).Scan(&username, &amount, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Never charged: remember the refund so that no charge follows.
			_, err := tx.exec(`INSERT INTO wallet_charges (order_id, username, amount, status, at) VALUES (?, '', '0', 'refunded', ?)`, orderID, formatTime(at))
			return err
		case err != nil:
			return err
		case status == "refunded":
			return nil
		}
		w, err := getWallet(tx, username)
		if err != nil {
			return err
		}
		amt, err := decimal.NewFromString(amount)
		if err != nil {
			return err
		}
		w.Balance, w.UpdatedAt = w.Balance.Add(amt), at
		if _, err := tx.exec(`UPDATE wallet_charges SET status = 'refunded' WHERE order_id = ?`, orderID); err != nil {
			return err
		}
		return putWallet(tx, w)
	})
	if err != nil {
		return fmt.Errorf("refund %s: %w", orderID, err)
	}
	return nil
}
