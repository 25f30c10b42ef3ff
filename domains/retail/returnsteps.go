package retail

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/ports"
)

// The steps of the return saga (return.asl.json). Each reads the order and
// its return and is idempotent per return: a step run again after a crash
// or a retry moves nothing more.

// returnKey is the key of one of a return's points moves (in the store's
// client, like the order's own keys).
func returnKey(orderID, returnID, what string) string {
	return "order:" + orderID + ":return:" + returnID + ":" + what
}

// restSuffix is added to a reversal's key when the reversal takes what is
// left instead (see reversePart).
const restSuffix = ":rest"

// refundPaymentID is the payment that records a return's refund: its own
// record, beside the order's charge. An order id has no "/", so it is
// never an order's.
func refundPaymentID(orderID, returnID string) string { return orderID + "/" + returnID }

// restockKey is the stock adjustment of one product of a return. "#" is
// in no client id, so it is never the key of an admin's restock.
func restockKey(orderID, returnID, productID string) string {
	return "#return/" + orderID + "/" + returnID + "/" + productID
}

func (s *Steps) orderReturn(ctx context.Context, in ReturnInput) (*Order, *Return, error) {
	o, err := loadOrder(ctx, s.d.Orders, in.OrderID)
	if err != nil {
		return nil, nil, err
	}
	r, err := o.returnByID(in.ReturnID)
	return o, r, err
}

// ReverseReturnAward takes back the return's share of the points the
// order earned.
func (s *Steps) ReverseReturnAward(ctx context.Context, in ReturnInput) error {
	o, r, err := s.orderReturn(ctx, in)
	if err != nil || r.r.PointsReversed == 0 {
		return err
	}
	if err := s.reversePart(ctx, o, awardKey(o.id), returnKey(o.id, r.r.ID, "award-reversal"), r.r.PointsReversed); err != nil {
		return err
	}
	return s.reviewTier(ctx, o)
}

// RestoreReturnPoints gives back the return's share of the points the
// order was paid with, to the lots they came from.
func (s *Steps) RestoreReturnPoints(ctx context.Context, in ReturnInput) error {
	o, r, err := s.orderReturn(ctx, in)
	if err != nil || r.r.PointsRestored == 0 {
		return err
	}
	return s.reversePart(ctx, o, redeemKey(o.id), returnKey(o.id, r.r.ID, "restore"), r.r.PointsRestored)
}

// reversePart reverses n points of the order's transaction made under
// key, once. A transaction someone reversed by hand meanwhile (an admin,
// through the points API) has less left: the return then takes what is
// left, under a key of its own.
func (s *Steps) reversePart(ctx context.Context, o *Order, key, reversalKey string, n int64) error {
	tx, err := s.d.Points.Find(ctx, o.client, key)
	if errors.Is(err, points.ErrTransactionNotFound) {
		return nil // the order never moved those points
	}
	if err != nil {
		return err
	}
	_, err = s.d.Points.Reverse(ctx, points.ReverseCommand{Account: tx.Account, TransactionID: tx.ID, Amount: n, Key: reversalKey})
	if errors.Is(err, points.ErrReversalTooLarge) {
		_, err = s.d.Points.Reverse(ctx, points.ReverseCommand{Account: tx.Account, TransactionID: tx.ID, Key: reversalKey + restSuffix})
	}
	if errors.Is(err, points.ErrAlreadyReversed) {
		return nil
	}
	return err
}

// unrecovered is how many of the awarded points the return took back the
// customer no longer had.
func (s *Steps) unrecovered(ctx context.Context, o *Order, r *Return) (int64, error) {
	var n int64
	key := returnKey(o.id, r.r.ID, "award-reversal")
	for _, k := range []string{key, key + restSuffix} {
		tx, err := s.d.Points.Find(ctx, o.client, k)
		if errors.Is(err, points.ErrTransactionNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		n += tx.Unrecovered
	}
	return n, nil
}

// refundDue is what the return refunds: its share of the charge, less the
// value of the awarded points the customer no longer had (as far as the
// refund goes), and that kept part.
func (s *Steps) refundDue(ctx context.Context, o *Order, r *Return) (refund, kept decimal.Decimal, unrecovered int64, err error) {
	if unrecovered, err = s.unrecovered(ctx, o, r); err != nil {
		return decimal.Zero, decimal.Zero, 0, err
	}
	kept = decimal.Min(r.r.Refund, s.cfg.PointValue.Mul(decimal.NewFromInt(unrecovered)))
	return r.r.Refund.Sub(kept), kept, unrecovered, nil
}

// RefundReturn puts the return's refund in the customer's wallet, once.
func (s *Steps) RefundReturn(ctx context.Context, in ReturnInput) error {
	o, r, err := s.orderReturn(ctx, in)
	if err != nil {
		return err
	}
	refund, _, _, err := s.refundDue(ctx, o, r)
	if err != nil {
		return err
	}
	return till{s.d.Wallets}.refundReturn(ctx, refundPaymentID(o.id, r.r.ID), o.userID, refund, s.now())
}

// RestockReturn puts the returned products back in stock; a product
// deleted since takes its returned units with it.
func (s *Steps) RestockReturn(ctx context.Context, in ReturnInput) error {
	o, r, err := s.orderReturn(ctx, in)
	if err != nil {
		return err
	}
	for _, l := range r.r.Lines {
		_, err := s.d.Stock.Adjust(ctx, ports.StockAdjustment{Key: restockKey(o.id, r.r.ID, l.ProductID), ProductID: l.ProductID,
			Delta: l.Quantity, At: s.now()})
		if err != nil && !errors.Is(err, ports.ErrDuplicate) && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
	}
	return nil
}

// CompleteReturn records what the return gave back and marks it completed.
func (s *Steps) CompleteReturn(ctx context.Context, in ReturnInput) error {
	o, r, err := s.orderReturn(ctx, in)
	if err != nil {
		return err
	}
	_, kept, unrecovered, err := s.refundDue(ctx, o, r)
	if err != nil {
		return err
	}
	p, found, err := till{s.d.Wallets}.payment(ctx, refundPaymentID(o.id, r.r.ID))
	if err != nil {
		return err
	}
	if !found {
		return errors.New("return " + r.r.ID + " of " + o.id + " has no refund recorded: RefundReturn has not run")
	}
	_, err = changeOrder(ctx, s.d.Orders, o.id, func(o *Order) error {
		return o.completeReturn(r.r.ID, p.amount, kept, unrecovered, s.now())
	})
	return err
}

// PublishOrderReturned announces the completed return, once.
func (s *Steps) PublishOrderReturned(ctx context.Context, in ReturnInput) error {
	o, r, err := s.orderReturn(ctx, in)
	if err != nil {
		return err
	}
	if r.status != ReturnCompleted {
		return errors.New("return " + r.r.ID + " of " + o.id + " is " + r.status.s + ": nothing to announce")
	}
	whole := true
	returned := o.Returned()
	for _, l := range o.lines {
		whole = whole && returned[l.ProductID] >= l.Quantity
	}
	now := s.now()
	payload, err := json.Marshal(ports.OrderReturned{OrderID: o.id, ReturnID: r.r.ID, UserID: o.userID, Client: o.client,
		Lines: r.Lines(), Value: r.r.Value, Refunded: r.r.Refunded, PointsRestored: r.r.PointsRestored,
		PointsReversed: r.r.PointsReversed, PointsUnrecovered: r.r.PointsUnrecovered, Whole: whole, At: now})
	if err != nil {
		return err
	}
	return s.d.Publisher.Publish(ctx, ports.Message{Topic: ports.TopicReturns, Key: "order:" + o.id + ":return:" + r.r.ID + ":returned",
		Payload: payload, CreatedAt: now})
}

// MarkReturnNeedsAttention records that a step of the return kept
// failing: an admin must look, and can retry.
func (s *Steps) MarkReturnNeedsAttention(ctx context.Context, in ReturnInput) error {
	code, cause := "Unknown", "a step of the return kept failing"
	if in.Failure != nil {
		code, cause = in.Failure.Error, in.Failure.Cause
	}
	_, err := changeOrder(ctx, s.d.Orders, in.OrderID, func(o *Order) error {
		return o.returnNeedsAttention(in.ReturnID, code, cause, s.now())
	})
	return err
}
