package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
)

// The simulation's marketers: they create campaigns, change their rules
// (threshold, multiplier, rounding), caps, budgets, priorities and
// schedules, pause and activate them and delete them, and an admin moves
// the client's points ceiling, while purchases are in flight. The
// simulation keeps its own model of the campaigns and computes, at each
// run of AwardPoints, what the award must be from the campaigns as they
// stand at that moment (the domain's rule: an award is evaluated against
// the campaigns active when it is evaluated, once per order; a repeat
// returns the first award even if the campaigns changed since). The
// checks compare every completed order's award with that expectation.

// simCampaign is what the simulation knows of one of its campaigns: its
// one rule is "$.amount > threshold: $.amount * percent / 100 points".
type simCampaign struct {
	name      string
	version   int64
	active    bool // status: active, else paused
	threshold int64
	percent   int64
	rounding  string // floor, half_even or ceil
	priority  int
	maxPer    int64 // max_points_per_purchase; 0: none
	budget    int64 // 0: none
	startsAt  time.Time
	endsAt    time.Time
	deleted   bool
}

func (c *simCampaign) activeAt(t time.Time) bool {
	return !c.deleted && c.active && (c.startsAt.IsZero() || !t.Before(c.startsAt)) && (c.endsAt.IsZero() || t.Before(c.endsAt))
}

func (c *simCampaign) rules() string {
	return fmt.Sprintf(`[{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":%d},"action":{"command":"issue","formula":"$.amount*%d/100"}}]`,
		c.threshold, c.percent)
}

// awardLine is one line of an award as the order shows it to staff.
type awardLine struct {
	Campaign string `json:"campaign_name"`
	Version  int64  `json:"campaign_version"`
	Points   int64  `json:"points"`
}

// expectedAward is what one run of AwardPoints must give, and the budget
// grants it makes (by campaign) where none was made for the order before.
type expectedAward struct {
	lines  []awardLine
	total  int64
	grants map[string]int64
	at     time.Time
}

func (e expectedAward) String() string {
	return fmt.Sprintf("%d points %v at %s", e.total, e.lines, e.at.Format(time.RFC3339))
}

// simAward is what the simulation knows of an order's award.
type simAward struct {
	decided  bool          // points were issued: exp is the award for good
	exp      expectedAward // the award issued, or the last run's (0 points)
	ran      bool          // AwardPoints ran to its end at least once
	attempts int
}

// awardAttempt is one run of AwardPoints, checked against the store once
// it has ended (or crashed).
type awardAttempt struct {
	order     string
	exp       expectedAward
	completed bool // the handler returned without error and without a crash
	replay    bool // an award was issued before: this run must answer it again
}

// capAwardLines lowers the points of lines, the last first, until they sum
// to at most limit, as the campaign domain documents.
func capAwardLines(lines []awardLine, limit int64) {
	var sum int64
	for _, l := range lines {
		sum += l.Points
	}
	for i := len(lines) - 1; i >= 0 && sum > limit; i-- {
		cut := min(lines[i].Points, sum-limit)
		lines[i].Points -= cut
		sum -= cut
	}
}

// budgetAwarded is what the simulation's model says a campaign's budget
// has granted.
func (m *sim) budgetAwarded(name string) int64 {
	var n int64
	for _, g := range m.grants[name] {
		n += g
	}
	return n
}

// expectAward computes the award of an order whose amount (the money
// part) is due, now, from the model: the active campaigns by priority then
// name, each rule's points rounded by its campaign, capped by the
// campaign's limit per purchase, the total capped by the client's
// ceiling, then each budgeted campaign's lines by what its budget grants
// (once per order: a grant made before stands).
func (m *sim) expectAward(order string, due decimal.Decimal) expectedAward {
	now := m.clock.Now()
	var active []*simCampaign
	for _, c := range m.campaigns {
		if c.activeAt(now) {
			active = append(active, c)
		}
	}
	slices.SortStableFunc(active, func(a, b *simCampaign) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), strings.Compare(a.name, b.name))
	})
	exp := expectedAward{grants: map[string]int64{}, at: now}
	for _, c := range active {
		if !due.GreaterThan(decimal.NewFromInt(c.threshold)) {
			continue
		}
		raw := due.Mul(decimal.NewFromInt(c.percent)).Div(decimal.NewFromInt(100))
		var pts decimal.Decimal
		switch c.rounding {
		case "ceil":
			pts = raw.Ceil()
		case "half_even":
			pts = raw.RoundBank(0)
		default:
			pts = raw.Floor()
		}
		l := awardLine{Campaign: c.name, Version: c.version, Points: pts.IntPart()}
		if c.maxPer > 0 {
			l.Points = min(l.Points, c.maxPer)
		}
		exp.lines = append(exp.lines, l)
	}
	limit := m.ceilingFixed
	if due.IsPositive() {
		limit += m.ceilingPer.Mul(due).Floor().IntPart()
	}
	capAwardLines(exp.lines, limit)
	for i := 0; i < len(exp.lines); {
		j := i
		var want int64
		for j < len(exp.lines) && exp.lines[j].Campaign == exp.lines[i].Campaign {
			want += exp.lines[j].Points
			j++
		}
		c := m.campaign(exp.lines[i].Campaign)
		if c.budget > 0 && want > 0 {
			granted, ok := m.grants[c.name][order]
			if !ok {
				granted = max(0, min(want, c.budget-m.budgetAwarded(c.name)))
				exp.grants[c.name] = granted
			}
			capAwardLines(exp.lines[i:j], granted)
		}
		i = j
	}
	for _, l := range exp.lines {
		exp.total += l.Points
	}
	return exp
}

func (m *sim) campaign(name string) *simCampaign {
	for _, c := range m.campaigns {
		if c.name == name {
			return c
		}
	}
	m.t.Fatalf("no campaign %s in the simulation", name)
	return nil
}

// purchased notes what the campaigns would give an order as it is placed,
// to count the awards that met changed campaigns in flight.
func (m *sim) purchased(order string, due decimal.Decimal) {
	if _, ok := m.atPurchase[order]; !ok {
		m.atPurchase[order] = m.expectAward(order, due).lines
	}
}

// awardKey is the key under which the store awards an order's points and
// takes them from campaign budgets.
func awardKey(order string) string { return "order:" + order + ":award" }

// awardStarts is called as AwardPoints runs for an order: it settles what
// earlier runs did, then computes what this one must give.
func (m *sim) awardStarts(in json.RawMessage) int {
	var step struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(in, &step); err != nil || step.OrderID == "" {
		m.t.Fatalf("AwardPoints input %s: %v", in, err)
	}
	m.settleAwards()
	a := m.awards[step.OrderID]
	if a == nil {
		a = &simAward{}
		m.awards[step.OrderID] = a
	}
	a.attempts++
	if a.decided { // the first award stands: nothing to expect anew
		m.attempts = append(m.attempts, awardAttempt{order: step.OrderID, replay: true})
		return len(m.attempts) - 1
	}
	o, err := m.s.app.stores.Orders.Get(context.Background(), step.OrderID)
	if err != nil {
		m.t.Fatalf("order %s: %v", step.OrderID, err)
	}
	m.attempts = append(m.attempts, awardAttempt{order: step.OrderID, exp: m.expectAward(step.OrderID, o.Charged)})
	return len(m.attempts) - 1
}

// settleAwards reads what the runs of AwardPoints since the last call left
// in the store — the budget grants and the points issue, which a crash in
// the middle of a run may or may not have written — checks it against
// what each run had to give, and takes it into the model.
func (m *sim) settleAwards() {
	ctx, client := context.Background(), m.s.app.cfg.StoreClient
	for _, at := range m.attempts {
		a := m.awards[at.order]
		key := awardKey(at.order)
		if at.replay {
			a.ran = a.ran || at.completed
			continue
		}
		for _, name := range slices.Sorted(mapKeys(at.exp.grants)) {
			if _, ok := m.grants[name][at.order]; ok {
				continue
			}
			rec, err := m.s.app.stores.Campaigns.Budget(ctx, client, name, key)
			switch {
			case err != nil:
				m.t.Fatalf("budget of %s: %v", name, err)
			case rec.HasGrant && rec.Granted != at.exp.grants[name]:
				m.t.Errorf("order %s: campaign %s's budget granted %d points, want %d (award %v)", at.order, name, rec.Granted, at.exp.grants[name], at.exp)
			case !rec.HasGrant && at.completed:
				m.t.Errorf("order %s: AwardPoints ended without a grant from campaign %s's budget (award %v)", at.order, name, at.exp)
			}
			if rec.HasGrant {
				if m.grants[name] == nil {
					m.grants[name] = map[string]int64{}
				}
				m.grants[name][at.order] = rec.Granted
			}
		}
		tx, err := m.s.app.Points.Find(ctx, client, key)
		switch {
		case errors.Is(err, points.ErrTransactionNotFound):
			if at.exp.total > 0 && at.completed {
				m.t.Errorf("order %s: AwardPoints ended, and no points were issued; want %v", at.order, at.exp)
			}
		case err != nil:
			m.t.Fatalf("award of %s: %v", at.order, err)
		case a.decided:
			// An earlier run issued: this one replayed it.
		default:
			var details struct {
				Lines []awardLine `json:"breakdown"`
			}
			if err := json.Unmarshal(tx.Details, &details); err != nil {
				m.t.Fatalf("award of %s: %v", at.order, err)
			}
			if tx.Amount != at.exp.total || !slices.Equal(details.Lines, at.exp.lines) {
				m.t.Errorf("order %s was awarded %d points %v; the campaigns then active give %v", at.order, tx.Amount, details.Lines, at.exp)
			}
			a.decided, a.exp = true, at.exp
		}
		if at.completed {
			a.ran = true
			if !a.decided {
				a.exp = at.exp // no points: a later run (after a crash) evaluates again
			}
		}
	}
	m.attempts = m.attempts[:0]
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// campaignChange is one thing a marketer (or the admin, for the ceiling)
// does to the campaigns.
func (m *sim) campaignChange() {
	live := slices.DeleteFunc(slices.Clone(m.campaigns), func(c *simCampaign) bool { return c.deleted })
	n := m.rng.IntN(100)
	switch {
	case len(live) == 0 || n < 20:
		m.createCampaign()
	case n < 45:
		c := m.pickCampaign(live)
		// The rule's threshold and multiplier.
		next := *c
		next.threshold, next.percent = int64(m.rng.IntN(120)), int64(1+m.rng.IntN(60))
		m.patchCampaign(c, &next, fmt.Sprintf(`{"rules":%s}`, next.rules()), "rules")
	case n < 65:
		c := m.pickCampaign(live)
		next := *c
		next.active = !c.active
		status := map[bool]string{true: "active", false: "paused"}[next.active]
		m.patchCampaign(c, &next, fmt.Sprintf(`{"status":%q}`, status), status)
	case n < 80:
		c := m.pickCampaign(live)
		next := *c
		var patch []string
		if m.rng.IntN(2) == 0 {
			next.budget = []int64{0, 30, 200, 1000}[m.rng.IntN(4)]
			patch = append(patch, fmt.Sprintf(`"budget":%s`, orNull(next.budget)))
		}
		if m.rng.IntN(2) == 0 {
			next.maxPer = []int64{0, 5, 25}[m.rng.IntN(3)]
			patch = append(patch, fmt.Sprintf(`"max_points_per_purchase":%s`, orNull(next.maxPer)))
		}
		if m.rng.IntN(2) == 0 {
			next.priority = m.rng.IntN(3)
			patch = append(patch, fmt.Sprintf(`"priority":%d`, next.priority))
		}
		if m.rng.IntN(3) == 0 {
			next.rounding = []string{"floor", "half_even", "ceil"}[m.rng.IntN(3)]
			patch = append(patch, fmt.Sprintf(`"rounding":%q`, next.rounding))
		}
		if len(patch) == 0 || m.rng.IntN(3) == 0 {
			next.startsAt, next.endsAt = m.schedule()
			patch = append(patch, fmt.Sprintf(`"starts_at":%s,"ends_at":%s`, timeOrNull(next.startsAt), timeOrNull(next.endsAt)))
		}
		m.patchCampaign(c, &next, "{"+strings.Join(patch, ",")+"}", "settings")
	case n < 90:
		m.deleteCampaign(m.pickCampaign(live))
	default:
		m.setCeiling()
	}
}

func (m *sim) pickCampaign(list []*simCampaign) *simCampaign { return list[m.rng.IntN(len(list))] }

func orNull(n int64) string {
	if n == 0 {
		return "null"
	}
	return fmt.Sprint(n)
}

func timeOrNull(t time.Time) string {
	if t.IsZero() {
		return "null"
	}
	return `"` + t.Format(time.RFC3339) + `"`
}

// schedule is a campaign's window: mostly none, else one that starts or
// ends within the next days, so that time passing opens or closes it.
func (m *sim) schedule() (starts, ends time.Time) {
	now := m.clock.Now().Truncate(time.Second)
	switch m.rng.IntN(4) {
	case 0:
		starts = now.Add(time.Duration(10+m.rng.IntN(3000)) * time.Minute)
	case 1:
		ends = now.Add(time.Duration(10+m.rng.IntN(6000)) * time.Minute)
	case 2:
		starts = now.Add(-time.Hour)
		ends = now.Add(time.Duration(30+m.rng.IntN(3000)) * time.Minute)
	}
	return starts, ends
}

// createCampaign has a marketer start a campaign: purchases over a
// threshold earn a share of their amount, some of them within a budget or
// a schedule, some paused to begin with.
func (m *sim) createCampaign() {
	c := &simCampaign{name: fmt.Sprintf("sim-%d", len(m.campaigns)+1), active: m.rng.IntN(4) != 0,
		threshold: int64(m.rng.IntN(100)), percent: int64(5 + m.rng.IntN(45)), rounding: "floor", priority: m.rng.IntN(3)}
	extra := ""
	if m.rng.IntN(2) == 0 {
		c.budget = int64(50 + m.rng.IntN(500))
		extra += fmt.Sprintf(`,"budget":%d`, c.budget)
	}
	if m.rng.IntN(4) == 0 {
		c.maxPer = int64(5 + m.rng.IntN(40))
		extra += fmt.Sprintf(`,"max_points_per_purchase":%d`, c.maxPer)
	}
	if m.rng.IntN(4) == 0 {
		c.rounding = []string{"half_even", "ceil"}[m.rng.IntN(2)]
		extra += fmt.Sprintf(`,"rounding":%q`, c.rounding)
	}
	if m.rng.IntN(3) == 0 {
		c.startsAt, c.endsAt = m.schedule()
		if !c.startsAt.IsZero() {
			extra += fmt.Sprintf(`,"starts_at":%s`, timeOrNull(c.startsAt))
		}
		if !c.endsAt.IsZero() {
			extra += fmt.Sprintf(`,"ends_at":%s`, timeOrNull(c.endsAt))
		}
	}
	status := map[bool]string{true: "active", false: "paused"}[c.active]
	body := fmt.Sprintf(`{"client":"UnicornStore","campaign_name":%q,"status":%q,"priority":%d%s,"rules":%s}`, c.name, status, c.priority, extra, c.rules())
	code, resp := m.s.do("POST", "/campaigns", body, "Authorization", m.marketer)
	switch {
	case code == 201 && num(resp["version"]) == 1:
		c.version = 1
		m.campaigns = append(m.campaigns, c)
		m.seen["campaigns created"]++
	case overCeiling(code, resp): // refused, nothing saved
		m.seen["campaign changes refused"]++
		if code, resp := m.s.do("GET", "/campaigns/"+c.name, "", "Authorization", m.marketer); code != 404 {
			m.t.Errorf("campaign %s was refused, yet it exists: %d %v", c.name, code, resp)
		}
		m.campaigns = append(m.campaigns, &simCampaign{name: c.name, deleted: true}) // the name stays used
	default:
		m.t.Errorf("create campaign %s: %d %v", body, code, resp)
	}
}

// patchCampaign sends a change of c that makes it next; now and then it
// sends it against a version that is no longer current, which must change
// nothing.
func (m *sim) patchCampaign(c, next *simCampaign, patch, what string) {
	version := c.version
	stale := m.rng.IntN(10) == 0 && version > 1
	if stale {
		version--
	}
	code, resp := m.s.do("PATCH", "/campaigns/"+c.name, patch, "Authorization", m.marketer, "If-Match", fmt.Sprintf(`"%d"`, version))
	switch {
	case code == 200 && !stale && num(resp["version"]) == float64(c.version+1):
		next.version = c.version + 1
		*c = *next
		m.seen["campaign "+what]++
	case stale && code == 412, !stale && overCeiling(code, resp):
		m.seen["campaign changes refused"]++
		m.campaignUnchanged(c)
	default:
		m.t.Errorf("PATCH campaign %s at version %d (stale: %v) with %s: %d %v", c.name, version, stale, patch, code, resp)
	}
}

// overCeiling tells a refusal of a campaign that can give more than the
// client's ceiling, the one refusal the simulation's campaigns may meet.
func overCeiling(code int, resp map[string]any) bool {
	return code == 400 && strings.Contains(fmt.Sprint(resp["errors"]), "can give more than the client's ceiling")
}

// campaignUnchanged checks that a refused change left c as it was.
func (m *sim) campaignUnchanged(c *simCampaign) {
	code, resp := m.s.do("GET", "/campaigns/"+c.name, "", "Authorization", m.marketer)
	if code != 200 || num(resp["version"]) != float64(c.version) {
		m.t.Errorf("a refused change of campaign %s changed it: %d %v, want version %d", c.name, code, resp, c.version)
	}
}

func (m *sim) deleteCampaign(c *simCampaign) {
	code, resp := m.s.do("DELETE", "/campaigns/"+c.name, "", "Authorization", m.marketer, "If-Match", fmt.Sprintf(`"%d"`, c.version))
	if code != 204 {
		m.t.Errorf("delete campaign %s: %d %v", c.name, code, resp)
		return
	}
	c.version++
	c.deleted = true
	m.seen["campaigns deleted"]++
}

// setCeiling has an admin change the most points a purchase may earn;
// active campaigns over it stay active, capped at evaluation.
func (m *sim) setCeiling() {
	per := []string{"1", "0.5", "0.3", "0.75"}[m.rng.IntN(4)]
	fixed := []int64{0, 0, 5}[m.rng.IntN(3)]
	m.s.must(200, "PUT", "/points-ceiling?client=UnicornStore", fmt.Sprintf(`{"points_per_amount":%s,"fixed_points":%d}`, per, fixed))
	m.ceilingPer, m.ceilingFixed = decimal.RequireFromString(per), fixed
	m.seen["ceiling changes"]++
}

// checkAwards asserts that every order's award is the one the campaigns
// active when it was evaluated give, issued once (taken back once if the
// order failed, and by each of its returns their share), and that every
// budget granted what the awards took.
func (m *sim) checkAwards(orders map[string]map[string]any) {
	t, ctx := m.t, context.Background()
	m.settleAwards()
	issues := map[string][]points.Transaction{}    // by order: the issues that reference it
	reversals := map[string][]points.Transaction{} // by the issue reversed
	for _, user := range m.customers {
		txs, _, err := m.s.app.Reads.Transactions(ctx, points.MustAccountID(m.s.app.cfg.StoreClient, user), 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range txs {
			switch {
			case tx.Type == points.TxIssue && strings.HasPrefix(tx.Reference, "order:"):
				id := strings.TrimPrefix(tx.Reference, "order:")
				issues[id] = append(issues[id], tx)
			case tx.Type == points.TxIssueReversal:
				reversals[tx.Reverses] = append(reversals[tx.Reverses], tx)
			}
		}
	}
	for _, id := range m.orders {
		o, a := orders[id], m.awards[id]
		var got []awardLine
		if raw, ok := o["award"]; ok {
			b, _ := json.Marshal(raw)
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
		}
		switch o["status"] {
		case "completed":
			if a == nil || !a.ran {
				t.Errorf("order %s completed, and AwardPoints never ran to its end", id)
				continue
			}
			if int64(num(o["points_awarded"])) != a.exp.total || !slices.Equal(got, a.exp.lines) {
				t.Errorf("order %s was awarded %v points %v; the campaigns active when its award was evaluated give %v (%d runs of AwardPoints)",
					id, o["points_awarded"], got, a.exp, a.attempts)
			}
			if a.exp.total > 0 {
				m.seen["orders awarded points"]++
			}
			if before, ok := m.atPurchase[id]; ok && !slices.Equal(before, a.exp.lines) {
				m.seen["awards evaluated after the campaigns changed"]++
			}
			if n := len(issues[id]); (a.exp.total > 0 && n != 1) || (a.exp.total == 0 && n != 0) {
				t.Errorf("order %s (awarded %d) has %d points issues", id, a.exp.total, n)
			}
			// Only its returns take any back: what each was decided to.
			var byReturns int64
			takers := 0
			rs, _ := o["returns"].([]any)
			for _, r := range rs {
				if n := int64(num(r.(map[string]any)["points_reversed"])); n > 0 {
					byReturns += n
					takers++
				}
			}
			for _, tx := range issues[id] {
				var back int64
				for _, rev := range reversals[tx.ID] {
					back += rev.Amount + rev.Unrecovered
				}
				if tx.Amount != a.exp.total || len(reversals[tx.ID]) != takers || back != byReturns {
					t.Errorf("order %s: issue of %d points, reversed %d times for %d; want %d, reversed by its %d returns for %d",
						id, tx.Amount, len(reversals[tx.ID]), back, a.exp.total, takers, byReturns)
				}
			}
		case "failed":
			if len(issues[id]) > 1 {
				t.Errorf("failed order %s has %d points issues", id, len(issues[id]))
			}
			for _, tx := range issues[id] {
				if len(reversals[tx.ID]) != 1 {
					t.Errorf("failed order %s: its award of %d points was reversed %d times, want once", id, tx.Amount, len(reversals[tx.ID]))
				}
				m.seen["awards taken back"]++
			}
		}
	}
	for _, c := range m.campaigns {
		awarded, err := m.s.app.stores.Campaigns.Awarded(ctx, m.s.app.cfg.StoreClient, c.name)
		if err != nil {
			t.Fatal(err)
		}
		if want := m.budgetAwarded(c.name); awarded != want {
			t.Errorf("campaign %s: its budget granted %d points, the awards took %d", c.name, awarded, want)
		}
		if len(m.grants[c.name]) > 0 && c.budget > 0 && m.budgetAwarded(c.name) >= c.budget {
			m.seen["budgets spent"]++
		}
	}
}
