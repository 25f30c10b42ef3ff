package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/unicornstore/unicorn/orchestration/asl"
	"github.com/unicornstore/unicorn/ports"
)

// checkpoint is where an execution stands: a stack of frames, the first for
// the machine, one more for each Parallel branch being run.
type checkpoint struct {
	Frames []frame `json:"frames"`
}

// frame is the position in one machine (or branch).
type frame struct {
	State      string          `json:"state"`
	Input      json.RawMessage `json:"input"` // the state's raw input
	Entered    time.Time       `json:"entered"`
	Retries    []int           `json:"retries,omitempty"` // retries used, per retrier
	RetryCount int             `json:"retry_count,omitempty"`
	Waiting    bool            `json:"waiting,omitempty"` // a Wait state's time is set
	// A Parallel state runs its branches one after another: Branch is the
	// one running, Results the outputs of those done.
	Started   bool              `json:"started,omitempty"`
	Branch    int               `json:"branch,omitempty"`
	Results   []json.RawMessage `json:"results,omitempty"`
	Effective json.RawMessage   `json:"effective,omitempty"`
}

// events collects the history events of one transition.
type events []ports.ExecutionEvent

func (evs *events) add(at time.Time, typ, state string, details map[string]any) {
	var raw json.RawMessage
	if details != nil {
		raw, _ = json.Marshal(details)
	}
	*evs = append(*evs, ports.ExecutionEvent{Type: typ, State: state, At: at, Details: raw})
}

// seal numbers the events after the execution's last one.
func (evs events) seal(x *ports.Execution) []ports.ExecutionEvent {
	for i := range evs {
		x.Events++
		evs[i].Execution, evs[i].Seq = x.Name, x.Events
	}
	return evs
}

func finish(x *ports.Execution, evs *events, now time.Time, status string, output json.RawMessage, errName, cause string) {
	x.Status, x.StoppedAt, x.Checkpoint, x.WakeAt = status, now, nil, time.Time{}
	switch status {
	case ports.ExecutionSucceeded:
		x.Output = output
		evs.add(now, "ExecutionSucceeded", "", map[string]any{"output": output})
	default:
		x.Error, x.Cause = errName, cause
		typ := map[string]string{ports.ExecutionFailed: "ExecutionFailed", ports.ExecutionTimedOut: "ExecutionTimedOut", ports.ExecutionAborted: "ExecutionAborted"}[status]
		evs.add(now, typ, "", map[string]any{"error": errName, "cause": cause})
	}
}

// run is one transition of one execution.
type run struct {
	e   *Executor
	m   *machine
	x   *ports.Execution
	cp  checkpoint
	now time.Time
	evs events
}

// step makes one transition: it acts on the current state (calling its
// task, if it is one) and moves the checkpoint. The caller stores it.
func (e *Executor) step(ctx context.Context, m *machine, x *ports.Execution) (events, error) {
	r := &run{e: e, m: m, x: x, now: e.cfg.Clock.Now().UTC()}
	if err := json.Unmarshal(x.Checkpoint, &r.cp); err != nil || len(r.cp.Frames) == 0 {
		return nil, fmt.Errorf("execution %s: unreadable checkpoint: %v", x.Name, err)
	}
	x.WakeAt = time.Time{}
	if t := m.def.TimeoutSeconds; t > 0 && !r.now.Before(x.StartedAt.Add(time.Duration(t)*time.Second)) {
		finish(x, &r.evs, r.now, ports.ExecutionTimedOut, nil, asl.ErrorTimeout, fmt.Sprintf("the execution ran past its TimeoutSeconds (%d)", t))
		return r.evs, nil
	}
	if err := r.act(ctx); err != nil {
		return nil, err
	}
	if Terminal(*x) {
		return r.evs, nil
	}
	cp, err := json.Marshal(r.cp)
	if err != nil {
		return nil, err
	}
	x.Checkpoint = cp
	if t := m.def.TimeoutSeconds; t > 0 && !x.WakeAt.IsZero() {
		// Wake no later than the execution's deadline.
		if deadline := x.StartedAt.Add(time.Duration(t) * time.Second); x.WakeAt.After(deadline) {
			x.WakeAt = deadline
		}
	}
	return r.evs, nil
}

// stateType is the type of the state x stands in ("" if it cannot tell:
// then steps stores after one step, which reports the trouble).
func (m *machine) stateType(x ports.Execution) string {
	r := &run{m: m}
	if json.Unmarshal(x.Checkpoint, &r.cp) != nil || len(r.cp.Frames) == 0 {
		return ""
	}
	f, sm := r.top()
	if st, ok := sm.States[f.State]; ok {
		return st.Type
	}
	return ""
}

// top is the innermost frame, and the machine it runs in.
func (r *run) top() (*frame, *asl.StateMachine) {
	sm := r.m.def
	for i := 0; i < len(r.cp.Frames)-1; i++ {
		sm = sm.States[r.cp.Frames[i].State].Branches[r.cp.Frames[i].Branch]
	}
	return &r.cp.Frames[len(r.cp.Frames)-1], sm
}

// contextObject is the $$ of the current state.
func (r *run) contextObject(f *frame, state string) any {
	input, _ := asl.Decode(r.x.Input)
	return map[string]any{
		"Execution":    map[string]any{"Id": r.x.Name, "Name": r.x.Name, "Input": input, "StartTime": r.x.StartedAt.Format(time.RFC3339Nano)},
		"State":        map[string]any{"Name": state, "EnteredTime": f.Entered.Format(time.RFC3339Nano), "RetryCount": json.Number(fmt.Sprint(f.RetryCount))},
		"StateMachine": map[string]any{"Id": r.m.name, "Name": r.m.name},
	}
}

func (r *run) newID() string { return r.e.cfg.IDs.NewID() }

// act performs the current state of the innermost frame.
func (r *run) act(ctx context.Context) error {
	f, sm := r.top()
	st, ok := sm.States[f.State]
	if !ok {
		return fmt.Errorf("checkpoint names state %q, which the definition does not have", f.State)
	}
	raw, err := asl.Decode(f.Input)
	if err != nil {
		return fmt.Errorf("checkpoint input: %w", err)
	}
	c := r.contextObject(f, st.Name)
	in, err := st.Input(raw, c)
	if err != nil {
		return r.fail(st, raw, asl.AsError(err))
	}
	switch st.Type {
	case "Pass":
		eff, err := st.Effective(in, c, r.newID)
		if err != nil {
			return r.fail(st, raw, asl.AsError(err))
		}
		return r.output(st, raw, st.PassResult(eff), c)
	case "Task":
		return r.task(ctx, st, raw, in, c)
	case "Choice":
		next, err := st.Choose(in, c)
		if err != nil {
			return r.fail(st, raw, asl.AsError(err))
		}
		out, err := st.Filter(in, c)
		if err != nil {
			return r.fail(st, raw, asl.AsError(err))
		}
		return r.moveTo(st, next, out)
	case "Wait":
		if !f.Waiting {
			until, err := st.WaitUntil(in, c, f.Entered)
			if err != nil {
				return r.fail(st, raw, asl.AsError(err))
			}
			if until.After(r.now) {
				f.Waiting, r.x.WakeAt = true, until
				r.evs.add(r.now, "WaitScheduled", st.Name, map[string]any{"until": until})
				return nil
			}
		}
		out, err := st.Filter(in, c)
		if err != nil {
			return r.fail(st, raw, asl.AsError(err))
		}
		return r.advance(st, out)
	case "Succeed":
		out, err := st.Filter(in, c)
		if err != nil {
			return r.fail(st, raw, asl.AsError(err))
		}
		return r.endFrame(st, out)
	case "Fail":
		return r.fail(st, raw, st.Failure(in, c))
	case "Parallel":
		eff, err := st.Effective(in, c, r.newID)
		if err != nil {
			return r.fail(st, raw, asl.AsError(err))
		}
		enc, err := asl.Encode(eff)
		if err != nil {
			return err
		}
		f.Started, f.Branch, f.Results, f.Effective = true, 0, nil, enc
		r.evs.add(r.now, "ParallelStateStarted", st.Name, nil)
		return r.enterBranch(st)
	}
	return fmt.Errorf("state %s: type %s cannot run", st.Name, st.Type)
}

// task calls a Task's handler and moves on with its result or its error.
func (r *run) task(ctx context.Context, st *asl.State, raw, in, c any) error {
	eff, err := st.Effective(in, c, r.newID)
	if err != nil {
		return r.fail(st, raw, asl.AsError(err))
	}
	payload, err := asl.Encode(eff)
	if err != nil {
		return err
	}
	r.evs.add(r.now, "TaskScheduled", st.Name, map[string]any{"resource": st.Resource, "input": payload})
	out, err := r.e.invoke(ctx, r.m.handlers[st.Resource], payload, st.TimeoutSeconds)
	if ctx.Err() != nil {
		return ctx.Err() // shutting down: the task runs again after restart
	}
	// What follows happened after the task: its end, and a retry's delay
	// (counted from the failure, as Step Functions does).
	r.now = r.e.cfg.Clock.Now().UTC()
	var result any
	if err == nil {
		if len(out) == 0 {
			out = json.RawMessage("null")
		}
		if result, err = asl.Decode(out); err != nil {
			err = &asl.Error{Name: asl.ErrorTaskFailed, Cause: "the task returned something that is not JSON: " + err.Error()}
		}
	}
	if err != nil {
		e := asl.AsError(err)
		r.evs.add(r.now, "TaskFailed", st.Name, map[string]any{"error": e.Name, "cause": e.Cause})
		return r.fail(st, raw, e)
	}
	r.evs.add(r.now, "TaskSucceeded", st.Name, map[string]any{"output": json.RawMessage(out)})
	return r.output(st, raw, result, c)
}

// invoke calls a handler, bounded by the Task's TimeoutSeconds.
func (e *Executor) invoke(ctx context.Context, h Handler, input json.RawMessage, timeoutSeconds int) (json.RawMessage, error) {
	if timeoutSeconds <= 0 {
		return h(ctx, input)
	}
	tctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutSeconds)*time.Second)
	defer cancel()
	type reply struct {
		out json.RawMessage
		err error
	}
	done := make(chan reply, 1)
	go func() {
		out, err := h(tctx, input)
		done <- reply{out, err}
	}()
	select {
	case rep := <-done:
		if errors.Is(rep.err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, &asl.Error{Name: asl.ErrorTimeout, Cause: fmt.Sprintf("the task ran past its TimeoutSeconds (%d)", timeoutSeconds)}
		}
		return rep.out, rep.err
	case <-tctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &asl.Error{Name: asl.ErrorTimeout, Cause: fmt.Sprintf("the task ran past its TimeoutSeconds (%d)", timeoutSeconds)}
	}
}

// output turns a result into the state's output and moves on.
func (r *run) output(st *asl.State, raw, result, c any) error {
	out, err := st.Output(raw, result, c, r.newID)
	if err != nil {
		return r.fail(st, raw, asl.AsError(err))
	}
	return r.advance(st, out)
}

// advance leaves a state with its output: to Next, or out of the frame.
func (r *run) advance(st *asl.State, out any) error {
	if st.End {
		return r.endFrame(st, out)
	}
	return r.moveTo(st, st.Next, out)
}

// moveTo enters state next of the innermost frame with input out.
func (r *run) moveTo(st *asl.State, next string, out any) error {
	f, sm := r.top()
	enc, err := asl.Encode(out)
	if err != nil {
		return err
	}
	r.evs.add(r.now, st.Type+"StateExited", st.Name, map[string]any{"output": enc})
	*f = frame{State: next, Input: enc, Entered: r.now}
	r.evs.add(r.now, sm.States[next].Type+"StateEntered", next, map[string]any{"input": enc})
	return nil
}

// endFrame ends the innermost frame with an output: the execution
// succeeds, or the branch is done and the Parallel state goes on.
func (r *run) endFrame(st *asl.State, out any) error {
	enc, err := asl.Encode(out)
	if err != nil {
		return err
	}
	r.evs.add(r.now, st.Type+"StateExited", st.Name, map[string]any{"output": enc})
	if len(r.cp.Frames) == 1 {
		finish(r.x, &r.evs, r.now, ports.ExecutionSucceeded, enc, "", "")
		return nil
	}
	r.cp.Frames = r.cp.Frames[:len(r.cp.Frames)-1]
	pf, psm := r.top()
	par := psm.States[pf.State]
	pf.Results = append(pf.Results, enc)
	pf.Branch++
	if pf.Branch < len(par.Branches) {
		return r.enterBranch(par)
	}
	results := make([]any, len(pf.Results))
	for i, res := range pf.Results {
		if results[i], err = asl.Decode(res); err != nil {
			return err
		}
	}
	raw, err := asl.Decode(pf.Input)
	if err != nil {
		return err
	}
	r.evs.add(r.now, "ParallelStateSucceeded", par.Name, nil)
	return r.output(par, raw, results, r.contextObject(pf, par.Name))
}

// enterBranch starts the Parallel state's current branch in a new frame.
func (r *run) enterBranch(par *asl.State) error {
	pf, _ := r.top()
	b := par.Branches[pf.Branch]
	r.cp.Frames = append(r.cp.Frames, frame{State: b.StartAt, Input: pf.Effective, Entered: r.now})
	r.evs.add(r.now, b.States[b.StartAt].Type+"StateEntered", b.StartAt, map[string]any{"input": pf.Effective, "branch": pf.Branch})
	return nil
}

// fail handles an error of the current state: retry it, catch it, or let
// it end the frame (and then the Parallel state around it, or the
// execution).
func (r *run) fail(st *asl.State, raw any, e *asl.Error) error {
	f, _ := r.top()
	if !e.Retryable() || !e.Catchable() {
		finish(r.x, &r.evs, r.now, ports.ExecutionFailed, nil, e.Name, e.Cause)
		return nil
	}
	inTask := st.Type == "Task"
	for i, rt := range st.Retry {
		if !asl.Matches(rt.ErrorEquals, e, inTask) {
			continue
		}
		if len(f.Retries) < len(st.Retry) {
			f.Retries = append(f.Retries, make([]int, len(st.Retry)-len(f.Retries))...)
		}
		if f.Retries[i] >= rt.MaxAttempts {
			break // this retrier is spent: on to Catch
		}
		delay := rt.Delay(f.Retries[i])
		if rt.FullJitter {
			delay = r.e.cfg.Jitter(delay)
		}
		f.Retries[i]++
		f.RetryCount++
		f.Started, f.Branch, f.Results, f.Effective = false, 0, nil, nil
		r.x.WakeAt = r.now.Add(delay)
		r.evs.add(r.now, "RetryScheduled", st.Name, map[string]any{"error": e.Name, "cause": e.Cause, "attempt": f.RetryCount, "at": r.x.WakeAt})
		return nil
	}
	for _, c := range st.Catch {
		if !asl.Matches(c.ErrorEquals, e, inTask) {
			continue
		}
		out, err := c.ErrorOutput(raw, e)
		if err != nil {
			ce := asl.AsError(err)
			finish(r.x, &r.evs, r.now, ports.ExecutionFailed, nil, ce.Name, ce.Cause)
			return nil
		}
		r.evs.add(r.now, "ErrorCaught", st.Name, map[string]any{"error": e.Name, "cause": e.Cause, "next": c.Next})
		return r.moveTo(st, c.Next, out)
	}
	r.evs.add(r.now, st.Type+"StateFailed", st.Name, map[string]any{"error": e.Name, "cause": e.Cause})
	if len(r.cp.Frames) == 1 {
		finish(r.x, &r.evs, r.now, ports.ExecutionFailed, nil, e.Name, e.Cause)
		return nil
	}
	// A failed branch fails its Parallel state.
	r.cp.Frames = r.cp.Frames[:len(r.cp.Frames)-1]
	pf, psm := r.top()
	par := psm.States[pf.State]
	praw, err := asl.Decode(pf.Input)
	if err != nil {
		return err
	}
	return r.fail(par, praw, e)
}
