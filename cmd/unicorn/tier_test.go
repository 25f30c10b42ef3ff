package main

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/tier"
)

// TestTiersMoveMembersAndMultiplyCampaigns: a member moves up when a
// purchase earns them enough, their next purchase's campaigns read the
// tier and its multiplier, and a return that takes the points back moves
// them down; each move is in their ledger with its reason.
func TestTiersMoveMembersAndMultiplyCampaigns(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	ctx := context.Background()
	d := decimal.RequireFromString
	rules, err := tier.NewRules([]tier.Tier{{Name: "member", MinPoints: 0, Multiplier: d("1")}, {Name: "silver", MinPoints: 150, Multiplier: d("2")},
		{Name: "gold", MinPoints: 10000, Multiplier: d("3")}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Tiers.SetRules(ctx, "UnicornStore", rules, 0, "admin"); err != nil {
		t.Fatal(err)
	}
	// Silver members earn 1 point more per 100.00, times their multiplier.
	s.must(201, "POST", "/campaigns", `{"client":"UnicornStore","campaign_name":"tier-bonus","rules":[{"variable":"$.customer.tier",`+
		`"condition":{"rule":"string_equals","value":"silver"},"action":{"command":"issue","formula":"$.amount / 100 * $.customer.tier_multiplier"}}]}`)
	derick := points.MustAccountID("UnicornStore", "derick")
	standing := func() tier.Standing {
		t.Helper()
		st, err := s.app.Tiers.Of(ctx, derick)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := standing(); st.Tier.Name != "member" || st.Next == nil || st.Next.Name != "silver" || st.Needs != 150 {
		t.Fatalf("standing before buying = %+v", st)
	}

	first := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"1","quantity":1}]}`)
	if num(first["points_awarded"]) != 170 {
		t.Fatalf("first order (a member's) = %v", first)
	}
	if st := standing(); st.Tier.Name != "silver" || st.Recorded != "silver" || st.Earned != 170 || st.Needs != 10000-170 {
		t.Errorf("standing after earning 170 = %+v", st)
	}
	second := s.must(201, "POST", "/purchase", `{"user_id":"derick","items":[{"product_id":"6","quantity":1}]}`)
	if num(second["points_awarded"]) != 65+13 {
		t.Errorf("second order (a silver member's) earned %v, want 65 + 650/100×2 = 78", second["points_awarded"])
	}

	s.must(201, "POST", "/orders/"+first["id"].(string)+"/returns", `{}`)
	if st := standing(); st.Tier.Name != "member" || st.Recorded != "member" || st.Earned != 78 || st.Needs != 72 {
		t.Errorf("standing after returning the first order = %+v", st)
	}
	var moves []string
	txs, _, err := s.app.Reads.Transactions(ctx, derick, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(txs) - 1; i >= 0; i-- {
		if tx := txs[i]; tx.Type == points.TxTierChange {
			moves = append(moves, tx.PreviousTier+"→"+tx.Tier+": "+tx.Reason)
		}
	}
	want := []string{
		"→silver: 170 points earned in the last 365 days; silver needs 150",
		"silver→member: 78 points earned in the last 365 days; member needs 0",
	}
	if len(moves) != len(want) || moves[0] != want[0] || moves[1] != want[1] {
		t.Errorf("tier moves in the ledger = %q, want %q", moves, want)
	}
}
