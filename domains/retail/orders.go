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
	return c
}

// Item is a product and a quantity to buy.
type Item struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// PurchaseCommand is a purchase request.
type PurchaseCommand struct {
	UserID       string
	Items        []Item
	RedeemPoints int64  // points to pay part of the order with
	Key          string // idempotency key; "" for none
	// NoWait answers as soon as the saga has started, without waiting
	// PurchaseWait: the caller follows the order on its own.
	NoWait bool
}

const (
	maxItems    = 20
	maxQuantity = 100
)

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
func (o *Orders) Purchase(ctx context.Context, cmd PurchaseCommand) (ports.Order, bool, error) {
	order, err := o.newOrder(ctx, cmd)
	if err != nil {
		return order, false, err
	}
	stored, created, err := o.d.Orders.Create(ctx, order)
	if err != nil {
		return order, false, err
	}
	if !created && stored.Fingerprint != order.Fingerprint {
		return stored, false, ErrKeyReused
	}
	input, err := json.Marshal(SagaInput{OrderID: stored.ID, UsesPoints: stored.PointsRedeemed > 0})
	if err != nil {
		return stored, false, err
	}
	// Started again on a repeat: a no-op unless a crash came between the
	// order and its saga.
	if err := o.d.Sagas.Start(ctx, stored.ID, input); err != nil {
		return stored, false, fmt.Errorf("start the saga of %s: %w", stored.ID, err)
	}
	if cmd.NoWait {
		// A repeat of a finished purchase is done all the same.
		return stored, stored.Status != ports.OrderPending, nil
	}
	wctx, cancel := context.WithTimeout(ctx, o.cfg.PurchaseWait)
	defer cancel()
	// A read cut short by the end of the wait is no error: the order is
	// read again below.
	if _, err := o.d.Sagas.Wait(wctx, stored.ID); err != nil && wctx.Err() == nil {
		return stored, false, err
	}
	final, err := o.d.Orders.Get(ctx, stored.ID)
	if err != nil {
		return stored, false, err
	}
	return final, final.Status != ports.OrderPending, nil
}

// newOrder checks a purchase and prices it with the catalog's prices.
func (o *Orders) newOrder(ctx context.Context, cmd PurchaseCommand) (ports.Order, error) {
	switch {
	case !idPattern.MatchString(cmd.UserID):
		return ports.Order{}, invalid("user_id", "a user id is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	case len(cmd.Items) == 0 || len(cmd.Items) > maxItems:
		return ports.Order{}, invalid("items", "an order has 1 to %d items", maxItems)
	case cmd.RedeemPoints < 0 || cmd.RedeemPoints > 1_000_000_000:
		return ports.Order{}, invalid("redeem_points", "redeem_points is a whole number from 0 to 1,000,000,000")
	}
	qty := map[string]int64{}
	var ids []string
	for i, it := range cmd.Items {
		if it.Quantity < 1 || it.Quantity > maxQuantity {
			return ports.Order{}, invalid(fmt.Sprintf("items[%d].quantity", i), "a quantity is from 1 to %d", maxQuantity)
		}
		if _, seen := qty[it.ProductID]; !seen {
			ids = append(ids, it.ProductID)
		}
		qty[it.ProductID] += it.Quantity
	}
	now := o.d.Clock.Now().UTC()
	order := ports.Order{UserID: cmd.UserID, Client: o.cfg.Client, Status: ports.OrderPending, Attempt: 1,
		PointsRedeemed: cmd.RedeemPoints, Total: decimal.Zero, CreatedAt: now, UpdatedAt: now, Version: 1}
	for i, id := range ids {
		p, err := o.d.Catalog.Get(ctx, id)
		if errors.Is(err, ports.ErrNotFound) {
			return ports.Order{}, invalid(fmt.Sprintf("items[%d].product_id", i), "there is no product %q", id)
		}
		if err != nil {
			return ports.Order{}, err
		}
		amount := p.Price.Mul(decimal.NewFromInt(qty[id]))
		order.Lines = append(order.Lines, ports.OrderLine{ProductID: id, Name: p.Name, Quantity: qty[id], UnitPrice: p.Price, Amount: amount})
		order.Total = order.Total.Add(amount)
	}
	order.PointsValue = o.cfg.PointValue.Mul(decimal.NewFromInt(cmd.RedeemPoints))
	if order.PointsValue.GreaterThan(order.Total) {
		return ports.Order{}, invalid("redeem_points", "%d points are worth %s, more than the order's %s", cmd.RedeemPoints, order.PointsValue, order.Total)
	}
	order.Charged = order.Total.Sub(order.PointsValue)
	order.Fingerprint = fingerprint(cmd, ids, qty)
	if cmd.Key != "" {
		sum := sha256.Sum256([]byte(cmd.UserID + "\x00" + cmd.Key))
		order.ID = "o-" + hex.EncodeToString(sum[:12])
	} else {
		order.ID = "o-" + o.d.IDs.NewID()
	}
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

// OrderView is an order with the steps of its saga.
type OrderView struct {
	ports.Order
	Steps []ports.SagaStep `json:"saga"`
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
	order, err := o.d.Orders.Get(ctx, id)
	if err != nil {
		return OrderView{}, notFound(err, "order "+id)
	}
	v := OrderView{Order: order, Steps: []ports.SagaStep{}}
	for attempt := 1; attempt <= order.Attempt; attempt++ {
		steps, err := o.d.Sagas.Steps(ctx, sagaName(id, attempt))
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return v, err
		}
		v.Steps = append(v.Steps, steps...)
	}
	return v, nil
}

// Buyer returns whose order id is, without reading its saga history (what
// access checks need).
func (o *Orders) Buyer(ctx context.Context, id string) (string, error) {
	order, err := o.d.Orders.Get(ctx, id)
	if err != nil {
		return "", notFound(err, "order "+id)
	}
	return order.UserID, nil
}

// OrdersOf pages through a user's orders, newest first.
func (o *Orders) OrdersOf(ctx context.Context, userID, cursor string, limit int) ([]ports.Order, string, error) {
	if !idPattern.MatchString(userID) {
		return nil, "", invalid("user_id", "a user id is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	}
	return o.d.Orders.ByUser(ctx, userID, cursor, limit)
}

// NeedingAttention lists the orders whose compensation failed.
func (o *Orders) NeedingAttention(ctx context.Context) ([]ports.Order, error) {
	return o.d.Orders.WithStatus(ctx, ports.OrderNeedsAttention, 500)
}

// Retry runs the compensations of an order that needs attention again (they
// are idempotent), in a new saga run, and waits for it like a purchase.
func (o *Orders) Retry(ctx context.Context, id string) (ports.Order, bool, error) {
	order, err := o.d.Orders.Update(ctx, id, func(ord *ports.Order) error {
		if ord.Status != ports.OrderNeedsAttention {
			return fmt.Errorf("order %s is %s: %w", id, ord.Status, ErrNotRetryable)
		}
		ord.Attempt++
		ord.Status, ord.UpdatedAt = ports.OrderPending, o.d.Clock.Now().UTC()
		return nil
	})
	if err != nil {
		return order, false, notFound(err, "order "+id)
	}
	name := sagaName(id, order.Attempt)
	input, err := json.Marshal(StepInput{SagaInput: SagaInput{OrderID: id, UsesPoints: order.PointsRedeemed > 0, Compensate: true},
		Failure: &StepError{Error: order.FailureCode, Cause: order.FailureReason}})
	if err != nil {
		return order, false, err
	}
	if err := o.d.Sagas.Start(ctx, name, input); err != nil {
		return order, false, err
	}
	wctx, cancel := context.WithTimeout(ctx, o.cfg.PurchaseWait)
	defer cancel()
	if _, err := o.d.Sagas.Wait(wctx, name); err != nil && wctx.Err() == nil {
		return order, false, err
	}
	final, err := o.d.Orders.Get(ctx, id)
	return final, err == nil && final.Status != ports.OrderPending, err
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
			switch _, err := o.d.Stock.Release(ctx, id); {
			case err == nil:
				released++
			case !errors.Is(err, ports.ErrConflict): // committed meanwhile: not ours to release
				return released, err
			}
		}
		if fresh == 0 {
			return released, nil
		}
	}
}
