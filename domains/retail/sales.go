package retail

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/unicornstore/unicorn/ports"
)

// Sales is the per-product sales view, built from PurchaseCompleted events.
type Sales struct{ tallies ports.SalesTallies }

// NewSales returns the sales view.
func NewSales(t ports.SalesTallies) *Sales { return &Sales{tallies: t} }

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
