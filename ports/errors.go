package ports

import (
	"errors"
	"fmt"
)

// Sentinel errors adapters return, wrapped with context, so that the domains
// can react to storage outcomes without knowing the storage.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: an optimistic concurrency check failed (the stream or
	// record moved since it was read). The caller reloads and decides again.
	ErrConflict = errors.New("conflict")
	// ErrDuplicate: a record with the same unique key (an idempotency key)
	// already exists. The caller reads the existing record.
	ErrDuplicate = errors.New("duplicate")
	// ErrBadCursor: a page cursor the storage did not make.
	ErrBadCursor = errors.New("bad page cursor")
	// ErrSagaEnded: a saga run asked to start exists and has ended.
	ErrSagaEnded = errors.New("saga run has ended")
)

// ErrInvalid: a request the domains refuse because one of its fields is
// wrong. They return it as a *FieldError, which names the field; the HTTP
// adapter turns it into a 400 that says so.
var ErrInvalid = errors.New("invalid request")

// FieldError is a request field that is wrong; errors.Is(err, ErrInvalid).
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string        { return e.Field + ": " + e.Message }
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a *FieldError for field.
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}
