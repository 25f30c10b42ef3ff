package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// Catalog stores products (ports.Catalog) and Stock their stock
// (ports.Stock), in the same table. Every change is written to the outbox
// on ports.TopicProducts in the same transaction.
type Catalog struct{ db *DB }

// Stock moves product stock by reservations.
type Stock struct{ db *DB }

// Catalog returns the catalog in db.
func (db *DB) Catalog() *Catalog { return &Catalog{db: db} }

// Stock returns the stock of the catalog in db.
func (db *DB) Stock() *Stock { return &Stock{db: db} }

var (
	_ ports.Catalog = (*Catalog)(nil)
	_ ports.Stock   = (*Stock)(nil)
)

const productColumns = `id, name, description, image, price, stock, version, updated_at`

func scanProduct(s scanner) (ports.Product, error) {
	var p ports.Product
	var price, at string
	if err := s.Scan(&p.ID, &p.Name, &p.Description, &p.Image, &price, &p.Stock, &p.Version, &at); err != nil {
		return p, err
	}
	var err error
	if p.Price, err = decimal.NewFromString(price); err != nil {
		return p, fmt.Errorf("stored price %q: %w", price, err)
	}
	p.UpdatedAt, err = parseTime(at)
	return p, err
}

func getProduct(q interface {
	queryRow(string, ...any) row
}, id string) (ports.Product, error) {
	p, err := scanProduct(q.queryRow(`SELECT `+productColumns+` FROM products WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("product %s: %w", id, ports.ErrNotFound)
	}
	return p, err
}

func (c *Catalog) Get(ctx context.Context, id string) (ports.Product, error) {
	p, err := scanProduct(c.db.queryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("product %s: %w", id, ports.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("product %s: %w", id, err)
	}
	return p, nil
}

func (c *Catalog) List(ctx context.Context) ([]ports.Product, error) {
	rows, err := c.db.query(ctx, `SELECT `+productColumns+` FROM products ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	var out []ports.Product
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("list products: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (c *Catalog) Save(ctx context.Context, p ports.Product) error {
	err := c.db.tx(ctx, func(tx *txn) error {
		cur, err := getProduct(tx, p.ID)
		change := "updated"
		switch {
		case errors.Is(err, ports.ErrNotFound):
			cur, change = ports.Product{Stock: p.Stock}, "created"
		case err != nil:
			return err
		}
		if p.Version != cur.Version+1 {
			return fmt.Errorf("version %d after %d: %w", p.Version, cur.Version, ports.ErrConflict)
		}
		p.Stock = cur.Stock // stock moves only through Stock
		if _, err := tx.exec(`INSERT INTO products (`+productColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, image = excluded.image,
			price = excluded.price, version = excluded.version, updated_at = excluded.updated_at`,
			p.ID, p.Name, p.Description, p.Image, p.Price.String(), p.Stock, p.Version, formatTime(p.UpdatedAt)); err != nil {
			return err
		}
		return tx.enqueue(ports.TopicProducts, p.ID, ports.ProductChange{Change: change, Product: p}, p.UpdatedAt)
	})
	if err != nil {
		return fmt.Errorf("save product %s: %w", p.ID, err)
	}
	return nil
}

func (c *Catalog) Delete(ctx context.Context, id string, version int64) error {
	err := c.db.tx(ctx, func(tx *txn) error {
		cur, err := getProduct(tx, id)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return fmt.Errorf("product %s is at version %d, not %d: %w", id, cur.Version, version, ports.ErrConflict)
		}
		if _, err := tx.exec(`DELETE FROM products WHERE id = ?`, id); err != nil {
			return err
		}
		cur.Version++
		return tx.enqueue(ports.TopicProducts, id, ports.ProductChange{Change: "deleted", Product: cur}, time.Now())
	})
	if err != nil {
		return fmt.Errorf("delete product %s: %w", id, err)
	}
	return nil
}

func getReservation(q interface {
	queryRow(string, ...any) row
}, orderID string) (ports.Reservation, error) {
	r := ports.Reservation{OrderID: orderID}
	var lines, exp string
	err := q.queryRow(`SELECT lines, status, expires_at, version FROM reservations WHERE order_id = ?`, orderID).Scan(&lines, &r.Status, &exp, &r.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("reservation of %s: %w", orderID, ports.ErrNotFound)
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(lines), &r.Lines); err != nil {
		return r, err
	}
	r.ExpiresAt, err = parseTime(exp)
	return r, err
}

// move adds delta to a product's stock in tx, on condition that it stays
// at or above zero, and announces it.
func move(tx *txn, productID string, delta int64) (int64, error) {
	p, err := getProduct(tx, productID)
	if err != nil {
		return 0, err
	}
	if p.Stock+delta < 0 {
		return 0, &ports.InsufficientError{What: "stock", ID: productID, Available: strconv.FormatInt(p.Stock, 10)}
	}
	p.Stock += delta
	if _, err := tx.exec(`UPDATE products SET stock = ? WHERE id = ?`, p.Stock, productID); err != nil {
		return 0, err
	}
	return p.Stock, tx.enqueue(ports.TopicProducts, productID, ports.ProductChange{Change: "stock", Product: p}, time.Now())
}

func (s *Stock) Reservation(ctx context.Context, orderID string) (ports.Reservation, error) {
	r, err := getReservation(reader{ctx, s.db}, orderID)
	if err != nil {
		return r, fmt.Errorf("reservation of %s: %w", orderID, err)
	}
	return r, nil
}

func (s *Stock) SaveReservation(ctx context.Context, r ports.Reservation, moves []ports.StockMove) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		lines, err := json.Marshal(r.Lines)
		if err != nil {
			return err
		}
		var res sql.Result
		if r.Version == 1 {
			res, err = tx.exec(`INSERT INTO reservations (order_id, lines, status, expires_at, version) VALUES (?, ?, ?, ?, 1)
				ON CONFLICT (order_id) DO NOTHING`, r.OrderID, string(lines), r.Status, formatTime(r.ExpiresAt))
		} else {
			res, err = tx.exec(`UPDATE reservations SET lines = ?, status = ?, expires_at = ?, version = ? WHERE order_id = ? AND version = ?`,
				string(lines), r.Status, formatTime(r.ExpiresAt), r.Version, r.OrderID, r.Version-1)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, fmt.Errorf("reservation of %s moved from version %d: %w", r.OrderID, r.Version-1, ports.ErrConflict))
		}
		for _, m := range moves {
			_, err := move(tx, m.ProductID, m.Delta)
			if m.SkipMissing && errors.Is(err, ports.ErrNotFound) {
				continue
			}
			if err != nil {
				return err // the transaction rolls back every move
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save reservation of %s: %w", r.OrderID, err)
	}
	return nil
}

func (s *Stock) Expired(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.db.query(ctx, `SELECT order_id FROM reservations WHERE status = 'reserved' AND expires_at <= ? ORDER BY expires_at LIMIT ?`, formatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("expired reservations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Stock) Adjust(ctx context.Context, a ports.StockAdjustment) (ports.StockAdjustment, error) {
	err := s.db.tx(ctx, func(tx *txn) error {
		done := a
		var at string
		err := tx.queryRow(`SELECT product_id, delta, stock, at FROM stock_adjustments WHERE key = ?`, a.Key).Scan(&done.ProductID, &done.Delta, &done.Stock, &at)
		switch {
		case err == nil:
			done.At, err = parseTime(at)
			a = done
			return errors.Join(err, fmt.Errorf("stock adjustment %q: %w", a.Key, ports.ErrDuplicate))
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if a.Stock, err = move(tx, a.ProductID, a.Delta); err != nil {
			return err
		}
		_, err = tx.exec(`INSERT INTO stock_adjustments (key, product_id, delta, stock, at) VALUES (?, ?, ?, ?, ?)`,
			a.Key, a.ProductID, a.Delta, a.Stock, formatTime(a.At))
		return err
	})
	if err != nil {
		return a, fmt.Errorf("adjust stock of %s: %w", a.ProductID, err)
	}
	return a, nil
}
