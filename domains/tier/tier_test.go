package tier

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func threeTiers(t *testing.T) Rules {
	t.Helper()
	r, err := NewRules([]Tier{{"gold", 5000, d("1.5")}, {"member", 0, d("1")}, {"silver", 1000, d("1.25")}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTierOfWhatWasEarned(t *testing.T) {
	r := threeTiers(t)
	if r.WindowDays() != 365 {
		t.Errorf("window = %d, want a rolling 12 months (365)", r.WindowDays())
	}
	tests := []struct {
		earned     int64
		tier       string
		next       string
		needs      int64
		hasNext    bool
		multiplier string
	}{
		{0, "member", "silver", 1000, true, "1"},
		{999, "member", "silver", 1, true, "1"},
		{1000, "silver", "gold", 4000, true, "1.25"},
		{4999, "silver", "gold", 1, true, "1.25"},
		{5000, "gold", "", 0, false, "1.5"},
		{1_000_000, "gold", "", 0, false, "1.5"},
	}
	for _, tt := range tests {
		got := r.For(tt.earned)
		next, needs, ok := r.Next(tt.earned)
		if got.Name != tt.tier || !got.Multiplier.Equal(d(tt.multiplier)) || next.Name != tt.next || needs != tt.needs || ok != tt.hasNext {
			t.Errorf("earned %d: tier %s ×%s, next %q needs %d (%v); want %s ×%s, %q needs %d", tt.earned, got.Name, got.Multiplier,
				next.Name, needs, ok, tt.tier, tt.multiplier, tt.next, tt.needs)
		}
	}
	if name, reason := r.Tier(1200); name != "silver" || reason != "1200 points earned in the last 365 days; silver needs 1000" {
		t.Errorf("policy = %q, %q", name, reason)
	}
}

func TestRulesAreChecked(t *testing.T) {
	tests := []struct {
		name   string
		tiers  []Tier
		window int
		field  string
	}{
		{"none", nil, 0, "tiers"},
		{"no tier from 0", []Tier{{"silver", 10, d("1")}}, 0, "tiers"},
		{"same name", []Tier{{"a", 0, d("1")}, {"a", 10, d("1")}}, 0, "tiers[1].name"},
		{"same points", []Tier{{"a", 0, d("1")}, {"b", 0, d("1")}}, 0, "tiers"},
		{"bad name", []Tier{{"a b", 0, d("1")}}, 0, "tiers[0].name"},
		{"negative points", []Tier{{"a", 0, d("1")}, {"b", -1, d("1")}}, 0, "tiers[1].min_points"},
		{"multiplier too big", []Tier{{"a", 0, d("10.01")}}, 0, "tiers[0].multiplier"},
		{"multiplier too precise", []Tier{{"a", 0, d("1.001")}}, 0, "tiers[0].multiplier"},
		{"window too long", []Tier{{"a", 0, d("1")}}, 731, "window_days"},
		{"window negative", []Tier{{"a", 0, d("1")}}, -1, "window_days"},
	}
	for _, tt := range tests {
		_, err := NewRules(tt.tiers, tt.window)
		var fe *ports.FieldError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: err = %v, want invalid %s", tt.name, err, tt.field)
		}
	}
}

func TestRulesRoundTrip(t *testing.T) {
	r := threeTiers(t)
	raw, err := r.encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Tiers()) != 3 || back.Tiers()[1].Name != "silver" || !back.Tiers()[2].Multiplier.Equal(d("1.5")) || back.WindowDays() != 365 {
		t.Errorf("decoded = %+v", back)
	}
}
