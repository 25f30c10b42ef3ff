package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/domains/points"
)

// Line is one rule's contribution to a purchase's points: the answer to
// "why did I get 170 points?".
type Line struct {
	Campaign    string      `json:"campaign_name"`
	Description string      `json:"description,omitempty"` // the campaign's public description
	Version     int64       `json:"campaign_version"`
	Rule        int         `json:"rule_index"`
	Inputs      Inputs      `json:"inputs"`
	Formula     string      `json:"formula"`
	Raw         json.Number `json:"raw,omitempty"` // the formula's exact value, before rounding
	Points      int64       `json:"points"`
	Note        string      `json:"note,omitempty"` // why Points differs from the rounded raw value
}

// Result is what a purchase event earns.
type Result struct {
	Total int64  `json:"total"`
	Lines []Line `json:"breakdown"`
}

// amountP is $.amount, which the ceiling is relative to.
var amountP = func() *path {
	p, err := compilePath(amountPath)
	if err != nil {
		panic(err) // a constant path
	}
	return p
}()

// Budgets gives the points a campaign may still award, by name; a campaign
// that is absent has no budget limit.
type Budgets map[string]int64

// Evaluate computes what the event earns from the campaigns active at now:
// in priority order (then by name), each rule whose condition holds
// contributes its formula's value rounded by its campaign; a campaign's
// lines are then capped by max_points_per_purchase and by what is left of
// its budget. Nothing is issued.
//
// The total is then capped by the client's ceiling for the purchase's
// amount (the zero Ceiling: none).
//
// It stops when ctx is done, between rules and before each event value
// it reads, and returns ctx's error.
func Evaluate(ctx context.Context, campaigns []*Campaign, ev Event, now time.Time, budgets Budgets, ceiling Ceiling) (Result, error) {
	active := make([]*Campaign, 0, len(campaigns))
	for _, c := range campaigns {
		if c.ActiveAt(now) {
			active = append(active, c)
		}
	}
	slices.SortStableFunc(active, func(a, b *Campaign) int {
		if a.draft.Priority != b.draft.Priority {
			return a.draft.Priority - b.draft.Priority
		}
		return strings.Compare(a.draft.Name, b.draft.Name)
	})
	rules := 0
	for _, c := range active {
		rules += len(c.compiled)
	}
	s := newScope(ctx, ev, rules)
	res := Result{Lines: make([]Line, 0, rules)}
	for _, c := range active {
		first := len(res.Lines)
		for i, r := range c.compiled {
			if s.stopped() {
				return Result{}, fmt.Errorf("evaluate campaigns: %w", s.err)
			}
			if r.cond != nil && !r.cond(s) {
				continue
			}
			res.Lines = append(res.Lines, c.line(i, r.formula.run(s)))
		}
		lines := res.Lines[first:]
		if c.draft.MaxPointsPerPurchase > 0 {
			capLines(lines, c.draft.MaxPointsPerPurchase, "capped by the campaign's limit per purchase")
		}
		if left, ok := budgets[c.draft.Name]; ok {
			capLines(lines, max(left, 0), "capped by the campaign's remaining budget")
		}
	}
	for _, l := range res.Lines {
		res.Total += l.Points
	}
	if !ceiling.IsZero() {
		amount := s.get(amountP)
		if limit := ceiling.points(amount.num, amount.isNum); res.Total > limit {
			capLines(res.Lines, limit, "capped by the most points a purchase of this amount can earn")
			res.Total = limit
		}
	}
	if res.Total > points.MaxAmount {
		capLines(res.Lines, points.MaxAmount, "capped by the most points one purchase can earn")
		res.Total = points.MaxAmount
	}
	if s.err != nil { // the last rule's values were cut short
		return Result{}, fmt.Errorf("evaluate campaigns: %w", s.err)
	}
	return res, nil
}

func (c *Campaign) line(rule int, r formulaResult) Line {
	l := Line{Campaign: c.draft.Name, Description: c.draft.Description, Version: c.version, Rule: rule, Inputs: r.inputs, Formula: c.compiled[rule].formula.text}
	switch {
	case r.err != nil:
		l.Note = noteOf(r.err)
		return l
	case r.raw.sign() < 0:
		l.Raw, l.Note = json.Number(r.raw.String()), "no points: the rule gives less than zero for this purchase"
		return l
	}
	l.Raw = json.Number(r.raw.String())
	pts, ok := c.round(r.raw).int64()
	if !ok || pts > points.MaxAmount {
		l.Points, l.Note = points.MaxAmount, "capped by the most points one purchase can earn"
		return l
	}
	l.Points = pts
	return l
}

// noteOf says why a rule gave nothing, in words for a customer: no
// formula, no field name.
func noteOf(err error) string {
	switch {
	case errors.Is(err, errDivByZero):
		return "no points: the rule divides by zero for this purchase"
	case errors.Is(err, errAbsent):
		return "no points: the purchase lacks a value the rule needs"
	case errors.Is(err, errNotNumber):
		return "no points: a value the rule needs is not a number in this purchase"
	}
	return "no points: the rule could not be worked out for this purchase"
}

// Inputs are the event values a formula read, by JSONPath, as the event
// wrote them. They encode as a JSON object.
type Inputs []Input

// Input is one event value a formula read.
type Input struct {
	Path  string
	Value json.Number
}

func (in Inputs) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, x := range in {
		if i > 0 {
			b = append(b, ',')
		}
		key, err := json.Marshal(x.Path)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, key...), ':'), x.Value...)
	}
	return append(b, '}'), nil
}

func (in *Inputs) UnmarshalJSON(b []byte) error {
	var m map[string]json.Number
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*in = (*in)[:0]
	for k, v := range m {
		*in = append(*in, Input{Path: k, Value: v})
	}
	slices.SortFunc(*in, func(a, b Input) int { return strings.Compare(a.Path, b.Path) })
	return nil
}

// capLines lowers the points of lines, the last first, until they sum to at
// most limit.
func capLines(lines []Line, limit int64, note string) {
	var sum int64
	for _, l := range lines {
		sum += l.Points
	}
	for i := len(lines) - 1; i >= 0 && sum > limit; i-- {
		cut := min(lines[i].Points, sum-limit)
		if cut > 0 {
			lines[i].Points -= cut
			lines[i].Note = note
			sum -= cut
		}
	}
}
