package orchestration_test

import (
	"slices"
	"testing"

	"github.com/unicornstore/unicorn/orchestration"
	"github.com/unicornstore/unicorn/orchestration/asl"
)

// TestPurchaseShape: the saga parses, every state reaches an end, and each
// forward step's Catch runs the compensations of that step and of every
// step before it, newest first, then fails the order.
func TestPurchaseShape(t *testing.T) {
	m, err := asl.Parse(orchestration.Purchase)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckShape(); err != nil {
		t.Fatal(err)
	}
	forward := []string{"ReserveStock", "RedeemPoints", "ChargeWallet", "AwardPoints", "CompleteOrder"}
	undo := map[string]string{"ReserveStock": "ReleaseStock", "RedeemPoints": "RestorePoints", "ChargeWallet": "RefundWallet",
		"AwardPoints": "ReverseAward", "CompleteOrder": "ReverseAward"}
	comps := m.Compensations()
	for i, step := range forward {
		var want []string
		for j := i; j >= 0; j-- {
			if c := undo[forward[j]]; !slices.Contains(want, c) {
				want = append(want, c)
			}
		}
		want = append(want, "FailOrder")
		got := comps[step]
		if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
			t.Errorf("%s compensates with %v, want %v first", step, got, want)
		}
	}
	// A compensation that keeps failing reaches MarkNeedsAttention.
	for _, c := range []string{"ReverseAward", "RefundWallet", "RestorePoints", "ReleaseStock", "FailOrder"} {
		if !slices.Equal(comps[c], []string{"MarkNeedsAttention"}) {
			t.Errorf("%s's Catch leads to %v, want MarkNeedsAttention", c, comps[c])
		}
	}
}
