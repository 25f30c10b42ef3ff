package ports

import (
	"context"
	"encoding/json"
	"time"
)

// Execution statuses.
const (
	ExecutionRunning   = "RUNNING"
	ExecutionSucceeded = "SUCCEEDED"
	ExecutionFailed    = "FAILED"
	ExecutionTimedOut  = "TIMED_OUT"
	ExecutionAborted   = "ABORTED"
)

// Execution is one run of a state machine, as the local executor stores it
// after every transition.
type Execution struct {
	Name         string // unique: starting a name again returns this execution
	StateMachine string
	Status       string
	Input        json.RawMessage
	Output       json.RawMessage // when SUCCEEDED
	Error        string          // when FAILED or TIMED_OUT
	Cause        string
	StartedAt    time.Time
	StoppedAt    time.Time // zero while RUNNING
	// Checkpoint is where the execution stands, in the executor's own
	// encoding; WakeAt is when it may next move (zero: now).
	Checkpoint json.RawMessage
	WakeAt     time.Time
	// Version counts transitions; Events is the Seq of the last history
	// event.
	Version int64
	Events  int64
}

// ExecutionEvent is one entry of an execution's history.
type ExecutionEvent struct {
	Execution string          `json:"-"`
	Seq       int64           `json:"id"`
	Type      string          `json:"type"` // ExecutionStarted, TaskStateEntered, TaskSucceeded, ...
	State     string          `json:"state,omitempty"`
	At        time.Time       `json:"timestamp"`
	Details   json.RawMessage `json:"details,omitempty"`
}

// Executions stores executions and their histories.
type Executions interface {
	// Start stores a new execution (Version 1) with its first events. If
	// the name exists it writes nothing and returns the stored execution
	// with created false.
	Start(ctx context.Context, e Execution, events []ExecutionEvent) (stored Execution, created bool, err error)
	// Get returns an execution, or ErrNotFound.
	Get(ctx context.Context, name string) (Execution, error)
	// Advance replaces the execution by e, whose Version must be the
	// stored one + 1 (ErrConflict otherwise), and appends events, in one
	// transaction.
	Advance(ctx context.Context, e Execution, events []ExecutionEvent) error
	// Due lists running executions whose WakeAt is at or before now,
	// those waiting longest first.
	Due(ctx context.Context, now time.Time, limit int) ([]string, error)
	// NextWake returns the earliest WakeAt of a running execution after
	// now, or the zero time.
	NextWake(ctx context.Context, now time.Time) (time.Time, error)
	// History returns an execution's events in order, or ErrNotFound.
	History(ctx context.Context, name string) ([]ExecutionEvent, error)
}
