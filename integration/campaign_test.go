package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/points"
)

// TestAwardsKeepTheBudget: 30 concurrent awards (10 orders, each sent three
// times) against a campaign with a budget of 250 points: the points issued
// equal the budget granted, never more than 250, each order is paid once,
// and the ledger holds exactly what was awarded.
func TestAwardsKeepTheBudget(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		pts := newService(t, st, clk, 365)
		svc, err := campaign.NewService(campaign.Deps{Store: st.campaigns, Points: pts, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Create(ctx, campaign.Draft{Client: "UnicornStore", Name: "launch", Budget: 250,
			Rules: json.RawMessage(`[{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":100},"action":{"command":"issue","formula":"$.amount/10"}}]`)}, "test")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		totals := map[string]int64{}
		for i := range 30 {
			wg.Go(func() {
				order := fmt.Sprint(i % 10)
				ev, err := campaign.ParseEvent(fmt.Appendf(nil, `{"client":"UnicornStore","username":"buyer-%s","order_id":%q,"amount":300}`, order, order))
				if err != nil {
					t.Error(err)
					return
				}
				a, err := svc.Award(ctx, ev, campaign.AwardKey(order), 0)
				if err != nil {
					t.Errorf("award %d: %v", i, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if prev, ok := totals[order]; ok && prev != a.Total {
					t.Errorf("order %s awarded %d and %d", order, prev, a.Total)
				}
				totals[order] = a.Total
			})
		}
		wg.Wait()
		var issued, ledger int64
		for order, total := range totals {
			issued += total
			acct, err := pts.Load(ctx, points.MustAccountID("UnicornStore", "buyer-"+order))
			if err != nil {
				t.Fatal(err)
			}
			ledger += acct.Available(clk.Now())
			if n := acct.Version(); total > 0 && n != 1 || total == 0 && n != 0 {
				t.Errorf("order %s (%d points): %d ledger events", order, total, n)
			}
		}
		awarded, err := st.campaigns.Awarded(ctx, "UnicornStore", "launch")
		if err != nil {
			t.Fatal(err)
		}
		if issued != 250 || awarded != 250 || ledger != 250 {
			t.Errorf("issued %d, budget granted %d, ledger holds %d; want 250 each", issued, awarded, ledger)
		}
	})
}
