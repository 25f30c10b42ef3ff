package campaign

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

// num is an exact decimal, coef × 10^exp. Rules evaluate hundreds of them
// per purchase, and shopspring/decimal allocates big integers for every
// step (rescaling alone computes a power of ten each time). So a value
// that fits an int64 coefficient is computed with integer arithmetic, and
// anything else, or any step that would overflow, falls back to
// shopspring/decimal. Both paths give the same values; a differential fuzz
// test (FuzzNumMatchesDecimal) holds them to it.
type num struct {
	c   int64
	e   int32
	big *decimal.Decimal // set when the value lives in shopspring/decimal
}

// divisionPrecision is shopspring/decimal's: Div rounds half away from zero
// to 16 decimal places.
const divisionPrecision = 16

var pow10 = func() [19]uint64 {
	var p [19]uint64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func numOf(d decimal.Decimal) num {
	co := d.Coefficient()
	if co.IsInt64() && d.Exponent() > math.MinInt32+64 && d.Exponent() < math.MaxInt32-64 {
		return num{c: co.Int64(), e: d.Exponent()}
	}
	return num{big: &d}
}

func (n num) dec() decimal.Decimal {
	if n.big != nil {
		return *n.big
	}
	return decimal.New(n.c, n.e)
}

func fromBig(d decimal.Decimal) num { return num{big: &d} }

func (n num) sign() int {
	switch {
	case n.big != nil:
		return n.big.Sign()
	case n.c < 0:
		return -1
	case n.c > 0:
		return 1
	}
	return 0
}

func (n num) isZero() bool { return n.sign() == 0 }

// scaled returns c × 10^k, if it fits.
func scaled(c int64, k int32) (int64, bool) {
	if k == 0 {
		return c, true
	}
	if k < 0 || k > 18 {
		return 0, false
	}
	hi, lo := bits.Mul64(abs64(c), pow10[k])
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if c < 0 {
		return -int64(lo), true
	}
	return int64(lo), true
}

func abs64(c int64) uint64 {
	if c < 0 {
		return uint64(-c) // MinInt64 becomes 2^63, as wanted
	}
	return uint64(c)
}

// aligned returns both coefficients at the smaller exponent, if they fit.
func aligned(a, b num) (int64, int64, int32, bool) {
	if a.big != nil || b.big != nil {
		return 0, 0, 0, false
	}
	switch {
	case a.e == b.e:
		return a.c, b.c, a.e, true
	case a.e > b.e:
		ac, ok := scaled(a.c, a.e-b.e)
		return ac, b.c, b.e, ok
	}
	bc, ok := scaled(b.c, b.e-a.e)
	return a.c, bc, a.e, ok
}

func (n num) add(m num) num {
	if ac, bc, e, ok := aligned(n, m); ok {
		if s := ac + bc; (s > ac) == (bc > 0) {
			return num{c: s, e: e}
		}
	}
	return fromBig(n.dec().Add(m.dec()))
}

func (n num) neg() num {
	if n.big == nil && n.c != math.MinInt64 {
		return num{c: -n.c, e: n.e}
	}
	return fromBig(n.dec().Neg())
}

func (n num) sub(m num) num { return n.add(m.neg()) }

func (n num) mul(m num) num {
	if n.big == nil && m.big == nil {
		hi, lo := bits.Mul64(abs64(n.c), abs64(m.c))
		e := int64(n.e) + int64(m.e)
		if hi == 0 && lo <= math.MaxInt64 && e > math.MinInt32+64 && e < math.MaxInt32-64 {
			c := int64(lo)
			if (n.c < 0) != (m.c < 0) {
				c = -c
			}
			return num{c: c, e: int32(e)}
		}
	}
	return fromBig(n.dec().Mul(m.dec()))
}

// div divides as shopspring/decimal's Div does: rounded half away from zero
// to 16 decimal places. m must not be zero.
func (n num) div(m num) num {
	if n.big == nil && m.big == nil && n.c != math.MinInt64 && m.c != math.MinInt64 {
		k := int64(n.e) - int64(m.e) + divisionPrecision
		if k >= 0 && k <= 18 {
			hi, lo := bits.Mul64(abs64(n.c), pow10[k])
			d := abs64(m.c)
			if hi < d {
				q, r := bits.Div64(hi, lo, d)
				if 2*r >= d { // r < d <= 2^63: 2r does not overflow
					q++
				}
				if q <= math.MaxInt64 {
					c := int64(q)
					if (n.c < 0) != (m.c < 0) {
						c = -c
					}
					return num{c: c, e: -divisionPrecision}.trim()
				}
			}
		}
	}
	return fromBig(n.dec().Div(m.dec()))
}

// trim drops trailing zeros of the coefficient, keeping the value, so that
// the next steps keep fitting an int64.
func (n num) trim() num {
	for n.big == nil && n.c != 0 && n.e < 0 && n.c%10 == 0 {
		n.c /= 10
		n.e++
	}
	return n
}

func (n num) cmp(m num) int {
	if ac, bc, _, ok := aligned(n, m); ok {
		switch {
		case ac < bc:
			return -1
		case ac > bc:
			return 1
		}
		return 0
	}
	return n.dec().Cmp(m.dec())
}

func (n num) abs() num {
	if n.sign() < 0 {
		return n.neg()
	}
	return n
}

// Rounding modes of roundTo.
const (
	modeFloor = iota
	modeCeil
	modeHalfAway // shopspring's Round
	modeHalfEven // shopspring's RoundBank
)

// roundTo rounds to places decimal places, as shopspring/decimal does.
func (n num) roundTo(places int32, mode int) num {
	if n.big == nil && n.e >= -places {
		return n // already has at most places decimals
	}
	if n.big == nil && -n.e-places <= 18 {
		p := int64(pow10[-n.e-places])
		q, r := n.c/p, n.c%p
		away := int64(1)
		if n.c < 0 {
			away = -1
		}
		twice := 2 * abs64(r) // r < p <= 10^18: no overflow
		switch mode {
		case modeFloor:
			if r < 0 {
				q--
			}
		case modeCeil:
			if r > 0 {
				q++
			}
		case modeHalfAway:
			if twice >= uint64(p) {
				q += away
			}
		case modeHalfEven:
			if twice > uint64(p) || twice == uint64(p) && q%2 != 0 {
				q += away
			}
		}
		return num{c: q, e: -places}
	}
	d := n.dec()
	switch mode {
	case modeFloor:
		return fromBig(d.RoundFloor(places))
	case modeCeil:
		return fromBig(d.RoundCeil(places))
	case modeHalfAway:
		return fromBig(d.Round(places))
	}
	return fromBig(d.RoundBank(places))
}

// int64 returns the value if it is a whole number that fits.
func (n num) int64() (int64, bool) {
	if n.big != nil {
		if !n.big.IsInteger() || n.big.GreaterThan(decimal.NewFromInt(math.MaxInt64)) || n.big.LessThan(decimal.NewFromInt(math.MinInt64)) {
			return 0, false
		}
		return n.big.IntPart(), true
	}
	if n.e < 0 {
		t := n.trim()
		if t.e < 0 {
			return 0, false
		}
		n = t
	}
	return scaled(n.c, n.e)
}

// String writes the value in plain decimal notation, as shopspring/decimal
// does.
func (n num) String() string {
	if n.big != nil {
		return n.big.String()
	}
	if n.c == 0 {
		return "0"
	}
	if n.e >= 0 {
		if n.e > 18 {
			return n.dec().String()
		}
		if c, ok := scaled(n.c, n.e); ok {
			return strconv.FormatInt(c, 10)
		}
		return n.dec().String()
	}
	t := n.trim()
	if t.e >= 0 {
		return t.String()
	}
	var dbuf [20]byte
	digits := strconv.AppendUint(dbuf[:0], abs64(t.c), 10)
	point := len(digits) + int(t.e)
	var out [64]byte // long enough for most; append grows it otherwise
	b := out[:0]
	if t.c < 0 {
		b = append(b, '-')
	}
	if point <= 0 {
		b = append(b, '0', '.')
		for range -point {
			b = append(b, '0')
		}
		b = append(b, digits...)
	} else {
		b = append(b, digits[:point]...)
		b = append(b, '.')
		b = append(b, digits[point:]...)
	}
	return string(b)
}
