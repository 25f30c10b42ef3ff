package retail

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/ports"
)

var at = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// TestReservationRules: reserved becomes committed or released, once;
// nothing else moves, and the moves give back exactly what was taken.
func TestReservationRules(t *testing.T) {
	t.Parallel()
	lines := []ports.StockLine{{ProductID: "1", Quantity: 2}, {ProductID: "2", Quantity: 1}, {ProductID: "1", Quantity: 1}}
	r, takes := reserve("o-1", lines, at)
	if diff := cmp.Diff([]ports.StockMove{{ProductID: "1", Delta: -3}, {ProductID: "2", Delta: -1}}, takes); diff != "" {
		t.Errorf("reserve moves (-want +got):\n%s", diff)
	}
	if rec := r.storage(); rec.Version != 1 || rec.Status != ports.ReservationReserved {
		t.Errorf("a new reservation is stored as %+v", rec)
	}

	load := func(status string) *Reservation {
		t.Helper()
		got, err := reservationFromStorage(ports.Reservation{OrderID: "o-1", Lines: lines, Status: status, ExpiresAt: at, Version: 3})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	tests := []struct {
		status      string
		commit      error // nil: allowed
		committed   bool  // the commit changes it
		release     error
		released    bool
		releaseBack []ports.StockMove
	}{
		{ports.ReservationReserved, nil, true, nil, true, []ports.StockMove{{ProductID: "1", Delta: 3, SkipMissing: true}, {ProductID: "2", Delta: 1, SkipMissing: true}}},
		{ports.ReservationCommitted, nil, false, errCommitted, false, nil},
		{ports.ReservationReleased, ErrReservationGone, false, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			r := load(tt.status)
			changed, err := r.commit()
			if !errors.Is(err, tt.commit) || tt.commit == nil && err != nil || changed != tt.committed {
				t.Errorf("commit = %v, %v; want %v, %v", changed, err, tt.committed, tt.commit)
			}
			if changed && r.storage().Version != 4 {
				t.Errorf("a change is stored at version %d, want 4", r.storage().Version)
			}
			r = load(tt.status)
			moves, changed, err := r.release()
			if !errors.Is(err, tt.release) || tt.release == nil && err != nil || changed != tt.released {
				t.Errorf("release = %v, %v; want %v, %v", changed, err, tt.released, tt.release)
			}
			if diff := cmp.Diff(tt.releaseBack, moves); diff != "" {
				t.Errorf("release moves (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := reservationFromStorage(ports.Reservation{OrderID: "o", Status: "lost", Version: 1}); err == nil {
		t.Error("an unknown status was accepted")
	}
	tomb := releasedBeforeReserved("o-2")
	if tomb.Status() != Released || len(tomb.storage().Lines) != 0 {
		t.Errorf("a release before any reservation = %+v", tomb.storage())
	}
}

// TestPaymentRules: a charge is refunded once, with its whole amount; a
// refund is final.
func TestPaymentRules(t *testing.T) {
	t.Parallel()
	p := charge("o-1", "derick", decimal.RequireFromString("1700.50"))
	back, changed := p.refund()
	if !changed || !back.Equal(decimal.RequireFromString("1700.50")) || p.status != Refunded {
		t.Errorf("refund of a charge = %s, %v, %s", back, changed, p.status)
	}
	if back, changed := p.refund(); changed || !back.IsZero() {
		t.Errorf("a second refund = %s, %v", back, changed)
	}
	if rec := p.storage(at); rec.Version != 1 || rec.Status != ports.PaymentRefunded {
		t.Errorf("stored as %+v", rec)
	}
	tomb := refundedBeforeCharged("o-2")
	if _, changed := tomb.refund(); changed || !tomb.amount.IsZero() || tomb.username != "" {
		t.Errorf("a refund before any charge = %+v", tomb)
	}
	old, err := paymentFromStorage(ports.Payment{OrderID: "o", Status: ports.PaymentCharged, Amount: decimal.NewFromInt(5)})
	if err != nil || old.version != 1 {
		t.Errorf("a payment stored before versions = %+v, %v; want version 1", old, err)
	}
	if _, err := paymentFromStorage(ports.Payment{OrderID: "o", Status: "lost"}); err == nil {
		t.Error("an unknown status was accepted")
	}
}

// TestOrderRules: what may follow what, and what a failed order keeps.
func TestOrderRules(t *testing.T) {
	t.Parallel()
	pending := func() *Order {
		o, err := orderFromStorage(ports.Order{ID: "o-1", UserID: "derick", Client: "S", Status: ports.OrderPending, Attempt: 1,
			Total: decimal.NewFromInt(100), PointsRedeemed: 10, PointsValue: decimal.RequireFromString("0.10"),
			Charged: decimal.RequireFromString("99.90"), Version: 1})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := pending()
	if points, money := o.Paid(); points != 0 || !money.IsZero() {
		t.Errorf("a pending order was paid %d points and %s", points, money)
	}
	if err := o.awardedPoints(9, []byte(`[]`), campaign.Customer{}, at); err != nil {
		t.Fatal(err)
	}
	if changed, err := o.complete(at); !changed || err != nil {
		t.Fatalf("complete = %v, %v", changed, err)
	}
	if changed, err := o.complete(at); changed || err != nil {
		t.Errorf("complete again = %v, %v", changed, err)
	}
	if points, money := o.Paid(); points != 10 || !money.Equal(decimal.RequireFromString("99.90")) {
		t.Errorf("a completed order paid %d points and %s", points, money)
	}
	if n, _ := o.Awarded(); n != 9 {
		t.Errorf("awarded %d, want 9", n)
	}
	for name, change := range map[string]func(*Order) error{
		"fail":           func(o *Order) error { return o.fail("X", "y", at) },
		"need attention": func(o *Order) error { return o.needAttention("X", "y", at) },
		"award":          func(o *Order) error { return o.awardedPoints(1, nil, campaign.Customer{}, at) },
		"retry":          func(o *Order) error { return o.retry(at) },
	} {
		if err := change(o); err == nil {
			t.Errorf("%s a completed order: allowed", name)
		}
	}

	o = pending()
	o.awardedPoints(9, []byte(`[{"points":9}]`), campaign.Customer{}, at)
	if err := o.fail("InsufficientFunds", "short", at); err != nil {
		t.Fatal(err)
	}
	if points, money := o.Paid(); points != 0 || !money.IsZero() {
		t.Errorf("a failed order says it was paid %d points and %s", points, money)
	}
	if n, why := o.Awarded(); n != 0 || why != nil {
		t.Errorf("a failed order kept %d points (%s)", n, why)
	}
	if o.PointsRequested() != 10 || !o.AmountDue().Equal(decimal.RequireFromString("99.90")) {
		t.Errorf("a failed order forgot what it asked for: %d, %s", o.PointsRequested(), o.AmountDue())
	}
	if _, err := o.complete(at); err == nil {
		t.Error("a failed order completed")
	}
	if err := o.retry(at); !errors.Is(err, ErrNotRetryable) {
		t.Errorf("retry of a failed order: %v", err)
	}

	o = pending()
	o.needAttention("InsufficientFunds", "short; then a compensation failed", at)
	if err := o.retry(at); err != nil || o.Status() != Pending || o.Attempt() != 2 {
		t.Errorf("retry = %v: %s, attempt %d", err, o.Status(), o.Attempt())
	}
	if code, reason := o.Failure(); code != "InsufficientFunds" || reason == "" {
		t.Errorf("a retried order forgot its failure: %s %s", code, reason)
	}
	if _, err := orderFromStorage(ports.Order{ID: "o", Status: "lost"}); err == nil {
		t.Error("an unknown status was accepted")
	}
	if _, err := ParseOrderStatus("needs_attention"); err != nil {
		t.Error(err)
	}
}
