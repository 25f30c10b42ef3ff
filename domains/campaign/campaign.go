package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/limits"
)

// Draft is a campaign as a marketer writes it (and as it is stored). Rules
// may be a JSON array or, as seed 003 stored them, a string holding one.
type Draft struct {
	Client               string          `json:"client"`
	Name                 string          `json:"campaign_name"`
	Description          string          `json:"description,omitempty"` // public: customers see it on their orders
	Status               string          `json:"status,omitempty"`      // active (default) or paused
	StartsAt             string          `json:"starts_at,omitempty"`   // RFC 3339; none: already started
	EndsAt               string          `json:"ends_at,omitempty"`     // RFC 3339, exclusive; none: never ends
	Priority             int             `json:"priority"`              // lower runs first; ties by name
	Rounding             string          `json:"rounding,omitempty"`    // floor (default), half_even, ceil
	MaxPointsPerPurchase int64           `json:"max_points_per_purchase,omitempty"`
	Budget               int64           `json:"budget,omitempty"` // total points the campaign may award; 0: no limit
	Rules                json.RawMessage `json:"rules"`
}

// Rule is one rule as written.
type Rule struct {
	Variable  string     `json:"variable,omitempty"`
	Condition *Condition `json:"condition,omitempty"` // none: every purchase
	Action    Action     `json:"action"`
}

// Action is what a matching rule does. "issue" is the only command today;
// the field leaves room for others (multipliers, fixed bonuses).
type Action struct {
	Command string `json:"command"`
	Formula string `json:"formula"`
}

// Statuses and rounding rules.
const (
	StatusActive = "active"
	StatusPaused = "paused"

	RoundFloor    = "floor"
	RoundHalfEven = "half_even"
	RoundCeil     = "ceil"

	CommandIssue = "issue"
)

const (
	maxPriority = 1_000_000
	maxBudget   = 1_000_000_000_000_000
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// Campaign is a checked, compiled campaign at one version.
type Campaign struct {
	draft     Draft // canonical: rules as an array, defaults filled in
	rules     []Rule
	compiled  []compiledRule
	warnings  []Problem
	startsAt  *time.Time
	endsAt    *time.Time
	version   int64
	updatedAt time.Time
	updatedBy string
}

type compiledRule struct {
	cond    predicate // nil: always
	formula *formula
}

// Compile checks a draft and compiles its rules. Every problem found is in
// the returned *ValidationError, each at its field.
func Compile(d Draft) (*Campaign, error) {
	var p problems
	c := &Campaign{}
	if !namePattern.MatchString(d.Client) {
		p.add("client", "client must be 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	}
	if !namePattern.MatchString(d.Name) {
		p.add("campaign_name", "campaign_name must be 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	}
	checkDescription(d.Description, &p)
	switch d.Status {
	case "":
		d.Status = StatusActive
	case StatusActive, StatusPaused:
	default:
		p.add("status", "status must be active or paused")
	}
	switch d.Rounding {
	case "":
		d.Rounding = RoundFloor
	case RoundFloor, RoundHalfEven, RoundCeil:
	default:
		p.add("rounding", "rounding must be floor, half_even or ceil")
	}
	c.startsAt = parseTime(d.StartsAt, "starts_at", &p)
	c.endsAt = parseTime(d.EndsAt, "ends_at", &p)
	if c.startsAt != nil && c.endsAt != nil && !c.endsAt.After(*c.startsAt) {
		p.add("ends_at", "ends_at must be after starts_at")
	}
	if d.Priority < -maxPriority || d.Priority > maxPriority {
		p.add("priority", "priority must be from %d to %d", -maxPriority, maxPriority)
	}
	if d.MaxPointsPerPurchase < 0 || d.MaxPointsPerPurchase > points.MaxAmount {
		p.add("max_points_per_purchase", "max_points_per_purchase must be from 1 to %d (0 or absent: no cap)", points.MaxAmount)
	}
	if d.Budget < 0 || d.Budget > maxBudget {
		p.add("budget", "budget must be from 1 to %d (0 or absent: no budget)", int64(maxBudget))
	}
	c.rules = parseRules(d.Rules, &p)
	for i, r := range c.rules {
		c.compiled = append(c.compiled, compileRule(r, fmt.Sprintf("rules[%d]", i), &p))
	}
	checkMultiValuePaths(&p)
	warnUnknownPaths(&p)
	if err := p.err(); err != nil {
		return nil, err
	}
	canonical, err := json.Marshal(c.rules)
	if err != nil {
		return nil, fmt.Errorf("encode rules: %w", err)
	}
	d.Rules = canonical
	def, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode campaign: %w", err)
	}
	if len(def) > limits.CampaignBytes {
		p.add("", "the campaign is %d bytes of JSON; at most %d are allowed", len(def), limits.CampaignBytes)
		return nil, p.err()
	}
	c.draft, c.warnings = d, p.warnings
	return c, nil
}

func parseTime(s, field string, p *problems) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.add(field, "%s must be an RFC 3339 time such as 2026-12-01T00:00:00Z", field)
		return nil
	}
	t = t.UTC()
	return &t
}

// parseRules reads rules sent as a JSON array or as a string holding one,
// each rule strictly: an unknown field is a mistake, not something to
// ignore.
func parseRules(raw json.RawMessage, p *problems) []Rule {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			p.add("rules", "rules must be a JSON array, or a string holding one")
			return nil
		}
		raw = bytes.TrimSpace([]byte(s))
	}
	var items []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &items) != nil {
		p.add("rules", "rules must be a JSON array of rules, or a string holding one")
		return nil
	}
	switch {
	case len(items) == 0:
		p.add("rules", "a campaign needs at least one rule")
		return nil
	case len(items) > limits.RulesPerCampaign:
		p.add("rules", "a campaign may have at most %d rules", limits.RulesPerCampaign)
		return nil
	}
	rules := make([]Rule, 0, len(items))
	for i, item := range items {
		var r Rule
		dec := json.NewDecoder(bytes.NewReader(item))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			field, msg := fmt.Sprintf("rules[%d]", i), err.Error()
			var typ *json.UnmarshalTypeError
			switch {
			case errors.As(err, &typ):
				field, msg = field+"."+typ.Field, fmt.Sprintf("must be a %s, not %s", typ.Type.Kind(), typ.Value)
			case strings.HasPrefix(msg, "json: unknown field "):
				msg = "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
			case errors.Is(err, io.EOF):
				msg = "a rule must be a JSON object"
			}
			p.add(field, "%s", msg)
			continue
		}
		rules = append(rules, r)
	}
	return rules
}

func compileRule(r Rule, field string, p *problems) compiledRule {
	var cr compiledRule
	if r.Condition != nil {
		cr.cond = compileCondition(r.Condition, variable{r.Variable, field + ".variable"}, field+".condition", 1, p)
	} else if r.Variable != "" {
		p.add(field+".condition", "a rule with a variable needs a condition on it")
	}
	switch r.Action.Command {
	case CommandIssue:
	case "":
		p.add(field+".action.command", `the command is required: "issue"`)
	default:
		p.add(field+".action.command", `unknown command %q: the only command is "issue"`, r.Action.Command)
	}
	cr.formula = compileFormula(r.Action.Formula, field+".action.formula", p)
	return cr
}

// Rehydrate rebuilds a stored campaign at its version.
func Rehydrate(definition []byte, version int64, updatedAt time.Time, updatedBy string) (*Campaign, error) {
	var d Draft
	if err := json.Unmarshal(definition, &d); err != nil {
		return nil, fmt.Errorf("decode stored campaign: %w", err)
	}
	c, err := Compile(d)
	if err != nil {
		return nil, fmt.Errorf("stored campaign %s/%s v%d no longer compiles: %w", d.Client, d.Name, version, err)
	}
	c.version, c.updatedAt, c.updatedBy = version, updatedAt, updatedBy
	return c, nil
}

// Draft returns the campaign's definition, canonical: rules as an array and
// defaults filled in.
func (c *Campaign) Draft() Draft { return c.draft }

func (c *Campaign) Client() string       { return c.draft.Client }
func (c *Campaign) Name() string         { return c.draft.Name }
func (c *Campaign) Version() int64       { return c.version }
func (c *Campaign) UpdatedAt() time.Time { return c.updatedAt }
func (c *Campaign) UpdatedBy() string    { return c.updatedBy }
func (c *Campaign) Rules() []Rule        { return append([]Rule(nil), c.rules...) }
func (c *Campaign) Budget() int64        { return c.draft.Budget }
func (c *Campaign) Status() string       { return c.draft.Status }
func (c *Campaign) StartsAt() *time.Time { return c.startsAt }
func (c *Campaign) EndsAt() *time.Time   { return c.endsAt }
func (c *Campaign) Priority() int        { return c.draft.Priority }

// Warnings are what may be a mistake in the campaign but need not be: a
// path the store's purchase event does not have.
func (c *Campaign) Warnings() []Problem { return append([]Problem(nil), c.warnings...) }

// ActiveAt reports whether the campaign awards points at t: active, and t
// within [starts_at, ends_at).
func (c *Campaign) ActiveAt(t time.Time) bool {
	return c.draft.Status == StatusActive &&
		(c.startsAt == nil || !t.Before(*c.startsAt)) &&
		(c.endsAt == nil || t.Before(*c.endsAt))
}

// round turns a rule's raw result into whole points by the campaign's rule.
func (c *Campaign) round(d num) num {
	switch c.draft.Rounding {
	case RoundHalfEven:
		return d.roundTo(0, modeHalfEven)
	case RoundCeil:
		return d.roundTo(0, modeCeil)
	}
	return d.roundTo(0, modeFloor)
}

// checkMultiValuePaths bounds the paths of a campaign that select several
// values: each costs a walk over much of the event, where a plain path
// costs a lookup.
func checkMultiValuePaths(p *problems) {
	seen := map[string]bool{}
	for _, u := range p.uses {
		if !u.path.multi || seen[u.path.text] {
			continue
		}
		seen[u.path.text] = true
		if len(seen) > limits.MultiValuePaths {
			p.add(u.field, "a campaign may read at most %d paths that select several values (.., *, filters, unions, slices); %s is one more", limits.MultiValuePaths, u.path.text)
			return
		}
	}
}

// checkDescription: the public description is short plain text.
func checkDescription(text string, p *problems) {
	if n := utf8.RuneCountInString(text); n > limits.CampaignDescriptionChars {
		p.add("description", "description may have at most %d characters, not %d", limits.CampaignDescriptionChars, n)
	}
	if strings.ContainsFunc(text, unicode.IsControl) {
		p.add("description", "description must be one line of text, without control characters")
	}
}

// warnUnknownPaths warns of every path the store's purchase event does not
// have: most often a typo. Not an error: API clients send events of their
// own.
func warnUnknownPaths(p *problems) {
	seen := map[string]bool{}
	for _, u := range p.uses {
		key := u.field + "\x00" + u.path.text
		if seen[key] {
			continue
		}
		seen[key] = true
		if msg := u.path.unknown; msg != "" {
			p.warnings = append(p.warnings, Problem{Field: u.field, Position: u.position,
				Message: fmt.Sprintf("%s: %s (an event sent through the API may have it)", u.path.text, msg)})
		}
	}
}
