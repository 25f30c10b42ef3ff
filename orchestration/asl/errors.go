package asl

import (
	"errors"
	"fmt"
)

// Predefined error names of the States Language.
const (
	ErrorAll                 = "States.ALL"
	ErrorTaskFailed          = "States.TaskFailed"
	ErrorTimeout             = "States.Timeout"
	ErrorRuntime             = "States.Runtime"
	ErrorNoChoiceMatched     = "States.NoChoiceMatched"
	ErrorResultPathMatch     = "States.ResultPathMatchFailure"
	ErrorIntrinsicFailure    = "States.IntrinsicFailure"
	ErrorParameterPathFailed = "States.ParameterPathFailure"
)

// Error is a named error, as a state fails with it: a task's business error
// ("OutOfStock"), a Fail state's, or a predefined States.* error. Retry and
// Catch match on Name.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// NewError returns a named error; task handlers return one for a business
// failure that a Catch should see by name.
func NewError(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// runtimeError is a States.Runtime error: a path that points nowhere, a
// value of the wrong type. It fails the execution; no Retry or Catch sees it.
func runtimeError(format string, args ...any) *Error {
	return &Error{Name: ErrorRuntime, Cause: fmt.Sprintf(format, args...)}
}

// Named is an error that carries its own ASL name: a task's business
// failure ("OutOfStock"). Task handlers return one (unwrapped) for a
// failure a Catch should see by name.
type Named interface {
	error
	ErrorName() string
}

// AsError turns any error into the named error Retry and Catch match: a
// *Error as it is, a Named error under its name, anything else as
// States.TaskFailed.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var n Named
	if errors.As(err, &n) {
		return &Error{Name: n.ErrorName(), Cause: n.Error()}
	}
	return &Error{Name: ErrorTaskFailed, Cause: err.Error()}
}

// Retryable and Catchable say whether Retry and Catch may see an error.
// States.Runtime fails the execution whatever they say.
func (e *Error) Retryable() bool { return e.Name != ErrorRuntime }
func (e *Error) Catchable() bool { return e.Name != ErrorRuntime }

// Matches reports whether a Retry or Catch ErrorEquals list matches e.
// States.ALL matches anything; States.TaskFailed anything but States.Timeout
// (in a Task state).
func Matches(errorEquals []string, e *Error, inTask bool) bool {
	for _, name := range errorEquals {
		switch {
		case name == e.Name, name == ErrorAll:
			return true
		case name == ErrorTaskFailed && inTask && e.Name != ErrorTimeout:
			return true
		}
	}
	return false
}
