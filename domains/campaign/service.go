package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Deps are what the service works with.
type Deps struct {
	Store  ports.Campaigns
	Points *points.Service // issues awards
	Clock  ports.Clock
	Log    *slog.Logger // optional
	// Ceiling is the ceiling of a client that has none of its own
	// (DefaultCeiling when zero).
	Ceiling Ceiling
	// Purchases is where Backtest reads completed purchases (the sales
	// read model). Optional: without it, Backtest is refused.
	Purchases PurchaseHistory
}

// Service manages campaigns, simulates them and awards their points.
type Service struct {
	store   ports.Campaigns
	points  *points.Service
	clock   ports.Clock
	log     *slog.Logger
	ceiling Ceiling // the default

	purchases PurchaseHistory
	backtest  backtestBounds

	// Compiled campaigns, by client, name and version: a version never
	// changes, so an entry never goes stale.
	mu    sync.Mutex
	cache map[string]*Campaign
}

const cacheSize = 4096

// NewService returns a Service.
func NewService(d Deps) (*Service, error) {
	if d.Store == nil || d.Points == nil || d.Clock == nil {
		return nil, errors.New("campaign service: store, points service and clock are required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Ceiling.IsZero() {
		d.Ceiling = DefaultCeiling
	}
	return &Service{store: d.Store, points: d.Points, clock: d.Clock, log: d.Log, ceiling: d.Ceiling, cache: map[string]*Campaign{},
		purchases: d.Purchases, backtest: defaultBacktestBounds}, nil
}

// campaign returns the compiled campaign of a stored record.
func (s *Service) campaign(r ports.CampaignRecord) (*Campaign, error) {
	key := fmt.Sprintf("%s\x00%s\x00%d", r.Client, r.Name, r.Version)
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := Rehydrate(r.Definition, r.Version, r.UpdatedAt, r.UpdatedBy)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.cache) >= cacheSize {
		clear(s.cache) // simple and rare: versions are few
	}
	s.cache[key] = c
	s.mu.Unlock()
	return c, nil
}

func (s *Service) save(ctx context.Context, c *Campaign, version int64, actor string, deleted bool) (*Campaign, error) {
	def, err := json.Marshal(c.draft)
	if err != nil {
		return nil, fmt.Errorf("encode campaign: %w", err)
	}
	rec := ports.CampaignRecord{Client: c.draft.Client, Name: c.draft.Name, Version: version, Definition: def,
		UpdatedAt: s.clock.Now().UTC(), UpdatedBy: actor, Deleted: deleted}
	if err := s.store.Save(ctx, rec); err != nil {
		return nil, err
	}
	return s.campaign(rec)
}

// newName adds to what Compile found (err) the rule for the name of a new
// campaign: not "." or "..", dot segments through which no path reaches
// /campaigns/{name}. Compile does not check it: stored campaigns, which it
// rebuilds too, keep their names.
func newName(d Draft, err error) error {
	if limits.PathName(d.Name) || !limits.ID.MatchString(d.Name) { // Compile speaks of a name out of the pattern
		return err
	}
	p := Problem{Field: "campaign_name", Message: "campaign_name is not . or ..: /campaigns/{name} could not reach it"}
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		ve.Problems = append(ve.Problems, p)
		return err
	case err != nil:
		return err
	}
	return &ValidationError{Problems: []Problem{p}}
}

// Validate checks a draft as Create would, without saving it: compiled,
// and, active, within its client's ceiling.
func (s *Service) Validate(ctx context.Context, d Draft) (*Campaign, error) {
	c, err := Compile(d)
	if err := newName(d, err); err != nil {
		return nil, err
	}
	if err := s.checkActivation(ctx, nil, c); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.Warnings = c.Warnings()
		}
		return nil, err
	}
	return c, nil
}

// checkActivation refuses to make a campaign active (created active, set
// active, or its rules, rounding or cap changed while active) when it can
// give more than its client's ceiling. A campaign that stays as it was is
// not checked again: lowering a ceiling leaves active campaigns running,
// capped at evaluation.
func (s *Service) checkActivation(ctx context.Context, before, after *Campaign) error {
	if after.draft.Status != StatusActive {
		return nil
	}
	if before != nil && before.draft.Status == StatusActive && string(before.draft.Rules) == string(after.draft.Rules) &&
		before.draft.Rounding == after.draft.Rounding && before.draft.MaxPointsPerPurchase == after.draft.MaxPointsPerPurchase {
		return nil
	}
	cc, err := s.Ceiling(ctx, after.draft.Client)
	if err != nil {
		return err
	}
	return after.checkCeiling(cc.Ceiling)
}

// Create saves a new campaign at version 1 (or, for a name whose campaign
// was deleted, at the version after the deletion).
func (s *Service) Create(ctx context.Context, d Draft, actor string) (*Campaign, error) {
	c, err := s.Validate(ctx, d)
	if err != nil {
		return nil, err
	}
	var version int64 = 1
	switch cur, err := s.store.Get(ctx, d.Client, d.Name); {
	case err == nil && !cur.Deleted:
		return nil, fmt.Errorf("%s/%s: %w", d.Client, d.Name, ErrExists)
	case err == nil:
		version = cur.Version + 1
	case !errors.Is(err, ports.ErrNotFound):
		return nil, err
	}
	// Checked before the save, not with it: two creations at once may
	// pass one over the limit, which bounds the work, not an exact count.
	existing, err := s.store.List(ctx, d.Client)
	if err != nil {
		return nil, err
	}
	if len(existing) >= limits.CampaignsPerClient {
		return nil, &ValidationError{Problems: []Problem{{Field: "client", Message: fmt.Sprintf(
			"client %s has %d campaigns, the most a client may have: delete one first", d.Client, len(existing))}}}
	}
	saved, err := s.save(ctx, c, version, actor, false)
	if errors.Is(err, ports.ErrConflict) {
		return nil, fmt.Errorf("%s/%s: %w", d.Client, d.Name, ErrExists)
	}
	return saved, err
}

// Get returns the current version of a campaign.
func (s *Service) Get(ctx context.Context, client, name string) (*Campaign, error) {
	r, err := s.store.Get(ctx, client, name)
	if errors.Is(err, ports.ErrNotFound) || err == nil && r.Deleted {
		return nil, fmt.Errorf("%s/%s: %w", client, name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return s.campaign(r)
}

// List returns the current campaigns of a client ("" for every client). A
// stored campaign that no longer compiles is left out and logged, so one
// bad record cannot stop every purchase.
func (s *Service) List(ctx context.Context, client string) ([]*Campaign, error) {
	recs, err := s.store.List(ctx, client)
	if err != nil {
		return nil, err
	}
	out := make([]*Campaign, 0, len(recs))
	for _, r := range recs {
		c, err := s.campaign(r)
		if err != nil {
			s.log.ErrorContext(ctx, "stored campaign skipped", "client", r.Client, "campaign", r.Name, "version", r.Version, "err", err)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Update applies a JSON merge patch to the campaign (rules, status,
// schedule, caps, ...) and saves it as the next version. ifVersion, when
// not 0, is the version the change was made against: any other current
// version is ErrStale.
func (s *Service) Update(ctx context.Context, client, name string, ifVersion int64, patch []byte, actor string) (*Campaign, error) {
	cur, err := s.Get(ctx, client, name)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && ifVersion != cur.version {
		return nil, fmt.Errorf("%s/%s is at version %d, not %d: %w", client, name, cur.version, ifVersion, ErrStale)
	}
	d, err := applyPatch(cur.draft, patch)
	if err != nil {
		return nil, err
	}
	c, err := Compile(d)
	if err != nil {
		return nil, err
	}
	if err := s.checkActivation(ctx, cur, c); err != nil {
		return nil, err
	}
	saved, err := s.save(ctx, c, cur.version+1, actor, false)
	if errors.Is(err, ports.ErrConflict) {
		return nil, fmt.Errorf("%s/%s changed meanwhile: %w", client, name, ErrStale)
	}
	return saved, err
}

// Delete removes a campaign; its history stays. ifVersion as for Update.
func (s *Service) Delete(ctx context.Context, client, name string, ifVersion int64, actor string) error {
	cur, err := s.Get(ctx, client, name)
	if err != nil {
		return err
	}
	if ifVersion != 0 && ifVersion != cur.version {
		return fmt.Errorf("%s/%s is at version %d, not %d: %w", client, name, cur.version, ifVersion, ErrStale)
	}
	_, err = s.save(ctx, cur, cur.version+1, actor, true)
	if errors.Is(err, ports.ErrConflict) {
		return fmt.Errorf("%s/%s changed meanwhile: %w", client, name, ErrStale)
	}
	return err
}

// Revision is one version of a campaign in its history.
type Revision struct {
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	Deleted   bool      `json:"deleted,omitempty"`
	Campaign  Draft     `json:"campaign"`
}

// History lists every version of a campaign, oldest first.
func (s *Service) History(ctx context.Context, client, name string) ([]Revision, error) {
	recs, err := s.store.History(ctx, client, name)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, fmt.Errorf("%s/%s: %w", client, name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Revision, 0, len(recs))
	for _, r := range recs {
		var d Draft
		if err := json.Unmarshal(r.Definition, &d); err != nil {
			return nil, fmt.Errorf("decode version %d of %s/%s: %w", r.Version, client, name, err)
		}
		out = append(out, Revision{Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy, Deleted: r.Deleted, Campaign: d})
	}
	return out, nil
}

// Awarded returns how many points the campaign's budget has granted.
func (s *Service) Awarded(ctx context.Context, c *Campaign) (int64, error) {
	return s.store.Awarded(ctx, c.draft.Client, c.draft.Name)
}

// Simulate computes what the event would earn, issuing nothing: from the
// client's saved campaigns as they stand (with what is left of their
// budgets), or, when draft is given, from that draft alone, as if it were
// active now.
func (s *Service) Simulate(ctx context.Context, client string, ev Event, draft *Draft) (Result, error) {
	return s.simulate(ctx, client, ev, draft, draft == nil)
}

// SimulateWithSaved computes what the event would earn from the client's
// saved campaigns with the draft among them, issuing nothing: the draft is
// added, or replaces the saved campaign of its name, as a backtest tries a
// campaign, and is taken as active now. The saved campaigns count as they
// stand, with what is left of their budgets; the draft's budget is not
// applied (as when it is simulated alone).
func (s *Service) SimulateWithSaved(ctx context.Context, client string, ev Event, draft Draft) (Result, error) {
	return s.simulate(ctx, client, ev, &draft, true)
}

// simulate evaluates the draft (nil: none), alone or (withSaved) with the
// client's saved campaigns.
func (s *Service) simulate(ctx context.Context, client string, ev Event, draft *Draft, withSaved bool) (Result, error) {
	now := s.clock.Now()
	var tried *Campaign
	if draft != nil {
		d := *draft
		d.Client = client
		if d.Name == "" {
			d.Name = "draft"
		}
		d.Status, d.StartsAt, d.EndsAt = StatusActive, "", ""
		c, err := Compile(d)
		if err != nil {
			return Result{}, err
		}
		tried = c
	}
	var campaigns []*Campaign
	budgets := Budgets{}
	if withSaved {
		saved, err := s.List(ctx, client)
		if err != nil {
			return Result{}, err
		}
		for _, c := range saved {
			if tried != nil && c.draft.Name == tried.draft.Name {
				continue // the draft stands in for it, budget and all
			}
			if c.draft.Budget > 0 && c.ActiveAt(now) {
				awarded, err := s.Awarded(ctx, c)
				if err != nil {
					return Result{}, err
				}
				budgets[c.draft.Name] = c.draft.Budget - awarded
			}
		}
		campaigns = saved
	}
	if tried != nil {
		campaigns = withTried(campaigns, tried)
	}
	cc, err := s.Ceiling(ctx, client)
	if err != nil {
		return Result{}, err
	}
	return evaluate(ctx, campaigns, ev, now, budgets, cc.Ceiling)
}

// withTried is the campaigns with tried in place: added, or replacing the
// campaign of its name.
func withTried(campaigns []*Campaign, tried *Campaign) []*Campaign {
	out := make([]*Campaign, 0, len(campaigns)+1)
	for _, c := range campaigns {
		if c.draft.Name != tried.draft.Name {
			out = append(out, c)
		}
	}
	return append(out, tried)
}

// evaluate runs Evaluate for at most limits.EvaluationTime, and not past
// ctx: a request whose client left stops.
func evaluate(ctx context.Context, campaigns []*Campaign, ev Event, now time.Time, budgets Budgets, ceiling Ceiling) (Result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, limits.EvaluationTime, errTooLong)
	defer cancel()
	res, err := Evaluate(ctx, campaigns, ev, now, budgets, ceiling)
	if err != nil && context.Cause(ctx) == errTooLong {
		return res, fmt.Errorf("%w: %w", errTooLong, err)
	}
	return res, err
}

var errTooLong = fmt.Errorf("the campaigns took longer than %s to evaluate", limits.EvaluationTime)

// Award is what a purchase earned and the points transaction that issued it.
type Award struct {
	OrderID     string
	Account     points.AccountID
	Total       int64
	Lines       []Line
	Transaction *points.Transaction // none when nothing was earned
}

// awardDetails is what an award records on its points issue.
type awardDetails struct {
	OrderID string `json:"order_id"`
	Lines   []Line `json:"breakdown"`
}

// AwardKey is the idempotency key under which an award through the API
// issues the points of an order id the client gave. The store's own
// purchases award under a key of their own (retail), so an API client can
// never pre-award, or read, the award of a store order.
func AwardKey(orderID string) string { return "award:" + orderID }

// Award evaluates the purchase event against its client's active campaigns
// and issues the points to the buyer (the event's username, an account of
// the event's client), with the breakdown recorded on the issue. It is
// idempotent per key (within the client): a repeat of the same event
// returns the first award, even if the campaigns changed since; another
// event under a used key is points.ErrKeyReused. The points stay pending
// for pendingDays (a store purchase's return window; 0 for none).
func (s *Service) Award(ctx context.Context, ev Event, key string, pendingDays int) (Award, error) {
	switch {
	case ev.OrderID == "" || ev.Username == "" || ev.Client == "":
		return Award{}, fmt.Errorf("%w: an award needs the event's client, order_id and username", ErrInvalidEvent)
	case !limits.ID.MatchString(ev.OrderID):
		return Award{}, fmt.Errorf("%w: order_id must be %s", ErrInvalidEvent, limits.IDRule)
	case key == "":
		return Award{}, errors.New("an award needs an idempotency key")
	}
	account, err := points.NewAccountID(ev.Client, ev.Username)
	if err != nil {
		return Award{}, fmt.Errorf("%w: username: %v", ErrInvalidEvent, err)
	}
	request, err := ev.MarshalJSON()
	if err != nil {
		return Award{}, fmt.Errorf("encode event: %w", err)
	}
	cmd := points.IssueCommand{Account: account, Key: key, Reference: "order:" + ev.OrderID, Request: string(request), PendingDays: pendingDays}
	switch tx, found, err := s.points.Replay(ctx, cmd); {
	case err != nil:
		return Award{}, err
	case found:
		return awardOf(ev.OrderID, tx)
	}
	campaigns, err := s.List(ctx, ev.Client)
	if err != nil {
		return Award{}, err
	}
	cc, err := s.Ceiling(ctx, ev.Client)
	if err != nil {
		return Award{}, err
	}
	res, err := evaluate(ctx, campaigns, ev, s.clock.Now(), nil, cc.Ceiling)
	if err != nil {
		return Award{}, err
	}
	if err := s.grantBudgets(ctx, campaigns, key, res.Lines); err != nil {
		return Award{}, err
	}
	a := Award{OrderID: ev.OrderID, Account: account, Lines: res.Lines}
	for _, l := range res.Lines {
		a.Total += l.Points
	}
	if a.Total == 0 {
		return a, nil
	}
	cmd.Amount = a.Total
	if cmd.Details, err = json.Marshal(awardDetails{OrderID: ev.OrderID, Lines: res.Lines}); err != nil {
		return Award{}, fmt.Errorf("encode award: %w", err)
	}
	tx, err := s.points.Issue(ctx, cmd)
	if err != nil {
		return Award{}, err
	}
	// A concurrent award of the same event may have won with another
	// result (the campaigns changed between the two): the first stands,
	// and Issue answered it.
	return awardOf(ev.OrderID, tx)
}

// awardOf reads an award back from the points issue that recorded it.
func awardOf(orderID string, tx points.Transaction) (Award, error) {
	var d awardDetails
	if err := json.Unmarshal(tx.Details, &d); err != nil {
		return Award{}, fmt.Errorf("decode award of order %s: %w", orderID, err)
	}
	return Award{OrderID: orderID, Account: tx.Account, Total: tx.Amount, Lines: d.Lines, Transaction: &tx}, nil
}

// grantBudgets takes each budgeted campaign's points from its budget (once
// per award key) and lowers its lines to what was granted.
func (s *Service) grantBudgets(ctx context.Context, campaigns []*Campaign, key string, lines []Line) error {
	byName := make(map[string]*Campaign, len(campaigns))
	for _, c := range campaigns {
		byName[c.draft.Name] = c
	}
	for start := 0; start < len(lines); {
		end := start
		for end < len(lines) && lines[end].Campaign == lines[start].Campaign {
			end++
		}
		c := byName[lines[start].Campaign]
		var want int64
		for _, l := range lines[start:end] {
			want += l.Points
		}
		if c != nil && c.draft.Budget > 0 && want > 0 {
			granted, err := s.grant(ctx, c, key, want)
			if err != nil {
				return err
			}
			capLines(lines[start:end], granted, "capped by the campaign's remaining budget")
		}
		start = end
	}
	return nil
}
