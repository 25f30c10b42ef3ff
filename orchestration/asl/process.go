package asl

import (
	"encoding/json"
	"time"
)

// The functions below are the steps of a state's input and output
// processing, in the order the States Language gives them:
//
//	raw input -> InputPath -> Parameters -> (task) -> ResultSelector
//	          -> ResultPath (into the raw input) -> OutputPath -> output

// Input applies InputPath to the state's raw input.
func (s *State) Input(raw, ctx any) (any, error) {
	switch {
	case s.DiscardInput:
		return map[string]any{}, nil
	case s.InputPath == nil:
		return raw, nil
	}
	return s.InputPath.Get(raw, ctx)
}

// Effective applies Parameters, when there are any, to the input.
func (s *State) Effective(input, ctx any, newID func() string) (any, error) {
	if s.Parameters == nil {
		return input, nil
	}
	return s.Parameters.Eval(input, ctx, newID)
}

// Output turns a state's result into its output: ResultSelector on the
// result, ResultPath into the raw input, then OutputPath.
func (s *State) Output(raw, result, ctx any, newID func() string) (any, error) {
	if s.ResultSelector != nil {
		var err error
		if result, err = s.ResultSelector.Eval(result, ctx, newID); err != nil {
			return nil, err
		}
	}
	merged, err := placeResult(raw, result, s.ResultPath, s.DiscardResult)
	if err != nil {
		return nil, err
	}
	return s.Filter(merged, ctx)
}

// Filter applies OutputPath.
func (s *State) Filter(v, ctx any) (any, error) {
	switch {
	case s.DiscardOutput:
		return map[string]any{}, nil
	case s.OutputPath == nil:
		return v, nil
	}
	return s.OutputPath.Get(v, ctx)
}

func placeResult(raw, result any, path *ReferencePath, discard bool) (any, error) {
	switch {
	case discard:
		return raw, nil
	case path == nil:
		return result, nil
	}
	return path.Set(raw, result)
}

// ErrorOutput is what a caught error gives the catcher's Next state: the
// error object placed by the catcher's ResultPath into the raw input.
func (c Catcher) ErrorOutput(raw any, e *Error) (any, error) {
	return placeResult(raw, map[string]any{"Error": e.Name, "Cause": e.Cause}, c.ResultPath, c.DiscardResult)
}

// PassResult is the result of a Pass state: its Result, or else its
// effective input.
func (s *State) PassResult(effective any) any {
	if s.HasResult {
		return copyJSON(s.Result)
	}
	return effective
}

// Choose returns the Next of the first Choice rule that holds, or Default;
// with neither, States.NoChoiceMatched.
func (s *State) Choose(input, ctx any) (string, error) {
	for _, r := range s.Choices {
		ok, err := r.Condition.Holds(input, ctx)
		if err != nil {
			return "", err
		}
		if ok {
			return r.Next, nil
		}
	}
	if s.Default != "" {
		return s.Default, nil
	}
	return "", &Error{Name: ErrorNoChoiceMatched, Cause: "no Choice rule matched and there is no Default"}
}

// WaitUntil returns when a Wait state entered at entered ends.
func (s *State) WaitUntil(input, ctx any, entered time.Time) (time.Time, error) {
	switch {
	case s.HasSeconds:
		return entered.Add(time.Duration(s.Seconds) * time.Second), nil
	case s.SecondsPath != nil:
		v, err := s.SecondsPath.Get(input, ctx)
		if err != nil {
			return time.Time{}, err
		}
		n, ok := v.(json.Number)
		secs, ierr := n.Int64()
		if !ok || ierr != nil || secs < 0 || secs > MaxSeconds {
			return time.Time{}, runtimeError("SecondsPath %s is not a whole number of seconds, 0 or more and at most %d", s.SecondsPath, MaxSeconds)
		}
		return entered.Add(time.Duration(secs) * time.Second), nil
	case s.TimestampPath != nil:
		v, err := s.TimestampPath.Get(input, ctx)
		if err != nil {
			return time.Time{}, err
		}
		t, ok := timestamp(v)
		if !ok {
			return time.Time{}, runtimeError("TimestampPath %s is not an RFC 3339 timestamp", s.TimestampPath)
		}
		return t, nil
	}
	return s.Timestamp, nil
}

// Failure returns the error a Fail state fails with.
func (s *State) Failure(input, ctx any) *Error {
	e := &Error{Name: s.Error, Cause: s.Cause}
	if s.ErrorPath != nil {
		if v, err := s.ErrorPath.Get(input, ctx); err == nil {
			e.Name, _ = v.(string)
		}
	}
	if s.CausePath != nil {
		if v, err := s.CausePath.Get(input, ctx); err == nil {
			e.Cause, _ = v.(string)
		}
	}
	return e
}
