// Package executor runs Amazon States Language state machines on one
// machine, durably: every transition of an execution is stored (through
// ports.Executions) before the next action, so after a crash — kill -9 at
// any moment — a restart resumes every running execution where it stood.
// A Task may then run again (at least once), which is why tasks must be
// idempotent. Starting an execution under a name that exists returns that
// execution, as Step Functions Standard does.
//
// Time comes from the Clock port: Wait states and retry delays are wake-up
// times, not sleeps, so tests move a hand-set clock instead of sleeping.
package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/unicornstore/unicorn/orchestration/asl"
	"github.com/unicornstore/unicorn/ports"
)

// Handler runs a Task: it gets the state's effective input and returns its
// result. A business failure is an *asl.Error with its name ("OutOfStock")
// so that Catch can match it; any other error is States.TaskFailed.
type Handler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// Config sets up an Executor.
type Config struct {
	Store ports.Executions
	Clock ports.Clock
	IDs   ports.IDs
	Log   *slog.Logger
	// Workers bounds how many executions move at once (default 4).
	Workers int
	// Poll is how often Run looks for executions that became due (default
	// 250 ms); a start or a finished step in this process wakes it at once.
	Poll time.Duration
	// Jitter draws the delay of a retry with JitterStrategy FULL, between
	// 0 and max (default: uniformly at random).
	Jitter func(max time.Duration) time.Duration
	// Ended, when set, is told of each execution this executor ends (it
	// stored the terminal transition, so an execution is told of once):
	// its state machine, its status (SUCCEEDED, FAILED, ...) and how long
	// it ran. It is for metrics, and must not block.
	Ended func(stateMachine, status string, took time.Duration)
}

// Executor runs registered state machines.
type Executor struct {
	cfg      Config
	machines map[string]*machine

	mu       sync.Mutex
	inflight map[string]bool
	open     map[string]struct{} // started or moved here, not yet seen to end
	waiters  map[string][]chan struct{}
	wake     chan struct{}
}

// machine is a registered definition with its tasks resolved.
type machine struct {
	name     string
	def      *asl.StateMachine
	handlers map[string]Handler // by Resource
}

// New returns an Executor with no state machines.
func New(cfg Config) (*Executor, error) {
	if cfg.Store == nil || cfg.Clock == nil || cfg.IDs == nil {
		return nil, errors.New("executor: store, clock and ids are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(max time.Duration) time.Duration { return rand.N(max + 1) }
	}
	return &Executor{cfg: cfg, machines: map[string]*machine{}, inflight: map[string]bool{},
		open: map[string]struct{}{}, waiters: map[string][]chan struct{}{}, wake: make(chan struct{}, 1)}, nil
}

var placeholder = regexp.MustCompile(`^\$\{([A-Za-z0-9_]+)\}$`)

// ResourceName is the handler name a Task Resource stands for: the name in
// a "${Name}" placeholder (CDK substitutes a Lambda ARN for it), the
// function name of a Lambda ARN, or else the Resource itself.
func ResourceName(resource string) string {
	if m := placeholder.FindStringSubmatch(resource); m != nil {
		return m[1]
	}
	if strings.HasPrefix(resource, "arn:aws:lambda:") {
		parts := strings.Split(resource, ":")
		if len(parts) >= 7 && parts[5] == "function" {
			return parts[6]
		}
	}
	return resource
}

// Register adds a state machine under name. Every Task's Resource must
// name one of the handlers (see ResourceName).
func (e *Executor) Register(name string, definition []byte, handlers map[string]Handler) error {
	def, err := asl.Parse(definition)
	if err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	m := &machine{name: name, def: def, handlers: map[string]Handler{}}
	var missing []string
	for _, r := range def.Resources() {
		h, ok := handlers[ResourceName(r)]
		if !ok {
			missing = append(missing, r)
			continue
		}
		m.handlers[r] = h
	}
	if len(missing) > 0 {
		return fmt.Errorf("register %s: no handler for Task resources %v", name, missing)
	}
	e.machines[name] = m
	return nil
}

// Definition returns a registered machine's parsed definition.
func (e *Executor) Definition(name string) (*asl.StateMachine, bool) {
	m, ok := e.machines[name]
	if !ok {
		return nil, false
	}
	return m.def, true
}

// ErrUnknownMachine: no state machine is registered under that name.
var ErrUnknownMachine = errors.New("unknown state machine")

// Start starts an execution of a registered machine. If an execution of
// that name exists, it is returned (created false) and nothing starts.
func (e *Executor) Start(ctx context.Context, machineName, name string, input json.RawMessage) (ports.Execution, bool, error) {
	m, ok := e.machines[machineName]
	if !ok {
		return ports.Execution{}, false, fmt.Errorf("%w: %q", ErrUnknownMachine, machineName)
	}
	if name == "" || len(name) > 80 {
		return ports.Execution{}, false, fmt.Errorf("an execution name is 1 to 80 characters, not %q", name)
	}
	in, err := asl.Decode(input)
	if err != nil {
		return ports.Execution{}, false, fmt.Errorf("execution input is not JSON: %w", err)
	}
	canonical, err := asl.Encode(in)
	if err != nil {
		return ports.Execution{}, false, err
	}
	now := e.cfg.Clock.Now().UTC()
	cp := checkpoint{Frames: []frame{{State: m.def.StartAt, Input: canonical, Entered: now}}}
	x := ports.Execution{Name: name, StateMachine: machineName, Status: ports.ExecutionRunning, Input: canonical, StartedAt: now, Version: 1}
	var evs events
	evs.add(now, "ExecutionStarted", "", map[string]any{"input": json.RawMessage(canonical), "state_machine": machineName})
	evs.add(now, m.def.States[m.def.StartAt].Type+"StateEntered", m.def.StartAt, map[string]any{"input": json.RawMessage(canonical)})
	if x.Checkpoint, err = json.Marshal(cp); err != nil {
		return ports.Execution{}, false, err
	}
	stored, created, err := e.cfg.Store.Start(ctx, x, evs.seal(&x))
	if err != nil {
		return ports.Execution{}, false, err
	}
	if created {
		e.mu.Lock()
		e.open[name] = struct{}{}
		e.mu.Unlock()
		e.poke()
	}
	return stored, created, nil
}

// Get returns an execution.
func (e *Executor) Get(ctx context.Context, name string) (ports.Execution, error) {
	return e.cfg.Store.Get(ctx, name)
}

// History returns an execution's events.
func (e *Executor) History(ctx context.Context, name string) ([]ports.ExecutionEvent, error) {
	return e.cfg.Store.History(ctx, name)
}

// Abort stops a running execution; it will not move again.
func (e *Executor) Abort(ctx context.Context, name, cause string) error {
	for range 20 {
		x, err := e.cfg.Store.Get(ctx, name)
		if err != nil {
			return err
		}
		if x.Status != ports.ExecutionRunning {
			return nil
		}
		now := e.cfg.Clock.Now().UTC()
		var evs events
		finish(&x, &evs, now, ports.ExecutionAborted, nil, "States.Aborted", cause)
		x.Version++
		err = e.cfg.Store.Advance(ctx, x, evs.seal(&x))
		if errors.Is(err, ports.ErrConflict) {
			continue // it moved meanwhile: look again
		}
		if err == nil {
			e.ended(x)
			e.notify(name)
		}
		return err
	}
	return fmt.Errorf("abort %s: it kept moving: %w", name, ports.ErrConflict)
}

// Terminal reports whether an execution has finished.
func Terminal(x ports.Execution) bool { return x.Status != ports.ExecutionRunning }

// Wait blocks until the execution has finished or ctx ends, and returns it
// as it stands.
func (e *Executor) Wait(ctx context.Context, name string) (ports.Execution, error) {
	for {
		ch := make(chan struct{})
		e.mu.Lock()
		e.waiters[name] = append(e.waiters[name], ch)
		e.mu.Unlock()
		x, err := e.cfg.Store.Get(ctx, name)
		if err == nil && Terminal(x) {
			e.notify(name)
		}
		if err != nil || Terminal(x) {
			return x, err
		}
		select {
		case <-ctx.Done():
			return x, nil
		case <-ch:
		case <-time.After(e.cfg.Poll): // finished by another process
		}
	}
}

// notify tells the waiters of an execution that it has ended.
func (e *Executor) notify(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.open, name)
	for _, ch := range e.waiters[name] {
		close(ch)
	}
	delete(e.waiters, name)
}

// ended tells Config.Ended that this executor ended x.
func (e *Executor) ended(x ports.Execution) {
	if e.cfg.Ended != nil {
		e.cfg.Ended(x.StateMachine, x.Status, x.StoppedAt.Sub(x.StartedAt))
	}
}

// Backlog is how many executions this process started or moved and has
// not yet seen end: the work queued and under way here, which a server
// bounds to shed load early rather than slow every execution down.
func (e *Executor) Backlog() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.open)
}

// Poke makes Run look for due executions now: after the clock was moved,
// for one.
func (e *Executor) Poke() { e.poke() }

func (e *Executor) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run moves due executions with a bounded pool of workers until ctx ends.
// Executions left running by a crash are due at once, so Run resumes them.
func (e *Executor) Run(ctx context.Context) error {
	work := make(chan string)
	var wg sync.WaitGroup
	for range e.cfg.Workers {
		wg.Go(func() {
			for name := range work {
				e.drive(ctx, name)
				e.release(name)
				e.poke()
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	for ctx.Err() == nil {
		now := e.cfg.Clock.Now()
		names, err := e.cfg.Store.Due(ctx, now, 100)
		if err != nil && ctx.Err() == nil {
			e.cfg.Log.Error("executor: find due executions", "err", err)
		}
		for _, name := range names {
			if !e.claim(name) {
				continue
			}
			select {
			case work <- name:
			case <-ctx.Done():
				e.release(name)
				return nil
			}
		}
		wait := e.cfg.Poll
		if next, err := e.cfg.Store.NextWake(ctx, now); err == nil && !next.IsZero() {
			wait = min(wait, max(next.Sub(now), time.Millisecond))
		}
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-time.After(wait):
		}
	}
	return nil
}

// RunDue moves every execution that is due now until none is, in the
// calling goroutine, and returns how many it moved. Tests use it with a
// hand-set clock; Run is the production loop.
func (e *Executor) RunDue(ctx context.Context) (int, error) {
	moved := 0
	for {
		names, err := e.cfg.Store.Due(ctx, e.cfg.Clock.Now(), 100)
		if err != nil {
			return moved, err
		}
		progressed := false
		for _, name := range names {
			if !e.claim(name) {
				continue
			}
			if e.drive(ctx, name) {
				progressed = true
			}
			e.release(name)
			moved++
		}
		if !progressed {
			return moved, ctx.Err()
		}
	}
}

func (e *Executor) claim(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight[name] {
		return false
	}
	e.inflight[name] = true
	e.open[name] = struct{}{}
	return true
}

func (e *Executor) release(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.inflight, name)
}

// steps makes the transitions of x up to the next one worth storing: it
// stops after a task has run (so no task runs before the result of the one
// before it is stored), at a wait, or at the end. The states between tasks
// (Choice, Pass, Succeed, Fail) decide from what is already stored, so they
// are stored with the task before or after them: a purchase stores five
// transitions instead of eight. A crash before the store repeats them, and
// at most one task, which is idempotent as every task must be.
//
// A run of such states is stored after maxDecisions of them, so that a
// definition looping through Pass and Choice states is stored, sees ctx
// and reaches HistoryLimit like any other, instead of spinning in memory.
func (e *Executor) steps(ctx context.Context, m *machine, x *ports.Execution) (events, error) {
	var all events
	ranTask := false
	for n := 0; ; n++ {
		typ := m.stateType(*x)
		if ranTask && !decidesAlone(typ) || n == maxDecisions {
			return all, nil
		}
		if x.Events+int64(len(all)) >= HistoryLimit {
			finish(x, &all, e.cfg.Clock.Now().UTC(), ports.ExecutionFailed, nil, asl.ErrorRuntime,
				fmt.Sprintf("the execution's history reached %d events, the most it may hold", HistoryLimit))
			return all, nil
		}
		evs, err := e.step(ctx, m, x)
		if err != nil {
			return nil, err
		}
		all = append(all, evs...)
		ranTask = ranTask || typ == "Task"
		if Terminal(*x) || !x.WakeAt.IsZero() || !decidesAlone(typ) && typ != "Task" {
			return all, nil
		}
	}
}

// HistoryLimit is the most events an execution's history holds, as in
// Step Functions: an execution whose history has reached it fails with
// States.Runtime at its next step instead of moving on, so a definition
// that loops cannot run, and grow its history, forever.
const HistoryLimit = 25000

// maxDecisions is the most states that decide alone (see steps) made
// between two stores.
const maxDecisions = 100

// stepScoper is a store that can answer the writes of a step's task before
// their commit, because the Advance that ends the step, made under the same
// context, waits for a commit that includes them, and is refused if they
// were lost (adapters/sqlite). A step then waits for one commit, not two.
type stepScoper interface {
	StepScope(ctx context.Context) context.Context
}

// decidesAlone reports whether a state of this type moves on from its
// input alone, calling nothing and waiting for nothing.
func decidesAlone(stateType string) bool {
	switch stateType {
	case "Choice", "Pass", "Succeed", "Fail":
		return true
	}
	return false
}

// drive moves one execution until it finishes, waits for a later time, or
// ctx ends. It reports whether it moved at all.
func (e *Executor) drive(ctx context.Context, name string) bool {
	moved, conflicts := false, 0
	var x ports.Execution
	fresh := false // x is what the store holds: no need to read it again
	for ctx.Err() == nil {
		if !fresh {
			var err error
			if x, err = e.cfg.Store.Get(ctx, name); err != nil {
				e.cfg.Log.Error("executor: load execution", "execution", name, "err", err)
				return moved
			}
		}
		if Terminal(x) {
			e.notify(name) // ended elsewhere
			return moved
		}
		if x.WakeAt.After(e.cfg.Clock.Now()) {
			return moved
		}
		m, ok := e.machines[x.StateMachine]
		if !ok {
			e.cfg.Log.Error("executor: execution of an unregistered state machine", "execution", name, "state_machine", x.StateMachine)
			return moved
		}
		next := x
		sctx := ctx
		if sc, ok := e.cfg.Store.(stepScoper); ok {
			sctx = sc.StepScope(ctx)
		}
		evs, err := e.steps(sctx, m, &next)
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("executor: step", "execution", name, "err", err)
			}
			return moved
		}
		next.Version++
		if err := e.cfg.Store.Advance(sctx, next, evs.seal(&next)); err != nil {
			if errors.Is(err, ports.ErrConflict) && conflicts < 50 {
				conflicts++
				fresh = false
				continue // moved by someone else: read it again
			}
			if ctx.Err() == nil {
				e.cfg.Log.Error("executor: store transition", "execution", name, "err", err)
			}
			return moved
		}
		x, fresh, moved = next, true, true
		if Terminal(x) {
			e.ended(x)
			e.notify(name)
			return moved
		}
	}
	return moved
}
