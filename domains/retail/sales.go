package retail

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Sales is the per-product sales view and the per-campaign points view,
// built from PurchaseCompleted events.
type Sales struct {
	tallies ports.SalesTallies
	clock   ports.Clock
}

// NewSales returns the sales views; the clock says which day is today.
func NewSales(t ports.SalesTallies, clock ports.Clock) *Sales {
	return &Sales{tallies: t, clock: clock}
}

// Record counts a delivered PurchaseCompleted message, once per order.
func (s *Sales) Record(ctx context.Context, m ports.Message) error {
	var p ports.PurchaseCompleted
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return fmt.Errorf("decode purchase %s: %w", m.Key, err)
	}
	return s.tallies.Record(ctx, p)
}

// Tallies lists the sales per product, best sellers first.
func (s *Sales) Tallies(ctx context.Context) ([]ports.Tally, error) {
	out, err := s.tallies.List(ctx)
	if out == nil {
		out = []ports.Tally{}
	}
	return out, err
}

// MaxAwardDays is the longest window of CampaignAwards: a year, leap day
// included.
const MaxAwardDays = 366

// CampaignAwards is what a client's campaigns gave per day, from Since on.
type CampaignAwards struct {
	Client string              `json:"client"`
	Since  string              `json:"since"` // 2026-11-21
	Items  []ports.CampaignDay `json:"items"`
}

// CampaignAwards lists what client's campaigns gave per day over the last
// days days (UTC), today included, by day then campaign.
func (s *Sales) CampaignAwards(ctx context.Context, client string, days int) (CampaignAwards, error) {
	if days < 1 || days > MaxAwardDays {
		return CampaignAwards{}, invalid("days", "days is a whole number from 1 to %d", MaxAwardDays)
	}
	now := s.clock.Now().UTC()
	since := time.Date(now.Year(), now.Month(), now.Day()-(days-1), 0, 0, 0, 0, time.UTC)
	items, err := s.tallies.Awards(ctx, client, since)
	if items == nil {
		items = []ports.CampaignDay{}
	}
	return CampaignAwards{Client: client, Since: since.Format(time.DateOnly), Items: items}, err
}
