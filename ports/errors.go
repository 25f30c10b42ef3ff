package ports

import "errors"

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
)
