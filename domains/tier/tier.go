// Package tier holds membership tiers: the rules a client sets (how many
// points earned over a rolling window each tier needs, and the multiplier
// its campaigns may read), and a member's standing against them. Tier
// changes are recorded in the member's points ledger (points.TierChanged),
// with the points earned that decided them. Decision 0018.
package tier

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Bounds of a client's tiers.
const (
	MaxTiers          = limits.TiersPerClient
	DefaultWindowDays = 365 // a rolling 12 months
	nameChars         = 32
)

// Tier is one level of membership: who earned at least MinPoints in the
// window is in it (the highest such tier), and campaigns may multiply by
// its Multiplier ($.customer.tier_multiplier).
type Tier struct {
	Name       string
	MinPoints  int64
	Multiplier decimal.Decimal
}

// Rules are a client's tiers, lowest first; the first needs 0 points, so
// every member is in one.
type Rules struct {
	tiers      []Tier
	windowDays int
}

// Errors.
var (
	ErrInvalid = ports.ErrInvalid // a *ports.FieldError names the field
	ErrStale   = errors.New("the tiers changed since the version given")
)

// NewRules checks a client's tiers: 1 to MaxTiers, names unique (1 to 32
// characters of an id), the first from 0 points and each next needing more
// than the one before, multipliers from 0 to 10 with at most 2 decimals, a
// window of 1 to 730 days (0: a rolling 12 months). Tiers may come in any
// order; they are kept lowest first.
func NewRules(tiers []Tier, windowDays int) (Rules, error) {
	if windowDays == 0 {
		windowDays = DefaultWindowDays
	}
	switch {
	case windowDays < 1 || windowDays > points.MaxTierWindowDays:
		return Rules{}, ports.Invalid("window_days", "a window is 1 to %d days", points.MaxTierWindowDays)
	case len(tiers) < 1 || len(tiers) > MaxTiers:
		return Rules{}, ports.Invalid("tiers", "a client has 1 to %d tiers", MaxTiers)
	}
	sorted := slices.Clone(tiers)
	slices.SortStableFunc(sorted, func(a, b Tier) int { return cmp.Compare(a.MinPoints, b.MinPoints) })
	seen := map[string]bool{}
	for i, t := range tiers {
		field := func(f string) string { return fmt.Sprintf("tiers[%d].%s", i, f) }
		switch {
		case len(t.Name) > nameChars || !limits.ID.MatchString(t.Name):
			return Rules{}, ports.Invalid(field("name"), "a tier's name is 1 to %d characters from A-Z a-z 0-9 . _ @ : -", nameChars)
		case seen[t.Name]:
			return Rules{}, ports.Invalid(field("name"), "two tiers are named %q", t.Name)
		case t.MinPoints < 0 || t.MinPoints > points.MaxAmount:
			return Rules{}, ports.Invalid(field("min_points"), "min_points is from 0 to %d", points.MaxAmount)
		case t.Multiplier.IsNegative() || t.Multiplier.GreaterThan(decimal.NewFromInt(limits.MaxTierMultiplier)) || !t.Multiplier.Equal(t.Multiplier.Truncate(2)):
			return Rules{}, ports.Invalid(field("multiplier"), "a multiplier is from 0 to %d with at most 2 decimals", limits.MaxTierMultiplier)
		}
		seen[t.Name] = true
	}
	if sorted[0].MinPoints != 0 {
		return Rules{}, ports.Invalid("tiers", "the lowest tier needs 0 points, so that every member is in one")
	}
	for i := 1; i < len(sorted); i++ {
		if sorted[i].MinPoints == sorted[i-1].MinPoints {
			return Rules{}, ports.Invalid("tiers", "tiers %q and %q need the same points", sorted[i-1].Name, sorted[i].Name)
		}
	}
	return Rules{tiers: sorted, windowDays: windowDays}, nil
}

// Tiers are the tiers, lowest first.
func (r Rules) Tiers() []Tier { return slices.Clone(r.tiers) }

// WindowDays is how many days back points earned count, today included.
func (r Rules) WindowDays() int { return r.windowDays }

// IsZero reports whether these are no rules (a client without tiers).
func (r Rules) IsZero() bool { return len(r.tiers) == 0 }

// For is the tier of a member who earned that much in the window.
func (r Rules) For(earned int64) Tier {
	i, _ := slices.BinarySearchFunc(r.tiers, earned+1, func(t Tier, e int64) int { return cmp.Compare(t.MinPoints, e) })
	return r.tiers[max(i-1, 0)]
}

// Tier implements points.TierPolicy: the tier, and the reason recorded
// with a change to it.
func (r Rules) Tier(earned int64) (string, string) {
	t := r.For(earned)
	return t.Name, fmt.Sprintf("%d points earned in the last %d days; %s needs %d", earned, r.windowDays, t.Name, t.MinPoints)
}

// Next is the tier above a member who earned that much, and how many more
// points it needs; ok is false at the top.
func (r Rules) Next(earned int64) (next Tier, needs int64, ok bool) {
	for _, t := range r.tiers {
		if t.MinPoints > earned {
			return t, t.MinPoints - earned, true
		}
	}
	return Tier{}, 0, false
}

// stored is the encoding of Rules in a client's settings.
type stored struct {
	WindowDays int `json:"window_days"`
	Tiers      []struct {
		Name       string          `json:"name"`
		MinPoints  int64           `json:"min_points"`
		Multiplier decimal.Decimal `json:"multiplier"`
	} `json:"tiers"`
}

func (r Rules) encode() (json.RawMessage, error) {
	s := stored{WindowDays: r.windowDays}
	for _, t := range r.tiers {
		s.Tiers = append(s.Tiers, struct {
			Name       string          `json:"name"`
			MinPoints  int64           `json:"min_points"`
			Multiplier decimal.Decimal `json:"multiplier"`
		}{t.Name, t.MinPoints, t.Multiplier})
	}
	return json.Marshal(s)
}

func decode(raw json.RawMessage) (Rules, error) {
	var s stored
	if err := json.Unmarshal(raw, &s); err != nil {
		return Rules{}, err
	}
	tiers := make([]Tier, len(s.Tiers))
	for i, t := range s.Tiers {
		tiers[i] = Tier{Name: t.Name, MinPoints: t.MinPoints, Multiplier: t.Multiplier}
	}
	return NewRules(tiers, s.WindowDays)
}

// ClientRules are a client's tiers as stored: none (IsZero) for a client
// that has not set any.
type ClientRules struct {
	Client    string
	Rules     Rules
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
}

// settings is the store of the clients' settings.
type settings interface {
	Setting(ctx context.Context, client, name string) (ports.SettingRecord, error)
	SaveSetting(ctx context.Context, rec ports.SettingRecord) error
}

// Service keeps the clients' tiers and the members' standing.
type Service struct {
	store  settings
	points *points.Service
	clock  ports.Clock
}

// NewService returns the tier service.
func NewService(store settings, pts *points.Service, clock ports.Clock) (*Service, error) {
	if store == nil || pts == nil || clock == nil {
		return nil, errors.New("tier service: store, points and clock are required")
	}
	return &Service{store: store, points: pts, clock: clock}, nil
}

// Rules returns the client's tiers.
func (s *Service) Rules(ctx context.Context, client string) (ClientRules, error) {
	rec, err := s.store.Setting(ctx, client, ports.SettingTiers)
	if errors.Is(err, ports.ErrNotFound) {
		return ClientRules{Client: client}, nil
	}
	if err != nil {
		return ClientRules{}, err
	}
	r, err := decode(rec.Definition)
	if err != nil {
		return ClientRules{}, fmt.Errorf("tiers of %s v%d: %w", client, rec.Version, err)
	}
	return ClientRules{Client: client, Rules: r, Version: rec.Version, UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy}, nil
}

// SetRules gives the client new tiers. ifVersion, when not 0, is the
// version the change was made against: any other is ErrStale. Members move
// to their new tier at their next review (a purchase, a return, the sweep)
// and are shown it at once.
func (s *Service) SetRules(ctx context.Context, client string, r Rules, ifVersion int64, actor string) (ClientRules, error) {
	if r.IsZero() {
		return ClientRules{}, ports.Invalid("tiers", "a client has 1 to %d tiers", MaxTiers)
	}
	cur, err := s.Rules(ctx, client)
	if err != nil {
		return ClientRules{}, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return ClientRules{}, fmt.Errorf("the tiers of %s are at version %d, not %d: %w", client, cur.Version, ifVersion, ErrStale)
	}
	def, err := r.encode()
	if err != nil {
		return ClientRules{}, err
	}
	rec := ports.SettingRecord{Client: client, Name: ports.SettingTiers, Version: cur.Version + 1, Definition: def,
		UpdatedAt: s.clock.Now().UTC(), UpdatedBy: actor}
	if err := s.store.SaveSetting(ctx, rec); errors.Is(err, ports.ErrConflict) {
		return ClientRules{}, fmt.Errorf("the tiers of %s changed meanwhile: %w", client, ErrStale)
	} else if err != nil {
		return ClientRules{}, err
	}
	return ClientRules{Client: client, Rules: r, Version: rec.Version, UpdatedAt: rec.UpdatedAt, UpdatedBy: actor}, nil
}

// Standing is where a member stands: their tier now (decided from what
// they earned in the window as of now, so a change not yet recorded shows
// already), what they earned, and what the next tier needs.
type Standing struct {
	Account    points.AccountID
	Tier       Tier // the zero Tier (no name, multiplier 1) when the client has no tiers
	Earned     int64
	WindowDays int
	Next       *Tier
	Needs      int64 // points more to earn for Next
	// Recorded is the tier the ledger last recorded for the member.
	Recorded string
	// Tiers are the client's tiers, lowest first.
	Tiers []Tier
}

// Of returns a member's standing.
func (s *Service) Of(ctx context.Context, account points.AccountID) (Standing, error) {
	cr, err := s.Rules(ctx, account.Client())
	if err != nil {
		return Standing{}, err
	}
	st := Standing{Account: account, Tier: Tier{Multiplier: decimal.NewFromInt(1)}}
	if cr.Rules.IsZero() {
		// A client that never set tiers (they cannot be removed once set)
		// has recorded none: no need to read the member's account, which
		// every purchase's award asks for.
		return st, nil
	}
	acct, err := s.points.Load(ctx, account)
	if err != nil {
		return Standing{}, err
	}
	st.Recorded = acct.Tier()
	st.WindowDays, st.Tiers = cr.Rules.windowDays, cr.Rules.Tiers()
	st.Earned = acct.Earned(s.clock.Now(), st.WindowDays)
	st.Tier = cr.Rules.For(st.Earned)
	if next, needs, ok := cr.Rules.Next(st.Earned); ok {
		st.Next, st.Needs = &next, needs
	}
	return st, nil
}

// Multiplier is the member's tier and its multiplier, what a purchase's
// campaigns read ($.customer.tier, $.customer.tier_multiplier): no tier
// and 1 for a client without tiers.
func (s *Service) Multiplier(ctx context.Context, account points.AccountID) (string, decimal.Decimal, error) {
	st, err := s.Of(ctx, account)
	return st.Tier.Name, st.Tier.Multiplier, err
}

// Review records the member's move to the tier their points earned give
// them, if it is not the one recorded (nothing for a client without
// tiers). It is safe at any time: a second review changes nothing.
func (s *Service) Review(ctx context.Context, account points.AccountID) error {
	cr, err := s.Rules(ctx, account.Client())
	if err != nil || cr.Rules.IsZero() {
		return err
	}
	_, err = s.points.ReviewTier(ctx, account, cr.Rules)
	return err
}
