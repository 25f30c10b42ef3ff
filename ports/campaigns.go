package ports

import (
	"context"
	"encoding/json"
	"time"
)

// CampaignRecord is one version of a campaign as stored. Definition is the
// domain's own encoding; storage only keys and versions it.
type CampaignRecord struct {
	Client     string
	Name       string
	Version    int64 // 1 for the first, then +1 for every change
	Definition json.RawMessage
	UpdatedAt  time.Time
	UpdatedBy  string
	// Deleted marks the version that deleted the campaign. Its name can be
	// used again; versions continue from there.
	Deleted bool
}

// Campaigns stores versioned campaigns, their history and their budgets.
type Campaigns interface {
	// Get returns the current version of a campaign, deleted or not, or
	// ErrNotFound if the name was never used.
	Get(ctx context.Context, client, name string) (CampaignRecord, error)
	// List returns the current version of every campaign of the client
	// that is not deleted ("" client: of every client), by name.
	List(ctx context.Context, client string) ([]CampaignRecord, error)
	// Save stores rec as the campaign's new current version and appends it
	// to its history. rec.Version must be the current version + 1 (1 for a
	// new name), otherwise ErrConflict and nothing is written.
	Save(ctx context.Context, rec CampaignRecord) error
	// History returns every version of a campaign, oldest first, or
	// ErrNotFound.
	History(ctx context.Context, client, name string) ([]CampaignRecord, error)
	// Grant reserves up to want points of the campaign's budget for key
	// and returns how many were granted: min(want, budget - awarded), not
	// below 0. A repeat with the same key returns the first grant and
	// reserves nothing more.
	Grant(ctx context.Context, client, name, key string, want, budget int64) (int64, error)
	// Awarded returns the points granted so far from the campaign's budget.
	Awarded(ctx context.Context, client, name string) (int64, error)
}
