package retail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
	Clock     ports.Clock
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
		return nil, errors.New("retail steps: every dependency is required")
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

// Keys under which the points domain keeps an order's points moves.
func redeemKey(orderID string) string  { return "order:" + orderID + ":redeem" }
func restoreKey(orderID string) string { return "order:" + orderID + ":restore" }
func reverseAwardKey(orderID string) string {
	return "order:" + orderID + ":award-reversal"
}

func (s *Steps) order(ctx context.Context, in StepInput) (ports.Order, error) {
	o, err := s.d.Orders.Get(ctx, in.OrderID)
	return o, notFound(err, "order "+in.OrderID)
}

// ReserveStock takes the order's products from stock, all or none.
func (s *Steps) ReserveStock(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	lines := make([]ports.StockLine, len(o.Lines))
	names := map[string]string{}
	for i, l := range o.Lines {
		lines[i] = ports.StockLine{ProductID: l.ProductID, Quantity: l.Quantity}
		names[l.ProductID] = l.Name
	}
	r, err := s.d.Stock.Reserve(ctx, o.ID, lines, s.d.Clock.Now().Add(s.cfg.ReservationTTL))
	var ie *ports.InsufficientError
	switch {
	case errors.As(err, &ie):
		return failure(ErrOutOfStock, "%s: only %s left", names[ie.ID], ie.Available)
	case errors.Is(err, ports.ErrNotFound):
		return failure(ErrOutOfStock, "a product of the order is no longer sold")
	case err != nil:
		return err
	case r.Status == ports.ReservationReleased:
		return failure(ErrOrderClosed, "order %s was compensated before its stock was reserved", o.ID)
	}
	return nil
}

// RedeemPoints spends the points that pay part of the order.
func (s *Steps) RedeemPoints(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil || o.PointsRedeemed == 0 {
		return err
	}
	_, err = s.d.Points.Redeem(ctx, points.RedeemCommand{Account: o.UserID, Amount: o.PointsRedeemed, Key: redeemKey(o.ID), Reference: "order:" + o.ID})
	var ip *points.InsufficientPointsError
	if errors.As(err, &ip) {
		return failure(ErrNoPoints, "%d points asked, %d available", ip.Requested, ip.Available)
	}
	return err
}

// ChargeWallet takes the money part of the order from the wallet.
func (s *Steps) ChargeWallet(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil || o.Charged.IsZero() {
		return err
	}
	_, err = s.d.Wallets.Charge(ctx, o.UserID, o.ID, o.Charged, s.d.Clock.Now().UTC())
	var ie *ports.InsufficientError
	switch {
	case errors.As(err, &ie):
		return failure(ErrNoFunds, "the order costs %s, the wallet holds %s", o.Charged, ie.Available)
	case errors.Is(err, ports.ErrConflict):
		return failure(ErrOrderClosed, "order %s was refunded before it was charged", o.ID)
	}
	return err
}

// AwardPoints evaluates the client's campaigns for the purchase and issues
// the points, with the breakdown on the order.
func (s *Steps) AwardPoints(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	ev, err := purchaseEvent(o)
	if err != nil {
		return err
	}
	award, err := s.d.Campaigns.Award(ctx, ev)
	if err != nil {
		return err
	}
	breakdown, err := json.Marshal(award.Lines)
	if err != nil {
		return err
	}
	_, err = s.d.Orders.Update(ctx, o.ID, func(ord *ports.Order) error {
		ord.PointsAwarded, ord.Award, ord.UpdatedAt = award.Total, breakdown, s.d.Clock.Now().UTC()
		return nil
	})
	return err
}

// purchaseEvent is the event campaigns are evaluated on: seed 003's
// amount (the money paid), with the order's details.
func purchaseEvent(o ports.Order) (campaign.Event, error) {
	p := campaign.Purchase{Client: o.Client, Username: o.UserID, OrderID: o.ID, Amount: o.Charged, Total: o.Total,
		PointsRedeemed: o.PointsRedeemed, Items: make([]campaign.PurchaseItem, len(o.Lines))}
	for i, l := range o.Lines {
		p.Quantity += l.Quantity
		p.Items[i] = campaign.PurchaseItem{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, Price: l.UnitPrice, Amount: l.Amount}
	}
	return p.Event()
}

// CompleteOrder makes the reservation final and the order completed.
func (s *Steps) CompleteOrder(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	if _, err := s.d.Stock.Commit(ctx, o.ID); errors.Is(err, ports.ErrConflict) || errors.Is(err, ports.ErrNotFound) {
		return failure(ErrReservationGone, "the stock held for order %s was released before it completed", o.ID)
	} else if err != nil {
		return err
	}
	_, err = s.d.Orders.Update(ctx, o.ID, func(ord *ports.Order) error {
		ord.Status, ord.FailureCode, ord.FailureReason, ord.UpdatedAt = ports.OrderCompleted, "", "", s.d.Clock.Now().UTC()
		return nil
	})
	return err
}

// PublishPurchaseCompleted announces the completed order, once.
func (s *Steps) PublishPurchaseCompleted(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	campaigns, err := campaignPoints(o.Award)
	if err != nil {
		return fmt.Errorf("award breakdown of %s: %w", o.ID, err)
	}
	now := s.d.Clock.Now().UTC()
	payload, err := json.Marshal(ports.PurchaseCompleted{OrderID: o.ID, UserID: o.UserID, Client: o.Client, Lines: o.Lines, Total: o.Total,
		Charged: o.Charged, PointsRedeemed: o.PointsRedeemed, PointsAwarded: o.PointsAwarded, Campaigns: campaigns, At: now})
	if err != nil {
		return err
	}
	return s.d.Publisher.Publish(ctx, ports.Message{Topic: ports.TopicPurchases, Key: "order:" + o.ID + ":completed", Payload: payload, CreatedAt: now})
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

// ReverseAward takes back the points the order earned, if it earned any.
func (s *Steps) ReverseAward(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	return s.reverse(ctx, o.UserID, campaign.AwardKey(o.ID), reverseAwardKey(o.ID))
}

// RestorePoints gives back the points the order spent, if it spent any.
func (s *Steps) RestorePoints(ctx context.Context, in StepInput) error {
	o, err := s.order(ctx, in)
	if err != nil {
		return err
	}
	return s.reverse(ctx, o.UserID, redeemKey(o.ID), restoreKey(o.ID))
}

// reverse undoes the points transaction made under key, once.
func (s *Steps) reverse(ctx context.Context, account, key, reversalKey string) error {
	tx, err := s.d.Points.Find(ctx, key)
	if errors.Is(err, points.ErrTransactionNotFound) {
		return nil // the step never ran
	}
	if err != nil {
		return err
	}
	_, err = s.d.Points.Reverse(ctx, points.ReverseCommand{Account: account, TransactionID: tx.ID, Key: reversalKey})
	if errors.Is(err, points.ErrAlreadyReversed) {
		return nil
	}
	return err
}

// RefundWallet gives the order's charge back, if it was charged.
func (s *Steps) RefundWallet(ctx context.Context, in StepInput) error {
	return s.d.Wallets.Refund(ctx, in.OrderID, s.d.Clock.Now().UTC())
}

// ReleaseStock gives the order's reservation back, if it holds one.
func (s *Steps) ReleaseStock(ctx context.Context, in StepInput) error {
	_, err := s.d.Stock.Release(ctx, in.OrderID)
	return err
}

// FailOrder records why the order failed, after its compensations ran.
func (s *Steps) FailOrder(ctx context.Context, in StepInput) error {
	code, cause := "Unknown", "the purchase failed"
	if in.Failure != nil {
		code, cause = in.Failure.Error, in.Failure.Cause
	}
	_, err := s.d.Orders.Update(ctx, in.OrderID, func(o *ports.Order) error {
		if o.Status == ports.OrderCompleted {
			return fmt.Errorf("order %s completed: it cannot fail", o.ID)
		}
		o.Status, o.FailureCode, o.FailureReason, o.UpdatedAt = ports.OrderFailed, code, cause, s.d.Clock.Now().UTC()
		o.PointsAwarded, o.Award = 0, nil
		return nil
	})
	return err
}

// MarkNeedsAttention records that a compensation kept failing: an operator
// must look, and can retry. The order keeps the failure that started the
// compensations, so that a retry can finish with it.
func (s *Steps) MarkNeedsAttention(ctx context.Context, in StepInput) error {
	code, cause := "Unknown", "the purchase failed"
	if in.Failure != nil {
		code, cause = in.Failure.Error, in.Failure.Cause
	}
	if c := in.CompensationFailure; c != nil {
		cause += "; then a compensation failed: " + c.Error + ": " + c.Cause
	}
	_, err := s.d.Orders.Update(ctx, in.OrderID, func(o *ports.Order) error {
		o.Status, o.FailureCode, o.FailureReason, o.UpdatedAt = ports.OrderNeedsAttention, code, cause, s.d.Clock.Now().UTC()
		return nil
	})
	return err
}
