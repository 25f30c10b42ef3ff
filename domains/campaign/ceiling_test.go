package campaign

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseCeiling(t *testing.T) {
	tests := []struct {
		text, canonical, words string
	}{
		{"1", "1", "1 point per 1.00 of the amount"},
		{" 0.5 + 100 ", "0.5+100", "0.5 points per 1.00 of the amount plus 100 points"},
		{"0+50", "0+50", "0 points per 1.00 of the amount plus 50 points"},
		{"2.0000", "2", "2 points per 1.00 of the amount"},
		{"1000", "1000", "1000 points per 1.00 of the amount"},
	}
	for _, tt := range tests {
		c, err := ParseCeiling(tt.text)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if c.String() != tt.canonical || c.Describe() != tt.words {
			t.Errorf("%q: %q, %q; want %q, %q", tt.text, c.String(), c.Describe(), tt.canonical, tt.words)
		}
		if again, err := ParseCeiling(c.String()); err != nil || !again.Equal(c) {
			t.Errorf("%q does not read back: %v, %v", c.String(), again, err)
		}
	}
	for _, bad := range []string{"", "0", "0+0", "-1", "1001", "0.00001", "1+", "1+-5", "1+2.5", "1+1000000001", "x", "1e10000000"} {
		if _, err := ParseCeiling(bad); err == nil || !strings.HasPrefix(err.Error(), "ceiling ") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	_, err := NewCeiling(decimal.NewFromInt(-1), -1)
	for _, field := range []string{"points_per_amount", "fixed_points"} {
		assertProblem(t, err, field, "must be from 0")
	}
}

func TestCeilingPoints(t *testing.T) {
	c := mustCeiling(t, "0.5+10")
	for amount, want := range map[string]int64{"0": 10, "1": 10, "2": 11, "99.99": 59, "-50": 10, "1e30": 1_000_000_000} {
		if got := c.points(numOf(decimal.RequireFromString(amount)), true); got != want {
			t.Errorf("amount %s: %d, want %d", amount, got, want)
		}
	}
	if got := c.points(num{}, false); got != 10 {
		t.Errorf("no amount: %d, want the allowance 10", got)
	}
}

// TestEvaluationIsCappedByTheCeiling: whatever the campaigns, a purchase
// earns at most its ceiling; the lines say so.
func TestEvaluationIsCappedByTheCeiling(t *testing.T) {
	a := mustCompile(t, Draft{Client: "c", Name: "a", Rules: []byte(`[{"action":{"command":"issue","formula":"1e40"}}]`)})
	b := mustCompile(t, Draft{Client: "c", Name: "b", Rules: []byte(`[{"action":{"command":"issue","formula":"$.amount"}}]`)})
	res, err := Evaluate(t.Context(), []*Campaign{b, a}, event(t, `{"amount":100}`), now, nil, DefaultCeiling)
	if err != nil {
		t.Fatal(err)
	}
	// By name: a, then b; the last lines are cut first.
	if res.Total != 100 || res.Lines[0].Points != 100 || res.Lines[1].Points != 0 ||
		res.Lines[1].Note != "capped by the most points a purchase of this amount can earn" {
		t.Errorf("result = %+v", res)
	}
	res, _ = Evaluate(t.Context(), []*Campaign{a}, event(t, `{"total":100}`), now, nil, mustCeiling(t, "1+5"))
	if res.Total != 5 {
		t.Errorf("without an amount: %+v, want the allowance 5", res)
	}
}
