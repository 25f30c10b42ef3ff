package retail

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/ports"
)

// OrderStatus is where an order stands. The zero value is no status: only
// the four below exist.
type OrderStatus struct{ s string }

var (
	// Pending: the purchase saga is running (or about to).
	Pending = OrderStatus{ports.OrderPending}
	// Completed: paid, stock sold, points awarded.
	Completed = OrderStatus{ports.OrderCompleted}
	// Failed: the saga failed and undid every step it had done.
	Failed = OrderStatus{ports.OrderFailed}
	// NeedsAttention: a compensation kept failing; an operator must look.
	NeedsAttention = OrderStatus{ports.OrderNeedsAttention}
)

var orderStatuses = []OrderStatus{Pending, Completed, Failed, NeedsAttention}

func (s OrderStatus) String() string { return s.s }

// ParseOrderStatus reads a status by its name.
func ParseOrderStatus(s string) (OrderStatus, error) {
	for _, st := range orderStatuses {
		if st.s == s {
			return st, nil
		}
	}
	return OrderStatus{}, invalid("status", "a status is pending, completed, failed or needs_attention")
}

// Order is a purchase and where its saga left it. Its methods are the
// order's rules: what may follow what, and what a failed order keeps.
type Order struct {
	id, userID, client string
	lines              []ports.OrderLine
	total              decimal.Decimal
	pointsRequested    int64           // points the buyer chose to pay with
	pointsValue        decimal.Decimal // what those points are worth
	due                decimal.Decimal // the money part: total - pointsValue
	pointsAwarded      int64
	award              json.RawMessage // the campaign breakdown of the points awarded
	buyerTier          campaign.Customer
	status             OrderStatus
	failureCode        string
	failureReason      string
	attempt            int // saga runs: 1, then +1 per operator retry
	fingerprint        string
	createdAt          time.Time
	updatedAt          time.Time
	completedAt        time.Time
	returns            []*Return
	version            int64
}

// orderFromStorage rebuilds a stored order.
func orderFromStorage(r ports.Order) (*Order, error) {
	st, err := ParseOrderStatus(r.Status)
	if err != nil {
		return nil, fmt.Errorf("order %s: status %q", r.ID, r.Status)
	}
	returns, err := returnsFromStorage(r.Returns)
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", r.ID, err)
	}
	return &Order{id: r.ID, userID: r.UserID, client: r.Client, lines: r.Lines, total: r.Total, pointsRequested: r.PointsRedeemed,
		pointsValue: r.PointsValue, due: r.Charged, pointsAwarded: r.PointsAwarded, award: r.Award, status: st,
		buyerTier:   campaign.Customer{Tier: r.Tier, TierMultiplier: r.TierMultiplier},
		failureCode: r.FailureCode, failureReason: r.FailureReason, attempt: max(r.Attempt, 1), fingerprint: r.Fingerprint,
		createdAt: r.CreatedAt, updatedAt: r.UpdatedAt, completedAt: r.CompletedAt, returns: returns, version: r.Version}, nil
}

// storage is the order as stored.
func (o *Order) storage() ports.Order {
	rec := ports.Order{ID: o.id, UserID: o.userID, Client: o.client, Lines: o.lines, Total: o.total, PointsRedeemed: o.pointsRequested,
		PointsValue: o.pointsValue, Charged: o.due, PointsAwarded: o.pointsAwarded, Award: o.award, Status: o.status.s,
		FailureCode: o.failureCode, FailureReason: o.failureReason, Attempt: o.attempt, Fingerprint: o.fingerprint,
		CreatedAt: o.createdAt, UpdatedAt: o.updatedAt, CompletedAt: o.completedAt, Version: o.version,
		Tier: o.buyerTier.Tier, TierMultiplier: o.buyerTier.TierMultiplier}
	for _, r := range o.returns {
		rec.Returns = append(rec.Returns, r.storage())
	}
	return rec
}

func (o *Order) ID() string                     { return o.id }
func (o *Order) UserID() string                 { return o.userID }
func (o *Order) Client() string                 { return o.client }
func (o *Order) Lines() []ports.OrderLine       { return append([]ports.OrderLine(nil), o.lines...) }
func (o *Order) Total() decimal.Decimal         { return o.total }
func (o *Order) Status() OrderStatus            { return o.status }
func (o *Order) Attempt() int                   { return o.attempt }
func (o *Order) CreatedAt() time.Time           { return o.createdAt }
func (o *Order) UpdatedAt() time.Time           { return o.updatedAt }
func (o *Order) Version() int64                 { return o.version }
func (o *Order) Failure() (code, reason string) { return o.failureCode, o.failureReason }

// PointsRequested is how many points the buyer chose to pay with, and
// PointsValue what they are worth; AmountDue is the money part. They say
// what the order asks for, not what happened: see Paid.
func (o *Order) PointsRequested() int64       { return o.pointsRequested }
func (o *Order) PointsValue() decimal.Decimal { return o.pointsValue }
func (o *Order) AmountDue() decimal.Decimal   { return o.due }

// Paid is what the buyer actually gave: the points spent and the money
// charged. Only a completed order was paid; a failed one had its steps
// undone, and a pending one is not paid yet.
func (o *Order) Paid() (points int64, money decimal.Decimal) {
	if o.status != Completed {
		return 0, decimal.Zero
	}
	return o.pointsRequested, o.due
}

// Awarded is the points the order earned and why (the campaign breakdown);
// only a completed order keeps them.
func (o *Order) Awarded() (int64, json.RawMessage) {
	if o.status != Completed {
		return 0, nil
	}
	return o.pointsAwarded, o.award
}

// awardedPoints records what the order earned, and the buyer's tier its
// campaigns read, while its saga runs.
func (o *Order) awardedPoints(points int64, breakdown json.RawMessage, who campaign.Customer, at time.Time) error {
	if o.status != Pending {
		return fmt.Errorf("order %s is %s: it earns nothing more", o.id, o.status)
	}
	o.pointsAwarded, o.award, o.buyerTier, o.updatedAt = points, breakdown, who, at
	return nil
}

// complete marks the order completed, once.
func (o *Order) complete(at time.Time) (changed bool, err error) {
	switch o.status {
	case Completed:
		return false, nil
	case Pending:
		o.status, o.failureCode, o.failureReason, o.updatedAt, o.completedAt = Completed, "", "", at, at
		return true, nil
	}
	return false, fmt.Errorf("order %s is %s: it cannot complete", o.id, o.status)
}

// fail records why the order failed, after its compensations ran. A failed
// order keeps nothing it earned.
func (o *Order) fail(code, cause string, at time.Time) error {
	if o.status == Completed {
		return fmt.Errorf("order %s completed: it cannot fail", o.id)
	}
	o.status, o.failureCode, o.failureReason, o.updatedAt = Failed, code, cause, at
	o.pointsAwarded, o.award = 0, nil
	return nil
}

// needAttention records that a compensation kept failing, keeping the
// failure that started the compensations so that a retry can finish with it.
func (o *Order) needAttention(code, cause string, at time.Time) error {
	if o.status == Completed {
		return fmt.Errorf("order %s completed: it needs no compensation", o.id)
	}
	o.status, o.failureCode, o.failureReason, o.updatedAt = NeedsAttention, code, cause, at
	return nil
}

// retry starts another run of the compensations of an order that needs
// attention.
func (o *Order) retry(at time.Time) error {
	if o.status != NeedsAttention {
		return fmt.Errorf("order %s is %s: %w", o.id, o.status, ErrNotRetryable)
	}
	o.attempt++
	o.status, o.updatedAt = Pending, at
	return nil
}

// changeOrder applies one of the order's rules to the stored order; the
// storage runs fn again when the order changed meanwhile.
func changeOrder(ctx context.Context, orders ports.Orders, id string, fn func(*Order) error) (*Order, error) {
	var out *Order
	_, err := orders.Update(ctx, id, func(rec *ports.Order) error {
		o, err := orderFromStorage(*rec)
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
		*rec, out = o.storage(), o
		return nil
	})
	if err != nil {
		return nil, notFound(err, "order "+id)
	}
	out.version++ // the storage stored it at the next version
	return out, nil
}

// loadOrder reads an order.
func loadOrder(ctx context.Context, orders ports.Orders, id string) (*Order, error) {
	rec, err := orders.Get(ctx, id)
	if err != nil {
		return nil, notFound(err, "order "+id)
	}
	return orderFromStorage(rec)
}
