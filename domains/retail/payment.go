package retail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// PaymentStatus is what happened to an order's money. The zero value is no
// status: only the two below exist.
type PaymentStatus struct{ s string }

var (
	// Charged: the order's amount left the wallet.
	Charged = PaymentStatus{ports.PaymentCharged}
	// Refunded: the charge went back, or the order was compensated before
	// it was charged (then nothing moved, and no charge may follow).
	Refunded = PaymentStatus{ports.PaymentRefunded}
)

func (s PaymentStatus) String() string { return s.s }

// Payment is the money of one order. Charged becomes refunded, once;
// refunded is final, so a charge arriving after its order's refund (a
// retried step racing a compensation) is refused instead of taking money
// that nothing would give back.
type Payment struct {
	orderID  string
	username string
	amount   decimal.Decimal
	status   PaymentStatus
	version  int64 // 0: not stored yet
}

// charge is a new charge of amount for the order.
func charge(orderID, username string, amount decimal.Decimal) *Payment {
	return &Payment{orderID: orderID, username: username, amount: amount, status: Charged}
}

// refundedBeforeCharged records that an order was compensated before any
// charge, so that a charge arriving late is refused.
func refundedBeforeCharged(orderID string) *Payment {
	return &Payment{orderID: orderID, amount: decimal.Zero, status: Refunded}
}

func paymentFromStorage(p ports.Payment) (*Payment, error) {
	var st PaymentStatus
	switch p.Status {
	case Charged.s:
		st = Charged
	case Refunded.s:
		st = Refunded
	default:
		return nil, fmt.Errorf("payment of %s: unknown status %q", p.OrderID, p.Status)
	}
	return &Payment{orderID: p.OrderID, username: p.Username, amount: p.Amount, status: st, version: max(p.Version, 1)}, nil
}

// refund gives a charge back: the money to return to the wallet. A
// payment refunded already changes nothing.
func (p *Payment) refund() (back decimal.Decimal, changed bool) {
	if p.status == Refunded {
		return decimal.Zero, false
	}
	p.status = Refunded
	return p.amount, true
}

// storage is the record to store: the next version of what was loaded.
func (p *Payment) storage(at time.Time) *ports.Payment {
	return &ports.Payment{OrderID: p.orderID, Username: p.username, Amount: p.amount, Status: p.status.s, Version: p.version + 1, At: at}
}

// till moves wallets' money by the Payment rules.
type till struct{ wallets ports.Wallets }

func (t till) payment(ctx context.Context, orderID string) (*Payment, bool, error) {
	rec, err := t.wallets.Payment(ctx, orderID)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	p, err := paymentFromStorage(rec)
	return p, err == nil, err
}

// charge takes amount from the wallet for the order, once. Too little
// money is an *InsufficientError (nothing taken); an order refunded
// already is ErrOrderClosed.
func (t till) charge(ctx context.Context, orderID, username string, amount decimal.Decimal, at time.Time) error {
	return retryRaces(ctx, "charge for "+orderID, func() error {
		p, found, err := t.payment(ctx, orderID)
		switch {
		case err != nil:
			return err
		case found && p.status == Refunded:
			return failure(ErrOrderClosed, "order %s was refunded before it was charged", orderID)
		case found:
			return nil // charged already
		}
		p = charge(orderID, username, amount)
		_, err = t.wallets.Apply(ctx, ports.WalletChange{Username: username, Delta: amount.Neg(), At: at, Payment: p.storage(at)})
		return err
	})
}

// refund gives the order's charge back, once; an order never charged is
// recorded as refunded, so that no charge can follow.
func (t till) refund(ctx context.Context, orderID string, at time.Time) error {
	return retryRaces(ctx, "refund "+orderID, func() error {
		p, found, err := t.payment(ctx, orderID)
		if err != nil {
			return err
		}
		if !found {
			_, err := t.wallets.Apply(ctx, ports.WalletChange{At: at, Payment: refundedBeforeCharged(orderID).storage(at)})
			return err
		}
		back, changed := p.refund()
		if !changed {
			return nil
		}
		_, err = t.wallets.Apply(ctx, ports.WalletChange{Username: p.username, Delta: back, At: at, Payment: p.storage(at)})
		return err
	})
}

// refundReturn records a return's refund under its own payment id and puts
// the money in the wallet, once (a zero refund is recorded too, and moves
// nothing).
func (t till) refundReturn(ctx context.Context, paymentID, username string, amount decimal.Decimal, at time.Time) error {
	return retryRaces(ctx, "refund "+paymentID, func() error {
		_, found, err := t.payment(ctx, paymentID)
		if err != nil || found {
			return err
		}
		p := &Payment{orderID: paymentID, username: username, amount: amount, status: Refunded}
		c := ports.WalletChange{At: at, Payment: p.storage(at)}
		if amount.IsPositive() {
			c.Username, c.Delta = username, amount
		}
		_, err = t.wallets.Apply(ctx, c)
		return err
	})
}
