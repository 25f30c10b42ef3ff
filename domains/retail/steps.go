package retail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

// StepDeps are what the saga's steps work through.
type StepDeps struct {
	Stock     ports.Stock
	Wallets   ports.Wallets
	Orders    ports.Orders
	Publisher ports.Publisher
	Points    *points.Service
	Campaigns *campaign.Service
	// Tiers is optional: without it buyers have no tier (multiplier 1).
	Tiers Tiers
	Clock ports.Clock
}

// Tiers is the buyers' membership: the tier a purchase's campaigns read,
// and the review that records a move after points were earned or taken
// back.
type Tiers interface {
	Multiplier(ctx context.Context, account points.AccountID) (tier string, multiplier decimal.Decimal, err error)
	Review(ctx context.Context, account points.AccountID) error
}

// Steps are the tasks of the purchase saga. Each takes the saga's input and
// reads the order itself; each is idempotent per order, so a step run again
// after a crash or a retry changes nothing more.
type Steps struct {
	d   StepDeps
	cfg Config
}

// NewSteps returns the saga's steps.
func NewSteps(d StepDeps, cfg Config) (*Steps, error) {
	if d.Stock == nil || d.Wallets == nil || d.Orders == nil || d.Publisher == nil || d.Points == nil || d.Campaigns == nil || d.Clock == nil {
		return nil, errors.New("retail steps: every dependency but Tiers is required")
	}
	if d.Tiers == nil {
		d.Tiers = noTiers{}
	}
	return &Steps{d: d, cfg: cfg.withDefaults()}, nil
}

// StepError is the error a failed step left for the compensations and
// FailOrder: the saga's Catch puts it in the input.
type StepError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// StepInput is what a step gets: the saga input, and the error that sent
// the saga to a compensation.
type StepInput struct {
	SagaInput
	Failure *StepError `json:"error,omitempty"`
	// CompensationFailure is the error of the compensation that kept
	// failing (MarkNeedsAttention).
	CompensationFailure *StepError `json:"compensation_error,omitempty"`
}

// Keys under which the points domain keeps an order's points moves (within
// the store's client; awards through the API use keys of their own).
func redeemKey(orderID string) string  { return "order:" + orderID + ":redeem" }
func awardKey(orderID string) string   { return "order:" + orderID + ":award" }
func restoreKey(orderID string) string { return "order:" + orderID + ":restore" }
func reverseAwardKey(orderID string) string {
	return "order:" + orderID + ":award-reversal"
}

func (s *Steps) order(ctx context.Context, in StepInput) (*Order, error) {
	return loadOrder(ctx, s.d.Orders, in.OrderID)
}

func (s *Steps) now() time.Time { return s.d.Clock.Now().UTC() }

// ReserveStock takes the order's products from stock, all or none.
func (s *Steps) ReserveStock(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	lines := make([]ports.StockLine, len(o.lines))
	names := map[string]string{}
	for i, l := range o.lines {
		lines[i] = ports.StockLine{ProductID: l.ProductID, Quantity: l.Quantity}
		names[l.ProductID] = l.Name
	}
	r, err := shelf{s.d.Stock}.reserve(ctx, o.id, lines, s.d.Clock.Now().Add(s.cfg.ReservationTTL))
	var ie *ports.InsufficientError
	switch {
	case errors.As(err, &ie):
		return failure(ErrOutOfStock, "%s: only %s left", names[ie.ID], ie.Available)
	case errors.Is(err, ports.ErrNotFound):
		return failure(ErrOutOfStock, "a product of the order is no longer sold")
	case err != nil:
		return err
	case r.Status() == Released:
		return failure(ErrOrderClosed, "order %s was compensated before its stock was reserved", o.id)
	}
	return nil
}

// buyer is the points account of the order's customer.
func buyer(o *Order) (points.AccountID, error) {
	return points.NewAccountID(o.client, o.userID)
}

// RedeemPoints spends the points that pay part of the order.
func (s *Steps) RedeemPoints(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil || o.pointsRequested == 0 {
		return err
	}
	account, err := buyer(o)
	if err != nil {
		return err
	}
	_, err = s.d.Points.Redeem(ctx, points.RedeemCommand{Account: account, Amount: o.pointsRequested, Key: redeemKey(o.id), Reference: "order:" + o.id})
	var ip *points.InsufficientPointsError
	if errors.As(err, &ip) {
		return failure(ErrNoPoints, "%d points asked, %d available", ip.Requested, ip.Available)
	}
	return err
}

// ChargeWallet takes the money part of the order from the wallet.
func (s *Steps) ChargeWallet(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil || o.due.IsZero() {
		return err
	}
	err = till{s.d.Wallets}.charge(ctx, o.id, o.userID, o.due, s.now())
	var ie *ports.InsufficientError
	if errors.As(err, &ie) {
		return failure(ErrNoFunds, "the order costs %s, the wallet holds %s", o.due.StringFixed(2), ie.Available)
	}
	return err
}

// noTiers is the membership of a store without tiers.
type noTiers struct{}

func (noTiers) Multiplier(context.Context, points.AccountID) (string, decimal.Decimal, error) {
	return "", decimal.NewFromInt(1), nil
}
func (noTiers) Review(context.Context, points.AccountID) error { return nil }

// AwardPoints evaluates the client's campaigns for the purchase, with the
// buyer's tier as it stands before it, issues the points, with the
// breakdown on the order, and reviews the buyer's tier.
func (s *Steps) AwardPoints(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	account, err := buyer(o)
	if err != nil {
		return err
	}
	tier, multiplier, err := s.d.Tiers.Multiplier(ctx, account)
	if err != nil {
		return err
	}
	who := campaign.Customer{Tier: tier, TierMultiplier: multiplier}
	ev, err := purchaseEvent(o, who)
	if err != nil {
		return err
	}
	award, err := s.d.Campaigns.Award(ctx, ev, awardKey(o.id), s.cfg.pendingDays())
	if err != nil {
		return err
	}
	if err := s.d.Tiers.Review(ctx, account); err != nil {
		return err
	}
	breakdown, err := json.Marshal(award.Lines)
	if err != nil {
		return err
	}
	_, err = changeOrder(ctx, s.d.Orders, o.id, func(o *Order) error {
		return o.awardedPoints(award.Total, breakdown, who, s.now())
	})
	return err
}

// purchaseEvent is the event campaigns are evaluated on: seed 003's
// amount (the money paid), with the order's details and who bought, as a
// backtest reads it again from the order's PurchaseCompleted.
func purchaseEvent(o *Order, who campaign.Customer) (campaign.Event, error) {
	return campaign.PurchaseFromCompleted(ports.PurchaseCompleted{OrderID: o.id, UserID: o.userID, Client: o.client, Lines: o.lines,
		Total: o.total, Charged: o.due, PointsRedeemed: o.pointsRequested, Tier: who.Tier, TierMultiplier: who.TierMultiplier}).Event()
}

// CompleteOrder makes the reservation final and the order completed.
func (s *Steps) CompleteOrder(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	if err := (shelf{s.d.Stock}).commit(ctx, o.id); err != nil {
		return err
	}
	_, err = changeOrder(ctx, s.d.Orders, o.id, func(o *Order) error {
		_, err := o.complete(s.now())
		return err
	})
	return err
}

// PublishPurchaseCompleted announces the completed order, once.
func (s *Steps) PublishPurchaseCompleted(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	paidPoints, charged := o.Paid()
	awarded, breakdown := o.Awarded()
	campaigns, err := campaignPoints(breakdown)
	if err != nil {
		return fmt.Errorf("award breakdown of %s: %w", o.id, err)
	}
	now := s.now()
	payload, err := json.Marshal(ports.PurchaseCompleted{OrderID: o.id, UserID: o.userID, Client: o.client, Lines: o.lines, Total: o.total,
		Charged: charged, PointsRedeemed: paidPoints, PointsAwarded: awarded, Campaigns: campaigns,
		Tier: o.buyerTier.Tier, TierMultiplier: o.buyerTier.TierMultiplier, At: now})
	if err != nil {
		return err
	}
	return s.d.Publisher.Publish(ctx, ports.Message{Topic: ports.TopicPurchases, Key: "order:" + o.id + ":completed", Payload: payload, CreatedAt: now})
}

// campaignPoints sums an award breakdown (campaign.Line) per campaign, in
// the order the campaigns first appear. Only the two fields it needs are
// read, so that the breakdown can grow without breaking the event.
func campaignPoints(award json.RawMessage) ([]ports.CampaignPoints, error) {
	if len(award) == 0 {
		return nil, nil
	}
	var lines []struct {
		Campaign string `json:"campaign_name"`
		Points   int64  `json:"points"`
	}
	if err := json.Unmarshal(award, &lines); err != nil {
		return nil, err
	}
	var out []ports.CampaignPoints
	at := map[string]int{}
	for _, l := range lines {
		i, seen := at[l.Campaign]
		if !seen {
			i, at[l.Campaign] = len(out), len(out)
			out = append(out, ports.CampaignPoints{Campaign: l.Campaign})
		}
		out[i].Points += l.Points
	}
	return out, nil
}

// ReverseAward takes back the points the order earned, if it earned any,
// and reviews the buyer's tier.
func (s *Steps) ReverseAward(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	if err := s.reverse(ctx, o, awardKey(o.id), reverseAwardKey(o.id)); err != nil {
		return err
	}
	return s.reviewTier(ctx, o)
}

// reviewTier records a move of the buyer's tier after points they earned
// were taken back.
func (s *Steps) reviewTier(ctx context.Context, o *Order) error {
	account, err := buyer(o)
	if err != nil {
		return err
	}
	return s.d.Tiers.Review(ctx, account)
}

// RestorePoints gives back the points the order spent, if it spent any.
func (s *Steps) RestorePoints(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	return s.reverse(ctx, o, redeemKey(o.id), restoreKey(o.id))
}

// reverse undoes the points transaction the order made under key, once.
func (s *Steps) reverse(ctx context.Context, o *Order, key, reversalKey string) error {
	tx, err := s.d.Points.Find(ctx, o.client, key)
	if errors.Is(err, points.ErrTransactionNotFound) {
		return nil // the step never ran
	}
	if err != nil {
		return err
	}
	_, err = s.d.Points.Reverse(ctx, points.ReverseCommand{Account: tx.Account, TransactionID: tx.ID, Key: reversalKey})
	if errors.Is(err, points.ErrAlreadyReversed) {
		return nil
	}
	return err
}

// RefundWallet gives the order's charge back, if it was charged.
func (s *Steps) RefundWallet(ctx context.Context, in StepInput) error {
	return till{s.d.Wallets}.refund(ctx, in.OrderID, s.now())
}

// ReleaseStock gives the order's reservation back, if it holds one.
func (s *Steps) ReleaseStock(ctx context.Context, in StepInput) error {
	_, err := shelf{s.d.Stock}.release(ctx, in.OrderID)
	return err
}

// failureOf is the failure that sent the saga to its compensations.
func failureOf(in StepInput) (code, cause string) {
	if in.Failure == nil {
		return "Unknown", "the purchase failed"
	}
	return in.Failure.Error, in.Failure.Cause
}

// FailOrder records why the order failed, after its compensations ran.
func (s *Steps) FailOrder(ctx context.Context, in StepInput) error {
	code, cause := failureOf(in)
	_, err := changeOrder(ctx, s.d.Orders, in.OrderID, func(o *Order) error { return o.fail(code, cause, s.now()) })
	return err
}

// MarkNeedsAttention records that a compensation kept failing: an operator
// must look, and can retry.
func (s *Steps) MarkNeedsAttention(ctx context.Context, in StepInput) error {
	code, cause := failureOf(in)
	if c := in.CompensationFailure; c != nil {
		cause += "; then a compensation failed: " + c.Error + ": " + c.Cause
	}
	_, err := changeOrder(ctx, s.d.Orders, in.OrderID, func(o *Order) error { return o.needAttention(code, cause, s.now()) })
	return err
}
