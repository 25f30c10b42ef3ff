package campaign

import (
	"context"
	"errors"
	"fmt"

	"github.com/unicornstore/unicorn/ports"
)

// budget is a campaign's budget as it stands: how many points it holds in
// all and how many it has granted.
type budget struct {
	size, awarded int64
}

// grant is how many of want points the budget gives: what is left of it at
// most, never below zero (an overspent budget, after its size was lowered,
// gives nothing).
func (b budget) grant(want int64) int64 {
	return max(0, min(want, b.size-b.awarded))
}

// grantAttempts bounds the retries of one grant that lost a race: each lost
// race means another award was granted, so it ends.
const grantAttempts = 50

// grant takes up to want points from the campaign's budget for key, once:
// a repeat with the same key returns the first grant. The total is
// written on condition that it is still the one the grant was decided on.
func (s *Service) grant(ctx context.Context, c *Campaign, key string, want int64) (int64, error) {
	for range grantAttempts {
		rec, err := s.store.Budget(ctx, c.draft.Client, c.draft.Name, key)
		if err != nil {
			return 0, err
		}
		if rec.HasGrant {
			return rec.Granted, nil
		}
		granted := budget{size: c.draft.Budget, awarded: rec.Awarded}.grant(want)
		err = s.store.Grant(ctx, c.draft.Client, c.draft.Name, key, rec.Awarded, granted)
		if errors.Is(err, ports.ErrConflict) {
			continue // another award moved the total, or this key was granted meanwhile
		}
		if err != nil {
			return 0, err
		}
		return granted, nil
	}
	return 0, fmt.Errorf("grant from the budget of %s/%s: %d attempts lost to concurrent awards: %w", c.draft.Client, c.draft.Name, grantAttempts, ports.ErrConflict)
}
