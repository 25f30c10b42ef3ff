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
	// Budget reads a campaign's budget record: the points granted so far
	// from it (0 when nothing was), and the grant made under key, if any.
	Budget(ctx context.Context, client, name, key string) (BudgetRecord, error)
	// Grant records that points were granted under key, raising the
	// awarded total from awarded (as Budget read it) to awarded + points.
	// If the total is no longer awarded, or key has a grant already, it
	// returns ErrConflict and writes nothing. It decides nothing: how many
	// points a budget may give is the domain's rule.
	Grant(ctx context.Context, client, name, key string, awarded, points int64) error
	// Awarded returns the points granted so far from the campaign's budget.
	Awarded(ctx context.Context, client, name string) (int64, error)
	// Setting returns one of the client's loyalty settings by name (its
	// ceiling on points per purchase, its tiers), or ErrNotFound if the
	// client has none of its own.
	Setting(ctx context.Context, client, name string) (SettingRecord, error)
	// SaveSetting stores rec as the client's setting of rec.Name.
	// rec.Version must be the current version + 1 (1 for the first),
	// otherwise ErrConflict and nothing is written.
	SaveSetting(ctx context.Context, rec SettingRecord) error
}

// Names of the client settings.
const (
	SettingCeiling = "ceiling"
	SettingTiers   = "tiers"
)

// SettingRecord is a client's setting as stored: the domain's own
// encoding, versioned.
type SettingRecord struct {
	Client     string
	Name       string // SettingCeiling, SettingTiers
	Version    int64
	Definition json.RawMessage
	UpdatedAt  time.Time
	UpdatedBy  string
}

// BudgetRecord is a campaign's budget as stored, read for one award key.
type BudgetRecord struct {
	Awarded int64 // points granted so far, by every key
	Granted int64 // points granted under the key, when HasGrant
	// HasGrant says whether the key has a grant (which may be 0 points).
	HasGrant bool
}
