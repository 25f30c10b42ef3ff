package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// StateMachine is a parsed and checked definition (or a Parallel branch).
type StateMachine struct {
	Comment        string
	StartAt        string
	States         map[string]*State
	TimeoutSeconds int
	names          []string // in the order the definition lists them
}

// State is one state, its fields compiled.
type State struct {
	Name    string
	Type    string // Task, Pass, Choice, Wait, Succeed, Fail, Parallel
	Next    string
	End     bool
	Comment string

	// Input and output processing. A nil path with its Discard flag set
	// is JSON null: the value is thrown away ({} in, input out).
	InputPath, OutputPath       *Path
	DiscardInput, DiscardOutput bool
	ResultPath                  *ReferencePath
	DiscardResult               bool
	Parameters                  *Template
	ResultSelector              *Template
	Result                      any // Pass
	HasResult                   bool

	Resource       string // Task
	TimeoutSeconds int    // Task: 0 means none
	Retry          []Retrier
	Catch          []Catcher

	Choices []ChoiceRule // Choice
	Default string

	Seconds       int // Wait: exactly one of these four
	HasSeconds    bool
	Timestamp     time.Time
	SecondsPath   *Path
	TimestampPath *Path

	Error, Cause         string // Fail
	ErrorPath, CausePath *Path

	Branches []*StateMachine // Parallel
}

// Retrier is one entry of a Retry field.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int
	BackoffRate     float64
	MaxDelaySeconds float64 // 0: no cap
	FullJitter      bool
}

// Delay is how long to wait before retry number attempt (0 for the first
// retry), before jitter: IntervalSeconds × BackoffRate^attempt, capped by
// MaxDelaySeconds, and by the longest time.Duration (292 years) when
// there is none.
func (r Retrier) Delay(attempt int) time.Duration {
	secs := r.IntervalSeconds * math.Pow(r.BackoffRate, float64(attempt))
	if r.MaxDelaySeconds > 0 {
		secs = min(secs, r.MaxDelaySeconds)
	}
	if secs >= math.MaxInt64/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(secs * float64(time.Second))
}

// Catcher is one entry of a Catch field.
type Catcher struct {
	ErrorEquals   []string
	Next          string
	ResultPath    *ReferencePath
	DiscardResult bool
}

// ChoiceRule is one rule of a Choice state.
type ChoiceRule struct {
	Condition Condition
	Next      string
}

// MaxSeconds is the largest number of seconds a definition may give (a
// Wait's Seconds, a TimeoutSeconds, a retrier's IntervalSeconds), and
// MaxAttempts the most retries of a retrier, as in Step Functions; the
// longest a retry may wait is MaxDelaySeconds (a year).
const (
	MaxSeconds      = 99999999
	MaxAttempts     = 99999999
	MaxDelaySeconds = 31622400
)

// Problem is one mistake in a definition.
type Problem struct {
	State   string // "" for the machine itself; "Parallel.branch[1].X" inside branches
	Field   string
	Message string
}

// DefinitionError lists every mistake in a definition.
type DefinitionError struct{ Problems []Problem }

func (e *DefinitionError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		at := p.State
		if p.Field != "" {
			if at != "" {
				at += "."
			}
			at += p.Field
		}
		if at == "" {
			at = "definition"
		}
		parts[i] = at + ": " + p.Message
	}
	return "invalid state machine: " + strings.Join(parts, "; ")
}

// Parse reads and checks a definition. Every mistake found is reported,
// each with its state and field.
func Parse(data []byte) (*StateMachine, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, &DefinitionError{Problems: []Problem{{Message: "not JSON: " + err.Error()}}}
	}
	p := &parser{}
	m := p.machine(v, "")
	if len(p.problems) > 0 {
		return nil, &DefinitionError{Problems: sortedProblems(p.problems)}
	}
	return m, nil
}

type parser struct{ problems []Problem }

func (p *parser) add(state, field, format string, args ...any) {
	p.problems = append(p.problems, Problem{State: state, Field: field, Message: fmt.Sprintf(format, args...)})
}

// fields allowed per state type (beyond Type and Comment).
var stateFields = map[string][]string{
	"Pass":     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"},
	"Task":     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Resource", "TimeoutSeconds", "Retry", "Catch"},
	"Choice":   {"InputPath", "OutputPath", "Choices", "Default"},
	"Wait":     {"Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
	"Succeed":  {"InputPath", "OutputPath"},
	"Fail":     {"Error", "Cause", "ErrorPath", "CausePath"},
	"Parallel": {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Branches", "Retry", "Catch"},
}

func (p *parser) machine(v any, prefix string) *StateMachine {
	raw, ok := v.(map[string]any)
	if !ok {
		p.add(prefix, "", "a state machine must be a JSON object")
		return nil
	}
	m := &StateMachine{States: map[string]*State{}}
	for k := range raw {
		if !slices.Contains([]string{"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}, k) {
			p.add(prefix, k, "unknown field")
		}
	}
	if ql, ok := raw["QueryLanguage"]; ok && ql != "JSONPath" {
		p.add(prefix, "QueryLanguage", "only JSONPath is supported")
	}
	m.Comment, _ = raw["Comment"].(string)
	m.StartAt, _ = raw["StartAt"].(string)
	if m.StartAt == "" {
		p.add(prefix, "StartAt", "StartAt is required")
	}
	if t, ok := raw["TimeoutSeconds"]; ok {
		m.TimeoutSeconds = p.positiveInt(t, prefix, "TimeoutSeconds")
	}
	states, ok := raw["States"].(map[string]any)
	if !ok || len(states) == 0 {
		p.add(prefix, "States", "States must be an object with at least one state")
		return m
	}
	for name := range states {
		m.names = append(m.names, name)
	}
	sort.Strings(m.names)
	for _, name := range m.names {
		where := name
		if prefix != "" {
			where = prefix + "." + name
		}
		if len(name) > 80 {
			p.add(where, "", "a state name may have at most 80 characters")
		}
		if s := p.state(name, where, states[name]); s != nil {
			m.States[name] = s
		}
	}
	if _, ok := states[m.StartAt]; m.StartAt != "" && !ok {
		p.add(prefix, "StartAt", "StartAt names %q, which is not a state", m.StartAt)
	}
	p.checkTargets(m, prefix)
	return m
}

func (p *parser) state(name, where string, v any) *State {
	raw, ok := v.(map[string]any)
	if !ok {
		p.add(where, "", "a state must be a JSON object")
		return nil
	}
	s := &State{Name: name}
	s.Type, _ = raw["Type"].(string)
	if s.Type == "Map" {
		p.add(where, "Type", "Map states are not supported by the local executor yet")
		return nil
	}
	allowed, known := stateFields[s.Type]
	if !known {
		p.add(where, "Type", "unknown state type %q", s.Type)
		return nil
	}
	for k := range raw {
		if k != "Type" && k != "Comment" && !slices.Contains(allowed, k) {
			p.add(where, k, "a %s state cannot have %s", s.Type, k)
		}
	}
	s.Comment, _ = raw["Comment"].(string)
	s.Next, _ = raw["Next"].(string)
	s.End, _ = raw["End"].(bool)
	if slices.Contains(allowed, "End") {
		if (s.Next != "") == s.End {
			p.add(where, "Next", "a %s state needs exactly one of Next and \"End\": true", s.Type)
		}
	}
	s.InputPath, s.DiscardInput = p.optionalPath(raw, "InputPath", where)
	s.OutputPath, s.DiscardOutput = p.optionalPath(raw, "OutputPath", where)
	if r, ok := raw["ResultPath"]; ok {
		if r == nil {
			s.DiscardResult = true
		} else if str, ok := r.(string); !ok {
			p.add(where, "ResultPath", "ResultPath must be a reference path or null")
		} else if rp, err := CompileReferencePath(str); err != nil {
			p.add(where, "ResultPath", "%v", err)
		} else {
			s.ResultPath = rp
		}
	}
	s.Parameters = p.template(raw, "Parameters", where)
	s.ResultSelector = p.template(raw, "ResultSelector", where)
	if r, ok := raw["Result"]; ok {
		s.Result, s.HasResult = r, true
	}
	switch s.Type {
	case "Task":
		s.Resource, _ = raw["Resource"].(string)
		if s.Resource == "" {
			p.add(where, "Resource", "a Task needs a Resource")
		}
		if t, ok := raw["TimeoutSeconds"]; ok {
			s.TimeoutSeconds = p.positiveInt(t, where, "TimeoutSeconds")
		}
	case "Choice":
		p.choices(s, raw, where)
	case "Wait":
		p.wait(s, raw, where)
	case "Fail":
		s.Error, _ = raw["Error"].(string)
		s.Cause, _ = raw["Cause"].(string)
		if e, ok := raw["ErrorPath"].(string); ok {
			s.ErrorPath = p.path(e, where, "ErrorPath")
		}
		if c, ok := raw["CausePath"].(string); ok {
			s.CausePath = p.path(c, where, "CausePath")
		}
	case "Parallel":
		branches, ok := raw["Branches"].([]any)
		if !ok || len(branches) == 0 {
			p.add(where, "Branches", "a Parallel state needs at least one branch")
		}
		for i, b := range branches {
			s.Branches = append(s.Branches, p.machine(b, fmt.Sprintf("%s.Branches[%d]", where, i)))
		}
	}
	if r, ok := raw["Retry"]; ok {
		s.Retry = p.retry(r, where)
	}
	if c, ok := raw["Catch"]; ok {
		s.Catch = p.catch(c, where)
	}
	return s
}

func (p *parser) positiveInt(v any, where, field string) int {
	n, ok := v.(json.Number)
	i, err := n.Int64()
	if !ok || err != nil || i < 1 || i > MaxSeconds {
		p.add(where, field, "%s must be a whole number of seconds, at least 1 and at most %d", field, MaxSeconds)
		return 0
	}
	return int(i)
}

func (p *parser) path(s, where, field string) *Path {
	path, err := CompilePath(s)
	if err != nil {
		p.add(where, field, "%v", err)
	}
	return path
}

// optionalPath reads InputPath or OutputPath: absent is "$" (nil, false),
// null discards (nil, true).
func (p *parser) optionalPath(raw map[string]any, field, where string) (*Path, bool) {
	v, ok := raw[field]
	if !ok {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	s, ok := v.(string)
	if !ok {
		p.add(where, field, "%s must be a path or null", field)
		return nil, false
	}
	return p.path(s, where, field), false
}

func (p *parser) template(raw map[string]any, field, where string) *Template {
	v, ok := raw[field]
	if !ok {
		return nil
	}
	t, err := CompileTemplate(v)
	if err != nil {
		p.add(where, field, "%v", err)
	}
	return t
}

func (p *parser) choices(s *State, raw map[string]any, where string) {
	list, ok := raw["Choices"].([]any)
	if !ok || len(list) == 0 {
		p.add(where, "Choices", "a Choice state needs at least one rule")
		return
	}
	s.Default, _ = raw["Default"].(string)
	for i, r := range list {
		field := fmt.Sprintf("Choices[%d]", i)
		m, ok := r.(map[string]any)
		if !ok {
			p.add(where, field, "a rule must be an object")
			continue
		}
		next, _ := m["Next"].(string)
		if next == "" {
			p.add(where, field+".Next", "a rule needs Next")
		}
		c, err := CompileCondition(m, false)
		if err != nil {
			p.add(where, field, "%v", err)
			continue
		}
		s.Choices = append(s.Choices, ChoiceRule{Condition: c, Next: next})
	}
}

func (p *parser) wait(s *State, raw map[string]any, where string) {
	n := 0
	if v, ok := raw["Seconds"]; ok {
		n++
		num, ok := v.(json.Number)
		i, err := num.Int64()
		if !ok || err != nil || i < 0 || i > MaxSeconds {
			p.add(where, "Seconds", "Seconds must be a whole number, 0 or more and at most %d", MaxSeconds)
		}
		s.Seconds, s.HasSeconds = int(i), true
	}
	if v, ok := raw["Timestamp"]; ok {
		n++
		str, _ := v.(string)
		t, err := time.Parse(time.RFC3339, str)
		if err != nil {
			p.add(where, "Timestamp", "Timestamp must be an RFC 3339 time")
		}
		s.Timestamp = t
	}
	if v, ok := raw["SecondsPath"].(string); ok {
		n++
		s.SecondsPath = p.path(v, where, "SecondsPath")
	}
	if v, ok := raw["TimestampPath"].(string); ok {
		n++
		s.TimestampPath = p.path(v, where, "TimestampPath")
	}
	if n != 1 {
		p.add(where, "Seconds", "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath and TimestampPath")
	}
}

func (p *parser) errorEquals(v any, where, field string, last bool) []string {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		p.add(where, field, "ErrorEquals needs at least one error name")
		return nil
	}
	var out []string
	for _, x := range list {
		s, ok := x.(string)
		if !ok || s == "" {
			p.add(where, field, "error names must be strings")
			continue
		}
		out = append(out, s)
	}
	if slices.Contains(out, ErrorAll) && (len(out) > 1 || !last) {
		p.add(where, field, "States.ALL must be alone in ErrorEquals and in the last entry")
	}
	return out
}

// objects calls fn for each object of the list field (Retry, Catch),
// reporting what is not a list of objects.
func (p *parser) objects(v any, where, name, what string, fn func(field string, m map[string]any, last bool)) {
	list, ok := v.([]any)
	if !ok {
		p.add(where, name, "%s must be a list", name)
		return
	}
	for i, x := range list {
		field := fmt.Sprintf("%s[%d]", name, i)
		m, ok := x.(map[string]any)
		if !ok {
			p.add(where, field, "a %s must be an object", what)
			continue
		}
		fn(field, m, i == len(list)-1)
	}
}

func (p *parser) retry(v any, where string) []Retrier {
	var out []Retrier
	p.objects(v, where, "Retry", "retrier", func(field string, m map[string]any, last bool) {
		r := Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}
		for k, val := range m {
			num, isNum := val.(json.Number)
			f, ferr := num.Float64()
			switch k {
			case "ErrorEquals":
				r.ErrorEquals = p.errorEquals(val, where, field+".ErrorEquals", last)
			case "IntervalSeconds":
				if !isNum || ferr != nil || f < 1 || f > MaxSeconds || f != math.Trunc(f) {
					p.add(where, field+".IntervalSeconds", "IntervalSeconds must be a whole number, at least 1 and at most %d", MaxSeconds)
				}
				r.IntervalSeconds = f
			case "MaxAttempts":
				if !isNum || ferr != nil || f < 0 || f > MaxAttempts || f != math.Trunc(f) {
					p.add(where, field+".MaxAttempts", "MaxAttempts must be a whole number, 0 or more and at most %d", MaxAttempts)
				}
				r.MaxAttempts = int(max(0, min(f, MaxAttempts)))
			case "BackoffRate":
				if !isNum || ferr != nil || f < 1 {
					p.add(where, field+".BackoffRate", "BackoffRate must be a number, at least 1.0")
				}
				r.BackoffRate = f
			case "MaxDelaySeconds":
				if !isNum || ferr != nil || f < 1 || f > MaxDelaySeconds || f != math.Trunc(f) {
					p.add(where, field+".MaxDelaySeconds", "MaxDelaySeconds must be a whole number, at least 1 and at most %d", MaxDelaySeconds)
				}
				r.MaxDelaySeconds = f
			case "JitterStrategy":
				switch val {
				case "FULL":
					r.FullJitter = true
				case "NONE":
				default:
					p.add(where, field+".JitterStrategy", "JitterStrategy must be FULL or NONE")
				}
			default:
				p.add(where, field+"."+k, "unknown field")
			}
		}
		if _, ok := m["ErrorEquals"]; !ok {
			p.add(where, field+".ErrorEquals", "ErrorEquals is required")
		}
		out = append(out, r)
	})
	return out
}

func (p *parser) catch(v any, where string) []Catcher {
	var out []Catcher
	p.objects(v, where, "Catch", "catcher", func(field string, m map[string]any, last bool) {
		c := Catcher{ErrorEquals: p.errorEquals(m["ErrorEquals"], where, field+".ErrorEquals", last)}
		c.Next, _ = m["Next"].(string)
		if c.Next == "" {
			p.add(where, field+".Next", "a catcher needs Next")
		}
		if r, ok := m["ResultPath"]; ok {
			if r == nil {
				c.DiscardResult = true
			} else if s, ok := r.(string); !ok {
				p.add(where, field+".ResultPath", "ResultPath must be a reference path or null")
			} else if rp, err := CompileReferencePath(s); err != nil {
				p.add(where, field+".ResultPath", "%v", err)
			} else {
				c.ResultPath = rp
			}
		}
		for k := range m {
			if k != "ErrorEquals" && k != "Next" && k != "ResultPath" {
				p.add(where, field+"."+k, "unknown field")
			}
		}
		out = append(out, c)
	})
	return out
}

// checkTargets checks that every transition names a state of the machine
// and that every state can be reached from StartAt.
func (p *parser) checkTargets(m *StateMachine, prefix string) {
	at := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	for _, name := range m.names {
		s := m.States[name]
		if s == nil {
			continue
		}
		for _, t := range s.transitions() {
			if _, ok := m.States[t.target]; !ok {
				p.add(at(name), t.field, "%s names %q, which is not a state of this machine", t.field, t.target)
			}
		}
	}
	if _, ok := m.States[m.StartAt]; !ok {
		return
	}
	reached := m.Reachable()
	for _, name := range m.names {
		if m.States[name] != nil && !reached[name] {
			p.add(at(name), "", "state %q cannot be reached from StartAt", name)
		}
	}
}

type transition struct{ field, target string }

// transitions lists where a state can go next.
func (s *State) transitions() []transition {
	var out []transition
	if s.Next != "" {
		out = append(out, transition{"Next", s.Next})
	}
	for i, c := range s.Choices {
		out = append(out, transition{fmt.Sprintf("Choices[%d].Next", i), c.Next})
	}
	if s.Default != "" {
		out = append(out, transition{"Default", s.Default})
	}
	for i, c := range s.Catch {
		if c.Next != "" {
			out = append(out, transition{fmt.Sprintf("Catch[%d].Next", i), c.Next})
		}
	}
	return out
}

// Reachable returns the states that can be reached from StartAt.
func (m *StateMachine) Reachable() map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		s, ok := m.States[name]
		if !ok || seen[name] {
			return
		}
		seen[name] = true
		for _, t := range s.transitions() {
			visit(t.target)
		}
	}
	visit(m.StartAt)
	return seen
}

// Names returns the state names in a stable order.
func (m *StateMachine) Names() []string { return append([]string(nil), m.names...) }

// Resources lists the Resource of every Task, branches included.
func (m *StateMachine) Resources() []string {
	var out []string
	for _, name := range m.names {
		s := m.States[name]
		if s.Type == "Task" {
			out = append(out, s.Resource)
		}
		for _, b := range s.Branches {
			out = append(out, b.Resources()...)
		}
	}
	return out
}
