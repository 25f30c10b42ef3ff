package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/internal/syncbuf"
	"github.com/unicornstore/unicorn/orchestration/asl"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// shape builds a definition from fuzz bytes: each byte read picks a
// state type, a field, a path or a transition among those a definition
// may have, so that most shapes parse and the fuzzer explores what the
// executor does with them rather than what JSON syntax it refuses.
type shape struct {
	b []byte
	i int
}

func (s *shape) next() int {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return int(s.b[s.i-1])
}

func (s *shape) pick(list ...any) any { return list[s.next()%len(list)] }

func (s *shape) maybe() bool { return s.next()%3 == 0 }

// What the shapes' fields are made of.
var (
	shapePaths     = []any{"$", "$.a", "$.a.b", "$.list[0]", "$.list[*]", "$..a", "$.s", "$.n", "$.missing", "$.error", "$$.Execution.Input", "$$.State.RetryCount"}
	shapeRefPaths  = []any{"$", "$.a", "$.r", "$.a.b.c", "$.list[0]", "$.list[9]", "$.s.x", "$['q']", nil}
	shapeTemplates = []any{
		map[string]any{"a.$": "$.a", "k": 1},
		map[string]any{"all.$": "$", "name.$": "$$.Execution.Name"},
		map[string]any{"m.$": "States.Format('{} {}', $.s, $.n)", "u.$": "States.UUID()"},
		map[string]any{"arr.$": "States.Array($.a, $.list)", "len.$": "States.ArrayLength($.list)"},
		map[string]any{"sum.$": "States.MathAdd($.n, 1)", "j.$": "States.JsonToString($)"},
		map[string]any{"p.$": "States.StringToJson($.s)"},
		map[string]any{"error": "Boom"},
		map[string]any{"error.$": "$.s"},
		"literal", []any{1, map[string]any{"x.$": "$.n"}},
	}
	shapeErrors = []any{[]any{"Boom"}, []any{"States.ALL"}, []any{"States.TaskFailed"}, []any{"States.Timeout"}, []any{"Other", "Boom"},
		[]any{"States.IntrinsicFailure"}, []any{"States.ResultPathMatchFailure"}, []any{"States.Runtime"}}
	shapeResources = []any{"${A}", "${B}", "arn:aws:lambda:eu-west-1:123456789012:function:A"}
)

func (s *shape) condition(depth int) map[string]any {
	switch k := s.next() % 8; {
	case k == 0 && depth < 3:
		return map[string]any{"Not": s.condition(depth + 1)}
	case k == 1 && depth < 3:
		return map[string]any{s.pick("And", "Or").(string): []any{s.condition(depth + 1), s.condition(depth + 1)}}
	}
	v := s.pick(shapePaths...)
	switch s.next() % 7 {
	case 0:
		return map[string]any{"Variable": v, s.pick("NumericEquals", "NumericLessThan", "NumericGreaterThanEquals").(string): json.Number(s.pick("0", "1", "-1.5", "1e3").(string))}
	case 1:
		return map[string]any{"Variable": v, s.pick("StringEquals", "StringMatches", "StringGreaterThan").(string): s.pick("x", "*", "a*", "").(string)}
	case 2:
		return map[string]any{"Variable": v, "BooleanEquals": s.maybe()}
	case 3:
		return map[string]any{"Variable": v, s.pick("TimestampEquals", "TimestampLessThan").(string): "2026-11-21T12:00:00Z"}
	case 4:
		return map[string]any{"Variable": v, s.pick("NumericEqualsPath", "StringLessThanPath", "TimestampGreaterThanPath").(string): s.pick(shapePaths...)}
	}
	return map[string]any{"Variable": v, s.pick("IsPresent", "IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp").(string): s.maybe()}
}

func (s *shape) machine(depth int) map[string]any {
	n := 1 + s.next()%5
	name := func(i int) string { return fmt.Sprintf("S%d", i) }
	target := func() string { return name(s.next() % n) }
	// Each state leads on to the next (most often) so that every state
	// can be reached, as Parse requires.
	onward := func(i int) string {
		if i < n-1 && !s.maybe() {
			return name(i + 1)
		}
		return target()
	}
	states := map[string]any{}
	for i := range n {
		st := map[string]any{}
		types := []any{"Pass", "Task", "Choice", "Wait", "Parallel", "Pass", "Task"}
		if i == n-1 {
			types = append(types, "Succeed", "Fail", "Succeed", "Fail")
		}
		typ := s.pick(types...).(string)
		if typ == "Parallel" && depth >= 2 {
			typ = "Pass"
		}
		st["Type"] = typ
		switch typ {
		case "Pass", "Task", "Wait", "Parallel":
			if i == n-1 && !s.maybe() {
				st["End"] = true
			} else {
				st["Next"] = onward(i)
			}
		}
		if typ != "Fail" && s.maybe() {
			st["InputPath"] = s.pick(append(shapePaths, nil)...)
		}
		if typ != "Fail" && s.maybe() {
			st["OutputPath"] = s.pick(append(shapePaths, nil)...)
		}
		switch typ {
		case "Pass", "Task", "Parallel":
			if s.maybe() {
				st["ResultPath"] = s.pick(shapeRefPaths...)
			}
			if s.maybe() {
				st["Parameters"] = s.pick(shapeTemplates...)
			}
		}
		switch typ {
		case "Pass":
			if s.maybe() {
				st["Result"] = s.pick(map[string]any{"r": 1}, "x", nil, []any{})
			}
		case "Task", "Parallel":
			if s.maybe() {
				st["ResultSelector"] = s.pick(shapeTemplates...)
			}
			if s.maybe() {
				r := map[string]any{"ErrorEquals": s.pick(shapeErrors...), "MaxAttempts": s.next() % 4}
				if s.maybe() {
					r["IntervalSeconds"] = 1 + s.next()%100
					r["BackoffRate"] = s.pick(1, 1.5, 2, 100)
				}
				if s.maybe() {
					r["MaxDelaySeconds"] = 1 + s.next()%10
					r["JitterStrategy"] = s.pick("FULL", "NONE")
				}
				st["Retry"] = []any{r}
			}
			if s.maybe() {
				c := map[string]any{"ErrorEquals": s.pick(shapeErrors...), "Next": target()}
				if s.maybe() {
					c["ResultPath"] = s.pick(shapeRefPaths...)
				}
				st["Catch"] = []any{c}
			}
		}
		switch typ {
		case "Task":
			st["Resource"] = s.pick(shapeResources...)
			if s.maybe() {
				st["TimeoutSeconds"] = 1 + s.next()%5
			}
		case "Parallel":
			branches := []any{s.machine(depth + 1)}
			if s.maybe() {
				branches = append(branches, s.machine(depth+1))
			}
			st["Branches"] = branches
		case "Choice":
			var rules []any
			for k := range 1 + s.next()%3 {
				r := s.condition(0)
				if r["Next"] = target(); k == 0 {
					r["Next"] = onward(i)
				}
				rules = append(rules, r)
			}
			st["Choices"] = rules
			if s.maybe() {
				st["Default"] = target()
			}
		case "Wait":
			switch s.next() % 4 {
			case 0:
				st["Seconds"] = s.pick(0, 1, 30, 99999999)
			case 1:
				st["SecondsPath"] = s.pick("$.n", "$.wait", "$.s")
			case 2:
				st["Timestamp"] = s.pick("2026-11-21T12:00:30Z", "2000-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
			default:
				st["TimestampPath"] = s.pick("$.t", "$.s")
			}
		case "Fail":
			if s.maybe() {
				st["ErrorPath"], st["CausePath"] = s.pick(shapePaths...), s.pick(shapePaths...)
			} else {
				st["Error"], st["Cause"] = s.pick("Boom", "", "States.Custom"), "fuzz"
			}
		}
		states[name(i)] = st
	}
	m := map[string]any{"StartAt": name(0), "States": states}
	if depth == 0 && s.maybe() {
		m["TimeoutSeconds"] = 1 + s.next()%100
	}
	return m
}

// definitionOf is the definition a fuzz input stands for: def itself, or
// when it is not one, the definition its shape bytes build (a byte
// changed in a definition mostly breaks its JSON: FuzzDefinition fuzzes
// that; here the input goes on to run).
func definitionOf(def, shapeBytes []byte) []byte {
	if _, err := asl.Parse(def); err == nil {
		return def
	}
	b, err := json.Marshal((&shape{b: shapeBytes}).machine(0))
	if err != nil {
		panic(err) // the shapes are made of JSON values only
	}
	return b
}

// fuzzTask is the handler of every Task: it fails with a named error when
// its input names one in "error", with a plain error when it says
// "crash", answers something that is not JSON when it says "garbage",
// and otherwise echoes its input.
func fuzzTask(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	var in struct {
		Error any `json:"error"`
	}
	_ = json.Unmarshal(input, &in)
	switch e := in.Error.(type) {
	case string:
		switch e {
		case "crash":
			return nil, errors.New("the task crashed")
		case "garbage":
			return json.RawMessage(`{"not json`), nil
		case "":
			return nil, nil
		}
		return nil, asl.NewError(e, "the input asked for it")
	}
	return input, nil
}

// Budgets of one fuzz input: it runs at most executionBudget (the fuzzing
// engine gives up on an input after 10 s) and about maxClockReads reads
// of the clock (each step reads it), so that a shape that loops ends
// soon; a RunDue call must return returnGrace after its context ends.
const (
	executionBudget = 4 * time.Second
	maxClockReads   = 1000
	returnGrace     = 3 * time.Second
	maxWakeUps      = 20
)

// budgetClock is a hand-set clock that ends the run it times (cancels its
// context) after maxClockReads reads.
type budgetClock struct {
	*clock.Manual
	mu     sync.Mutex
	reads  int
	cancel context.CancelFunc
}

func (c *budgetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reads++; c.reads > maxClockReads && c.cancel != nil {
		c.cancel()
	}
	return c.Manual.Now()
}

// start begins the budget of a run: cancel ends it.
func (c *budgetClock) start(cancel context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads, c.cancel = 0, cancel
}

// FuzzExecution runs definitions, those of the repository and ones built
// from fuzz bytes, with any input, durably on a SQLite file, with every
// Task resolved to one trivial handler. Whatever the definition does, the
// executor never panics, never spins without storing (a RunDue call
// returns once its context ends), never logs a failure to move an
// execution, and each execution ends (or waits on the clock, or keeps
// running tasks until its budget ends) with a history that starts,
// counts up and, when it ended, ends once.
func FuzzExecution(f *testing.F) {
	read := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	purchase := read("../purchase.asl.json")
	inputs, _ := filepath.Glob("../testdata/purchase/*/input.json")
	defs, _ := filepath.Glob("../testdata/conformance/*/definition.asl.json")
	if len(inputs) == 0 || len(defs) == 0 {
		f.Fatal("no definitions to seed with")
	}
	for _, in := range inputs {
		f.Add(purchase, []byte(nil), string(read(in)))
	}
	for _, def := range defs {
		f.Add(read(def), []byte(nil), string(read(filepath.Join(filepath.Dir(def), "input.json"))))
	}
	const data = `{"a":{"b":1},"list":[1,"two",{"a":3}],"s":"x","n":2,"t":"2026-11-21T12:00:10Z","wait":5}`
	for _, in := range []string{data, `{"error":"Boom","n":1}`, `{"error":"crash"}`, `{"error":"garbage"}`, `[]`, `null`, `"s"`, `{"n":9223372036854775807,"error":""}`} {
		for _, sh := range []string{"", "\x01\x00", "\x04\x01\x00\x00\x00\x00\x00", "\x02\x01\x02\x03\x04\x05\x06\x07\x08\x09", "\x05\x06\x06\x02\x01\x00\x07\x03\x00\x01\x02",
			"\x03\x02\x00\x02\x00\x00\x00\x01\x00\x01\x00\x00", "\x04\x05\x01\x01\x02\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x02\x00\x00\x03"} {
			f.Add([]byte(nil), []byte(sh), in)
		}
	}
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"A"}],"Default":"C"},"C":{"Type":"Succeed"}}}`), []byte(nil), `{"x":1}`)
	f.Add([]byte(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"W"}}}`), []byte(nil), `{}`)

	db, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "unicorn.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	clk := &budgetClock{Manual: clock.NewManual(t0)}
	logs := &syncbuf.Buffer{}
	ex, err := executor.New(executor.Config{Store: db.Executions(), Clock: clk, IDs: &clock.Counter{Prefix: "id"},
		Log: slog.New(slog.NewTextHandler(logs, nil)), Jitter: func(max time.Duration) time.Duration { return max / 2 }})
	if err != nil {
		f.Fatal(err)
	}
	handlers := map[string]executor.Handler{"A": fuzzTask, "B": fuzzTask}
	runs := 0
	f.Fuzz(func(t *testing.T, def, shapeBytes []byte, input string) {
		definition := definitionOf(def, shapeBytes)
		if err := ex.Register("fuzz", definition, handlers); err != nil {
			return // a shape with a state it cannot reach: FuzzDefinition checks refusals
		}
		runs++
		name := fmt.Sprintf("x-%d", runs)
		clk.Set(t0) // every execution starts at the same time
		logged := len(logs.String())
		ctx := context.Background()
		in := []byte(input)
		if _, err := asl.Decode(in); err != nil {
			// Not JSON: Start refuses it (checked below); the text goes on
			// as a field of a document the shapes' paths read.
			if _, _, err := ex.Start(ctx, "fuzz", name+"-refused", json.RawMessage(in)); err == nil {
				t.Fatalf("Start took the input %q, which is not JSON", input)
			}
			in, _ = json.Marshal(map[string]any{"s": input, "n": len(input), "a": map[string]any{"b": input}, "list": []any{input, 1}})
			input = string(in)
		}
		if _, _, err := ex.Start(ctx, "fuzz", name, json.RawMessage(in)); err != nil {
			t.Fatalf("Start refused the JSON input %s: %v", in, err)
		}
		// Whatever happens, the execution is over before the next input,
		// so that no later RunDue moves it under another definition.
		defer func() {
			if err := ex.Abort(ctx, name, "fuzz input done"); err != nil {
				t.Errorf("abort: %v", err)
			}
		}()
		deadline := time.Now().Add(executionBudget)
		budget, spent := context.WithDeadline(ctx, deadline)
		defer spent()
		clk.start(spent)
		defer clk.start(nil)
		var x ports.Execution
		for wakeUps := 0; ; wakeUps++ {
			rctx, cancel := context.WithCancel(budget)
			done := make(chan error, 1)
			go func() { _, err := ex.RunDue(rctx); done <- err }()
			select {
			case <-done:
			case <-budget.Done():
				select {
				case <-done:
				case <-time.After(returnGrace):
					t.Fatalf("RunDue did not return %s after its context ended: the executor spins on %s without storing a transition\ninput %s",
						returnGrace, definition, input)
				}
			case <-time.After(time.Until(deadline) + returnGrace):
				cancel()
				t.Fatalf("RunDue did not return %s after its context ended: the executor spins on %s without storing a transition\ninput %s",
					returnGrace, definition, input)
			}
			cancel()
			if x, err = ex.Get(ctx, name); err != nil {
				t.Fatal(err)
			}
			if executor.Terminal(x) || budget.Err() != nil || wakeUps == maxWakeUps {
				break // ended, or looped through its budget, or waits on and on
			}
			if x.WakeAt.IsZero() || !x.WakeAt.After(clk.Now()) {
				t.Fatalf("execution is running, not waiting, and RunDue left it: %+v\ndefinition %s\ninput %s\nlog %s",
					x, definition, input, logs.String()[logged:])
			}
			clk.Set(x.WakeAt)
		}
		if l := logs.String()[logged:]; strings.Contains(l, "level=ERROR") {
			t.Fatalf("the executor failed to move the execution:\n%s\ndefinition %s\ninput %s", l, definition, input)
		}
		checkHistory(t, ex, x, definition, input)
	})
}

// checkHistory asserts what every history holds: it starts with
// ExecutionStarted, its events are numbered 1, 2, 3 ... up to the
// execution's count, and an execution that ended has one end event, its
// last, matching its status.
func checkHistory(t *testing.T, ex *executor.Executor, x ports.Execution, definition []byte, input string) {
	t.Helper()
	hist, err := ex.History(context.Background(), x.Name)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nexecution %+v\ndefinition %s\ninput %s", fmt.Sprintf(format, args...), x, definition, input)
	}
	if len(hist) == 0 || hist[0].Type != "ExecutionStarted" {
		fail("the history does not start with ExecutionStarted: %v", types(hist))
	}
	ends := 0
	for i, ev := range hist {
		if ev.Seq != int64(i+1) {
			fail("event %d has number %d", i+1, ev.Seq)
		}
		if len(ev.Details) > 0 && !json.Valid(ev.Details) {
			fail("event %d has details that are not JSON: %s", ev.Seq, ev.Details)
		}
		if strings.HasPrefix(ev.Type, "Execution") && ev.Type != "ExecutionStarted" {
			ends++
		}
	}
	if int64(len(hist)) != x.Events {
		fail("%d events stored, the execution counts %d", len(hist), x.Events)
	}
	want := map[string]string{ports.ExecutionSucceeded: "ExecutionSucceeded", ports.ExecutionFailed: "ExecutionFailed",
		ports.ExecutionTimedOut: "ExecutionTimedOut", ports.ExecutionAborted: "ExecutionAborted"}[x.Status]
	switch {
	case want == "" && ends > 0:
		fail("a running execution has an end event: %v", types(hist))
	case want != "" && (ends != 1 || hist[len(hist)-1].Type != want):
		fail("an execution %s must end its history with one %s: %v", x.Status, want, types(hist))
	case x.Status == ports.ExecutionSucceeded && !json.Valid(x.Output):
		fail("the output is not JSON: %q", x.Output)
	}
	if _, err := ex.Sagas("fuzz").Steps(context.Background(), x.Name); err != nil {
		fail("the steps of the history: %v", err)
	}
}

// TestLoopsReachTheHistoryLimit: a definition that loops through states
// deciding alone (the regression FuzzExecution found: the executor spun in
// memory, never storing, never seeing its context) is stored as it goes
// and fails once its history reaches HistoryLimit, as in Step Functions.
func TestLoopsReachTheHistoryLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
		"B":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"A"}],"Default":"C"},"C":{"Type":"Succeed"}}}`
	if err := h.ex.Register("loop", []byte(def), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.ex.Start(context.Background(), "loop", "l-1", json.RawMessage(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	x := h.finish("l-1")
	if x.Status != ports.ExecutionFailed || x.Error != asl.ErrorRuntime || !strings.Contains(x.Cause, "history") {
		t.Fatalf("execution = %+v, want it failed with States.Runtime at the history limit", x)
	}
	if x.Events < executor.HistoryLimit || x.Events > executor.HistoryLimit+10 {
		t.Errorf("the history holds %d events, want about %d", x.Events, executor.HistoryLimit)
	}
}
