package webhooks

import (
	"errors"

	"github.com/unicornstore/unicorn/ports"
)

// Errors. The HTTP adapter maps them to statuses.
var (
	// ErrInvalid: a field of the request is wrong; a *ports.FieldError
	// names it (400).
	ErrInvalid = ports.ErrInvalid
	// ErrNotFound: no such endpoint or delivery of the client (404).
	ErrNotFound = errors.New("not found")
	// ErrStale: the endpoint changed since the version given (412).
	ErrStale = errors.New("changed since the version given")
	// ErrTooManyEndpoints: the client has MaxEndpoints already (409).
	ErrTooManyEndpoints = errors.New("too many webhook endpoints")
	// ErrNotReplayable: the delivery is still pending: it is being tried
	// (409).
	ErrNotReplayable = errors.New("only a delivered or failed delivery can be replayed")
)

var invalid = ports.Invalid
