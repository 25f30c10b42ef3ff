package retail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// ReservationStatus is where a stock reservation stands. The zero value is
// no status: only the three below exist.
type ReservationStatus struct{ s string }

var (
	// Reserved: the stock is taken from the shelf for the order.
	Reserved = ReservationStatus{ports.ReservationReserved}
	// Committed: the order completed; the stock is sold.
	Committed = ReservationStatus{ports.ReservationCommitted}
	// Released: the stock went back to the shelf, or the order was
	// compensated before it reserved anything.
	Released = ReservationStatus{ports.ReservationReleased}
)

func (s ReservationStatus) String() string { return s.s }

func parseReservationStatus(s string) (ReservationStatus, error) {
	for _, st := range []ReservationStatus{Reserved, Committed, Released} {
		if st.s == s {
			return st, nil
		}
	}
	return ReservationStatus{}, fmt.Errorf("unknown reservation status %q", s)
}

// Reservation is the stock one order holds until it completes or fails.
// Its methods are the whole state machine: reserved becomes committed or
// released, once; nothing else moves. Each returns the stock moves its
// change needs, which the storage applies with it atomically.
type Reservation struct {
	orderID   string
	lines     []ports.StockLine
	status    ReservationStatus
	expiresAt time.Time
	version   int64 // 0: not stored yet
}

// reserve starts a reservation that takes every line from stock, all or
// none (the storage refuses the whole write when one is short).
func reserve(orderID string, lines []ports.StockLine, expiresAt time.Time) (*Reservation, []ports.StockMove) {
	r := &Reservation{orderID: orderID, lines: lines, status: Reserved, expiresAt: expiresAt}
	moves := make([]ports.StockMove, 0, len(lines))
	for _, l := range perProduct(lines) {
		moves = append(moves, ports.StockMove{ProductID: l.ProductID, Delta: -l.Quantity})
	}
	return r, moves
}

// releasedBeforeReserved records that an order was compensated before it
// reserved anything, so that a Reserve arriving late takes nothing.
func releasedBeforeReserved(orderID string) *Reservation {
	return &Reservation{orderID: orderID, lines: []ports.StockLine{}, status: Released}
}

// reservationFromStorage rebuilds a stored reservation.
func reservationFromStorage(r ports.Reservation) (*Reservation, error) {
	st, err := parseReservationStatus(r.Status)
	if err != nil {
		return nil, fmt.Errorf("reservation of %s: %w", r.OrderID, err)
	}
	if r.Version < 1 {
		return nil, fmt.Errorf("reservation of %s: version %d", r.OrderID, r.Version)
	}
	return &Reservation{orderID: r.OrderID, lines: r.Lines, status: st, expiresAt: r.ExpiresAt, version: r.Version}, nil
}

// Status is where the reservation stands.
func (r *Reservation) Status() ReservationStatus { return r.status }

// commit makes a reserved reservation final. Committing again changes
// nothing; a released reservation cannot be committed: its stock is back
// on the shelf, perhaps sold to someone else (ErrReservationGone).
func (r *Reservation) commit() (changed bool, err error) {
	switch r.status {
	case Committed:
		return false, nil
	case Released:
		return false, failure(ErrReservationGone, "the stock held for order %s was released before it completed", r.orderID)
	}
	r.status = Committed
	return true, nil
}

// release gives a reserved reservation's stock back. Releasing again
// changes nothing; a committed reservation is sold and cannot be released
// (errCommitted). A product deleted meanwhile takes its stock with it.
func (r *Reservation) release() (moves []ports.StockMove, changed bool, err error) {
	switch r.status {
	case Released:
		return nil, false, nil
	case Committed:
		return nil, false, fmt.Errorf("reservation of %s: %w", r.orderID, errCommitted)
	}
	r.status = Released
	for _, l := range perProduct(r.lines) {
		moves = append(moves, ports.StockMove{ProductID: l.ProductID, Delta: l.Quantity, SkipMissing: true})
	}
	return moves, true, nil
}

// storage is the record to store: the next version of what was loaded.
func (r *Reservation) storage() ports.Reservation {
	return ports.Reservation{OrderID: r.orderID, Lines: r.lines, Status: r.status.s, ExpiresAt: r.expiresAt, Version: r.version + 1}
}

// perProduct sums lines by product: one move per product.
func perProduct(lines []ports.StockLine) []ports.StockLine {
	at := map[string]int{}
	var out []ports.StockLine
	for _, l := range lines {
		i, seen := at[l.ProductID]
		if !seen {
			i, at[l.ProductID] = len(out), len(out)
			out = append(out, ports.StockLine{ProductID: l.ProductID})
		}
		out[i].Quantity += l.Quantity
	}
	return out
}

// maxRaces bounds how often one change reloads and decides again after
// another writer changed the same record first.
const maxRaces = 50

// retryRaces runs try again while it loses a race (ports.ErrConflict).
func retryRaces(ctx context.Context, what string, try func() error) error {
	for range maxRaces {
		err := try()
		if !errors.Is(err, ports.ErrConflict) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: %d attempts lost to concurrent changes: %w", what, maxRaces, ports.ErrConflict)
}

// shelf keeps the stock's reservations through the Reservation rules.
type shelf struct{ stock ports.Stock }

// load reads an order's reservation; found is false when it has none.
func (s shelf) load(ctx context.Context, orderID string) (r *Reservation, found bool, err error) {
	rec, err := s.stock.Reservation(ctx, orderID)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	r, err = reservationFromStorage(rec)
	return r, err == nil, err
}

// reserve takes the lines from stock for the order, once: an order that
// reserved already (or was released first) takes nothing more and gets
// its reservation as it stands.
func (s shelf) reserve(ctx context.Context, orderID string, lines []ports.StockLine, expiresAt time.Time) (*Reservation, error) {
	var out *Reservation
	err := retryRaces(ctx, "reserve stock for "+orderID, func() error {
		r, found, err := s.load(ctx, orderID)
		if err != nil || found {
			out = r
			return err
		}
		r, moves := reserve(orderID, lines, expiresAt)
		if err := s.stock.SaveReservation(ctx, r.storage(), moves); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// commit makes the order's reservation final.
func (s shelf) commit(ctx context.Context, orderID string) error {
	return retryRaces(ctx, "commit the stock of "+orderID, func() error {
		r, found, err := s.load(ctx, orderID)
		if err != nil {
			return err
		}
		if !found {
			return failure(ErrReservationGone, "order %s holds no stock to complete with", orderID)
		}
		changed, err := r.commit()
		if err != nil || !changed {
			return err
		}
		return s.stock.SaveReservation(ctx, r.storage(), nil)
	})
}

// release gives the order's stock back, once; an order that reserved
// nothing is recorded as released, so that a late reserve takes nothing.
// released reports whether this call gave stock back.
func (s shelf) release(ctx context.Context, orderID string) (released bool, err error) {
	err = retryRaces(ctx, "release the stock of "+orderID, func() error {
		released = false
		r, found, err := s.load(ctx, orderID)
		if err != nil {
			return err
		}
		if !found {
			return s.stock.SaveReservation(ctx, releasedBeforeReserved(orderID).storage(), nil)
		}
		moves, changed, err := r.release()
		if err != nil || !changed {
			return err
		}
		if err := s.stock.SaveReservation(ctx, r.storage(), moves); err != nil {
			return err
		}
		released = true
		return nil
	})
	return released, err
}
