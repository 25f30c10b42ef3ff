package retail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Config holds the store's choices.
type Config struct {
	// PointValue is the money one loyalty point is worth when it pays for
	// part of an order (default 0.01).
	PointValue decimal.Decimal
	// ReservationTTL is how long reserved stock waits for its order to
	// complete before the sweeper gives it back (default 15 minutes).
	ReservationTTL time.Duration
	// PurchaseWait is how long a purchase request waits for its saga to
	// end before answering "still running" (default 5 s).
	PurchaseWait time.Duration
	// ReturnWindow is how long after an order completes its customer may
	// return it (default 30 days); an admin may at any time.
	ReturnWindow time.Duration
	// Client is the client the store is: its purchases, catalog, wallets
	// and customers belong to it. Required.
	Client string
}

// OrderDeps are the ports orders work through.
type OrderDeps struct {
	Catalog ports.Catalog
	Stock   ports.Stock
	Orders  ports.Orders
	Sagas   ports.Sagas
	// Returns runs the return sagas.
	Returns ports.Sagas
	Clock   ports.Clock
	IDs     ports.IDs
}

// Orders places purchases and shows them.
type Orders struct {
	d   OrderDeps
	cfg Config
}

// NewOrders returns the order service.
func NewOrders(d OrderDeps, cfg Config) (*Orders, error) {
	if d.Catalog == nil || d.Stock == nil || d.Orders == nil || d.Sagas == nil || d.Clock == nil || d.IDs == nil {
		return nil, errors.New("retail orders: every dependency is required")
	}
	if cfg.Client == "" {
		return nil, errors.New("retail orders: the store's client is required")
	}
	return &Orders{d: d, cfg: cfg.withDefaults()}, nil
}

// pendingDays is how long the points a purchase earns stay pending: its
// return window, in whole days (a return within it cancels them before
// they can be spent).
func (c Config) pendingDays() int { return int(c.ReturnWindow / (24 * time.Hour)) }

func (c Config) withDefaults() Config {
	if c.PointValue.IsZero() {
		c.PointValue = decimal.RequireFromString("0.01")
	}
	if c.ReservationTTL == 0 {
		c.ReservationTTL = 15 * time.Minute
	}
	if c.PurchaseWait == 0 {
		c.PurchaseWait = 5 * time.Second
	}
	if c.ReturnWindow == 0 {
		c.ReturnWindow = 30 * 24 * time.Hour
	}
	return c
}

// Item is a product and a quantity to buy.
type Item struct {
	ProductID string
	Quantity  int64
}

// PurchaseCommand is a purchase request.
type PurchaseCommand struct {
	UserID       string
	Items        []Item
	RedeemPoints int64  // points to pay part of the order with
	Key          string // idempotency key; "" for none
	// ExpectedTotal, when set, is the total the customer saw: an order
	// that would cost anything else is refused (a *PriceChangedError with
	// today's prices) rather than charged.
	ExpectedTotal *decimal.Decimal
	// NoWait answers as soon as the saga has started, without waiting
	// PurchaseWait: the caller follows the order on its own.
	NoWait bool
}

// PriceChangedError refuses a purchase whose total is not the one the
// customer saw; Lines and Total are today's. errors.Is(err,
// ErrPriceChanged) holds.
type PriceChangedError struct {
	Expected, Total decimal.Decimal
	Lines           []ports.OrderLine
}

func (e *PriceChangedError) Error() string {
	return fmt.Sprintf("the order costs %s today, not the %s expected", e.Total.StringFixed(2), e.Expected.StringFixed(2))
}

func (e *PriceChangedError) Is(target error) bool { return target == ErrPriceChanged }

// SagaInput is what the purchase saga carries from step to step.
type SagaInput struct {
	OrderID    string `json:"order_id"`
	UsesPoints bool   `json:"uses_points"`
	// Compensate runs only the compensations (an operator's retry of an
	// order that needs attention).
	Compensate bool `json:"compensate"`
}

// Purchase creates the order (once per idempotency key), starts its saga
// under the order's id, and waits up to PurchaseWait for it (not at all
// with NoWait): done reports whether the saga had ended.
func (o *Orders) Purchase(ctx context.Context, cmd PurchaseCommand) (*Order, bool, error) {
	order, err := o.newOrder(ctx, cmd)
	if err != nil {
		return nil, false, err
	}
	rec, created, err := o.d.Orders.Create(ctx, order.storage())
	if err != nil {
		return nil, false, err
	}
	stored, err := orderFromStorage(rec)
	if err != nil {
		return nil, false, err
	}
	if !created && stored.fingerprint != order.fingerprint {
		return stored, false, ErrKeyReused
	}
	// Started again on a repeat: a no-op unless a crash came between the
	// order and its saga (which ResumeStranded also repairs).
	if err := o.start(ctx, stored); err != nil {
		return stored, false, err
	}
	if cmd.NoWait {
		// A repeat of a finished purchase is done all the same.
		return stored, stored.status != Pending, nil
	}
	return o.wait(ctx, stored)
}

// SagaEnded is the failure code of an order whose saga run ended without
// completing or failing it.
const SagaEnded = "SagaEnded"

// start starts the saga run of the order's current attempt; starting a run
// that exists changes nothing.
func (o *Orders) start(ctx context.Context, order *Order) error {
	in := StepInput{SagaInput: SagaInput{OrderID: order.id, UsesPoints: order.pointsRequested > 0}}
	if order.attempt > 1 {
		// An operator's retry runs the compensations again, ending with
		// the failure that started them.
		in.Compensate = true
		in.Failure = &StepError{Error: order.failureCode, Cause: order.failureReason}
	}
	input, err := json.Marshal(in)
	if err != nil {
		return err
	}
	err = o.d.Sagas.Start(ctx, sagaName(order.id, order.attempt), input)
	if errors.Is(err, ports.ErrSagaEnded) && order.status != Pending {
		return nil // a repeat of a finished purchase
	}
	if errors.Is(err, ports.ErrSagaEnded) {
		// The run is over. Its tasks end every path by completing or
		// failing the order; if it is still pending, the run ended where
		// no task could (a timeout, an operator's stop, a runtime error):
		// an operator must look at it, and starting it again would not.
		_, err = changeOrder(ctx, o.d.Orders, order.id, func(cur *Order) error {
			if cur.status != Pending || cur.attempt != order.attempt {
				return nil
			}
			return cur.needAttention(SagaEnded, "its saga ended without finishing the order", o.d.Clock.Now())
		})
	}
	if err != nil {
		return fmt.Errorf("start the saga of %s: %w", order.id, err)
	}
	return nil
}

// wait waits up to PurchaseWait for the order's saga run to end.
func (o *Orders) wait(ctx context.Context, order *Order) (*Order, bool, error) {
	wctx, cancel := context.WithTimeout(ctx, o.cfg.PurchaseWait)
	defer cancel()
	// A read cut short by the end of the wait is no error: the order is
	// read again below.
	if _, err := o.d.Sagas.Wait(wctx, sagaName(order.id, order.attempt)); err != nil && wctx.Err() == nil {
		return order, false, err
	}
	final, err := loadOrder(ctx, o.d.Orders, order.id)
	if err != nil {
		return order, false, err
	}
	return final, final.status != Pending, nil
}

// newOrder checks a purchase and prices it with the catalog's prices.
func (o *Orders) newOrder(ctx context.Context, cmd PurchaseCommand) (*Order, error) {
	switch {
	case !limits.ID.MatchString(cmd.UserID):
		return nil, invalid("user_id", "a user id is %s", limits.IDRule)
	case len(cmd.Items) == 0 || len(cmd.Items) > limits.ItemsPerOrder:
		return nil, invalid("items", "an order has 1 to %d items", limits.ItemsPerOrder)
	case cmd.RedeemPoints < 0 || cmd.RedeemPoints > limits.MaxPoints:
		return nil, invalid("redeem_points", "redeem_points is a whole number from 0 to 1,000,000,000")
	case len(cmd.Key) > limits.IdempotencyKeyChars:
		return nil, invalid("Idempotency-Key", "an idempotency key has at most %d characters", limits.IdempotencyKeyChars)
	case cmd.ExpectedTotal != nil && (cmd.ExpectedTotal.IsNegative() || cmd.ExpectedTotal.GreaterThan(decimal.NewFromInt(limits.MaxMoney))):
		return nil, invalid("expected_total", "expected_total is an amount from 0 to 1,000,000,000")
	}
	qty := map[string]int64{}
	var ids []string
	for i, it := range cmd.Items {
		switch {
		case !limits.ID.MatchString(it.ProductID):
			return nil, invalid(fmt.Sprintf("items[%d].product_id", i), "a product id is %s", limits.IDRule)
		case it.Quantity < 1 || it.Quantity > limits.QuantityPerLine:
			return nil, invalid(fmt.Sprintf("items[%d].quantity", i), "a quantity is from 1 to %d", limits.QuantityPerLine)
		}
		if _, seen := qty[it.ProductID]; !seen {
			ids = append(ids, it.ProductID)
		}
		qty[it.ProductID] += it.Quantity
	}
	now := o.d.Clock.Now().UTC()
	order := &Order{userID: cmd.UserID, client: o.cfg.Client, status: Pending, attempt: 1, pointsRequested: cmd.RedeemPoints,
		total: decimal.Zero, createdAt: now, updatedAt: now, version: 1, fingerprint: fingerprint(cmd, ids, qty)}
	if cmd.Key != "" {
		// The key is the customer's: the same key of two customers makes
		// two orders.
		sum := sha256.Sum256([]byte(cmd.UserID + "\x00" + cmd.Key))
		order.id = "o-" + hex.EncodeToString(sum[:12])
		// A repeat answers the order the first request made, at the
		// prices it was made at.
		if rec, err := o.d.Orders.Get(ctx, order.id); err == nil {
			if rec.Fingerprint != order.fingerprint {
				return nil, ErrKeyReused
			}
			return orderFromStorage(rec)
		} else if !errors.Is(err, ports.ErrNotFound) {
			return nil, err
		}
	} else {
		order.id = "o-" + o.d.IDs.NewID()
	}
	for i, id := range ids {
		p, err := o.d.Catalog.Get(ctx, id)
		if errors.Is(err, ports.ErrNotFound) {
			return nil, invalid(fmt.Sprintf("items[%d].product_id", i), "there is no product %q", id)
		}
		if err != nil {
			return nil, err
		}
		amount := p.Price.Mul(decimal.NewFromInt(qty[id]))
		order.lines = append(order.lines, ports.OrderLine{ProductID: id, Name: p.Name, Quantity: qty[id], UnitPrice: p.Price, Amount: amount})
		order.total = order.total.Add(amount)
	}
	if cmd.ExpectedTotal != nil && !cmd.ExpectedTotal.Equal(order.total) {
		return nil, &PriceChangedError{Expected: *cmd.ExpectedTotal, Total: order.total, Lines: order.lines}
	}
	order.pointsValue = o.cfg.PointValue.Mul(decimal.NewFromInt(cmd.RedeemPoints))
	if order.pointsValue.GreaterThan(order.total) {
		return nil, invalid("redeem_points", "%d points are worth %s, more than the order's %s", cmd.RedeemPoints,
			order.pointsValue.StringFixed(2), order.total.StringFixed(2))
	}
	order.due = order.total.Sub(order.pointsValue)
	return order, nil
}

func fingerprint(cmd PurchaseCommand, ids []string, qty map[string]int64) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d", cmd.UserID, cmd.RedeemPoints)
	for _, id := range sorted {
		fmt.Fprintf(h, "|%s=%d", id, qty[id])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// OrderView is an order with the steps of its saga, and those of its
// returns' sagas by return id.
type OrderView struct {
	*Order
	Steps       []ports.SagaStep
	ReturnSteps map[string][]ports.SagaStep
}

// sagaName is the execution name of an order's n-th saga run.
func sagaName(orderID string, attempt int) string {
	if attempt <= 1 {
		return orderID
	}
	return fmt.Sprintf("%s.retry-%d", orderID, attempt)
}

// Order returns an order and its saga history.
func (o *Orders) Order(ctx context.Context, id string) (OrderView, error) {
	order, err := loadOrder(ctx, o.d.Orders, id)
	if err != nil {
		return OrderView{}, err
	}
	v := OrderView{Order: order, Steps: []ports.SagaStep{}}
	for attempt := 1; attempt <= order.attempt; attempt++ {
		steps, err := o.d.Sagas.Steps(ctx, sagaName(id, attempt))
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return v, err
		}
		v.Steps = append(v.Steps, steps...)
	}
	v.ReturnSteps, err = o.returnSteps(ctx, order)
	return v, err
}

// ReturnWindow is how long customers may return an order after it
// completed.
func (o *Orders) ReturnWindow() time.Duration { return o.cfg.ReturnWindow }

// Buyer returns whose order id is, without reading its saga history (what
// access checks need).
func (o *Orders) Buyer(ctx context.Context, id string) (string, error) {
	order, err := loadOrder(ctx, o.d.Orders, id)
	if err != nil {
		return "", err
	}
	return order.userID, nil
}

// OrdersOf pages through a user's orders, newest first.
func (o *Orders) OrdersOf(ctx context.Context, userID, cursor string, limit int) ([]*Order, string, error) {
	if !limits.ID.MatchString(userID) {
		return nil, "", invalid("user_id", "a user id is %s", limits.IDRule)
	}
	return orderPage(o.d.Orders.ByUser(ctx, userID, cursor, limit))
}

// Recent pages through every order, newest first: the back office's
// list across customers.
func (o *Orders) Recent(ctx context.Context, cursor string, limit int) ([]*Order, string, error) {
	return orderPage(o.d.Orders.Recent(ctx, cursor, limit))
}

// orderPage is a page of orders read from storage, in the domain's terms.
func orderPage(recs []ports.Order, next string, err error) ([]*Order, string, error) {
	if errors.Is(err, ports.ErrBadCursor) {
		return nil, "", invalid("cursor", "cursor must be a next_cursor value from a previous page")
	}
	if err != nil {
		return nil, "", err
	}
	out, err := ordersFromStorage(recs)
	return out, next, err
}

func ordersFromStorage(recs []ports.Order) ([]*Order, error) {
	out := make([]*Order, len(recs))
	for i, r := range recs {
		o, err := orderFromStorage(r)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

// WithStatus lists the orders in a status, those waiting longest first: an
// operator's view of what needs attention, or of what is still pending.
func (o *Orders) WithStatus(ctx context.Context, status OrderStatus, limit int) ([]*Order, error) {
	recs, err := o.d.Orders.WithStatus(ctx, status.s, limit)
	if err != nil {
		return nil, err
	}
	return ordersFromStorage(recs)
}

// Retry moves an order that is stuck: for one that needs attention it runs
// the compensations again (they are idempotent) in a new saga run; for one
// still pending it starts its saga again (a no-op while it runs). It waits
// like a purchase.
func (o *Orders) Retry(ctx context.Context, id string) (*Order, bool, error) {
	order, err := loadOrder(ctx, o.d.Orders, id)
	if err != nil {
		return nil, false, err
	}
	if stuck := order.stuckReturns(); order.status == Completed && len(stuck) > 0 {
		return o.retryReturns(ctx, order, stuck)
	}
	if order.status != Pending {
		if order, err = changeOrder(ctx, o.d.Orders, id, func(ord *Order) error { return ord.retry(o.d.Clock.Now().UTC()) }); err != nil {
			return nil, false, err
		}
	}
	if err := o.start(ctx, order); err != nil {
		return order, false, err
	}
	return o.wait(ctx, order)
}

// ResumeStranded starts again the saga of every order pending for longer
// than olderThan: a crash between storing an order and starting its saga
// leaves one that nothing else would move. Starting a saga that runs
// changes nothing, so this is safe at any time; it returns how many orders
// it looked at.
func (o *Orders) ResumeStranded(ctx context.Context, olderThan time.Duration) (int, error) {
	pending, err := o.d.Orders.WithStatus(ctx, ports.OrderPending, limits.PageSize)
	if err != nil {
		return 0, err
	}
	cutoff := o.d.Clock.Now().Add(-olderThan)
	n, err := o.resumeReturns(ctx, cutoff)
	if err != nil {
		return n, err
	}
	for _, rec := range pending {
		if rec.UpdatedAt.After(cutoff) {
			continue // its request may still be starting it
		}
		order, err := orderFromStorage(rec)
		if err != nil {
			return n, err
		}
		if err := o.start(ctx, order); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// ReleaseExpired gives back the stock of reservations held past their
// expiry (a saga that never finished). It returns how many it released.
func (o *Orders) ReleaseExpired(ctx context.Context) (int, error) {
	released := 0
	seen := map[string]bool{}
	for {
		ids, err := o.d.Stock.Expired(ctx, o.d.Clock.Now(), 100)
		if err != nil {
			return released, err
		}
		fresh := 0
		for _, id := range ids {
			if seen[id] {
				continue // an index that lags (DynamoDB's) lists it again
			}
			seen[id], fresh = true, fresh+1
			switch gave, err := (shelf{o.d.Stock}).release(ctx, id); {
			case errors.Is(err, errCommitted): // completed meanwhile: not ours to release
			case err != nil:
				return released, err
			case gave:
				released++
			}
		}
		if fresh == 0 {
			return released, nil
		}
	}
}
