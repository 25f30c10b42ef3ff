package sagatasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration"
	"github.com/unicornstore/unicorn/orchestration/asl"
)

type definition struct {
	States map[string]struct {
		Type     string
		Resource string
		Retry    []struct {
			ErrorEquals []string
			MaxAttempts *int
		}
		Catch []struct{ ErrorEquals []string }
	}
}

// TestTheDefinitionAndTheHandlersAgree: every Task of purchase.asl.json has
// a step, every step is used, and every business error name is one the
// definition never retries and catches on every forward step.
func TestTheDefinitionAndTheHandlersAgree(t *testing.T) {
	var def definition
	if err := json.Unmarshal(orchestration.Purchase, &def); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for name, st := range def.States {
		if st.Type != "Task" {
			continue
		}
		resource := st.Resource[2 : len(st.Resource)-1] // ${...}
		if _, ok := Steps[resource]; !ok {
			t.Errorf("state %s: no step for %s", name, st.Resource)
		}
		used[resource] = true
		forward := len(st.Retry) > 0 && slices.Contains(st.Retry[0].ErrorEquals, "OutOfStock")
		if !forward {
			continue
		}
		for _, e := range taskErrors {
			if !slices.Contains(st.Retry[0].ErrorEquals, e.name) || st.Retry[0].MaxAttempts == nil || *st.Retry[0].MaxAttempts != 0 {
				t.Errorf("state %s retries %s", name, e.name)
			}
			caught := false
			for _, c := range st.Catch {
				caught = caught || slices.Contains(c.ErrorEquals, e.name) || slices.Contains(c.ErrorEquals, "States.ALL")
			}
			if !caught {
				t.Errorf("state %s does not catch %s", name, e.name)
			}
		}
	}
	for resource := range Steps {
		if !used[resource] {
			t.Errorf("step %s is not in the definition", resource)
		}
	}
}

func TestErrorNames(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&retail.FailureError{Kind: retail.ErrOutOfStock, Detail: "gone"}, "OutOfStock"},
		{fmt.Errorf("charge: %w", &retail.FailureError{Kind: retail.ErrNoFunds}), "InsufficientFunds"},
		{retail.ErrNoPoints, "InsufficientPoints"},
		{retail.ErrReservationGone, "ReservationExpired"},
		{errors.New("disk full"), ""},
		{context.DeadlineExceeded, ""},
	} {
		if got := ErrorName(tt.err); got != tt.want {
			t.Errorf("ErrorName(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestBadInputIsNamed: a task without the ids its step works on fails
// with a name of its own, not a panic or an anonymous error.
func TestBadInputIsNamed(t *testing.T) {
	tests := []struct {
		h   string
		ins []string
	}{
		{"ReserveStockFunctionArn", []string{`{}`, `not json`, `{"order_id":""}`}},
		{"RefundReturnFunctionArn", []string{`{}`, `not json`, `{"order_id":"o-1"}`, `{"return_id":"r1"}`}},
	}
	all := Handlers(nil, nil)
	maps.Copy(all, ReturnHandlers(nil, nil))
	for _, tt := range tests {
		for _, in := range tt.ins {
			_, err := all[tt.h](context.Background(), json.RawMessage(in))
			if e := asl.AsError(err); e.Name != "BadInput" {
				t.Errorf("%s, input %s: %v", tt.h, in, err)
			}
		}
	}
}

// TestTaskErrorsKeepTheirNamesOnLambda: aws-lambda-go reports a handler's
// error under its Go type's name (the element type's, for a pointer), so
// each business failure must be a type named as the ASL error, returned
// unwrapped; the local executor reads the same name.
func TestTaskErrorsKeepTheirNamesOnLambda(t *testing.T) {
	for _, e := range append(taskErrors, struct {
		err  error
		name string
		make func(string) error
	}{nil, "BadInput", func(c string) error { return &BadInput{c} }}) {
		te := e.make("because")
		typ := reflect.TypeOf(te)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Name() != e.name || asl.AsError(te).Name != e.name || te.Error() != "because" {
			t.Errorf("%s: Go type %s, ASL name %s, message %q", e.name, typ.Name(), asl.AsError(te).Name, te.Error())
		}
		if e.err == nil {
			continue
		}
		// What a handler returns for the domain's failure, wrapped as the
		// domain wraps it, is the task error itself.
		got := TaskError(fmt.Errorf("step: %w", &retail.FailureError{Kind: e.err, Detail: "because"}))
		if reflect.TypeOf(got) != reflect.TypeOf(te) {
			t.Errorf("%s: a step's failure is reported as %T", e.name, got)
		}
	}
}
