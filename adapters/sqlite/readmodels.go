package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// Publisher publishes integration events to the outbox, once per key
// (ports.Publisher).
type Publisher struct{ db *DB }

// Publisher returns the event publisher of db.
func (db *DB) Publisher() *Publisher { return &Publisher{db: db} }

var _ ports.Publisher = (*Publisher)(nil)

func (p *Publisher) Publish(ctx context.Context, m ports.Message) error {
	err := p.db.tx(ctx, func(tx *txn) error {
		if _, err := tx.exec(`INSERT INTO published (key, at) VALUES (?, ?)`, m.Key, formatTime(m.CreatedAt)); err != nil {
			if isConstraint(err) {
				return nil // published already
			}
			return err
		}
		if _, err := tx.exec(`INSERT INTO outbox (topic, key, payload, created_at) VALUES (?, ?, ?, ?)`, m.Topic, m.Key, m.Payload, formatTime(m.CreatedAt)); err != nil {
			return err
		}
		tx.enqueued = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish %s: %w", m.Key, err)
	}
	return nil
}

// ProductSearch is the full-text index of the catalog (SQLite FTS5).
type ProductSearch struct{ db *DB }

// ProductSearch returns the product search index of db.
func (db *DB) ProductSearch() *ProductSearch { return &ProductSearch{db: db} }

var _ ports.ProductSearch = (*ProductSearch)(nil)

// indexed returns the version indexed for id, 0 for none, and whether the
// change at version is newer.
func newer(tx *txn, id string, version int64) (bool, error) {
	var have int64
	err := tx.queryRow(`SELECT version FROM product_search_versions WHERE id = ?`, id).Scan(&have)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	return errors.Is(err, sql.ErrNoRows) || version >= have, nil
}

func (s *ProductSearch) Index(ctx context.Context, p ports.Product) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		if ok, err := newer(tx, p.ID, p.Version); err != nil || !ok {
			return err
		}
		if _, err := tx.exec(`DELETE FROM product_search WHERE id = ?`, p.ID); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO product_search (id, name, description) VALUES (?, ?, ?)`, p.ID, p.Name, p.Description); err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO product_search_versions (id, version) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version`, p.ID, p.Version)
		return err
	})
	if err != nil {
		return fmt.Errorf("index product %s: %w", p.ID, err)
	}
	return nil
}

func (s *ProductSearch) Remove(ctx context.Context, id string, version int64) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		if ok, err := newer(tx, id, version); err != nil || !ok {
			return err
		}
		if _, err := tx.exec(`DELETE FROM product_search WHERE id = ?`, id); err != nil {
			return err
		}
		_, err := tx.exec(`INSERT INTO product_search_versions (id, version) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version`, id, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove product %s from the index: %w", id, err)
	}
	return nil
}

// Search matches every word of the query as a prefix, in the name or the
// description. Only letters and digits reach FTS5: a query can never be
// FTS5 syntax.
func (s *ProductSearch) Search(ctx context.Context, query string, limit int) ([]string, error) {
	words := strings.FieldsFunc(query, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 || len(words) > 20 {
		return nil, nil
	}
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + w + `"*`
	}
	rows, err := s.db.query(ctx, `SELECT id FROM product_search WHERE product_search MATCH ? ORDER BY rank LIMIT ?`, strings.Join(terms, " "), limit)
	if err != nil {
		return nil, fmt.Errorf("search products: %w", err)
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

// SalesTallies is the sales read model (ports.SalesTallies).
type SalesTallies struct{ db *DB }

// SalesTallies returns the sales tallies of db.
func (db *DB) SalesTallies() *SalesTallies { return &SalesTallies{db: db} }

var _ ports.SalesTallies = (*SalesTallies)(nil)

func (s *SalesTallies) Record(ctx context.Context, p ports.PurchaseCompleted) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		if _, err := tx.exec(`INSERT INTO sales_orders (order_id) VALUES (?)`, p.OrderID); err != nil {
			if isConstraint(err) {
				return nil // counted already
			}
			return err
		}
		for _, l := range p.Lines {
			var revenue string
			var orders, units int64
			err := tx.queryRow(`SELECT orders, units, revenue FROM sales_tallies WHERE product_id = ?`, l.ProductID).Scan(&orders, &units, &revenue)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			total := decimal.Zero
			if revenue != "" {
				if total, err = decimal.NewFromString(revenue); err != nil {
					return err
				}
			}
			if _, err := tx.exec(`INSERT INTO sales_tallies (product_id, name, orders, units, revenue) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (product_id) DO UPDATE SET name = excluded.name, orders = excluded.orders, units = excluded.units, revenue = excluded.revenue`,
				l.ProductID, l.Name, orders+1, units+l.Quantity, total.Add(l.Amount).String()); err != nil {
				return err
			}
		}
		if err := recordAwards(tx, p); err != nil {
			return err
		}
		return recordPurchase(tx, p)
	})
	if err != nil {
		return fmt.Errorf("record sales of %s: %w", p.OrderID, err)
	}
	return nil
}

// recordAwards adds what each campaign gave an order to its UTC day.
func recordAwards(tx *txn, p ports.PurchaseCompleted) error {
	day := p.At.UTC().Format(time.DateOnly)
	for _, c := range p.Campaigns {
		if _, err := tx.exec(`INSERT INTO campaign_awards (client, day, campaign_name, points, orders) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT (client, day, campaign_name) DO UPDATE SET points = points + excluded.points, orders = orders + 1`,
			p.Client, day, c.Campaign, c.Points); err != nil {
			return err
		}
	}
	return nil
}

// purchaseVersion is the version of purchase_history's payload: a
// PurchaseCompleted message's JSON.
const purchaseVersion = 1

// recordPurchase keeps the purchase in its client's history.
func recordPurchase(tx *txn, p ports.PurchaseCompleted) error {
	payload, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode purchase: %w", err)
	}
	_, err = tx.exec(`INSERT INTO purchase_history (client, at, order_id, version, payload) VALUES (?, ?, ?, ?, ?)`,
		p.Client, formatTime(p.At), p.OrderID, purchaseVersion, string(payload))
	return err
}

// purchaseCursor is where a page of a client's purchases ends.
type purchaseCursor struct {
	Client  string `json:"c"`
	At      string `json:"a"`
	OrderID string `json:"o"`
}

func (s *SalesTallies) Purchases(ctx context.Context, client string, since time.Time, cursor string, limit int) ([]ports.PurchaseCompleted, string, error) {
	var after purchaseCursor
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err == nil {
			err = json.Unmarshal(b, &after)
		}
		if err == nil && (after.Client != client || after.At == "") {
			err = errors.New("not the end of a page of the client's purchases")
		}
		if err != nil {
			return nil, "", fmt.Errorf("purchases of %s: %w: %v", client, ports.ErrBadCursor, err)
		}
	}
	limit = max(limit, 1)
	// One more than the page tells whether another follows.
	rows, err := s.db.query(ctx, `SELECT at, order_id, version, payload FROM purchase_history
		WHERE client = ? AND at >= ? AND (at > ? OR at = ? AND order_id > ?) ORDER BY at, order_id LIMIT ?`,
		client, formatTime(since), after.At, after.At, after.OrderID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("purchases of %s: %w", client, err)
	}
	defer rows.Close()
	var out []ports.PurchaseCompleted
	var last purchaseCursor
	for rows.Next() {
		if len(out) == limit {
			next, err := json.Marshal(last)
			if err != nil {
				return nil, "", err
			}
			return out, base64.RawURLEncoding.EncodeToString(next), nil
		}
		var version int
		var payload string
		last = purchaseCursor{Client: client}
		if err := rows.Scan(&last.At, &last.OrderID, &version, &payload); err != nil {
			return nil, "", fmt.Errorf("purchases of %s: %w", client, err)
		}
		if version != purchaseVersion {
			return nil, "", fmt.Errorf("purchase %s of %s is stored at version %d, which this program does not read", last.OrderID, client, version)
		}
		var p ports.PurchaseCompleted
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			return nil, "", fmt.Errorf("decode purchase %s of %s: %w", last.OrderID, client, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("purchases of %s: %w", client, err)
	}
	return out, "", nil
}

func (s *SalesTallies) Awards(ctx context.Context, client string, since time.Time) ([]ports.CampaignDay, error) {
	rows, err := s.db.query(ctx, `SELECT day, campaign_name, points, orders FROM campaign_awards
		WHERE client = ? AND day >= ? ORDER BY day, campaign_name`, client, since.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("campaign awards of %s: %w", client, err)
	}
	defer rows.Close()
	var out []ports.CampaignDay
	for rows.Next() {
		var d ports.CampaignDay
		if err := rows.Scan(&d.Day, &d.Campaign, &d.Points, &d.Orders); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *SalesTallies) List(ctx context.Context) ([]ports.Tally, error) {
	rows, err := s.db.query(ctx, `SELECT product_id, name, orders, units, revenue FROM sales_tallies ORDER BY units DESC, product_id`)
	if err != nil {
		return nil, fmt.Errorf("sales tallies: %w", err)
	}
	defer rows.Close()
	var out []ports.Tally
	for rows.Next() {
		var t ports.Tally
		var revenue string
		if err := rows.Scan(&t.ProductID, &t.Name, &t.Orders, &t.Units, &revenue); err != nil {
			return nil, err
		}
		if t.Revenue, err = decimal.NewFromString(revenue); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
