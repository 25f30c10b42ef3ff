package campaign

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Bounds of one backtest. Past any of them it stops and says so, with
// what it covered.
const (
	// BacktestMaxDays is the longest window of purchases a backtest reads
	// (within ports.PurchaseRetention, which the history keeps).
	BacktestMaxDays = limits.BacktestDays
	// BacktestMaxPurchases is the most purchases one backtest evaluates.
	BacktestMaxPurchases = limits.BacktestPurchases
	// BacktestTime is the longest one backtest runs.
	BacktestTime = limits.BacktestTime
	// BacktestCustomers is how many customers a backtest lists: those its
	// change affects most.
	BacktestCustomers = 10
)

// backtestPage is how many purchases a backtest reads at a time.
const backtestPage = 500

// backtestBounds are the bounds a service's backtests keep (tests lower
// them to reach them quickly).
type backtestBounds struct {
	purchases int
	time      time.Duration
}

var defaultBacktestBounds = backtestBounds{purchases: BacktestMaxPurchases, time: BacktestTime}

// PurchaseHistory is where a backtest reads a client's completed
// purchases: from a time on, oldest first, a page at a time (see
// ports.SalesTallies, which keeps them).
type PurchaseHistory interface {
	Purchases(ctx context.Context, client string, since time.Time, cursor string, limit int) ([]ports.PurchaseCompleted, string, error)
}

// PurchaseFromCompleted is the purchase of a completed order, from the
// PurchaseCompleted message that announced it: what its client's
// campaigns were evaluated on when it was bought (the money charged is its
// amount; the order's total is before points paid part of it). The
// message does not say who the buyer was beyond the username: Customer is
// left for the caller to fill in (none: no tier).
func PurchaseFromCompleted(p ports.PurchaseCompleted) Purchase {
	out := Purchase{Client: p.Client, Username: p.UserID, OrderID: p.OrderID, Amount: p.Charged, Total: p.Total,
		PointsRedeemed: p.PointsRedeemed, Items: make([]PurchaseItem, len(p.Lines)),
		Customer: Customer{Tier: p.Tier, TierMultiplier: p.TierMultiplier}}
	for i, l := range p.Lines {
		out.Quantity += l.Quantity
		out.Items[i] = PurchaseItem{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, Price: l.UnitPrice, Amount: l.Amount}
	}
	return out
}

// BacktestRequest is a change to try against past purchases: a new
// campaign (Draft), or a change to a saved one (Name, and Patch, a JSON
// merge patch as Update takes it; none tries the campaign as it is).
type BacktestRequest struct {
	Days  int // the last Days UTC days, today included: 1 to BacktestMaxDays
	Draft *Draft
	Name  string
	Patch []byte
}

// Why a backtest stopped short.
const (
	StoppedAtPurchases = "purchases" // it evaluated BacktestMaxPurchases
	StoppedAtTime      = "time"      // it ran BacktestTime
)

// BacktestNote says, in words, what a backtest assumes.
const BacktestNote = "Each purchase is evaluated against the client's campaigns as they are now, with the campaign tried " +
	"added (or replacing its saved version) and taken as active throughout. Budgets are not applied: every campaign " +
	"gives as if its budget had room, and no budget is spent. The client's ceiling as it is now applies. Nothing is written."

// BacktestResult is what a change would have given the purchases of the
// last days, beside what they were given.
type BacktestResult struct {
	Client string
	// Campaign is the campaign tried; New says it is a new one, not a
	// change to a saved campaign.
	Campaign string
	New      bool
	// From is the start of the first day; To, the moment the purchases
	// were read up to: now, or, when Truncated, the last purchase
	// evaluated.
	From, To time.Time
	// Days lists every UTC day from From to To, by day.
	Days  []BacktestDay
	Total BacktestPoints
	// Customers are the BacktestCustomers whose points would change most
	// (by the size of the difference, then by name).
	Customers []BacktestCustomer
	Purchases int // the purchases read and evaluated
	// Truncated: the backtest stopped at a bound (StoppedBy) before the
	// last purchase.
	Truncated bool
	StoppedBy string
	// BudgetsApplied is false: see BacktestNote.
	BudgetsApplied bool
	Note           string
}

// BacktestPoints are the points of some purchases.
type BacktestPoints struct {
	Orders int64
	// Given is what the purchases were awarded; WouldGive what the
	// client's campaigns, changed, would have given them.
	Given, WouldGive int64
	// CampaignWouldGive is the campaign tried's part of WouldGive;
	// CampaignGiven what its saved version gave (0 for a new campaign).
	CampaignGiven, CampaignWouldGive int64
}

func (p *BacktestPoints) add(q BacktestPoints) {
	p.Orders += q.Orders
	p.Given += q.Given
	p.WouldGive += q.WouldGive
	p.CampaignGiven += q.CampaignGiven
	p.CampaignWouldGive += q.CampaignWouldGive
}

// BacktestDay is the points of one UTC day's purchases.
type BacktestDay struct {
	Day string // 2026-11-21
	BacktestPoints
}

// BacktestCustomer is what one customer's purchases were given and would
// have been given.
type BacktestCustomer struct {
	Username         string
	Orders           int64
	Given, WouldGive int64
}

// Difference is what the customer would have had more (or less, below 0).
func (c BacktestCustomer) Difference() int64 { return c.WouldGive - c.Given }

var errBacktestTime = fmt.Errorf("the backtest ran %s", BacktestTime)

// Backtest evaluates a change to the client's campaigns against the
// client's completed purchases of the last req.Days UTC days (today
// included), oldest first, and sums per day, in all and per customer what
// they would have earned beside what they were awarded. It reads and
// writes nothing else: no points, no budget, no campaign.
//
// The campaigns are the client's as they are now (those active now), with
// the campaign tried added, or replacing the saved campaign it changes;
// the campaign tried is taken as active over the whole window, whatever
// its status and schedule say (as Simulate takes a draft). Budgets are not
// applied: each campaign gives as if its budget had room. The client's
// ceiling, as it is now, caps each purchase.
//
// It stops after BacktestMaxPurchases purchases or BacktestTime, and then
// says it was truncated and up to when it read.
func (s *Service) Backtest(ctx context.Context, client string, req BacktestRequest) (BacktestResult, error) {
	if s.purchases == nil {
		return BacktestResult{}, errors.New("backtest: the campaign service has no purchase history")
	}
	if req.Days < 1 || req.Days > BacktestMaxDays {
		return BacktestResult{}, ports.Invalid("days", "days is a whole number from 1 to %d", BacktestMaxDays)
	}
	tried, campaigns, err := s.backtestCampaigns(ctx, client, req)
	if err != nil {
		return BacktestResult{}, err
	}
	cc, err := s.Ceiling(ctx, client)
	if err != nil {
		return BacktestResult{}, err
	}
	now := s.clock.Now().UTC()
	res := BacktestResult{Client: client, Campaign: tried.draft.Name, New: req.Draft != nil, To: now, Note: BacktestNote,
		From: time.Date(now.Year(), now.Month(), now.Day()-(req.Days-1), 0, 0, 0, 0, time.UTC)}

	bounded, cancel := context.WithTimeoutCause(ctx, s.backtest.time, errBacktestTime)
	defer cancel()
	// stop says whether err (or the deadline) ends the backtest early:
	// true with no error when it ran out of time.
	stop := func(err error) (bool, error) {
		if context.Cause(bounded) == errBacktestTime {
			res.Truncated, res.StoppedBy = true, StoppedAtTime
			return true, nil
		}
		return err != nil, err
	}
	days := map[string]*BacktestPoints{}
	customers := map[string]*BacktestCustomer{}
	var last time.Time
	cursor := ""
read:
	for {
		page, next, err := s.purchases.Purchases(bounded, client, res.From, cursor, min(backtestPage, s.backtest.purchases-res.Purchases+1))
		if done, err := stop(err); done {
			if err != nil {
				return BacktestResult{}, fmt.Errorf("backtest: read purchases: %w", err)
			}
			break
		}
		for _, p := range page {
			if p.At.After(now) {
				break read // completed since the backtest began
			}
			if res.Purchases == s.backtest.purchases {
				res.Truncated, res.StoppedBy = true, StoppedAtPurchases
				break read
			}
			if done, err := stop(bounded.Err()); done {
				if err != nil {
					return BacktestResult{}, err
				}
				break read
			}
			pts, err := s.backtestPurchase(bounded, tried, campaigns, p, now, cc.Ceiling, req.Draft == nil)
			if done, err := stop(err); done {
				if err != nil {
					return BacktestResult{}, fmt.Errorf("backtest: order %s: %w", p.OrderID, err)
				}
				break read
			}
			res.Purchases++
			last = p.At
			day := p.At.UTC().Format(time.DateOnly)
			if days[day] == nil {
				days[day] = &BacktestPoints{}
			}
			days[day].add(pts)
			c := customers[p.UserID]
			if c == nil {
				c = &BacktestCustomer{Username: p.UserID}
				customers[p.UserID] = c
			}
			c.Orders, c.Given, c.WouldGive = c.Orders+1, c.Given+pts.Given, c.WouldGive+pts.WouldGive
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if res.Truncated {
		res.To = res.From
		if res.Purchases > 0 {
			res.To = last.UTC()
		}
	}
	res.Days, res.Total = backtestDays(res.From, res.To, days)
	res.Customers = mostAffected(customers)
	return res, nil
}

// backtestCampaigns returns the campaign a backtest tries, active
// throughout, and the client's campaigns with it in place.
func (s *Service) backtestCampaigns(ctx context.Context, client string, req BacktestRequest) (*Campaign, []*Campaign, error) {
	switch {
	case req.Draft != nil && req.Name != "":
		return nil, nil, ports.Invalid("campaign_name", "send a new campaign, or the campaign_name of a saved one and its change: not both")
	case req.Draft == nil && req.Name == "":
		return nil, nil, ports.Invalid("campaign", "send a new campaign, or the campaign_name of a saved one and its change")
	case req.Draft != nil && len(req.Patch) > 0:
		return nil, nil, ports.Invalid("patch", "a change is of a saved campaign: send its campaign_name, not a new campaign")
	}
	saved, err := s.List(ctx, client)
	if err != nil {
		return nil, nil, err
	}
	var tried *Campaign
	if req.Draft != nil {
		d := *req.Draft
		var p problems
		switch d.Client {
		case "":
			d.Client = client
		case client:
		default:
			p.add("client", "the campaign's client must be the backtest's (%s), or absent", client)
		}
		if d.Name == "" {
			d.Name = "draft"
		}
		if slices.ContainsFunc(saved, func(c *Campaign) bool { return c.draft.Name == d.Name }) {
			p.add("campaign_name", "%s has a campaign named %s: try a change to it with its campaign_name and a patch, or name this one otherwise", client, d.Name)
		}
		if err := p.err(); err != nil {
			return nil, nil, err
		}
		c, err := Compile(d)
		if err := newName(d, err); err != nil {
			return nil, nil, err
		}
		tried = c
	} else {
		cur, err := s.Get(ctx, client, req.Name)
		if err != nil {
			return nil, nil, err
		}
		tried = cur
		if len(req.Patch) > 0 {
			d, err := applyPatch(cur.draft, req.Patch)
			if err != nil {
				return nil, nil, err
			}
			if tried, err = Compile(d); err != nil {
				return nil, nil, err
			}
			tried.version = cur.version
		}
	}
	tried = activeThroughout(tried)
	return tried, withTried(saved, tried), nil
}

// activeThroughout is c active at any time: its status and schedule set
// aside.
func activeThroughout(c *Campaign) *Campaign {
	a := *c
	a.draft.Status, a.draft.StartsAt, a.draft.EndsAt = StatusActive, "", ""
	a.startsAt, a.endsAt = nil, nil
	return &a
}

// backtestPurchase is what one purchase was given and would be given.
func (s *Service) backtestPurchase(ctx context.Context, tried *Campaign, campaigns []*Campaign, p ports.PurchaseCompleted, now time.Time,
	ceiling Ceiling, change bool) (BacktestPoints, error) {
	ev, err := PurchaseFromCompleted(p).Event()
	if err != nil {
		return BacktestPoints{}, err
	}
	res, err := evaluate(ctx, campaigns, ev, now, nil, ceiling)
	if err != nil {
		return BacktestPoints{}, err
	}
	pts := BacktestPoints{Orders: 1, Given: p.PointsAwarded, WouldGive: res.Total}
	for _, l := range res.Lines {
		if l.Campaign == tried.draft.Name {
			pts.CampaignWouldGive += l.Points
		}
	}
	if change {
		for _, c := range p.Campaigns {
			if c.Campaign == tried.draft.Name {
				pts.CampaignGiven += c.Points
			}
		}
	}
	return pts, nil
}

// backtestDays lists every day from from to to, with its points (none
// when it had no purchase), and their total.
func backtestDays(from, to time.Time, days map[string]*BacktestPoints) ([]BacktestDay, BacktestPoints) {
	var out []BacktestDay
	var total BacktestPoints
	last := to.UTC().Format(time.DateOnly)
	for d := from; ; d = d.AddDate(0, 0, 1) {
		day := BacktestDay{Day: d.Format(time.DateOnly)}
		if pts := days[day.Day]; pts != nil {
			day.BacktestPoints = *pts
		}
		total.add(day.BacktestPoints)
		out = append(out, day)
		if day.Day >= last {
			break
		}
	}
	return out, total
}

// mostAffected lists the BacktestCustomers whose points the change moves
// most, by the size of the difference, a gain before a loss of the same
// size, then by name.
func mostAffected(customers map[string]*BacktestCustomer) []BacktestCustomer {
	all := make([]BacktestCustomer, 0, len(customers))
	for _, c := range customers {
		all = append(all, *c)
	}
	abs := func(n int64) int64 { return max(n, -n) }
	slices.SortFunc(all, func(a, b BacktestCustomer) int {
		return cmp.Or(cmp.Compare(abs(b.Difference()), abs(a.Difference())), cmp.Compare(b.Difference(), a.Difference()),
			cmp.Compare(a.Username, b.Username))
	})
	return all[:min(len(all), BacktestCustomers)]
}
