package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Webhooks stores webhook endpoints and the delivery log
// (ports.Webhooks). The pending deliveries are indexed by when they are
// due, which is the one-machine worker's queue; the finished ones by when
// they were created, which is the order the worker forgets them in.
type Webhooks struct{ db *DB }

// Webhooks returns the webhook endpoints and deliveries in db.
func (db *DB) Webhooks() *Webhooks { return &Webhooks{db: db} }

var _ ports.Webhooks = (*Webhooks)(nil)

const endpointColumns = `id, client, url, events, secret, expiring_days, active, created_at, updated_at, version`

func scanEndpoint(s scanner) (ports.WebhookEndpoint, error) {
	var e ports.WebhookEndpoint
	var events, created, updated string
	if err := s.Scan(&e.ID, &e.Client, &e.URL, &events, &e.Secret, &e.ExpiringDays, &e.Active, &created, &updated, &e.Version); err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(events), &e.Events); err != nil {
		return e, fmt.Errorf("events: %w", err)
	}
	var err error
	if e.CreatedAt, err = parseTime(created); err != nil {
		return e, err
	}
	e.UpdatedAt, err = parseTime(updated)
	return e, err
}

func (s *Webhooks) SaveEndpoint(ctx context.Context, e ports.WebhookEndpoint) error {
	events, err := json.Marshal(e.Events)
	if err != nil {
		return fmt.Errorf("save webhook endpoint %s: %w", e.ID, err)
	}
	err = s.db.tx(ctx, func(tx *txn) error {
		if e.Version == 1 {
			_, err := tx.exec(`INSERT INTO webhook_endpoints (`+endpointColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.ID, e.Client, e.URL, string(events), e.Secret, e.ExpiringDays, e.Active, formatTime(e.CreatedAt), formatTime(e.UpdatedAt), e.Version)
			if isConstraint(err) {
				return ports.ErrConflict
			}
			return err
		}
		res, err := tx.exec(`UPDATE webhook_endpoints SET url = ?, events = ?, secret = ?, expiring_days = ?, active = ?, updated_at = ?, version = ?
			WHERE id = ? AND client = ? AND version = ?`,
			e.URL, string(events), e.Secret, e.ExpiringDays, e.Active, formatTime(e.UpdatedAt), e.Version, e.ID, e.Client, e.Version-1)
		if err != nil {
			return err
		}
		return s.missedWhy(tx, res, e.Client, e.ID)
	})
	if err != nil {
		return fmt.Errorf("save webhook endpoint %s: %w", e.ID, err)
	}
	return nil
}

// missedWhy tells, after a conditional write of an endpoint, whether it
// hit: ErrNotFound when the client has no such endpoint, ErrConflict when
// it is at another version.
func (s *Webhooks) missedWhy(tx *txn, res sql.Result, client, id string) error {
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return err
	}
	var one int
	switch err := tx.queryRow(`SELECT 1 FROM webhook_endpoints WHERE id = ? AND client = ?`, id, client).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return ports.ErrNotFound
	case err != nil:
		return err
	}
	return ports.ErrConflict
}

func (s *Webhooks) Endpoint(ctx context.Context, client, id string) (ports.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.db.queryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ? AND client = ?`, id, client))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, ports.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

func (s *Webhooks) Endpoints(ctx context.Context, client string) ([]ports.WebhookEndpoint, error) {
	rows, err := s.db.query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE client = ? ORDER BY created_at, id`, client)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints of %s: %w", client, err)
	}
	defer rows.Close()
	var out []ports.WebhookEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("webhook endpoints of %s: %w", client, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook endpoints of %s: %w", client, err)
	}
	return out, nil
}

func (s *Webhooks) DeleteEndpoint(ctx context.Context, client, id string, version int64) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		res, err := tx.exec(`DELETE FROM webhook_endpoints WHERE id = ? AND client = ? AND version = ?`, id, client, version)
		if err != nil {
			return err
		}
		return s.missedWhy(tx, res, client, id)
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
	}
	return nil
}

const deliveryColumns = `id, client, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, last_attempt_at,
	last_status, last_error, replays, created_at, updated_at, version`

func scanDelivery(s scanner) (ports.WebhookDelivery, error) {
	var d ports.WebhookDelivery
	var payload, next, last, created, updated string
	if err := s.Scan(&d.ID, &d.Client, &d.EndpointID, &d.EventID, &d.EventType, &payload, &d.Status, &d.Attempts, &next, &last,
		&d.LastStatus, &d.LastError, &d.Replays, &created, &updated, &d.Version); err != nil {
		return d, err
	}
	d.Payload = json.RawMessage(payload)
	var err error
	for _, t := range []struct {
		dst *time.Time
		src string
	}{{&d.NextAttemptAt, next}, {&d.LastAttemptAt, last}, {&d.CreatedAt, created}, {&d.UpdatedAt, updated}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return d, err
		}
	}
	return d, nil
}

func (s *Webhooks) Enqueue(ctx context.Context, deliveries ...ports.WebhookDelivery) (int, error) {
	if len(deliveries) == 0 {
		return 0, nil
	}
	created := 0
	err := s.db.tx(ctx, func(tx *txn) error {
		created = 0
		for _, d := range deliveries {
			res, err := tx.exec(`INSERT INTO webhook_deliveries (`+deliveryColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				d.ID, d.Client, d.EndpointID, d.EventID, d.EventType, string(d.Payload), d.Status, d.Attempts,
				formatTime(d.NextAttemptAt), formatTime(d.LastAttemptAt), d.LastStatus, d.LastError, d.Replays,
				formatTime(d.CreatedAt), formatTime(d.UpdatedAt), d.Version)
			if err != nil {
				return fmt.Errorf("delivery %s: %w", d.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				created++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue webhook deliveries: %w", err)
	}
	return created, nil
}

func (s *Webhooks) Delivery(ctx context.Context, id string) (ports.WebhookDelivery, error) {
	d, err := scanDelivery(s.db.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("webhook delivery %s: %w", id, ports.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("webhook delivery %s: %w", id, err)
	}
	return d, nil
}

func (s *Webhooks) UpdateDelivery(ctx context.Context, d ports.WebhookDelivery) error {
	err := s.db.tx(ctx, func(tx *txn) error {
		res, err := tx.exec(`UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt_at = ?, last_status = ?,
			last_error = ?, replays = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			d.Status, d.Attempts, formatTime(d.NextAttemptAt), formatTime(d.LastAttemptAt), d.LastStatus, d.LastError, d.Replays,
			formatTime(d.UpdatedAt), d.Version, d.ID, d.Version-1)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var one int
		if err := tx.queryRow(`SELECT 1 FROM webhook_deliveries WHERE id = ?`, d.ID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ports.ErrNotFound
		} else if err != nil {
			return err
		}
		return ports.ErrConflict
	})
	if err != nil {
		return fmt.Errorf("update webhook delivery %s: %w", d.ID, err)
	}
	return nil
}

func (s *Webhooks) listDeliveries(ctx context.Context, query string, args ...any) ([]ports.WebhookDelivery, error) {
	rows, err := s.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ports.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Deliveries pages newest first; the cursor is the last delivery's
// created_at and id.
func (s *Webhooks) Deliveries(ctx context.Context, client, endpointID, cursor string, limit int) ([]ports.WebhookDelivery, string, error) {
	at, id := "9999", ""
	if cursor != "" {
		var ok bool
		if at, id, ok = strings.Cut(cursor, "|"); !ok {
			return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, ports.ErrBadCursor)
		}
	}
	where, args := `client = ?`, []any{client}
	if endpointID != "" {
		where, args = `client = ? AND endpoint_id = ?`, append(args, endpointID)
	}
	out, err := s.listDeliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE `+where+`
		AND (created_at < ? OR created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, at, at, id, limit)...)
	if err != nil {
		return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, err)
	}
	if len(out) < limit {
		return out, "", nil
	}
	last := out[len(out)-1]
	return out, formatTime(last.CreatedAt) + "|" + last.ID, nil
}

func (s *Webhooks) ForgetDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int64
	err := s.db.tx(ctx, func(tx *txn) error {
		res, err := tx.exec(`DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE status <> 'pending' AND created_at < ? ORDER BY created_at, id LIMIT ?)`, formatTime(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("forget webhook deliveries: %w", err)
	}
	return int(n), nil
}

func (s *Webhooks) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]ports.WebhookDelivery, error) {
	out, err := s.listDeliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, formatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due webhook deliveries: %w", err)
	}
	return out, nil
}
