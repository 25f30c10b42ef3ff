package retail

import (
	"errors"
	"fmt"

	"github.com/unicornstore/unicorn/ports"
)

// Errors. The HTTP adapter maps them to statuses; the saga's task adapter
// maps the business failures to the error names the state machine's
// Catch fields match (OutOfStock, InsufficientPoints, InsufficientFunds).
var (
	ErrInvalid         = ports.ErrInvalid // a *ports.FieldError names the field
	ErrNotFound        = errors.New("not found")
	ErrExists          = errors.New("exists already")
	ErrStale           = errors.New("changed since the version given")
	ErrKeyReused       = errors.New("idempotency key already used for a different purchase")
	ErrNotRetryable    = errors.New("only an order that needs attention can be retried")
	ErrOutOfStock      = errors.New("out of stock")
	ErrNoFunds         = errors.New("insufficient funds")
	ErrNoPoints        = errors.New("insufficient points")
	ErrOrderClosed     = errors.New("the order was already compensated")
	ErrReservationGone = errors.New("the stock reservation expired before the order completed")
	ErrPriceChanged    = errors.New("the order's total is not the one the customer saw")

	// errCommitted: a committed reservation is sold; it cannot be
	// released.
	errCommitted = errors.New("the reservation is committed: the stock is sold")
)

// invalid says which field of a request is wrong.
var invalid = ports.Invalid

// FailureError is a business failure of a saga step with its words for
// the customer. errors.Is matches its kind (ErrOutOfStock, ...).
type FailureError struct {
	Kind   error
	Detail string
}

func (e *FailureError) Error() string        { return e.Detail }
func (e *FailureError) Unwrap() error        { return e.Kind }
func (e *FailureError) Is(target error) bool { return target == e.Kind }

func failure(kind error, format string, args ...any) error {
	return &FailureError{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
