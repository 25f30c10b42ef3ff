package retail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// The return policy (docs/decisions/0017-returns.md):
//
//   - A customer returns lines of a completed order, or cancels all of it,
//     within the return window after it completed; an admin at any time.
//   - A return gives back its share of what the order was paid and earned,
//     pro rata of the value of its lines: money refunded, redeemed points
//     restored to the lots they came from, awarded points taken back. Each
//     share is rounded down, and the return that leaves nothing to return
//     takes exactly what is left, so that the returns of an order never
//     give back more than it was paid with nor take back more than it
//     earned.
//   - Awarded points the customer has spent already are taken from other
//     points they hold; what they no longer have is kept from the money
//     refund at the point value, as far as the refund goes, and the rest is
//     written off and recorded.
//   - A return's saga finishes forward: each of its steps gives something
//     back and is safe to run again, so one that keeps failing leaves the
//     return needing attention (holding its quantities, so that no other
//     return can give them back twice), and an admin's retry runs the
//     steps again.

// ReturnStatus is where a return stands. The zero value is no status.
type ReturnStatus struct{ s string }

var (
	// ReturnPending: its saga is running (or about to).
	ReturnPending = ReturnStatus{ports.ReturnPending}
	// ReturnCompleted: refunded, restocked, points moved.
	ReturnCompleted = ReturnStatus{ports.ReturnCompleted}
	// ReturnNeedsAttention: a step kept failing; an admin retries it.
	ReturnNeedsAttention = ReturnStatus{ports.ReturnNeedsAttention}
)

func (s ReturnStatus) String() string { return s.s }

func parseReturnStatus(s string) (ReturnStatus, error) {
	for _, st := range []ReturnStatus{ReturnPending, ReturnCompleted, ReturnNeedsAttention} {
		if st.s == s {
			return st, nil
		}
	}
	return ReturnStatus{}, fmt.Errorf("unknown return status %q", s)
}

// maxReturns bounds the returns of one order, and so the order's record.
const maxReturns = limits.ReturnsPerOrder

// reasonChars bounds a return's reason.
const reasonChars = limits.ReturnReasonChars

// Errors of returns.
var (
	ErrNotReturnable      = errors.New("only a completed order can be returned")
	ErrReturnWindowClosed = errors.New("the return window of the order has closed")
	ErrNothingToReturn    = errors.New("everything the order bought has been returned")
	ErrTooManyReturns     = fmt.Errorf("an order has at most %d returns", maxReturns)
)

// Return is one return of an order's lines.
type Return struct {
	r      ports.OrderReturn
	status ReturnStatus
}

func returnsFromStorage(recs []ports.OrderReturn) ([]*Return, error) {
	out := make([]*Return, len(recs))
	for i, r := range recs {
		st, err := parseReturnStatus(r.Status)
		if err != nil {
			return nil, fmt.Errorf("return %s: %w", r.ID, err)
		}
		r.Lines = slices.Clone(r.Lines)
		out[i] = &Return{r: r, status: st}
	}
	return out, nil
}

func (r *Return) storage() ports.OrderReturn {
	out := r.r
	out.Status = r.status.s
	out.Lines = slices.Clone(r.r.Lines)
	return out
}

func (r *Return) ID() string                     { return r.r.ID }
func (r *Return) Status() ReturnStatus           { return r.status }
func (r *Return) Lines() []ports.ReturnLine      { return slices.Clone(r.r.Lines) }
func (r *Return) Value() decimal.Decimal         { return r.r.Value }
func (r *Return) Reason() string                 { return r.r.Reason }
func (r *Return) By() string                     { return r.r.By }
func (r *Return) Attempt() int                   { return max(r.r.Attempt, 1) }
func (r *Return) CreatedAt() time.Time           { return r.r.CreatedAt }
func (r *Return) UpdatedAt() time.Time           { return r.r.UpdatedAt }
func (r *Return) Failure() (code, reason string) { return r.r.FailureCode, r.r.FailureReason }
func (r *Return) Planned() (refund decimal.Decimal, restored, reversed int64) {
	return r.r.Refund, r.r.PointsRestored, r.r.PointsReversed
}

// Outcome is what a completed return gave back: the money refunded, the
// money kept from the refund for awarded points the customer no longer
// had, and how many of those points there were.
func (r *Return) Outcome() (refunded, kept decimal.Decimal, unrecovered int64) {
	return r.r.Refunded, r.r.KeptFromRefund, r.r.PointsUnrecovered
}

// Returns are the order's returns, oldest first.
func (o *Order) Returns() []*Return { return slices.Clone(o.returns) }

// CompletedAt is when the order completed (its creation for an order
// completed before this was kept).
func (o *Order) CompletedAt() time.Time {
	if o.completedAt.IsZero() {
		return o.createdAt
	}
	return o.completedAt
}

// ReturnableUntil is when a customer's return window closes; zero for an
// order that is not completed.
func (o *Order) ReturnableUntil(window time.Duration) time.Time {
	if o.status != Completed {
		return time.Time{}
	}
	return o.CompletedAt().Add(window)
}

// Returned is what the order's returns took back so far, per product.
func (o *Order) Returned() map[string]int64 {
	out := map[string]int64{}
	for _, r := range o.returns {
		for _, l := range r.r.Lines {
			out[l.ProductID] += l.Quantity
		}
	}
	return out
}

// returnByID finds one of the order's returns.
func (o *Order) returnByID(id string) (*Return, error) {
	for _, r := range o.returns {
		if r.r.ID == id {
			return r, nil
		}
	}
	return nil, fmt.Errorf("return %s of order %s: %w", id, o.id, ErrNotFound)
}

// returnRequest is a return checked against the order: who asks, when,
// and what.
type returnRequest struct {
	lines       []ports.ReturnLine // nil: all that is left
	reason, by  string
	admin       bool
	key         string // digest of the idempotency key; "" for none
	fingerprint string
	now         time.Time
	window      time.Duration
}

// requestReturn decides a new return of the order: which lines, and the
// share of what the order was paid and earned that it gives back. A
// request repeating an idempotency key answers the return it made, and
// changed is false.
func (o *Order) requestReturn(req returnRequest) (ret *Return, changed bool, err error) {
	if req.key != "" {
		for _, r := range o.returns {
			if r.r.Key != req.key {
				continue
			}
			if r.r.Fingerprint != req.fingerprint {
				return nil, false, ErrKeyReused
			}
			return r, false, nil
		}
	}
	switch {
	case o.status != Completed:
		return nil, false, fmt.Errorf("order %s is %s: %w", o.id, o.status, ErrNotReturnable)
	case !req.admin && req.now.After(o.ReturnableUntil(req.window)):
		return nil, false, fmt.Errorf("order %s could be returned until %s: %w", o.id,
			o.ReturnableUntil(req.window).Format(time.DateOnly), ErrReturnWindowClosed)
	case len(o.returns) >= maxReturns:
		return nil, false, ErrTooManyReturns
	}
	bought := map[string]int64{}
	price := map[string]decimal.Decimal{}
	for _, l := range o.lines {
		bought[l.ProductID] += l.Quantity
		price[l.ProductID] = l.UnitPrice
	}
	returned := o.Returned()
	left := map[string]int64{}
	leftUnits := int64(0)
	for id, n := range bought {
		left[id] = n - returned[id]
		leftUnits += left[id]
	}
	lines := req.lines
	if lines == nil {
		if leftUnits == 0 {
			return nil, false, ErrNothingToReturn
		}
		for _, l := range o.lines {
			if n := left[l.ProductID]; n > 0 {
				lines = append(lines, ports.ReturnLine{ProductID: l.ProductID, Quantity: n})
				left[l.ProductID] = 0 // an order's lines name each product once; this guards a repeat
			}
		}
		leftUnits = 0
	} else {
		for i, l := range lines {
			switch {
			case bought[l.ProductID] == 0:
				return nil, false, invalid(fmt.Sprintf("lines[%d].product_id", i), "the order bought no %q", l.ProductID)
			case l.Quantity > left[l.ProductID]:
				return nil, false, invalid(fmt.Sprintf("lines[%d].quantity", i), "%d of %s are left to return", left[l.ProductID], l.ProductID)
			}
			left[l.ProductID] -= l.Quantity
			leftUnits -= l.Quantity
		}
	}
	value := decimal.Zero
	for _, l := range lines {
		value = value.Add(price[l.ProductID].Mul(decimal.NewFromInt(l.Quantity)))
	}
	r := ports.OrderReturn{ID: fmt.Sprintf("r%d", len(o.returns)+1), Lines: lines, Value: value, Reason: req.reason, By: req.by,
		Attempt: 1, Key: req.key, Fingerprint: req.fingerprint, CreatedAt: req.now, UpdatedAt: req.now,
		KeptFromRefund: decimal.Zero, Refunded: decimal.Zero}
	r.Refund, r.PointsRestored, r.PointsReversed = o.returnShare(value, leftUnits == 0)
	ret = &Return{r: r, status: ReturnPending}
	o.returns = append(o.returns, ret)
	o.updatedAt = req.now
	return ret, true, nil
}

// returnShare is what a return of lines worth value gives back of the
// order's charge and redeemed points, and takes back of its awarded
// points: each pro rata, rounded down (money to the cent); the last return
// takes exactly what the others left.
func (o *Order) returnShare(value decimal.Decimal, last bool) (refund decimal.Decimal, restored, reversed int64) {
	refund, restored, reversed = o.due, o.pointsRequested, o.pointsAwarded
	for _, r := range o.returns {
		refund = refund.Sub(r.r.Refund)
		restored -= r.r.PointsRestored
		reversed -= r.r.PointsReversed
	}
	if last || !o.total.IsPositive() {
		if !last {
			return decimal.Zero, 0, 0 // a free order gives nothing back before its last return
		}
		return refund, restored, reversed
	}
	share := func(n int64) int64 {
		return decimal.NewFromInt(n).Mul(value).Div(o.total).Floor().IntPart()
	}
	refundShare := o.due.Mul(value).Div(o.total).RoundFloor(2)
	return decimal.Min(refundShare, refund), min(share(o.pointsRequested), restored), min(share(o.pointsAwarded), reversed)
}

// completeReturn records what the return gave back, once.
func (o *Order) completeReturn(id string, refunded, kept decimal.Decimal, unrecovered int64, at time.Time) error {
	r, err := o.returnByID(id)
	if err != nil {
		return err
	}
	if r.status == ReturnCompleted {
		return nil
	}
	r.status = ReturnCompleted
	r.r.Refunded, r.r.KeptFromRefund, r.r.PointsUnrecovered = refunded, kept, unrecovered
	r.r.FailureCode, r.r.FailureReason, r.r.UpdatedAt = "", "", at
	o.updatedAt = at
	return nil
}

// returnNeedsAttention records that a step of the return kept failing.
func (o *Order) returnNeedsAttention(id, code, cause string, at time.Time) error {
	r, err := o.returnByID(id)
	if err != nil {
		return err
	}
	if r.status == ReturnCompleted {
		return fmt.Errorf("return %s of %s completed: it needs no attention", id, o.id)
	}
	r.status, r.r.FailureCode, r.r.FailureReason, r.r.UpdatedAt = ReturnNeedsAttention, code, cause, at
	o.updatedAt = at
	return nil
}

// retryReturn starts another run of a return that needs attention.
func (o *Order) retryReturn(id string, at time.Time) (*Return, error) {
	r, err := o.returnByID(id)
	if err != nil {
		return nil, err
	}
	if r.status != ReturnNeedsAttention {
		return nil, fmt.Errorf("return %s of %s is %s: %w", id, o.id, r.status, ErrNotRetryable)
	}
	r.r.Attempt = r.Attempt() + 1
	r.status, r.r.UpdatedAt = ReturnPending, at
	o.updatedAt = at
	return r, nil
}

// stuckReturns are the returns of the order that need attention or are
// under way.
func (o *Order) stuckReturns() []*Return {
	var out []*Return
	for _, r := range o.returns {
		if r.status != ReturnCompleted {
			out = append(out, r)
		}
	}
	return out
}

// ReturnCommand asks to return lines of an order.
type ReturnCommand struct {
	OrderID string
	// Lines are the products and quantities to return; none returns all
	// that is left (a cancellation).
	Lines  []Item
	Reason string
	By     string // the username asking
	// Admin lifts the return window: an admin returns at any time.
	Admin bool
	Key   string // idempotency key; "" for none
	// NoWait answers as soon as the saga has started.
	NoWait bool
}

// ReturnInput is what the return saga carries from step to step.
type ReturnInput struct {
	OrderID  string     `json:"order_id"`
	ReturnID string     `json:"return_id"`
	Failure  *StepError `json:"error,omitempty"`
}

// returnSagaName is the execution name of a return's n-th run.
func returnSagaName(orderID, returnID string, attempt int) string {
	return sagaName(orderID+"."+returnID, attempt)
}

// Return records a return of the order (once per idempotency key), starts
// its saga and waits for it like a purchase; done reports whether the
// saga had ended.
func (o *Orders) Return(ctx context.Context, cmd ReturnCommand) (*Order, *Return, bool, error) {
	req, err := o.returnRequest(cmd)
	if err != nil {
		return nil, nil, false, err
	}
	var ret *Return
	order, err := changeOrder(ctx, o.d.Orders, cmd.OrderID, func(ord *Order) error {
		r, changed, err := ord.requestReturn(req)
		if err != nil {
			return err
		}
		if ret = r; !changed {
			return errUnchanged
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		order, err = loadOrder(ctx, o.d.Orders, cmd.OrderID)
	}
	if err != nil {
		return nil, nil, false, err
	}
	if ret, err = order.returnByID(ret.r.ID); err != nil {
		return nil, nil, false, err
	}
	if err := o.startReturn(ctx, order, ret); err != nil {
		return order, ret, false, err
	}
	if cmd.NoWait {
		return order, ret, ret.status != ReturnPending, nil
	}
	return o.waitReturn(ctx, order, ret)
}

// errUnchanged stops an update that has nothing to write.
var errUnchanged = errors.New("unchanged")

// returnRequest checks a return command.
func (o *Orders) returnRequest(cmd ReturnCommand) (returnRequest, error) {
	switch {
	case !limits.ID.MatchString(cmd.OrderID):
		return returnRequest{}, invalid("id", "an order id is %s", limits.IDRule)
	case len(cmd.Lines) > limits.ItemsPerOrder:
		return returnRequest{}, invalid("lines", "a return has at most %d lines", limits.ItemsPerOrder)
	case utf8.RuneCountInString(cmd.Reason) > reasonChars:
		return returnRequest{}, invalid("reason", "a reason has at most %d characters", reasonChars)
	case len(cmd.Key) > limits.IdempotencyKeyChars:
		return returnRequest{}, invalid("Idempotency-Key", "an idempotency key has at most %d characters", limits.IdempotencyKeyChars)
	}
	req := returnRequest{reason: cmd.Reason, by: cmd.By, admin: cmd.Admin, now: o.d.Clock.Now().UTC(), window: o.cfg.ReturnWindow}
	if len(cmd.Lines) > 0 {
		at := map[string]int{}
		for i, it := range cmd.Lines {
			switch {
			case !limits.ID.MatchString(it.ProductID):
				return returnRequest{}, invalid(fmt.Sprintf("lines[%d].product_id", i), "a product id is %s", limits.IDRule)
			case it.Quantity < 1 || it.Quantity > limits.QuantityPerLine:
				return returnRequest{}, invalid(fmt.Sprintf("lines[%d].quantity", i), "a quantity is from 1 to %d", limits.QuantityPerLine)
			}
			if j, seen := at[it.ProductID]; seen {
				req.lines[j].Quantity += it.Quantity
				continue
			}
			at[it.ProductID] = len(req.lines)
			req.lines = append(req.lines, ports.ReturnLine{ProductID: it.ProductID, Quantity: it.Quantity})
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s", cmd.OrderID, cmd.Reason)
	if req.lines == nil {
		fmt.Fprint(h, "|all")
	}
	sorted := slices.Clone(req.lines)
	slices.SortFunc(sorted, func(a, b ports.ReturnLine) int { return strings.Compare(a.ProductID, b.ProductID) })
	for _, l := range sorted {
		fmt.Fprintf(h, "|%s=%d", l.ProductID, l.Quantity)
	}
	req.fingerprint = hex.EncodeToString(h.Sum(nil)[:16])
	if cmd.Key != "" {
		// The key is the asker's: the same key of two people makes two
		// returns.
		sum := sha256.Sum256([]byte(cmd.By + "\x00" + cmd.Key))
		req.key = hex.EncodeToString(sum[:12])
	}
	return req, nil
}

// startReturn starts the saga run of the return's current attempt; a run
// that exists is not started again.
func (o *Orders) startReturn(ctx context.Context, order *Order, ret *Return) error {
	if o.d.Returns == nil {
		return errors.New("returns are not set up: the store has no return saga")
	}
	input, err := json.Marshal(ReturnInput{OrderID: order.id, ReturnID: ret.r.ID})
	if err != nil {
		return err
	}
	err = o.d.Returns.Start(ctx, returnSagaName(order.id, ret.r.ID, ret.Attempt()), input)
	if errors.Is(err, ports.ErrSagaEnded) && ret.status != ReturnPending {
		return nil // a repeat of a finished return
	}
	if errors.Is(err, ports.ErrSagaEnded) {
		// Its run ended without finishing it (a timeout, an operator's
		// stop): an admin must look.
		_, err = changeOrder(ctx, o.d.Orders, order.id, func(cur *Order) error {
			r, err := cur.returnByID(ret.r.ID)
			if err != nil || r.status != ReturnPending || r.Attempt() != ret.Attempt() {
				return err
			}
			return cur.returnNeedsAttention(ret.r.ID, SagaEnded, "its saga ended without finishing the return", o.d.Clock.Now().UTC())
		})
	}
	if err != nil {
		return fmt.Errorf("start the return saga of %s %s: %w", order.id, ret.r.ID, err)
	}
	return nil
}

// waitReturn waits up to PurchaseWait for the return's saga run to end.
func (o *Orders) waitReturn(ctx context.Context, order *Order, ret *Return) (*Order, *Return, bool, error) {
	wctx, cancel := context.WithTimeout(ctx, o.cfg.PurchaseWait)
	defer cancel()
	if _, err := o.d.Returns.Wait(wctx, returnSagaName(order.id, ret.r.ID, ret.Attempt())); err != nil && wctx.Err() == nil {
		return order, ret, false, err
	}
	final, err := loadOrder(ctx, o.d.Orders, order.id)
	if err != nil {
		return order, ret, false, err
	}
	r, err := final.returnByID(ret.r.ID)
	if err != nil {
		return final, ret, false, err
	}
	return final, r, r.status != ReturnPending, nil
}

// returnSteps returns the steps of every run of the order's returns, by
// return id.
func (o *Orders) returnSteps(ctx context.Context, order *Order) (map[string][]ports.SagaStep, error) {
	if len(order.returns) == 0 || o.d.Returns == nil {
		return nil, nil
	}
	out := map[string][]ports.SagaStep{}
	for _, r := range order.returns {
		steps := []ports.SagaStep{}
		for attempt := 1; attempt <= r.Attempt(); attempt++ {
			s, err := o.d.Returns.Steps(ctx, returnSagaName(order.id, r.r.ID, attempt))
			if err != nil && !errors.Is(err, ports.ErrNotFound) {
				return nil, err
			}
			steps = append(steps, s...)
		}
		out[r.r.ID] = steps
	}
	return out, nil
}

// retryReturns runs each return that needs attention again (their steps
// are safe to run again), and starts the run of each one still pending (a
// no-op while it runs). It waits like a purchase, for each in turn.
func (o *Orders) retryReturns(ctx context.Context, order *Order, stuck []*Return) (*Order, bool, error) {
	done := true
	for _, r := range stuck {
		var err error
		if r.status == ReturnNeedsAttention {
			order, err = changeOrder(ctx, o.d.Orders, order.id, func(ord *Order) error {
				_, err := ord.retryReturn(r.r.ID, o.d.Clock.Now().UTC())
				return err
			})
			if err != nil {
				return nil, false, err
			}
			if r, err = order.returnByID(r.r.ID); err != nil {
				return nil, false, err
			}
		}
		if err := o.startReturn(ctx, order, r); err != nil {
			return order, false, err
		}
	}
	for _, r := range stuck {
		var ended bool
		var err error
		if r, err = order.returnByID(r.r.ID); err != nil {
			return nil, false, err
		}
		if order, _, ended, err = o.waitReturn(ctx, order, r); err != nil {
			return order, false, err
		}
		done = done && ended
	}
	return order, done, nil
}

// resumeReturns starts again the saga of every return pending since
// before cutoff (one a crash stranded between its record and its saga).
func (o *Orders) resumeReturns(ctx context.Context, cutoff time.Time) (int, error) {
	recs, err := o.d.Orders.WithStatus(ctx, ports.OrderReturning, limits.PageSize)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range recs {
		order, err := orderFromStorage(rec)
		if err != nil {
			return n, err
		}
		for _, r := range order.returns {
			if r.status != ReturnPending || r.r.UpdatedAt.After(cutoff) {
				continue
			}
			if err := o.startReturn(ctx, order, r); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
