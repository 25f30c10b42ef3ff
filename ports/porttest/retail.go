package porttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// decimalEqual compares decimals by value (1700 equals 1700.00).
var decimalEqual = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

func product(id string, stock int64) ports.Product {
	return ports.Product{ID: id, Name: "Unicorn " + id, Description: "a fine unicorn", Image: "/images/" + id + ".svg",
		Price: dec("1700.50"), Stock: stock, Version: 1, UpdatedAt: t0}
}

// NewCatalog returns an empty catalog for one test.
type NewCatalog func(t *testing.T) ports.Catalog

// TestCatalog is the contract of ports.Catalog.
func TestCatalog(t *testing.T, newCatalog NewCatalog) {
	ctx := context.Background()
	t.Run("save, get, list, delete with versions", func(t *testing.T) {
		t.Parallel()
		c := newCatalog(t)
		if _, err := c.Get(ctx, "1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get unknown: %v", err)
		}
		p1, p2 := product("1", 4), product("2", 0)
		for _, p := range []ports.Product{p2, p1} {
			if err := c.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Save(ctx, p1); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("create twice: %v, want ErrConflict", err)
		}
		got, err := c.Get(ctx, "1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(p1, got, decimalEqual); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
		edit := p1
		edit.Version, edit.Price, edit.Name, edit.Stock = 2, dec("99.99"), "Renamed", 1000 // stock is ignored on update
		if err := c.Save(ctx, edit); err != nil {
			t.Fatal(err)
		}
		got, _ = c.Get(ctx, "1")
		if got.Name != "Renamed" || !got.Price.Equal(dec("99.99")) || got.Stock != 4 || got.Version != 2 {
			t.Errorf("after update: %+v", got)
		}
		stale := edit
		stale.Name = "stale"
		if err := c.Save(ctx, stale); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("stale update: %v", err)
		}
		list, err := c.List(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "1" || list[1].ID != "2" {
			t.Errorf("List = %v, %v", list, err)
		}
		if err := c.Delete(ctx, "1", 1); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("stale delete: %v", err)
		}
		if err := c.Delete(ctx, "1", 2); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get deleted: %v", err)
		}
		if err := c.Delete(ctx, "1", 2); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("delete again: %v", err)
		}
	})
}

// NewStock returns an empty catalog and its stock for one test.
type NewStock func(t *testing.T) (ports.Catalog, ports.Stock)

func stockOf(t *testing.T, c ports.Catalog, id string) int64 {
	t.Helper()
	p, err := c.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stock
}

func takes(lines ...ports.StockLine) []ports.StockMove {
	var out []ports.StockMove
	for _, l := range lines {
		out = append(out, ports.StockMove{ProductID: l.ProductID, Delta: -l.Quantity})
	}
	return out
}

// TestStock is the contract of ports.Stock: reservations are versioned
// records written with the stock moves the domain decided, all or nothing;
// stock never goes below zero; an adjustment happens once per key.
func TestStock(t *testing.T, newStock NewStock) {
	ctx := context.Background()
	setup := func(t *testing.T) (ports.Catalog, ports.Stock) {
		c, s := newStock(t)
		for _, p := range []ports.Product{product("1", 4), product("2", 10)} {
			if err := c.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		return c, s
	}
	lines := []ports.StockLine{{ProductID: "1", Quantity: 3}, {ProductID: "2", Quantity: 5}}
	reserved := func(order string, version int64) ports.Reservation {
		return ports.Reservation{OrderID: order, Lines: lines, Status: ports.ReservationReserved, ExpiresAt: t0.Add(time.Minute), Version: version}
	}

	t.Run("versioned reservations with their moves", func(t *testing.T) {
		t.Parallel()
		c, s := setup(t)
		if _, err := s.Reservation(ctx, "o-1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Reservation unknown: %v", err)
		}
		r := reserved("o-1", 1)
		if err := s.SaveReservation(ctx, r, takes(lines...)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Reservation(ctx, "o-1"); err != nil || !cmp.Equal(r, got) {
			t.Errorf("Reservation = %+v, %v; want %+v", got, err, r)
		}
		if stockOf(t, c, "1") != 1 || stockOf(t, c, "2") != 5 {
			t.Errorf("stock = %d, %d; want 1, 5", stockOf(t, c, "1"), stockOf(t, c, "2"))
		}
		if err := s.SaveReservation(ctx, r, takes(lines...)); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("create twice: %v, want ErrConflict", err)
		}
		if stockOf(t, c, "2") != 5 {
			t.Errorf("a refused save moved stock: %d", stockOf(t, c, "2"))
		}
		done := r
		done.Status, done.Version = ports.ReservationCommitted, 2
		if err := s.SaveReservation(ctx, done, nil); err != nil {
			t.Fatal(err)
		}
		stale := r
		stale.Status, stale.Version = ports.ReservationReleased, 2
		if err := s.SaveReservation(ctx, stale, []ports.StockMove{{ProductID: "1", Delta: 3}}); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("save at a stale version: %v, want ErrConflict", err)
		}
		if got, _ := s.Reservation(ctx, "o-1"); got.Status != ports.ReservationCommitted || got.Version != 2 || stockOf(t, c, "1") != 1 {
			t.Errorf("after a stale save: %+v, stock %d", got, stockOf(t, c, "1"))
		}
	})

	t.Run("moves are all or nothing, never below zero", func(t *testing.T) {
		t.Parallel()
		c, s := setup(t)
		s.SaveReservation(ctx, reserved("o-1", 1), takes(lines...))
		err := s.SaveReservation(ctx, reserved("o-2", 1), takes(lines...))
		var ie *ports.InsufficientError
		if !errors.As(err, &ie) || !errors.Is(err, ports.ErrInsufficient) || ie.ID != "1" || ie.Available != "1" {
			t.Fatalf("a save beyond the stock: %v", err)
		}
		if stockOf(t, c, "2") != 5 {
			t.Errorf("a refused save took stock of product 2: %d", stockOf(t, c, "2"))
		}
		if _, err := s.Reservation(ctx, "o-2"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("a refused save stored its reservation: %v", err)
		}
		unknown := []ports.StockMove{{ProductID: "nope", Delta: -1}}
		if err := s.SaveReservation(ctx, reserved("o-3", 1), unknown); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("a move of an unknown product: %v", err)
		}
		back := []ports.StockMove{{ProductID: "nope", Delta: 1, SkipMissing: true}, {ProductID: "2", Delta: 5}}
		if err := s.SaveReservation(ctx, reserved("o-4", 1), back); err != nil || stockOf(t, c, "2") != 10 {
			t.Errorf("a move skipping a missing product: %v, stock of 2 %d", err, stockOf(t, c, "2"))
		}
	})

	t.Run("expired reservations and adjustments once per key", func(t *testing.T) {
		t.Parallel()
		c, s := setup(t)
		one := []ports.StockLine{{ProductID: "2", Quantity: 1}}
		for _, r := range []ports.Reservation{
			{OrderID: "early", Lines: one, Status: ports.ReservationReserved, ExpiresAt: t0.Add(time.Minute), Version: 1},
			{OrderID: "late", Lines: one, Status: ports.ReservationReserved, ExpiresAt: t0.Add(time.Hour), Version: 1},
			{OrderID: "done", Lines: one, Status: ports.ReservationReserved, ExpiresAt: t0, Version: 1},
		} {
			if err := s.SaveReservation(ctx, r, takes(one...)); err != nil {
				t.Fatal(err)
			}
		}
		done := ports.Reservation{OrderID: "done", Lines: one, Status: ports.ReservationCommitted, ExpiresAt: t0, Version: 2}
		if err := s.SaveReservation(ctx, done, nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.Expired(ctx, t0.Add(10*time.Minute), 10)
		if err != nil || len(got) != 1 || got[0] != "early" {
			t.Errorf("Expired = %v, %v", got, err)
		}
		adj := ports.StockAdjustment{Key: "C/k1", ProductID: "2", Delta: 5, At: t0}
		if a, err := s.Adjust(ctx, adj); err != nil || a.Stock != 12 || a.Key != "C/k1" {
			t.Errorf("Adjust +5 = %+v, %v", a, err)
		}
		other := adj
		other.Delta = 7
		if a, err := s.Adjust(ctx, other); !errors.Is(err, ports.ErrDuplicate) || a.Delta != 5 || a.Stock != 12 || a.ProductID != "2" {
			t.Errorf("Adjust with a used key = %+v, %v; want ErrDuplicate and the first adjustment", a, err)
		}
		if _, err := s.Adjust(ctx, ports.StockAdjustment{Key: "C/k2", ProductID: "2", Delta: -13, At: t0}); !errors.Is(err, ports.ErrInsufficient) {
			t.Errorf("Adjust below zero: %v", err)
		}
		if stockOf(t, c, "2") != 12 {
			t.Errorf("stock = %d, want 12", stockOf(t, c, "2"))
		}
		if _, err := s.Adjust(ctx, ports.StockAdjustment{Key: "C/k3", ProductID: "nope", Delta: 1, At: t0}); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Adjust unknown: %v", err)
		}
		if a, err := s.Adjust(ctx, ports.StockAdjustment{Key: "C/k2", ProductID: "2", Delta: -12, At: t0}); err != nil || a.Stock != 0 {
			t.Errorf("a key refused before is free: %+v, %v", a, err)
		}
	})

	t.Run("20 concurrent reservations never oversell", func(t *testing.T) {
		t.Parallel()
		c, s := setup(t)
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				one := []ports.StockLine{{ProductID: "1", Quantity: 1}}
				r := ports.Reservation{OrderID: fmt.Sprint("o-", i), Lines: one, Status: ports.ReservationReserved, ExpiresAt: t0, Version: 1}
				err := retrying(func() error { return s.SaveReservation(ctx, r, takes(one...)) })
				switch {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, ports.ErrInsufficient):
					t.Errorf("reserve %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 4 || stockOf(t, c, "1") != 0 {
			t.Errorf("%d reservations, stock %d; want 4 and 0", ok.Load(), stockOf(t, c, "1"))
		}
	})

	t.Run("only one of 20 writers moves a version", func(t *testing.T) {
		t.Parallel()
		c, s := setup(t)
		if err := s.SaveReservation(ctx, reserved("o-1", 1), takes(lines...)); err != nil {
			t.Fatal(err)
		}
		wins := winners(t, func(int) error {
			r := reserved("o-1", 2)
			r.Status = ports.ReservationReleased
			return s.SaveReservation(ctx, r, []ports.StockMove{{ProductID: "1", Delta: 3}, {ProductID: "2", Delta: 5}})
		})
		if wins != 1 || stockOf(t, c, "1") != 4 || stockOf(t, c, "2") != 10 {
			t.Errorf("%d releases won, stock %d and %d; want 1, 4 and 10", wins, stockOf(t, c, "1"), stockOf(t, c, "2"))
		}
	})
}

// retrying runs a write again while it loses a race to a concurrent one
// (ErrConflict): storage may refuse a write that merely ran beside another
// (DynamoDB's transaction conflicts); the domain then reads and decides
// again, as this does.
func retrying(write func() error) error {
	for {
		if err := write(); !errors.Is(err, ports.ErrConflict) {
			return err
		}
	}
}

// NewWallets returns an empty wallet store for one test.
type NewWallets func(t *testing.T) ports.Wallets

// TestWallets is the contract of ports.Wallets: balances move only with
// the deposit or payment that explains them, in one write; a debit never
// overdraws; deposits are recorded once per key and payments by version.
func TestWallets(t *testing.T, newWallets NewWallets) {
	ctx := context.Background()
	balance := func(t *testing.T, w ports.Wallets, user string) decimal.Decimal {
		t.Helper()
		got, err := w.Get(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return got.Balance
	}
	t.Run("deposits once per key, payments by version", func(t *testing.T) {
		t.Parallel()
		w := newWallets(t)
		if _, err := w.Get(ctx, "derick"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get unknown: %v", err)
		}
		if _, err := w.Deposit(ctx, "C/dep-1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Deposit unknown: %v", err)
		}
		dep := &ports.Deposit{Key: "C/dep-1", Username: "derick", Amount: dec("3300"), At: t0}
		if got, err := w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("3300"), At: t0, Deposit: dep}); err != nil || !got.Balance.Equal(dec("3300")) {
			t.Fatalf("deposit = %+v, %v", got, err)
		}
		if got, err := w.Deposit(ctx, "C/dep-1"); err != nil || got.Username != "derick" || !got.Amount.Equal(dec("3300")) {
			t.Errorf("Deposit = %+v, %v", got, err)
		}
		if _, err := w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("3300"), At: t0, Deposit: dep}); !errors.Is(err, ports.ErrDuplicate) {
			t.Errorf("a deposit under a used key: %v, want ErrDuplicate", err)
		}
		if b := balance(t, w, "derick"); !b.Equal(dec("3300")) {
			t.Errorf("a repeated deposit counted: %s", b)
		}

		if _, err := w.Payment(ctx, "o-1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Payment unknown: %v", err)
		}
		charge := &ports.Payment{OrderID: "o-1", Username: "derick", Amount: dec("1700.10"), Status: ports.PaymentCharged, Version: 1, At: t0}
		if got, err := w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("-1700.10"), At: t0, Payment: charge}); err != nil || !got.Balance.Equal(dec("1599.90")) {
			t.Fatalf("charge = %+v, %v", got, err)
		}
		if got, err := w.Payment(ctx, "o-1"); err != nil || !cmp.Equal(*charge, got, decimalEqual) {
			t.Errorf("Payment = %+v, %v", got, err)
		}
		if _, err := w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("-1700.10"), At: t0, Payment: charge}); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("a second charge of o-1: %v, want ErrConflict", err)
		}
		short := &ports.Payment{OrderID: "o-2", Username: "derick", Amount: dec("1600"), Status: ports.PaymentCharged, Version: 1, At: t0}
		_, err := w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("-1600"), At: t0, Payment: short})
		var ie *ports.InsufficientError
		if !errors.As(err, &ie) || ie.Available != "1599.9" && ie.Available != "1599.90" {
			t.Errorf("a charge beyond the balance: %v", err)
		}
		if _, err := w.Payment(ctx, "o-2"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("a refused charge stored its payment: %v", err)
		}
		nobody := &ports.Payment{OrderID: "o-3", Username: "nobody", Amount: dec("1"), Status: ports.PaymentCharged, Version: 1, At: t0}
		if _, err := w.Apply(ctx, ports.WalletChange{Username: "nobody", Delta: dec("-1"), At: t0, Payment: nobody}); !errors.Is(err, ports.ErrInsufficient) {
			t.Errorf("a charge of an unknown wallet: %v", err)
		}
		refund := *charge
		refund.Status, refund.Version = ports.PaymentRefunded, 2
		for range 2 {
			w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("1700.10"), At: t0, Payment: &refund})
		}
		if b := balance(t, w, "derick"); !b.Equal(dec("3300")) {
			t.Errorf("after refund (twice): %s, want 3300", b)
		}
		// A refund before any charge is a payment with no money.
		tomb := &ports.Payment{OrderID: "o-4", Amount: dec("0"), Status: ports.PaymentRefunded, Version: 1, At: t0}
		if _, err := w.Apply(ctx, ports.WalletChange{At: t0, Payment: tomb}); err != nil {
			t.Fatal(err)
		}
		if got, err := w.Payment(ctx, "o-4"); err != nil || got.Status != ports.PaymentRefunded || got.Username != "" {
			t.Errorf("Payment of a refund before any charge = %+v, %v", got, err)
		}
	})

	t.Run("20 concurrent debits never overdraw", func(t *testing.T) {
		t.Parallel()
		w := newWallets(t)
		w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("100"), At: t0, Deposit: &ports.Deposit{Key: "dep", Username: "derick", Amount: dec("100"), At: t0}})
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				p := &ports.Payment{OrderID: fmt.Sprint("o-", i), Username: "derick", Amount: dec("10"), Status: ports.PaymentCharged, Version: 1, At: t0}
				err := retrying(func() error {
					_, err := w.Apply(ctx, ports.WalletChange{Username: "derick", Delta: dec("-10"), At: t0, Payment: p})
					return err
				})
				switch {
				case err == nil:
					ok.Add(1)
				case !errors.Is(err, ports.ErrInsufficient):
					t.Errorf("charge %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if b := balance(t, w, "derick"); ok.Load() != 10 || !b.IsZero() {
			t.Errorf("%d charges, balance %s; want 10 and 0", ok.Load(), b)
		}
	})
}

// NewOrders returns an empty order store for one test.
type NewOrders func(t *testing.T) ports.Orders

func order(id, user string, at time.Time) ports.Order {
	return ports.Order{ID: id, UserID: user, Client: "UnicornStore", Status: ports.OrderPending, Attempt: 1,
		Lines: []ports.OrderLine{{ProductID: "1", Name: "Unicorn", Quantity: 2, UnitPrice: dec("1700"), Amount: dec("3400")}},
		Total: dec("3400"), PointsValue: dec("0"), Charged: dec("3400"), CreatedAt: at, UpdatedAt: at, Version: 1}
}

// TestOrders is the contract of ports.Orders.
func TestOrders(t *testing.T, newOrders NewOrders) {
	ctx := context.Background()
	t.Run("create once, update, list", func(t *testing.T) {
		t.Parallel()
		s := newOrders(t)
		if _, err := s.Get(ctx, "o-1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get unknown: %v", err)
		}
		o := order("o-1", "derick", t0)
		got, created, err := s.Create(ctx, o)
		if err != nil || !created {
			t.Fatalf("Create = %v, %v", created, err)
		}
		again := o
		again.Total = dec("1")
		if got, created, err = s.Create(ctx, again); err != nil || created || !got.Total.Equal(dec("3400")) {
			t.Errorf("Create again = %+v, %v, %v", got, created, err)
		}
		up, err := s.Update(ctx, "o-1", func(o *ports.Order) error {
			o.Status, o.PointsAwarded, o.Award = ports.OrderCompleted, 340, []byte(`{"total":340}`)
			return nil
		})
		if err != nil || up.Version != 2 || up.Status != ports.OrderCompleted {
			t.Fatalf("Update = %+v, %v", up, err)
		}
		stored, _ := s.Get(ctx, "o-1")
		if diff := cmp.Diff(up, stored, decimalEqual); diff != "" {
			t.Errorf("Get after Update (-want +got):\n%s", diff)
		}
		boom := errors.New("boom")
		if _, err := s.Update(ctx, "o-1", func(*ports.Order) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("Update error: %v", err)
		}
		if _, err := s.Update(ctx, "nope", func(*ports.Order) error { return nil }); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Update unknown: %v", err)
		}
		for i := range 5 {
			s.Create(ctx, order(fmt.Sprint("d-", i), "derick", t0.Add(time.Duration(i+1)*time.Minute)))
		}
		s.Create(ctx, order("x-1", "ann", t0))
		var ids []string
		cursor := ""
		for range 10 {
			page, next, err := s.ByUser(ctx, "derick", cursor, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page {
				ids = append(ids, o.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if diff := cmp.Diff([]string{"d-4", "d-3", "d-2", "d-1", "d-0", "o-1"}, ids); diff != "" {
			t.Errorf("ByUser (-want +got):\n%s", diff)
		}
		// Open orders are listed by status, oldest first (an operator's
		// view); o-1, completed, is not among them. Only open statuses
		// need be listable: a DynamoDB index of every completed order
		// would be one ever-growing partition.
		pending, err := s.WithStatus(ctx, ports.OrderPending, 10)
		ids = nil
		for _, o := range pending {
			ids = append(ids, o.ID)
		}
		if diff := cmp.Diff([]string{"x-1", "d-0", "d-1", "d-2", "d-3", "d-4"}, ids); err != nil || diff != "" {
			t.Errorf("WithStatus(pending) (-want +got):\n%s%v", diff, err)
		}
		if _, err := s.Update(ctx, "d-2", func(o *ports.Order) error { o.Status = ports.OrderNeedsAttention; return nil }); err != nil {
			t.Fatal(err)
		}
		if parked, err := s.WithStatus(ctx, ports.OrderNeedsAttention, 10); err != nil || len(parked) != 1 || parked[0].ID != "d-2" {
			t.Errorf("WithStatus(needs_attention) = %v, %v", parked, err)
		}
		// A completed order is listed while a return of it is under way
		// (returning), or needs attention, and no longer once it is done.
		listed := func(status string) []string {
			t.Helper()
			got, err := s.WithStatus(ctx, status, 10)
			if err != nil {
				t.Fatalf("WithStatus(%s): %v", status, err)
			}
			var ids []string
			for _, o := range got {
				ids = append(ids, o.ID)
			}
			return ids
		}
		setReturn := func(status string) {
			t.Helper()
			if _, err := s.Update(ctx, "d-3", func(o *ports.Order) error {
				o.Status = ports.OrderCompleted
				o.Returns = []ports.OrderReturn{{ID: "r1", Lines: []ports.ReturnLine{{ProductID: "1", Quantity: 1}}, Status: status, Attempt: 1}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		setReturn(ports.ReturnPending)
		if got := listed(ports.OrderReturning); !slices.Equal(got, []string{"d-3"}) || slices.Contains(listed(ports.OrderPending), "d-3") {
			t.Errorf("an order with a return under way: returning %v, pending %v", got, listed(ports.OrderPending))
		}
		setReturn(ports.ReturnNeedsAttention)
		if got := listed(ports.OrderNeedsAttention); !slices.Equal(got, []string{"d-2", "d-3"}) || len(listed(ports.OrderReturning)) != 0 {
			t.Errorf("an order with a return needing attention: needs_attention %v, returning %v", got, listed(ports.OrderReturning))
		}
		setReturn(ports.ReturnCompleted)
		if len(listed(ports.OrderReturning)) != 0 || slices.Contains(listed(ports.OrderNeedsAttention), "d-3") {
			t.Errorf("an order whose return completed is still listed")
		}
		if o, err := s.Get(ctx, "d-3"); err != nil || len(o.Returns) != 1 || o.Returns[0].Status != ports.ReturnCompleted {
			t.Errorf("the order's returns are kept: %+v, %v", o.Returns, err)
		}
	})

	t.Run("every order, newest first, in pages", func(t *testing.T) {
		t.Parallel()
		s := newOrders(t)
		if page, next, err := s.Recent(ctx, "", 10); err != nil || len(page) != 0 || next != "" {
			t.Fatalf("Recent of no orders = %v, %q, %v", page, next, err)
		}
		var want []string
		for i := range 23 {
			id, at := fmt.Sprintf("o-%02d", i), t0.Add(time.Duration(i)*time.Minute)
			if i >= 20 {
				at = t0.Add(time.Hour) // the same moment: the greater id first
			}
			if _, _, err := s.Create(ctx, order(id, []string{"derick", "ann", "bea"}[i%3], at)); err != nil {
				t.Fatal(err)
			}
			want = append([]string{id}, want...)
		}
		// An update (a new version, another status) leaves it listed once,
		// where it was.
		if _, err := s.Update(ctx, "o-05", func(o *ports.Order) error { o.Status = ports.OrderCompleted; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{1, 7, 23, 100} {
			var got []string
			cursor := ""
			for range 50 {
				page, next, err := s.Recent(ctx, cursor, limit)
				if err != nil {
					t.Fatalf("Recent(%q, %d): %v", cursor, limit, err)
				}
				if len(page) > limit {
					t.Fatalf("a page of %d orders, limit %d", len(page), limit)
				}
				for _, o := range page {
					got = append(got, o.ID)
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Recent, pages of %d (-want +got):\n%s", limit, diff)
			}
		}
		if _, _, err := s.Recent(ctx, "not a cursor", 5); !errors.Is(err, ports.ErrBadCursor) {
			t.Errorf("a made-up cursor: %v, want ErrBadCursor", err)
		}
	})

	t.Run("20 concurrent updates lose nothing", func(t *testing.T) {
		t.Parallel()
		s := newOrders(t)
		s.Create(ctx, order("o-1", "derick", t0))
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := s.Update(ctx, "o-1", func(o *ports.Order) error { o.PointsAwarded++; return nil }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, _ := s.Get(ctx, "o-1"); got.PointsAwarded != 20 || got.Version != 21 {
			t.Errorf("after 20 updates: %d points, version %d", got.PointsAwarded, got.Version)
		}
	})
}

// TestProductSearch is the contract of ports.ProductSearch.
func TestProductSearch(t *testing.T, s ports.ProductSearch) {
	ctx := context.Background()
	air := product("1", 4)
	air.Name, air.Description = "Unicorn Air (2023 Model)", "Latest Unicorn Air model from re:Invent 2023"
	pink := product("2", 1)
	pink.Name, pink.Description = "Pink Pony Deluxe", "a pink unicorn that sparkles"
	for _, p := range []ports.Product{air, pink} {
		if err := s.Index(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string][]string{"air": {"1"}, "UNICORN": {"1", "2"}, "spark": {"2"}, "re:Invent 2023": {"1"}, "zebra": nil, `"quoted" OR *`: nil} {
		got, err := s.Search(ctx, q, 10)
		if err != nil {
			t.Errorf("Search(%q): %v", q, err)
			continue
		}
		if len(want) == 1 && (len(got) != 1 || got[0] != want[0]) || len(want) != 1 && len(got) != len(want) {
			t.Errorf("Search(%q) = %v, want %v", q, got, want)
		}
	}
	// Words of any length, in any script: a store may have to cut them
	// (DynamoDB keys stop at 1 KB), but the product is indexed and found.
	long := product("3", 1)
	long.Name = "Longword"
	long.Description = strings.Repeat("a", 1100) + " " + strings.Repeat("é", 600) + " " + strings.Repeat("ยูนิคอร์น", 60)
	if err := s.Index(ctx, long); err != nil {
		t.Fatalf("index a description of long words: %v", err)
	}
	for _, q := range []string{strings.Repeat("a", 1100), strings.Repeat("é", 600), "longword"} {
		if got, err := s.Search(ctx, q, 10); err != nil || !slices.Contains(got, "3") {
			t.Errorf("Search(%.20q...) = %v, %v; want product 3", q, got, err)
		}
	}
	older := pink
	older.Version, older.Name = 0, "Old Name"
	s.Index(ctx, older) // an older version is ignored
	if got, _ := s.Search(ctx, "old", 10); len(got) != 0 {
		t.Errorf("an older version replaced a newer one: %v", got)
	}
	if err := s.Remove(ctx, "1", air.Version); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Search(ctx, "air", 10); len(got) != 0 {
		t.Errorf("removed product still found: %v", got)
	}
}

// TestSalesTallies is the contract of ports.SalesTallies.
func TestSalesTallies(t *testing.T, s ports.SalesTallies) {
	ctx := context.Background()
	p := ports.PurchaseCompleted{OrderID: "o-1", Lines: []ports.OrderLine{
		{ProductID: "1", Name: "Air", Quantity: 2, Amount: dec("3400")}, {ProductID: "2", Name: "Pony", Quantity: 1, Amount: dec("5")}}}
	for range 3 {
		if err := s.Record(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	s.Record(ctx, ports.PurchaseCompleted{OrderID: "o-2", Lines: []ports.OrderLine{{ProductID: "2", Name: "Pony", Quantity: 4, Amount: dec("20")}}})
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ports.Tally{{ProductID: "2", Name: "Pony", Orders: 2, Units: 5, Revenue: dec("25")}, {ProductID: "1", Name: "Air", Orders: 1, Units: 2, Revenue: dec("3400")}}
	if diff := cmp.Diff(want, got, decimalEqual); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	t.Run("campaign awards", func(t *testing.T) { testCampaignAwards(t, s) })
	t.Run("purchase history", func(t *testing.T) { testPurchaseHistory(t, s) })
}

// testPurchaseHistory: each completed purchase is kept once, as recorded,
// in its client's history, and read from a time on, oldest first, a page
// at a time.
func testPurchaseHistory(t *testing.T, s ports.SalesTallies) {
	ctx := context.Background()
	est := time.FixedZone("EST", -5*3600)
	purchase := func(id, client string, at time.Time, awarded int64) ports.PurchaseCompleted {
		return ports.PurchaseCompleted{OrderID: id, UserID: "buyer-" + id, Client: client, At: at,
			Lines: []ports.OrderLine{
				{ProductID: "1", Name: "Air", Quantity: 2, UnitPrice: dec("1700.50"), Amount: dec("3401.00")},
				{ProductID: "2", Name: "Pony", Quantity: 1, UnitPrice: dec("5"), Amount: dec("5")}},
			Total: dec("3406.00"), Charged: dec("3396"), PointsRedeemed: 1000, PointsAwarded: awarded,
			Campaigns: []ports.CampaignPoints{{Campaign: "1", Points: awarded}}}
	}
	// Recorded out of order, two at the same moment, one in another time
	// zone, one before the window, one of another client; each twice.
	purchases := []ports.PurchaseCompleted{
		purchase("h-3", "History", t0.Add(2*time.Hour), 30),
		purchase("h-1", "History", t0, 10),
		purchase("h-0", "History", t0.Add(-time.Nanosecond), 1),
		purchase("h-2b", "History", t0.Add(time.Hour), 21),
		purchase("h-2a", "History", t0.Add(time.Hour).In(est), 20),
		purchase("h-4", "History", t0.Add(3*time.Hour), 40),
		purchase("o-9", "HistoryOther", t0.Add(time.Hour), 99),
	}
	purchases[6].Campaigns = nil // earned nothing
	for _, p := range purchases {
		for range 2 {
			if err := s.Record(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	byID := map[string]ports.PurchaseCompleted{}
	for _, p := range purchases {
		byID[p.OrderID] = p
	}
	want := func(ids ...string) []ports.PurchaseCompleted {
		var out []ports.PurchaseCompleted
		for _, id := range ids {
			out = append(out, byID[id])
		}
		return out
	}
	all := func(client string, since time.Time, limit int) []ports.PurchaseCompleted {
		t.Helper()
		var out []ports.PurchaseCompleted
		cursor := ""
		for pages := 0; ; pages++ {
			page, next, err := s.Purchases(ctx, client, since, cursor, limit)
			if err != nil {
				t.Fatalf("Purchases(%s, %s, %q, %d): %v", client, since, cursor, limit, err)
			}
			if len(page) > limit || next != "" && len(page) != limit || pages > 10 {
				t.Fatalf("Purchases(%s, %s, %q, %d) = %d purchases, next %q", client, since, cursor, limit, len(page), next)
			}
			out = append(out, page...)
			if next == "" {
				return out
			}
			cursor = next
		}
	}
	for _, tt := range []struct {
		client string
		since  time.Time
		limit  int
		want   []ports.PurchaseCompleted
	}{
		{"History", t0, 500, want("h-1", "h-2a", "h-2b", "h-3", "h-4")}, // from the very moment on
		{"History", t0, 2, want("h-1", "h-2a", "h-2b", "h-3", "h-4")},
		{"History", t0.Add(-time.Hour), 1, want("h-0", "h-1", "h-2a", "h-2b", "h-3", "h-4")},
		{"History", t0.Add(time.Hour).In(est), 4, want("h-2a", "h-2b", "h-3", "h-4")}, // a page that ends the list says so
		{"History", t0.Add(3*time.Hour + time.Nanosecond), 2, nil},
		{"HistoryOther", t0, 2, want("o-9")},
		{"Nobody", t0, 2, nil},
	} {
		if diff := cmp.Diff(tt.want, all(tt.client, tt.since, tt.limit), decimalEqual); diff != "" {
			t.Errorf("Purchases(%s, %s) by %d (-want +got):\n%s", tt.client, tt.since, tt.limit, diff)
		}
	}
	// A cursor is of one client's pages: garbage, or another client's, is
	// refused.
	_, next, err := s.Purchases(ctx, "History", t0, "", 1)
	if err != nil || next == "" {
		t.Fatalf("first page: next %q, %v", next, err)
	}
	for _, c := range []struct{ client, cursor string }{{"HistoryOther", next}, {"History", "garbage"}, {"History", "e30"}, {"History", "%%%"}} {
		if page, _, err := s.Purchases(ctx, c.client, t0, c.cursor, 2); !errors.Is(err, ports.ErrBadCursor) {
			t.Errorf("Purchases(%s) with cursor %q = %d purchases, %v; want ErrBadCursor", c.client, c.cursor, len(page), err)
		}
	}
}

// testCampaignAwards: what campaigns gave is summed per client, UTC day
// and campaign, once per order, and read from a day on.
func testCampaignAwards(t *testing.T, s ports.SalesTallies) {
	ctx := context.Background()
	day := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC)
	lateInNewYork := time.Date(t0.Year(), t0.Month(), t0.Day(), 22, 0, 0, 0, time.FixedZone("EST", -5*3600)) // the next day in UTC
	line := []ports.OrderLine{{ProductID: "1", Name: "Air", Quantity: 1, Amount: dec("1")}}
	purchases := []ports.PurchaseCompleted{
		{OrderID: "a-1", Client: "Store", At: t0, Campaigns: []ports.CampaignPoints{{Campaign: "1", Points: 170}, {Campaign: "weekend", Points: 30}}},
		{OrderID: "a-2", Client: "Store", At: t0.Add(time.Hour), Campaigns: []ports.CampaignPoints{{Campaign: "1", Points: 10}, {Campaign: "capped", Points: 0}}},
		{OrderID: "a-3", Client: "Store", At: lateInNewYork, Campaigns: []ports.CampaignPoints{{Campaign: "1", Points: 5}}},
		{OrderID: "a-4", Client: "Store", At: day.Add(-time.Nanosecond), Campaigns: []ports.CampaignPoints{{Campaign: "1", Points: 7}}},
		{OrderID: "a-5", Client: "Other", At: t0, Campaigns: []ports.CampaignPoints{{Campaign: "1", Points: 99}}},
		{OrderID: "a-6", Client: "Store", At: t0}, // earned nothing
	}
	for _, p := range purchases {
		p.Lines = line
		for range 2 { // delivered twice, counted once
			if err := s.Record(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	next := day.AddDate(0, 0, 1).Format(time.DateOnly)
	today := day.Format(time.DateOnly)
	for _, tt := range []struct {
		client string
		since  time.Time
		want   []ports.CampaignDay
	}{
		{"Store", t0, []ports.CampaignDay{ // a time of day counts its whole day
			{Day: today, Campaign: "1", Points: 180, Orders: 2},
			{Day: today, Campaign: "capped", Points: 0, Orders: 1},
			{Day: today, Campaign: "weekend", Points: 30, Orders: 1},
			{Day: next, Campaign: "1", Points: 5, Orders: 1},
		}},
		{"Store", day.AddDate(0, 0, 1), []ports.CampaignDay{{Day: next, Campaign: "1", Points: 5, Orders: 1}}},
		{"Store", day.AddDate(0, 0, -1), []ports.CampaignDay{
			{Day: day.AddDate(0, 0, -1).Format(time.DateOnly), Campaign: "1", Points: 7, Orders: 1},
			{Day: today, Campaign: "1", Points: 180, Orders: 2},
			{Day: today, Campaign: "capped", Points: 0, Orders: 1},
			{Day: today, Campaign: "weekend", Points: 30, Orders: 1},
			{Day: next, Campaign: "1", Points: 5, Orders: 1},
		}},
		{"Other", day, []ports.CampaignDay{{Day: today, Campaign: "1", Points: 99, Orders: 1}}},
		{"Nobody", day, nil},
	} {
		got, err := s.Awards(ctx, tt.client, tt.since)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Awards(%s, %s) (-want +got):\n%s", tt.client, tt.since, diff)
		}
	}
}
