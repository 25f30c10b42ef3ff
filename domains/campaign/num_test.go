package campaign

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
)

// FuzzNumMatchesDecimal holds the integer fast path to shopspring/decimal:
// every operation gives the same value, and the same text.
func FuzzNumMatchesDecimal(f *testing.F) {
	for _, s := range [][2]string{{"1705", "10"}, {"0.1", "0.2"}, {"-7.5", "2"}, {"9223372036854775807", "2"}, {"-9223372036854775808", "-1"},
		{"1e18", "1e-18"}, {"0.0000000000000001", "3"}, {"2.5", "0"}, {"-2.5", "1"}, {"123456789.123456789", "0.000001"}, {"1e40", "1e-40"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, as, bs string) {
		a, okA := limits.Decimal(as)
		b, okB := limits.Decimal(bs)
		if !okA || !okB {
			return
		}
		na, nb := numOf(a), numOf(b)
		check := func(op string, got num, want decimal.Decimal) {
			t.Helper()
			if !got.dec().Equal(want) || got.String() != want.String() {
				t.Fatalf("%s %s %s: fast path %s (%s), decimal %s", as, op, bs, got.String(), got.dec(), want)
			}
		}
		check("+", na.add(nb), a.Add(b))
		check("-", na.sub(nb), a.Sub(b))
		check("*", na.mul(nb), a.Mul(b))
		if !b.IsZero() {
			check("/", na.div(nb), a.Div(b))
		}
		check("neg", na.neg(), a.Neg())
		check("abs", na.abs(), a.Abs())
		if got, want := na.cmp(nb), a.Cmp(b); got != want {
			t.Fatalf("cmp(%s, %s) = %d, want %d", as, bs, got, want)
		}
		for places := int32(0); places <= 8; places += 4 {
			check("floor", na.roundTo(places, modeFloor), a.RoundFloor(places))
			check("ceil", na.roundTo(places, modeCeil), a.RoundCeil(places))
			check("round", na.roundTo(places, modeHalfAway), a.Round(places))
			check("bank", na.roundTo(places, modeHalfEven), a.RoundBank(places))
		}
		if i, ok := na.int64(); ok && (!a.IsInteger() || i != a.IntPart()) {
			t.Fatalf("int64(%s) = %d", as, i)
		}
	})
}

// TestNumMatchesDecimalRandom is the differential test run by make test:
// random values across the sizes rules see, every operation.
func TestNumMatchesDecimalRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() decimal.Decimal {
		digits := 1 + rng.IntN(22) // some overflow an int64, most do not
		b := make([]byte, 0, digits+1)
		if rng.IntN(4) == 0 {
			b = append(b, '-')
		}
		for i := range digits {
			b = append(b, byte('0'+rng.IntN(10)))
			if i == 0 && b[len(b)-1] == '0' && digits > 1 {
				b[len(b)-1] = '1'
			}
		}
		return decimal.RequireFromString(string(b)).Shift(int32(rng.IntN(30) - 20))
	}
	for range 20000 {
		a, b := random(), random()
		na, nb := numOf(a), numOf(b)
		type result struct {
			op   string
			got  num
			want decimal.Decimal
		}
		pairs := []result{
			{"+", na.add(nb), a.Add(b)},
			{"-", na.sub(nb), a.Sub(b)},
			{"*", na.mul(nb), a.Mul(b)},
			{"floor", na.roundTo(0, modeFloor), a.RoundFloor(0)},
			{"ceil", na.roundTo(0, modeCeil), a.RoundCeil(0)},
			{"round2", na.roundTo(2, modeHalfAway), a.Round(2)},
			{"bank", na.roundTo(0, modeHalfEven), a.RoundBank(0)},
		}
		if !b.IsZero() {
			pairs = append(pairs, result{"/", na.div(nb), a.Div(b)})
		}
		for _, p := range pairs {
			if !p.got.dec().Equal(p.want) || p.got.String() != p.want.String() {
				t.Fatalf("%s %s %s: fast path %s, decimal %s", a, p.op, b, p.got, p.want)
			}
		}
		if na.cmp(nb) != a.Cmp(b) {
			t.Fatalf("cmp(%s, %s)", a, b)
		}
	}
}
