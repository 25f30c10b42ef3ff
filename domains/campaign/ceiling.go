package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Ceiling is the most points one purchase may earn from a client's
// campaigns, relative to what it cost: PerAmount points for each 1.00 of
// the purchase's amount ($.amount), plus a Fixed allowance. A purchase
// without an amount (or a negative one) may earn the allowance.
//
// Evaluation caps every purchase at its ceiling, and a campaign that can
// exceed it cannot be made active. The zero Ceiling is no ceiling: a
// client's is never zero (NewCeiling refuses it).
type Ceiling struct {
	perAmount decimal.Decimal
	fixed     int64
}

// Bounds of a ceiling.
const (
	maxCeilingPerAmount = 1000 // points per 1.00
	ceilingDecimals     = 4
)

// DefaultCeiling is the ceiling of a client that has none, unless the
// server says otherwise: 1 point per 1.00 of the amount.
var DefaultCeiling = Ceiling{perAmount: decimal.NewFromInt(1)}

// NewCeiling returns the ceiling of perAmount points per 1.00 of the amount
// plus fixed points: perAmount from 0 to 1000 with at most 4 decimals,
// fixed from 0 to the most points of one command, not both 0. A ceiling
// out of bounds is a *ValidationError at points_per_amount or
// fixed_points.
func NewCeiling(perAmount decimal.Decimal, fixed int64) (Ceiling, error) {
	var p problems
	if perAmount.IsNegative() || perAmount.GreaterThan(decimal.NewFromInt(maxCeilingPerAmount)) || !perAmount.Equal(perAmount.Truncate(ceilingDecimals)) {
		p.add("points_per_amount", "points_per_amount must be from 0 to %d points per 1.00 of the amount, with at most %d decimals", maxCeilingPerAmount, ceilingDecimals)
	}
	if fixed < 0 || fixed > points.MaxAmount {
		p.add("fixed_points", "fixed_points must be from 0 to %d", points.MaxAmount)
	}
	if perAmount.IsZero() && fixed == 0 {
		p.add("points_per_amount", "a ceiling of 0 would let no campaign give points: give points per 1.00 of the amount, fixed points, or both")
	}
	if err := p.err(); err != nil {
		return Ceiling{}, err
	}
	return Ceiling{perAmount: perAmount.Truncate(ceilingDecimals), fixed: fixed}, nil
}

// ParseCeiling reads a ceiling written as String writes it: "1" (points
// per 1.00 of the amount) or "0.5+100" (plus fixed points).
func ParseCeiling(s string) (Ceiling, error) {
	const form = "write points per 1.00 of the amount, optionally + fixed points, such as 1 or 0.5+100"
	per, fixed, hasFixed := strings.Cut(strings.TrimSpace(s), "+")
	p, ok := limits.Decimal(strings.TrimSpace(per))
	if !ok {
		return Ceiling{}, fmt.Errorf("ceiling %q: %s", s, form)
	}
	var f int64
	if hasFixed {
		var err error
		if f, err = strconv.ParseInt(strings.TrimSpace(fixed), 10, 64); err != nil {
			return Ceiling{}, fmt.Errorf("ceiling %q: %s", s, form)
		}
	}
	c, err := NewCeiling(p, f)
	var ve *ValidationError
	if errors.As(err, &ve) {
		return Ceiling{}, fmt.Errorf("ceiling %q: %s", s, ve.Problems[0].Message)
	}
	return c, err
}

// String writes the ceiling as ParseCeiling reads it.
func (c Ceiling) String() string {
	if c.fixed == 0 {
		return c.perAmount.String()
	}
	return c.perAmount.String() + "+" + strconv.FormatInt(c.fixed, 10)
}

// Describe says the ceiling in words.
func (c Ceiling) Describe() string {
	s := c.perAmount.String() + " points per 1.00 of the amount"
	if c.perAmount.Equal(decimal.NewFromInt(1)) {
		s = "1 point per 1.00 of the amount"
	}
	if c.fixed > 0 {
		s += fmt.Sprintf(" plus %d points", c.fixed)
	}
	return s
}

func (c Ceiling) IsZero() bool               { return c.perAmount.IsZero() && c.fixed == 0 }
func (c Ceiling) PerAmount() decimal.Decimal { return c.perAmount }
func (c Ceiling) Fixed() int64               { return c.fixed }
func (c Ceiling) Equal(o Ceiling) bool       { return c.perAmount.Equal(o.perAmount) && c.fixed == o.fixed }

// points is the most points a purchase of amount may earn (amount absent:
// ok false).
func (c Ceiling) points(amount num, ok bool) int64 {
	if !ok || amount.sign() <= 0 {
		return c.fixed
	}
	p := c.perAmount.Mul(amount.dec()).Floor().Add(decimal.NewFromInt(c.fixed))
	if p.GreaterThan(decimal.NewFromInt(points.MaxAmount)) {
		return points.MaxAmount
	}
	return p.IntPart()
}

// storedCeiling is a ceiling as stored (version 1 of its encoding).
type storedCeiling struct {
	V         int             `json:"v"`
	PerAmount decimal.Decimal `json:"points_per_amount"`
	Fixed     int64           `json:"fixed_points"`
}

func (c Ceiling) encode() ([]byte, error) {
	return json.Marshal(storedCeiling{V: 1, PerAmount: c.perAmount, Fixed: c.fixed})
}

func decodeCeiling(b []byte) (Ceiling, error) {
	var s storedCeiling
	if err := json.Unmarshal(b, &s); err != nil {
		return Ceiling{}, fmt.Errorf("decode stored ceiling: %w", err)
	}
	if s.V != 1 {
		return Ceiling{}, fmt.Errorf("decode stored ceiling: unknown version %d", s.V)
	}
	return NewCeiling(s.PerAmount, s.Fixed)
}

// ClientCeiling is a client's ceiling: its own (Version from 1), or the
// server's default (Version 0).
type ClientCeiling struct {
	Client    string
	Ceiling   Ceiling
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
}

// Ceiling returns the client's ceiling.
func (s *Service) Ceiling(ctx context.Context, client string) (ClientCeiling, error) {
	rec, err := s.store.Setting(ctx, client, ports.SettingCeiling)
	if errors.Is(err, ports.ErrNotFound) {
		return ClientCeiling{Client: client, Ceiling: s.ceiling}, nil
	}
	if err != nil {
		return ClientCeiling{}, err
	}
	c, err := decodeCeiling(rec.Definition)
	if err != nil {
		return ClientCeiling{}, fmt.Errorf("ceiling of %s v%d: %w", client, rec.Version, err)
	}
	return ClientCeiling{Client: client, Ceiling: c, Version: rec.Version, UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy}, nil
}

// SetCeiling gives the client a ceiling of its own. ifVersion, when not 0,
// is the version the change was made against: any other current version
// is ErrStale. Active campaigns over the
// new ceiling stay active, capped at evaluation; they cannot be changed
// or activated again until they fit.
func (s *Service) SetCeiling(ctx context.Context, client string, c Ceiling, ifVersion int64, actor string) (ClientCeiling, error) {
	if c.IsZero() {
		return ClientCeiling{}, &ValidationError{Problems: []Problem{{Field: "points_per_amount", Message: "a ceiling is required"}}}
	}
	cur, err := s.Ceiling(ctx, client)
	if err != nil {
		return ClientCeiling{}, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return ClientCeiling{}, fmt.Errorf("the ceiling of %s is at version %d, not %d: %w", client, cur.Version, ifVersion, ErrStale)
	}
	def, err := c.encode()
	if err != nil {
		return ClientCeiling{}, fmt.Errorf("encode ceiling: %w", err)
	}
	rec := ports.SettingRecord{Client: client, Name: ports.SettingCeiling, Version: cur.Version + 1, Definition: def, UpdatedAt: s.clock.Now().UTC(), UpdatedBy: actor}
	if err := s.store.SaveSetting(ctx, rec); errors.Is(err, ports.ErrConflict) {
		return ClientCeiling{}, fmt.Errorf("the ceiling of %s changed meanwhile: %w", client, ErrStale)
	} else if err != nil {
		return ClientCeiling{}, err
	}
	return ClientCeiling{Client: client, Ceiling: c, Version: rec.Version, UpdatedAt: rec.UpdatedAt, UpdatedBy: actor}, nil
}
