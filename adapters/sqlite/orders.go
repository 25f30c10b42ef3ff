package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/unicornstore/unicorn/ports"
)

// Orders stores orders (ports.Orders), each as JSON beside the columns
// queries need.
type Orders struct{ db *DB }

// Orders returns the orders in db.
func (db *DB) Orders() *Orders { return &Orders{db: db} }

var _ ports.Orders = (*Orders)(nil)

func scanOrder(s scanner) (ports.Order, error) {
	var o ports.Order
	var data string
	if err := s.Scan(&data); err != nil {
		return o, err
	}
	return o, json.Unmarshal([]byte(data), &o)
}

func (s *Orders) Create(ctx context.Context, o ports.Order) (ports.Order, bool, error) {
	var stored ports.Order
	created := false
	err := s.db.tx(ctx, func(tx *txn) error {
		existing, err := scanOrder(tx.queryRow(`SELECT data FROM orders WHERE id = ?`, o.ID))
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO orders (id, user_id, status, created_at, version, data) VALUES (?, ?, ?, ?, ?, ?)`,
			o.ID, o.UserID, o.ListedStatus(), formatTime(o.CreatedAt), o.Version, string(data)); err != nil {
			return err
		}
		stored, created = o, true
		return nil
	})
	if err != nil {
		return stored, false, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return stored, created, nil
}

func (s *Orders) Get(ctx context.Context, id string) (ports.Order, error) {
	o, err := scanOrder(s.db.queryRow(ctx, `SELECT data FROM orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w", id, ports.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("order %s: %w", id, err)
	}
	return o, nil
}

func (s *Orders) Update(ctx context.Context, id string, fn func(*ports.Order) error) (ports.Order, error) {
	var o ports.Order
	err := s.db.tx(ctx, func(tx *txn) error {
		var err error
		o, err = scanOrder(tx.queryRow(`SELECT data FROM orders WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("order %s: %w", id, ports.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return err
		}
		o.Version++
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		_, err = tx.exec(`UPDATE orders SET status = ?, version = ?, data = ? WHERE id = ?`, o.ListedStatus(), o.Version, string(data), id)
		return err
	})
	if err != nil {
		return o, fmt.Errorf("update order %s: %w", id, err)
	}
	return o, nil
}

func (s *Orders) list(ctx context.Context, query string, args ...any) ([]ports.Order, error) {
	rows, err := s.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ports.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ByUser pages newest first (newest).
func (s *Orders) ByUser(ctx context.Context, userID, cursor string, limit int) ([]ports.Order, string, error) {
	out, next, err := s.newest(ctx, `user_id = ? AND `, []any{userID}, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("orders of %s: %w", userID, err)
	}
	return out, next, nil
}

// Recent pages every order newest first (newest).
func (s *Orders) Recent(ctx context.Context, cursor string, limit int) ([]ports.Order, string, error) {
	out, next, err := s.newest(ctx, ``, nil, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("recent orders: %w", err)
	}
	return out, next, nil
}

// newest pages the orders that where (a condition and "AND", or "") picks,
// newest first; the cursor is the last order's created_at and id.
func (s *Orders) newest(ctx context.Context, where string, args []any, cursor string, limit int) ([]ports.Order, string, error) {
	at, id := "9999", ""
	if cursor != "" {
		var ok bool
		if at, id, ok = strings.Cut(cursor, "|"); !ok {
			return nil, "", ports.ErrBadCursor
		}
	}
	out, err := s.list(ctx, `SELECT data FROM orders WHERE `+where+`(created_at < ? OR created_at = ? AND id < ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, at, at, id, limit)...)
	if err != nil || len(out) < limit {
		return out, "", err
	}
	last := out[len(out)-1]
	return out, formatTime(last.CreatedAt) + "|" + last.ID, nil
}

func (s *Orders) WithStatus(ctx context.Context, status string, limit int) ([]ports.Order, error) {
	out, err := s.list(ctx, `SELECT data FROM orders WHERE status = ? ORDER BY created_at LIMIT ?`, status, limit)
	if err != nil {
		return nil, fmt.Errorf("orders %s: %w", status, err)
	}
	return out, nil
}

// CountWithStatus counts the orders in a status, from the status index
// without reading them: an operator's gauge of the orders that need
// attention, read at every scrape.
func (s *Orders) CountWithStatus(ctx context.Context, status string) (int, error) {
	var n int
	if err := s.db.queryRow(ctx, `SELECT COUNT(*) FROM orders WHERE status = ?`, status).Scan(&n); err != nil {
		return 0, fmt.Errorf("count orders %s: %w", status, err)
	}
	return n, nil
}
