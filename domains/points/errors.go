package points

import (
	"errors"
	"fmt"

	"github.com/unicornstore/unicorn/limits"
)

// Domain errors. The HTTP adapter maps them to status codes in one table.
var (
	ErrInvalidAccount      = errors.New("account id must be " + limits.IDRule)
	ErrInvalidClient       = errors.New("client must be " + limits.IDRule)
	ErrInvalidAmount       = fmt.Errorf("amount must be a whole number from 1 to %d", MaxAmount)
	ErrInvalidReference    = fmt.Errorf("reference must be at most %d characters", limits.ReferenceChars)
	ErrInvalidKey          = fmt.Errorf("an idempotency key has at most %d characters", limits.IdempotencyKeyChars)
	ErrInsufficientPoints  = errors.New("insufficient points")
	ErrKeyReused           = errors.New("idempotency key already used for a different request")
	ErrTransactionNotFound = errors.New("transaction not found")
	ErrAlreadyReversed     = errors.New("transaction already reversed")
	ErrNotReversible       = errors.New("only issues and redemptions can be reversed")
	ErrReversalTooLarge    = errors.New("a reversal takes back more than the transaction has left")
	// ErrBusy: the account kept changing under the command (other writers
	// won every attempt). Nothing was written; the caller may retry.
	ErrBusy = errors.New("account is busy with concurrent changes, retry")
)

// InsufficientPointsError says how many points were asked for and how many
// the account could spend. errors.Is(err, ErrInsufficientPoints) holds.
type InsufficientPointsError struct {
	Requested int64
	Available int64
}

func (e *InsufficientPointsError) Error() string {
	return fmt.Sprintf("insufficient points: requested %d, available %d", e.Requested, e.Available)
}

func (e *InsufficientPointsError) Is(target error) bool { return target == ErrInsufficientPoints }

// ReversalTooLargeError refuses a partial reversal of more points than the
// transaction has left to take back. errors.Is(err, ErrReversalTooLarge)
// holds.
type ReversalTooLargeError struct {
	Requested, Left int64
}

func (e *ReversalTooLargeError) Error() string {
	return fmt.Sprintf("a reversal of %d points asked, %d left to take back", e.Requested, e.Left)
}

func (e *ReversalTooLargeError) Is(target error) bool { return target == ErrReversalTooLarge }
