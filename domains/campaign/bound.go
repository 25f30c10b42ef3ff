package campaign

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
)

// Can a campaign give more than a client's ceiling? To know it before the
// campaign is active, each rule's formula is bounded as a function of the
// purchase's amount A: a lower and an upper bound, each a continuous
// piecewise-linear function of A over the amounts the rule's condition
// lets through (numeric comparisons on $.amount), computed exactly with
// rationals. Constants and $.amount are exact; $.customer.tier_multiplier
// is from 0 to limits.MaxTierMultiplier; any other event value is
// taken to be zero or more, with no upper bound (as the sign check takes
// it); + and - add bounds; * and / by a constant scale them; * and / by a
// value of known sign and bounded range scale by that range; min, max,
// abs, floor, ceil and round act on the bounds (a rounding up adds at most
// 1, or 0.5); anything else falls back to plain interval arithmetic over
// the whole range, and a product of two unbounded values, or a division by
// something that can be 0, is unbounded. The campaign's rounding, the
// clamp of a negative result to 0 and max_points_per_purchase apply last.
// The bound is sound: the points a rule gives never exceed it. It is not
// always tight: it may refuse a campaign that could not in fact exceed the
// ceiling (then the marketer bounds it more plainly).

// span is the range of amounts a rule can match: [lo, hi], hi nil for no
// end.
type span struct{ lo, hi *big.Rat }

var everyAmount = span{lo: new(big.Rat)}

func (s span) empty() bool { return s.hi != nil && s.lo.Cmp(s.hi) > 0 }

func (s span) contains(x *big.Rat) bool {
	return s.lo.Cmp(x) <= 0 && (s.hi == nil || x.Cmp(s.hi) <= 0)
}

func (s span) intersect(o span) span {
	out := span{lo: maxRat(s.lo, o.lo), hi: s.hi}
	if o.hi != nil && (s.hi == nil || o.hi.Cmp(s.hi) < 0) {
		out.hi = o.hi
	}
	return out
}

// hull is the smallest span holding both.
func (s span) hull(o span) span {
	out := span{lo: minRat(s.lo, o.lo)}
	if s.hi != nil && o.hi != nil {
		out.hi = maxRat(s.hi, o.hi)
	}
	return out
}

func minRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

func maxRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

func rat(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

func add(a, b *big.Rat) *big.Rat { return new(big.Rat).Add(a, b) }
func sub(a, b *big.Rat) *big.Rat { return new(big.Rat).Sub(a, b) }
func mul(a, b *big.Rat) *big.Rat { return new(big.Rat).Mul(a, b) }
func quo(a, b *big.Rat) *big.Rat { return new(big.Rat).Quo(a, b) }

// fn is a continuous piecewise-linear function of the amount over a span:
// its values ys at the breakpoints xs (xs[0] is the span's start, the last
// its end when it has one) and its slope after the last breakpoint (when
// the span has no end). An unbounded fn (inf) has no values: +∞ as an
// upper bound, -∞ as a lower one; why says what makes it so.
type fn struct {
	xs, ys []*big.Rat
	tail   *big.Rat
	inf    bool
	why    string
	d      span // of an unbounded fn
}

func (a analysis) unbounded(why string) fn { return fn{inf: true, why: why, d: a.d} }

// line is a + b×amount over d. A fn over a span with an end has no tail.
func line(d span, a, b *big.Rat) fn {
	f := fn{xs: []*big.Rat{d.lo}, ys: []*big.Rat{add(a, mul(b, d.lo))}}
	switch {
	case d.hi == nil:
		f.tail = b
	case d.hi.Cmp(d.lo) > 0:
		f.xs, f.ys = append(f.xs, d.hi), append(f.ys, add(a, mul(b, d.hi)))
	}
	return f
}

// at is f's value at x, within its span.
func (f fn) at(x *big.Rat) *big.Rat {
	i := sort.Search(len(f.xs), func(k int) bool { return f.xs[k].Cmp(x) > 0 }) - 1
	switch {
	case i < 0:
		i = 0
	case f.xs[i].Cmp(x) == 0:
		return f.ys[i]
	}
	if i == len(f.xs)-1 {
		if f.tail == nil || x.Cmp(f.xs[i]) <= 0 {
			return f.ys[i]
		}
		return add(f.ys[i], mul(f.tail, sub(x, f.xs[i])))
	}
	// Between xs[i] and xs[i+1].
	slope := quo(sub(f.ys[i+1], f.ys[i]), sub(f.xs[i+1], f.xs[i]))
	return add(f.ys[i], mul(slope, sub(x, f.xs[i])))
}

// maxBreakpoints bounds the work of the analysis: a bound with more
// breakpoints is replaced by one line above it (or below it, for a lower
// bound), which is coarser and still sound.
const maxBreakpoints = 16

// simplified is f, or a line on the right side of it when f has too many
// breakpoints: with f's slope after its last breakpoint (0 on a span with
// an end), through the breakpoint farthest on that side.
func (f fn) simplified(upper bool) fn {
	if f.inf || len(f.xs) <= maxBreakpoints {
		return f
	}
	t := f.slopeAfter()
	var c *big.Rat
	for i, x := range f.xs {
		v := sub(f.ys[i], mul(t, x))
		if c == nil || upper && v.Cmp(c) > 0 || !upper && v.Cmp(c) < 0 {
			c = v
		}
	}
	d := span{lo: f.xs[0]}
	if f.tail == nil {
		d.hi = f.xs[len(f.xs)-1]
	}
	return line(d, c, t)
}

// slopeAfter is f's slope past its last breakpoint.
func (f fn) slopeAfter() *big.Rat {
	if f.tail == nil {
		return new(big.Rat)
	}
	return f.tail
}

// isConst reports whether f is one value over its whole span.
func (f fn) isConst() bool {
	if f.inf || f.slopeAfter().Sign() != 0 {
		return false
	}
	for _, y := range f.ys[1:] {
		if y.Cmp(f.ys[0]) != 0 {
			return false
		}
	}
	return true
}

// breakpoints merges the breakpoints of fs.
func breakpoints(fs ...fn) []*big.Rat {
	var xs []*big.Rat
	for _, f := range fs {
		xs = append(xs, f.xs...)
	}
	slices.SortFunc(xs, func(a, b *big.Rat) int { return a.Cmp(b) })
	return slices.CompactFunc(xs, func(a, b *big.Rat) bool { return a.Cmp(b) == 0 })
}

// sum is f + g (both finite, over the same span).
func sum(f, g fn) fn {
	if f.inf {
		return f
	}
	if g.inf {
		return g
	}
	xs := breakpoints(f, g)
	out := fn{xs: xs}
	if f.tail != nil {
		out.tail = add(f.tail, g.slopeAfter())
	}
	for _, x := range xs {
		out.ys = append(out.ys, add(f.at(x), g.at(x)))
	}
	return out
}

// scaled is f × k; an unbounded f stays unbounded unless k is 0 (the
// caller puts it where its sign belongs).
func (f fn) scaled(k *big.Rat) fn {
	if f.inf {
		if k.Sign() == 0 {
			return line(f.d, new(big.Rat), new(big.Rat))
		}
		return f
	}
	out := fn{xs: f.xs}
	if f.tail != nil {
		out.tail = mul(f.tail, k)
	}
	for _, y := range f.ys {
		out.ys = append(out.ys, mul(y, k))
	}
	return out
}

func (f fn) shifted(k *big.Rat) fn {
	if f.inf {
		return f
	}
	out := fn{xs: f.xs, tail: f.tail}
	for _, y := range f.ys {
		out.ys = append(out.ys, add(y, k))
	}
	return out
}

// lesser is the pointwise min of f and g (both finite), or the max when
// greater: breakpoints are added where they cross.
func lesser(f, g fn, greater bool) fn {
	xs := breakpoints(f, g)
	pick := func(a, b *big.Rat) *big.Rat {
		if (a.Cmp(b) <= 0) != greater {
			return a
		}
		return b
	}
	var all []*big.Rat
	for i, x := range xs {
		all = append(all, x)
		if i+1 < len(xs) {
			da, db := sub(f.at(x), g.at(x)), sub(f.at(xs[i+1]), g.at(xs[i+1]))
			if da.Sign()*db.Sign() < 0 { // they cross between x and the next
				all = append(all, add(x, mul(sub(xs[i+1], x), quo(da, sub(da, db)))))
			}
		}
	}
	last := xs[len(xs)-1]
	d, s := sub(f.at(last), g.at(last)), sub(f.slopeAfter(), g.slopeAfter())
	if f.tail != nil && d.Sign() != 0 && d.Sign()*s.Sign() < 0 { // they cross after the last breakpoint
		last = sub(last, quo(d, s))
		all = append(all, last)
	}
	out := fn{xs: all}
	for _, x := range all {
		out.ys = append(out.ys, pick(f.at(x), g.at(x)))
	}
	if f.tail != nil {
		fl, gl := f.at(last), g.at(last)
		switch c := fl.Cmp(gl); {
		case c == 0:
			out.tail = pick(f.slopeAfter(), g.slopeAfter())
		case (c < 0) != greater:
			out.tail = f.slopeAfter()
		default:
			out.tail = g.slopeAfter()
		}
	}
	return out
}

// ext is an extended real: v, or -∞/+∞ when inf is -1/+1.
type ext struct {
	v   *big.Rat
	inf int
}

// lowest and highest are f's least and greatest values over its span.
func (f fn) lowest() ext {
	if f.inf {
		return ext{inf: -1}
	}
	if f.slopeAfter().Sign() < 0 {
		return ext{inf: -1}
	}
	m := f.ys[0]
	for _, y := range f.ys {
		m = minRat(m, y)
	}
	return ext{v: m}
}

func (f fn) highest() ext {
	if f.inf {
		return ext{inf: 1}
	}
	if f.slopeAfter().Sign() > 0 {
		return ext{inf: 1}
	}
	m := f.ys[0]
	for _, y := range f.ys {
		m = maxRat(m, y)
	}
	return ext{v: m}
}

func (e ext) sign() int {
	if e.inf != 0 {
		return e.inf
	}
	return e.v.Sign()
}

// times multiplies extended reals; 0 × ∞ is 0 (a value that is exactly 0
// times any finite value).
func (e ext) times(o ext) ext {
	if e.sign() == 0 || o.sign() == 0 {
		return ext{v: new(big.Rat)}
	}
	if e.inf != 0 || o.inf != 0 {
		return ext{inf: e.sign() * o.sign()}
	}
	return ext{v: mul(e.v, o.v)}
}

func (e ext) less(o ext) bool {
	if e.inf != 0 || o.inf != 0 {
		return e.inf < o.inf
	}
	return e.v.Cmp(o.v) < 0
}

// bounds are a value's lower and upper bounds.
type bounds struct{ lo, up fn }

// point reports whether b is one known value, and which.
func (b bounds) point() (*big.Rat, bool) {
	if b.lo.isConst() && b.up.isConst() && b.lo.ys[0].Cmp(b.up.ys[0]) == 0 {
		return b.lo.ys[0], true
	}
	return nil, false
}

// analysis bounds formulas over the amounts of one span. work counts the
// breakpoints of the bounds computed for a campaign so far: past
// analysisWork, what is left is taken as unbounded, so that no formula
// (200 nodes of nested abs and min, in 50 rules) makes a save slow.
type analysis struct {
	d    span
	work *int
}

const analysisWork = 20_000

func (a analysis) constant(c *big.Rat) bounds {
	f := line(a.d, c, new(big.Rat))
	return bounds{f, f}
}

func (a analysis) fromExt(lo, hi ext, why string) bounds {
	var b bounds
	if lo.inf != 0 {
		b.lo = a.unbounded(why)
	} else {
		b.lo = line(a.d, lo.v, new(big.Rat))
	}
	if hi.inf != 0 {
		b.up = a.unbounded(why)
	} else {
		b.up = line(a.d, hi.v, new(big.Rat))
	}
	return b
}

func (a analysis) scale(b bounds, k *big.Rat) bounds {
	if k.Sign() >= 0 {
		return bounds{b.lo.scaled(k), b.up.scaled(k)}
	}
	return bounds{b.up.scaled(k), b.lo.scaled(k)}
}

// times bounds x × y when y's value lies in [c1, c2], whatever the
// amount (c nil: unbounded that way).
func (a analysis) timesRange(x bounds, c1, c2 ext) (bounds, bool) {
	lo, hi := x.lo.lowest(), x.up.highest()
	by := func(f fn, c ext) fn {
		if c.inf != 0 {
			if f.lowest().sign() == 0 && f.highest().sign() == 0 {
				return f
			}
			return a.unbounded(x.up.why + x.lo.why)
		}
		return f.scaled(c.v)
	}
	switch {
	case lo.sign() >= 0: // x ≥ 0
		switch {
		case c1.sign() >= 0:
			return bounds{by(x.lo, c1), by(x.up, c2)}, true
		case c2.sign() <= 0:
			return bounds{by(x.up, c1), by(x.lo, c2)}, true
		}
		return bounds{by(x.up, c1), by(x.up, c2)}, true
	case hi.sign() <= 0: // x ≤ 0
		switch {
		case c1.sign() >= 0:
			return bounds{by(x.lo, c2), by(x.up, c1)}, true
		case c2.sign() <= 0:
			return bounds{by(x.up, c2), by(x.lo, c1)}, true
		}
		return bounds{by(x.lo, c2), by(x.lo, c1)}, true
	}
	return bounds{}, false
}

// collapsed multiplies the ranges of x and y, whatever the amount.
func (a analysis) collapsed(x, y bounds, why string) bounds {
	xs := []ext{x.lo.lowest(), x.up.highest()}
	ys := []ext{y.lo.lowest(), y.up.highest()}
	var lo, hi ext
	for i, p := range []ext{xs[0].times(ys[0]), xs[0].times(ys[1]), xs[1].times(ys[0]), xs[1].times(ys[1])} {
		if i == 0 || p.less(lo) {
			lo = p
		}
		if i == 0 || hi.less(p) {
			hi = p
		}
	}
	return a.fromExt(lo, hi, why)
}

// product bounds x × y: by a constant, a scaling; otherwise each factor
// is scaled by the other's range (sound whatever the amount), and the
// tighter of those and of plain interval arithmetic is kept.
func (a analysis) product(x, y bounds) bounds {
	if k, ok := y.point(); ok {
		return a.scale(x, k)
	}
	if k, ok := x.point(); ok {
		return a.scale(y, k)
	}
	why := x.up.why + y.up.why
	if why == "" {
		why = "it multiplies two values that grow with the amount"
	}
	cands := []bounds{a.collapsed(x, y, why)}
	if b, ok := a.timesRange(x, y.lo.lowest(), y.up.highest()); ok {
		cands = append(cands, b)
	}
	if b, ok := a.timesRange(y, x.lo.lowest(), x.up.highest()); ok {
		cands = append(cands, b)
	}
	var los, ups []fn
	for _, b := range cands {
		los, ups = append(los, b.lo), append(ups, b.up)
	}
	return bounds{most(los, false), least(ups, false)}
}

func (a analysis) quotient(x, y bounds) bounds {
	if k, ok := y.point(); ok {
		if k.Sign() == 0 { // always a division by zero: no points
			return a.constant(new(big.Rat))
		}
		return a.scale(x, new(big.Rat).Inv(k))
	}
	d1, d2 := y.lo.lowest(), y.up.highest()
	if d1.sign() > 0 || d2.sign() < 0 { // 1/y lies in [1/d2, 1/d1]
		inv := func(e ext) ext {
			if e.inf != 0 {
				return ext{v: new(big.Rat)}
			}
			return ext{v: new(big.Rat).Inv(e.v)}
		}
		if b, ok := a.timesRange(x, inv(d2), inv(d1)); ok {
			return b
		}
		return a.collapsed(x, a.fromExt(inv(d2), inv(d1), ""), "it divides by a value of unknown sign")
	}
	why := "it divides by an event value, which can be close to 0"
	return bounds{a.unbounded(why), a.unbounded(why)}
}

// least and most fold fns: an unbounded one wins for the extreme it
// stands for (least of lower bounds, most of upper bounds) and loses for
// the other.
func least(fs []fn, unboundedWins bool) fn { return extreme(fs, unboundedWins, false) }
func most(fs []fn, unboundedWins bool) fn  { return extreme(fs, unboundedWins, true) }

// extreme is the pointwise least (or, greater, most) of fs.
func extreme(fs []fn, unboundedWins, greater bool) fn {
	var out *fn
	for _, f := range fs {
		switch {
		case f.inf && unboundedWins:
			return f
		case f.inf:
			continue
		case out == nil:
			g := f
			out = &g
		default:
			g := lesser(*out, f, greater)
			out = &g
		}
	}
	if out == nil {
		return fs[0]
	}
	return *out
}

var (
	half = big.NewRat(1, 2)
	one  = rat(1)
)

// of bounds a compiled formula.
func (a analysis) of(n node) bounds {
	if *a.work > analysisWork {
		why := "it is too intricate to bound: simplify it"
		return bounds{a.unbounded(why), a.unbounded(why)}
	}
	b := a.bound(n)
	b = bounds{b.lo.simplified(false), b.up.simplified(true)}
	*a.work += len(b.lo.xs) + len(b.up.xs)
	return b
}

func (a analysis) bound(n node) bounds {
	switch n := n.(type) {
	case constNode:
		return a.constant(n.v.dec().Rat())
	case pathNode:
		if n.p.text == amountPath {
			f := line(a.d, new(big.Rat), one)
			return bounds{f, f}
		}
		if n.p.text == tierMultiplierPath {
			// A tier's multiplier is from 0 to the largest a tier may have.
			return bounds{a.constant(new(big.Rat)).lo, a.constant(rat(limits.MaxTierMultiplier)).up}
		}
		return bounds{a.constant(new(big.Rat)).lo, a.unbounded(n.p.text + " has no upper bound")}
	case negNode:
		return a.scale(a.of(n.n), rat(-1))
	case binaryNode:
		l, r := a.of(n.l), a.of(n.r)
		switch n.op {
		case '+':
			return bounds{sum(l.lo, r.lo), sum(l.up, r.up)}
		case '-':
			nr := a.scale(r, rat(-1))
			return bounds{sum(l.lo, nr.lo), sum(l.up, nr.up)}
		case '*':
			return a.product(l, r)
		}
		return a.quotient(l, r)
	case callNode:
		args := make([]bounds, len(n.args))
		for i, arg := range n.args {
			args[i] = a.of(arg)
		}
		x := args[0]
		if k, ok := x.point(); ok && len(args) == 1 { // exact
			v, _ := new(big.Rat).SetString(n.one(numOfRat(k)).String())
			return a.constant(v)
		}
		switch n.name {
		case "min", "max":
			var los, ups []fn
			for _, b := range args {
				los, ups = append(los, b.lo), append(ups, b.up)
			}
			if n.name == "min" {
				return bounds{least(los, true), least(ups, false)}
			}
			return bounds{most(los, false), most(ups, true)}
		case "floor":
			return bounds{x.lo.shifted(rat(-1)), x.up}
		case "ceil":
			return bounds{x.lo, x.up.shifted(one)}
		case "round":
			d := half
			if len(args) == 2 {
				places, _ := args[1].point()
				d = quo(half, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), places.Num(), nil)))
			}
			return bounds{x.lo.shifted(new(big.Rat).Neg(d)), x.up.shifted(d)}
		case "abs":
			neg := a.scale(x, rat(-1))
			return bounds{most([]fn{x.lo, neg.lo, a.constant(new(big.Rat)).lo}, false), most([]fn{x.up, neg.up}, true)}
		}
	}
	return bounds{a.unbounded("it cannot be bounded"), a.unbounded("it cannot be bounded")}
}

const amountPath = "$.amount"

// tierMultiplierPath is the buyer's tier multiplier in the purchase event.
const tierMultiplierPath = "$.customer.tier_multiplier"

// numOfRat is r as a number of a formula (20 decimals at most; a point
// bound comes from decimal constants, so it rarely has more).
func numOfRat(r *big.Rat) num { return numOf(decimal.NewFromBigRat(r, 20)) }

// amountSpan is the range of amounts for which a condition can hold, as
// far as its numeric comparisons on $.amount tell (v: the variable
// inherited).
func amountSpan(c *Condition, v string) span {
	if c == nil {
		return everyAmount
	}
	if c.Variable != "" {
		v = c.Variable
	}
	switch {
	case c.All != nil:
		s := everyAmount
		for i := range c.All {
			s = s.intersect(amountSpan(&c.All[i], v))
		}
		return s
	case c.Any != nil:
		var s *span
		for i := range c.Any {
			part := amountSpan(&c.Any[i], v)
			switch {
			case part.empty():
			case s == nil:
				s = &part
			default:
				h := s.hull(part)
				s = &h
			}
		}
		if s == nil {
			return span{lo: rat(1), hi: rat(0)}
		}
		return *s
	case c.Not != nil:
		inner := c.Not
		iv := v
		if inner.Variable != "" {
			iv = inner.Variable
		}
		if iv != amountPath || inner.Rule == "" {
			return everyAmount
		}
		x, ok := numberValue(inner.Value)
		if !ok {
			return everyAmount
		}
		switch inner.Rule {
		case OpGreaterThan, OpGreaterThanEquals: // amount ≤ x
			return everyAmount.intersect(span{lo: new(big.Rat), hi: x.Rat()})
		case OpLessThan, OpLessThanEquals: // amount ≥ x
			return everyAmount.intersect(span{lo: x.Rat()})
		}
		return everyAmount
	}
	if v != amountPath {
		return everyAmount
	}
	// Strict comparisons are taken as not strict: a superset is sound.
	switch c.Rule {
	case OpGreaterThan, OpGreaterThanEquals:
		if x, ok := numberValue(c.Value); ok {
			return everyAmount.intersect(span{lo: x.Rat()})
		}
	case OpLessThan, OpLessThanEquals:
		if x, ok := numberValue(c.Value); ok {
			return everyAmount.intersect(span{lo: new(big.Rat), hi: x.Rat()})
		}
	case OpEquals:
		if x, ok := numberValue(c.Value); ok {
			return everyAmount.intersect(span{lo: x.Rat(), hi: x.Rat()})
		}
	case OpBetween:
		var pair []json.RawMessage
		if json.Unmarshal(c.Value, &pair) == nil && len(pair) == 2 {
			lo, ok1 := numberValue(pair[0])
			hi, ok2 := numberValue(pair[1])
			if ok1 && ok2 {
				return everyAmount.intersect(span{lo: lo.Rat(), hi: hi.Rat()})
			}
		}
	}
	return everyAmount
}

// piece is what one rule may give for the amounts of d: at most
// round(raw(x)) for the rule's raw upper bound raw, rounded by the
// campaign, and never below 0. up is a piecewise-linear bound of that
// (raw plus what rounding may add, at least 0); raw may be unbounded.
type piece struct {
	d     span
	raw   fn
	up    fn
	round func(num) num
}

// rulePiece bounds the points rule i of c can give; work is shared by the
// campaign's rules.
func (c *Campaign) rulePiece(i int, work *int) (piece, bool) {
	r := c.rules[i]
	d := amountSpan(r.Condition, r.Variable)
	if d.empty() {
		return piece{}, false
	}
	b := analysis{d: d, work: work}.of(c.compiled[i].formula.root)
	pc := piece{d: d, raw: b.up, up: b.up, round: c.round}
	if pc.up.inf {
		return pc, true
	}
	if _, ok := b.point(); ok { // one value: rounded exactly
		v, _ := pc.at(d.lo)
		pc.up = line(d, v, new(big.Rat))
		return pc, true
	}
	switch c.draft.Rounding {
	case RoundHalfEven: // round(x) ≤ x + 1/2
		pc.up = pc.up.shifted(half)
	case RoundCeil: // ceil(x) < x + 1
		pc.up = pc.up.shifted(one)
	}
	pc.up = lesser(pc.up, line(d, new(big.Rat), new(big.Rat)), true)
	return pc, true
}

// at is the most the piece gives at x (in its span), exactly: the raw
// bound rounded as the campaign rounds. ok is false when unbounded.
func (p piece) at(x *big.Rat) (*big.Rat, bool) {
	if p.raw.inf {
		return nil, false
	}
	v, _ := new(big.Rat).SetString(p.round(numOfRat(p.raw.at(x))).String())
	return maxRat(v, new(big.Rat)), true
}

// excess is an amount at which pieces can give more than a ceiling: the
// most they can give there (nil: no bound), and why when unbounded.
type excess struct {
	amount, points *big.Rat
	why            string
}

// exceeds looks for an amount at which the pieces, together and capped by
// limit (0: none), can give more points than the ceiling: more than
// perAmount × amount + fixed, in whole points.
//
// At a breakpoint of any piece it adds up what each piece gives there,
// exactly. Between breakpoints every piece's bound is linear, so the total
// S and the ceiling C are, and points beyond the ceiling need a whole n
// with C(x) < n ≤ min(limit, S(x)). Over an interval of amounts R where
// S > C, the intervals (C(x), min(limit, S(x))] join into one (their ends
// move continuously), from C's least value on R (excluded) to S's
// greatest (included when reached): it holds a whole number exactly when
// the first whole number above the least C is below the greatest S, or is
// it and S reaches it.
func exceeds(pieces []piece, limit int64, ceiling Ceiling) (excess, bool) {
	per, fixed := ceiling.perAmount.Rat(), rat(ceiling.fixed)
	ceil := func(x *big.Rat) *big.Rat { return add(mul(per, x), fixed) }
	capped := func(v *big.Rat) *big.Rat {
		if limit > 0 {
			return minRat(v, rat(limit))
		}
		return v
	}
	// at adds up, exactly, what the pieces whose span holds x give.
	at := func(x *big.Rat) (excess, bool) {
		total := new(big.Rat)
		for _, p := range pieces {
			if !p.d.contains(x) {
				continue
			}
			v, ok := p.at(x)
			if !ok {
				if limit == 0 {
					return excess{amount: x, why: p.raw.why}, true
				}
				v = rat(limit)
			}
			total = add(total, v)
		}
		total = capped(total)
		return excess{amount: x, points: total}, total.Cmp(ceil(x)) > 0
	}
	if e, ok := at(rat(100)); ok { // a telling example, when it is one
		return e, true
	}
	xs := []*big.Rat{new(big.Rat)}
	for _, p := range pieces {
		xs = append(xs, p.d.lo)
		if p.d.hi != nil {
			xs = append(xs, p.d.hi)
		}
		if !p.up.inf {
			xs = append(xs, p.up.xs...)
		}
	}
	slices.SortFunc(xs, func(a, b *big.Rat) int { return a.Cmp(b) })
	xs = slices.CompactFunc(xs, func(a, b *big.Rat) bool { return a.Cmp(b) == 0 })
	for _, x := range xs {
		if e, ok := at(x); ok {
			return e, true
		}
	}
	for i, a := range xs {
		var b *big.Rat // nil: past the last breakpoint
		if i+1 < len(xs) {
			b = xs[i+1]
		}
		// S(x) = s0 + s × (x - a) on (a, b): an unbounded piece gives up
		// to the limit (without one it exceeded at its start, a
		// breakpoint).
		s0, s, any := new(big.Rat), new(big.Rat), false
		for _, p := range pieces {
			if p.d.lo.Cmp(a) > 0 || p.d.hi != nil && (b == nil || p.d.hi.Cmp(b) < 0) {
				continue
			}
			any = true
			switch {
			case p.up.inf:
				s0 = add(s0, rat(limit))
			case b != nil:
				s0 = add(s0, p.up.at(a))
				s = add(s, quo(sub(p.up.at(b), p.up.at(a)), sub(b, a)))
			default:
				s0 = add(s0, p.up.at(a))
				s = add(s, p.up.slopeAfter())
			}
		}
		if !any {
			continue
		}
		if x, ok := segmentExceeds(a, b, s0, s, ceil(a), per, limit); ok {
			if e, ok := at(x); ok {
				return e, true
			}
			// The bound exceeds there, the exact rounding does not:
			// still a possible excess, shown with the bound.
			return excess{amount: x, points: capped(add(s0, mul(s, sub(x, a))))}, true
		}
	}
	return excess{}, false
}

// segmentExceeds finds x in (a, b) (b nil: no end) with a whole number n,
// C(x) < n ≤ min(limit, S(x)), where S(x) = s0 + s(x - a) and
// C(x) = c0 + p(x - a), p ≥ 0; limit 0 is none.
func segmentExceeds(a, b, s0, s, c0, p *big.Rat, limit int64) (*big.Rat, bool) {
	lo, hi := above(a, b, sub(s0, c0), sub(s, p)) // S > C
	if limit > 0 {                                // and limit > C
		clo, chi := above(a, b, sub(rat(limit), c0), new(big.Rat).Neg(p))
		lo, hi = maxPtr(lo, clo), minPtr(hi, chi)
	}
	if lo == nil || hi != nil && lo.Cmp(hi) >= 0 {
		return nil, false
	}
	S := func(x *big.Rat) *big.Rat { return add(s0, mul(s, sub(x, a))) }
	C := func(x *big.Rat) *big.Rat { return add(c0, mul(p, sub(x, a))) }
	n := add(floorRat(C(lo)), one) // the first whole number above C on (lo, hi)
	// The greatest S on (lo, hi), and whether it is reached.
	var top *big.Rat // nil: no end
	reached := s.Sign() == 0
	switch {
	case s.Sign() > 0 && hi != nil:
		top = S(hi)
	case s.Sign() <= 0:
		top = S(lo)
	}
	if limit > 0 && (top == nil || top.Cmp(rat(limit)) > 0) {
		top, reached = rat(limit), true
	}
	if top != nil && (n.Cmp(top) > 0 || n.Cmp(top) == 0 && !reached) {
		return nil, false
	}
	// An x in (lo, hi) with S(x) ≥ n and C(x) < n: the window from start
	// to end (each in it or not).
	start, startIn, end, endIn := lo, false, hi, false
	if p.Sign() > 0 { // C(x) < n: x < xc
		end = minPtr(end, add(a, quo(sub(n, c0), p)))
	}
	switch xs := add(a, quo(sub(n, s0), nonZero(s))); s.Sign() {
	case 1: // S(x) ≥ n: x ≥ xs
		if xs.Cmp(start) > 0 {
			start, startIn = xs, true
		}
	case -1: // x ≤ xs
		if end == nil || xs.Cmp(end) < 0 {
			end, endIn = xs, true
		}
	}
	switch {
	case end != nil && start.Cmp(end) > 0:
		return nil, false
	case end != nil && start.Cmp(end) == 0:
		return start, startIn && endIn
	case startIn:
		return start, true
	}
	return inside(start, end), true
}

func nonZero(r *big.Rat) *big.Rat {
	if r.Sign() == 0 {
		return one
	}
	return r
}

func floorRat(r *big.Rat) *big.Rat {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() < 0 {
		q.Sub(q, big.NewInt(1))
	}
	return new(big.Rat).SetInt(q)
}

// above is the open interval within (a, b) (b nil: no end) where
// g0 + slope × (x - a) > 0: (lo, hi), hi nil for no end; lo nil: none.
func above(a, b, g0, slope *big.Rat) (lo, hi *big.Rat) {
	if slope.Sign() == 0 {
		if g0.Sign() > 0 {
			return a, b
		}
		return nil, nil
	}
	root := sub(a, quo(g0, slope)) // where it is 0
	if slope.Sign() > 0 {
		lo = maxRat(a, root)
		if b != nil && lo.Cmp(b) >= 0 {
			return nil, nil
		}
		return lo, b
	}
	if root.Cmp(a) <= 0 {
		return nil, nil
	}
	if b != nil {
		return a, minRat(root, b)
	}
	return a, root
}

func maxPtr(a, b *big.Rat) *big.Rat {
	if a == nil || b == nil {
		return nil
	}
	return maxRat(a, b)
}

func minPtr(a, b *big.Rat) *big.Rat {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return minRat(a, b)
}

// inside picks an amount in (lo, hi), a whole one when there is one.
func inside(lo, hi *big.Rat) *big.Rat {
	w := add(floorRat(lo), one)
	if hi == nil || w.Cmp(hi) < 0 {
		return w
	}
	return quo(add(lo, hi), rat(2))
}

// checkCeiling refuses a campaign that can give more than the ceiling: a
// problem at each rule that can alone, or at rules when only together
// they can.
func (c *Campaign) checkCeiling(ceiling Ceiling) error {
	if ceiling.IsZero() {
		return nil
	}
	var p problems
	var all []piece
	work := 0
	for i := range c.rules {
		pc, ok := c.rulePiece(i, &work)
		if !ok {
			continue
		}
		all = append(all, pc)
		if e, over := exceeds([]piece{pc}, c.draft.MaxPointsPerPurchase, ceiling); over {
			p.add(fmt.Sprintf("rules[%d].action.formula", i), "%s", e.explain(ceiling))
		}
	}
	if len(p.list) == 0 {
		if e, over := exceeds(all, c.draft.MaxPointsPerPurchase, ceiling); over {
			p.add("rules", "together, the rules %s", e.explain(ceiling))
		}
	}
	return p.err()
}

func (e excess) explain(ceiling Ceiling) string {
	var b strings.Builder
	fmt.Fprintf(&b, "can give more than the client's ceiling of %s", ceiling.Describe())
	if e.points == nil {
		fmt.Fprintf(&b, ": %s", e.why)
	} else {
		pts := formatPoints(e.points)
		unit := "points"
		if pts == "1" {
			unit = "point"
		}
		fmt.Fprintf(&b, ", e.g. up to %s %s for an amount of %s", pts, unit, formatAmount(e.amount))
	}
	b.WriteString("; base the formula on $.amount, or bound it: set max_points_per_purchase, and require a large enough $.amount in the condition")
	return b.String()
}

// formatPoints writes whole points, in scientific notation when long.
func formatPoints(r *big.Rat) string {
	n := new(big.Int).Quo(r.Num(), r.Denom())
	s := n.String()
	if len(s) <= 15 {
		return s
	}
	mantissa := strings.TrimRight(s[1:4], "0")
	if mantissa != "" {
		mantissa = "." + mantissa
	}
	return fmt.Sprintf("%c%se%d", s[0], mantissa, len(s)-1)
}

func formatAmount(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(2)
}
