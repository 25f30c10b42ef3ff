package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/points"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

// These tests run the purchase saga's steps (the domain) on each backend
// without the state machine: each order's steps in the order the saga runs
// them, each step delivered twice at once (as a retried task can be), all
// orders concurrently. The executor's own tests cover the state machine.

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// unusedSagas satisfies retail.OrderDeps for tests that never start a saga.
type unusedSagas struct{ ports.Sagas }

// droppedMessages satisfies retail.StepDeps: these tests do not publish.
type droppedMessages struct{}

func (droppedMessages) Publish(context.Context, ports.Message) error { return nil }

func newSteps(t *testing.T, st stores, clk ports.Clock) *retail.Steps {
	t.Helper()
	pts := newService(t, st, clk, 365)
	camps, err := campaign.NewService(campaign.Deps{Store: st.campaigns, Points: pts, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	_, err = camps.Create(context.Background(), campaign.Draft{Client: "UnicornStore", Name: "1",
		Rules: json.RawMessage(`[{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":100},"action":{"command":"issue","formula":"$.amount/10"}}]`)}, "test")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := retail.NewSteps(retail.StepDeps{Stock: st.stock, Wallets: st.wallets, Orders: st.orders, Publisher: droppedMessages{},
		Points: pts, Campaigns: camps, Clock: clk}, retail.Config{Client: "UnicornStore", ReservationTTL: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

type step func(context.Context, retail.StepInput) error

// twice delivers a step twice at once, as a task retried after a timeout
// while the first attempt still runs. The deliveries may disagree (one
// finds the last unicorn gone, the other gets it after someone's release):
// the saga then sees the failure, and its compensations must undo what the
// other delivery did.
func twice(ctx context.Context, s step, in retail.StepInput) error {
	var wg sync.WaitGroup
	var errs [2]error
	for i := range errs {
		wg.Go(func() { errs[i] = s(ctx, in) })
	}
	wg.Wait()
	if errs[0] != nil {
		return errs[0]
	}
	return errs[1]
}

// runSaga runs an order's steps, and on a business failure the
// compensations of every step (each is safe when its step never ran), then
// FailOrder, as purchase.asl.json does.
func runSaga(ctx context.Context, s *retail.Steps, in retail.StepInput) error {
	forward := []step{s.ReserveStock, s.ChargeWallet, s.AwardPoints, s.CompleteOrder}
	if in.UsesPoints {
		forward = []step{s.ReserveStock, s.RedeemPoints, s.ChargeWallet, s.AwardPoints, s.CompleteOrder}
	}
	for _, f := range forward {
		err := twice(ctx, f, in)
		var fe *retail.FailureError
		if errors.As(err, &fe) {
			in.Failure = &retail.StepError{Error: fe.Kind.Error(), Cause: fe.Detail}
			for _, c := range []step{s.ReverseAward, s.RefundWallet, s.RestorePoints, s.ReleaseStock, s.FailOrder} {
				if err := twice(ctx, c, in); err != nil {
					return err
				}
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deposit puts money in a wallet, as a deposit of its own.
func deposit(t *testing.T, w ports.Wallets, user string, amount decimal.Decimal) {
	t.Helper()
	d := &ports.Deposit{Key: user + "|d", Username: user, Amount: amount, At: day0}
	if _, err := w.Apply(context.Background(), ports.WalletChange{Username: user, Delta: amount, At: day0, Deposit: d}); err != nil {
		t.Fatal(err)
	}
}

// TestPurchaseStepsAddUp: 30 buyers want 10 unicorns at 1000, at once.
// Buyers 0-19 can pay; 20-24 also want to pay 100 points they do not have;
// 25-29 hold only 500. However the race ends, stock sold plus stock left is 10, money
// in wallets plus revenue is what was deposited, every completed order
// earned its 100 points and no failed one kept any, and every order ended.
func TestPurchaseStepsAddUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		steps := newSteps(t, st, clk)
		if err := st.catalog.Save(ctx, ports.Product{ID: "u", Name: "Unicorn", Price: money("1000"), Stock: 10, Version: 1, UpdatedAt: day0}); err != nil {
			t.Fatal(err)
		}
		deposited := decimal.Zero
		var sagas []retail.StepInput
		for i := range 30 {
			user := fmt.Sprint("buyer-", i)
			amount := money("1500")
			if i >= 25 {
				amount = money("500")
			}
			deposit(t, st.wallets, user, amount)
			deposited = deposited.Add(amount)
			o := ports.Order{ID: fmt.Sprint("order-", i), UserID: user, Client: "UnicornStore", Status: ports.OrderPending, Attempt: 1,
				Lines: []ports.OrderLine{{ProductID: "u", Name: "Unicorn", Quantity: 1, UnitPrice: money("1000"), Amount: money("1000")}},
				Total: money("1000"), PointsValue: decimal.Zero, Charged: money("1000"), CreatedAt: day0, UpdatedAt: day0, Version: 1}
			if i >= 20 && i < 25 {
				o.PointsRedeemed, o.PointsValue, o.Charged = 100, money("1"), money("999")
			}
			if _, _, err := st.orders.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
			sagas = append(sagas, retail.StepInput{SagaInput: retail.SagaInput{OrderID: o.ID, UsesPoints: o.PointsRedeemed > 0}})
		}
		var wg sync.WaitGroup
		for _, in := range sagas {
			wg.Go(func() {
				if err := runSaga(ctx, steps, in); err != nil {
					t.Errorf("%s: %v", in.OrderID, err)
				}
			})
		}
		wg.Wait()

		pts := newService(t, st, clk, 365)
		completed, revenue, inWallets := int64(0), decimal.Zero, decimal.Zero
		for i := range 30 {
			o, err := st.orders.Get(ctx, fmt.Sprint("order-", i))
			if err != nil {
				t.Fatal(err)
			}
			w, err := st.wallets.Get(ctx, o.UserID)
			if err != nil {
				t.Fatal(err)
			}
			inWallets = inWallets.Add(w.Balance)
			acct, err := pts.Load(ctx, points.MustAccountID(o.Client, o.UserID))
			if err != nil {
				t.Fatal(err)
			}
			// A purchase's points are pending through its return window:
			// held, not spendable yet.
			held := acct.Available(clk.Now()) + acct.Pending()
			switch o.Status {
			case ports.OrderCompleted:
				completed++
				revenue = revenue.Add(o.Charged)
				if i >= 20 || held != 100 || o.PointsAwarded != 100 {
					t.Errorf("%s completed: buyer %d holds %d points, order says %d awarded", o.ID, i, held, o.PointsAwarded)
				}
			case ports.OrderFailed:
				if held != 0 || o.FailureCode == "" {
					t.Errorf("%s failed (%s: %s) and its buyer holds %d points", o.ID, o.FailureCode, o.FailureReason, held)
				}
				// Anyone can find the stock gone; otherwise buyers 20-29
				// fail for their points or their money.
				want := map[bool]string{true: retail.ErrNoPoints.Error(), false: retail.ErrNoFunds.Error()}[i < 25]
				if o.FailureCode != retail.ErrOutOfStock.Error() && (i < 20 || o.FailureCode != want) {
					t.Errorf("buyer %d's %s failed with %q", i, o.ID, o.FailureCode)
				}
			default:
				t.Errorf("%s ended %s", o.ID, o.Status)
			}
		}
		p, err := st.catalog.Get(ctx, "u")
		if err != nil {
			t.Fatal(err)
		}
		if completed == 0 || completed+p.Stock != 10 {
			t.Errorf("%d completed and %d left: stock was created or lost", completed, p.Stock)
		}
		if !inWallets.Add(revenue).Equal(deposited) {
			t.Errorf("wallets %s + revenue %s != deposited %s", inWallets, revenue, deposited)
		}
		if left, err := st.stock.Expired(ctx, day0.Add(24*time.Hour), 100); err != nil || len(left) != 0 {
			t.Errorf("reservations still held: %v, %v", left, err)
		}
	})
}

// TestExpiredReservationsAreReleased: a saga that stops after reserving
// holds stock until the sweeper gives it back; its order can then no
// longer complete. A committed reservation is never given back.
func TestExpiredReservationsAreReleased(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		steps := newSteps(t, st, clk)
		orders, err := retail.NewOrders(retail.OrderDeps{Catalog: st.catalog, Stock: st.stock, Orders: st.orders, Sagas: unusedSagas{},
			Clock: clk, IDs: clock.UUIDs{}}, retail.Config{Client: "UnicornStore", ReservationTTL: 15 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.catalog.Save(ctx, ports.Product{ID: "u", Name: "Unicorn", Price: money("10"), Stock: 5, Version: 1, UpdatedAt: day0}); err != nil {
			t.Fatal(err)
		}
		deposit(t, st.wallets, "ann", money("100"))
		for _, id := range []string{"stuck", "done"} {
			o := ports.Order{ID: id, UserID: "ann", Client: "UnicornStore", Status: ports.OrderPending, Attempt: 1,
				Lines: []ports.OrderLine{{ProductID: "u", Name: "Unicorn", Quantity: 2, UnitPrice: money("10"), Amount: money("20")}},
				Total: money("20"), PointsValue: decimal.Zero, Charged: money("20"), CreatedAt: day0, UpdatedAt: day0, Version: 1}
			if _, _, err := st.orders.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if err := runSaga(ctx, steps, retail.StepInput{SagaInput: retail.SagaInput{OrderID: "done"}}); err != nil {
			t.Fatal(err)
		}
		stuck := retail.StepInput{SagaInput: retail.SagaInput{OrderID: "stuck"}}
		if err := steps.ReserveStock(ctx, stuck); err != nil {
			t.Fatal(err)
		}
		if n, err := orders.ReleaseExpired(ctx); err != nil || n != 0 {
			t.Fatalf("ReleaseExpired before the expiry = %d, %v", n, err)
		}
		clk.Advance(16 * time.Minute)
		if n, err := orders.ReleaseExpired(ctx); err != nil || n != 1 {
			t.Fatalf("ReleaseExpired = %d, %v; want 1", n, err)
		}
		if p, _ := st.catalog.Get(ctx, "u"); p.Stock != 3 {
			t.Errorf("stock = %d, want 3 (5 - 2 sold, the stuck 2 given back)", p.Stock)
		}
		if err := steps.CompleteOrder(ctx, stuck); !errors.Is(err, retail.ErrReservationGone) {
			t.Errorf("completing after the release: %v, want ErrReservationGone", err)
		}
		if n, err := orders.ReleaseExpired(ctx); err != nil || n != 0 {
			t.Errorf("ReleaseExpired again = %d, %v", n, err)
		}
	})
}

// endedSagas says of every run that it has ended.
type endedSagas struct{ ports.Sagas }

func (endedSagas) Start(context.Context, string, json.RawMessage) error { return ports.ErrSagaEnded }

// TestAnOrderWhoseSagaEndedNeedsAttention: a pending order whose saga run
// has ended (a timeout, a stop, a runtime error: nothing a task saw) is
// not started again for ever by the stranded-order sweep: it is handed to
// an operator. Finished orders are left alone.
func TestAnOrderWhoseSagaEndedNeedsAttention(t *testing.T) {
	eachBackend(t, func(t *testing.T, st stores) {
		ctx := context.Background()
		clk := clock.NewManual(day0)
		orders, err := retail.NewOrders(retail.OrderDeps{Catalog: st.catalog, Stock: st.stock, Orders: st.orders, Sagas: endedSagas{},
			Clock: clk, IDs: clock.UUIDs{}}, retail.Config{Client: "UnicornStore"})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []struct {
			id     string
			status string
		}{{"lost", ports.OrderPending}, {"fine", ports.OrderCompleted}} {
			rec := ports.Order{ID: o.id, UserID: "ann", Client: "UnicornStore", Status: o.status, Attempt: 1,
				Lines: []ports.OrderLine{{ProductID: "u", Name: "Unicorn", Quantity: 1, UnitPrice: money("10"), Amount: money("10")}},
				Total: money("10"), PointsValue: decimal.Zero, Charged: money("10"), CreatedAt: day0, UpdatedAt: day0, Version: 1}
			if _, _, err := st.orders.Create(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Hour)
		if n, err := orders.ResumeStranded(ctx, time.Minute); err != nil || n != 1 {
			t.Fatalf("ResumeStranded = %d, %v; want 1", n, err)
		}
		lost, err := st.orders.Get(ctx, "lost")
		if err != nil || lost.Status != ports.OrderNeedsAttention || lost.FailureCode != retail.SagaEnded {
			t.Errorf("the order whose saga ended: %+v, %v; want needs_attention, %s", lost, err, retail.SagaEnded)
		}
		if fine, err := st.orders.Get(ctx, "fine"); err != nil || fine.Status != ports.OrderCompleted || fine.Version != 1 {
			t.Errorf("the completed order: %+v, %v; want it untouched", fine, err)
		}
		if n, err := orders.ResumeStranded(ctx, time.Minute); err != nil || n != 0 {
			t.Errorf("ResumeStranded again = %d, %v; want nothing left", n, err)
		}
	})
}
