package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/unicornstore/unicorn/ports"
)

// Campaigns stores versioned campaigns and their budgets (ports.Campaigns).
type Campaigns struct{ db *DB }

// Campaigns returns the campaign store in db.
func (db *DB) Campaigns() *Campaigns { return &Campaigns{db: db} }

var _ ports.Campaigns = (*Campaigns)(nil)

const campaignColumns = `client, name, version, definition, updated_at, updated_by, deleted`

type scanner interface{ Scan(dest ...any) error }

func scanCampaign(s scanner) (ports.CampaignRecord, error) {
	var r ports.CampaignRecord
	var def, at string
	if err := s.Scan(&r.Client, &r.Name, &r.Version, &def, &at, &r.UpdatedBy, &r.Deleted); err != nil {
		return r, err
	}
	r.Definition = json.RawMessage(def)
	var err error
	r.UpdatedAt, err = parseTime(at)
	return r, err
}

func (c *Campaigns) Get(ctx context.Context, client, name string) (ports.CampaignRecord, error) {
	r, err := scanCampaign(c.db.queryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE client = ? AND name = ?`, client, name))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("campaign %s/%s: %w", client, name, ports.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("campaign %s/%s: %w", client, name, err)
	}
	return r, nil
}

func (c *Campaigns) list(ctx context.Context, query string, args ...any) ([]ports.CampaignRecord, error) {
	rows, err := c.db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ports.CampaignRecord
	for rows.Next() {
		r, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (c *Campaigns) List(ctx context.Context, client string) ([]ports.CampaignRecord, error) {
	var out []ports.CampaignRecord
	var err error
	if client == "" {
		out, err = c.list(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE deleted = 0 ORDER BY client, name`)
	} else {
		out, err = c.list(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE client = ? AND deleted = 0 ORDER BY name`, client)
	}
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return out, nil
}

func (c *Campaigns) History(ctx context.Context, client, name string) ([]ports.CampaignRecord, error) {
	out, err := c.list(ctx, `SELECT `+campaignColumns+` FROM campaign_versions WHERE client = ? AND name = ? ORDER BY version`, client, name)
	if err != nil {
		return nil, fmt.Errorf("history of campaign %s/%s: %w", client, name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("history of campaign %s/%s: %w", client, name, ports.ErrNotFound)
	}
	return out, nil
}

func (c *Campaigns) Save(ctx context.Context, r ports.CampaignRecord) error {
	err := c.db.tx(ctx, func(tx *txn) error {
		var current int64
		err := tx.queryRow(`SELECT version FROM campaigns WHERE client = ? AND name = ?`, r.Client, r.Name).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if r.Version != current+1 {
			return fmt.Errorf("version %d after %d: %w", r.Version, current, ports.ErrConflict)
		}
		args := []any{r.Client, r.Name, r.Version, string(r.Definition), formatTime(r.UpdatedAt), r.UpdatedBy, r.Deleted}
		if _, err := tx.exec(`INSERT INTO campaigns (`+campaignColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (client, name) DO UPDATE SET version = excluded.version, definition = excluded.definition,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by, deleted = excluded.deleted`, args...); err != nil {
			return err
		}
		_, err = tx.exec(`INSERT INTO campaign_versions (`+campaignColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("save campaign %s/%s: %w", r.Client, r.Name, err)
	}
	return nil
}

func (c *Campaigns) Budget(ctx context.Context, client, name, key string) (ports.BudgetRecord, error) {
	var b ports.BudgetRecord
	err := c.db.queryRow(ctx, `SELECT awarded FROM campaign_budgets WHERE client = ? AND name = ?`, client, name).Scan(&b.Awarded)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err == nil {
		err = c.db.queryRow(ctx, `SELECT points FROM campaign_grants WHERE client = ? AND name = ? AND key = ?`, client, name, key).Scan(&b.Granted)
		b.HasGrant = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	}
	if err != nil {
		return b, fmt.Errorf("budget of campaign %s/%s: %w", client, name, err)
	}
	return b, nil
}

func (c *Campaigns) Grant(ctx context.Context, client, name, key string, awarded, points int64) error {
	err := c.db.tx(ctx, func(tx *txn) error {
		var current int64
		err := tx.queryRow(`SELECT awarded FROM campaign_budgets WHERE client = ? AND name = ?`, client, name).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if current != awarded {
			return fmt.Errorf("awarded is %d, not %d: %w", current, awarded, ports.ErrConflict)
		}
		res, err := tx.exec(`INSERT INTO campaign_grants (client, name, key, points) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, client, name, key, points)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("key %s has a grant already: %w", key, ports.ErrConflict)
		}
		_, err = tx.exec(`INSERT INTO campaign_budgets (client, name, awarded) VALUES (?, ?, ?)
			ON CONFLICT (client, name) DO UPDATE SET awarded = excluded.awarded`, client, name, awarded+points)
		return err
	})
	if err != nil {
		return fmt.Errorf("grant from the budget of campaign %s/%s: %w", client, name, err)
	}
	return nil
}

func (c *Campaigns) Awarded(ctx context.Context, client, name string) (int64, error) {
	var awarded int64
	err := c.db.queryRow(ctx, `SELECT awarded FROM campaign_budgets WHERE client = ? AND name = ?`, client, name).Scan(&awarded)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("budget of campaign %s/%s: %w", client, name, err)
	}
	return awarded, nil
}

func (c *Campaigns) Setting(ctx context.Context, client, name string) (ports.SettingRecord, error) {
	r := ports.SettingRecord{Client: client, Name: name}
	var def, at string
	err := c.db.queryRow(ctx, `SELECT version, definition, updated_at, updated_by FROM client_settings WHERE client = ? AND name = ?`, client, name).
		Scan(&r.Version, &def, &at, &r.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%s of %s: %w", name, client, ports.ErrNotFound)
	}
	if err == nil {
		r.Definition = json.RawMessage(def)
		r.UpdatedAt, err = parseTime(at)
	}
	if err != nil {
		return r, fmt.Errorf("%s of %s: %w", name, client, err)
	}
	return r, nil
}

func (c *Campaigns) SaveSetting(ctx context.Context, r ports.SettingRecord) error {
	err := c.db.tx(ctx, func(tx *txn) error {
		var current int64
		err := tx.queryRow(`SELECT version FROM client_settings WHERE client = ? AND name = ?`, r.Client, r.Name).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if r.Version != current+1 {
			return fmt.Errorf("version %d after %d: %w", r.Version, current, ports.ErrConflict)
		}
		_, err = tx.exec(`INSERT INTO client_settings (client, name, version, definition, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (client, name) DO UPDATE SET version = excluded.version, definition = excluded.definition,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			r.Client, r.Name, r.Version, string(r.Definition), formatTime(r.UpdatedAt), r.UpdatedBy)
		return err
	})
	if err != nil {
		return fmt.Errorf("save %s of %s: %w", r.Name, r.Client, err)
	}
	return nil
}
