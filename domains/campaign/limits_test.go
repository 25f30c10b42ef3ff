package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/limits"
)

// nested is an event whose field a holds arrays nested to depth (the event
// itself is level 1) around the innermost items.
func nested(depth int, items ...string) string {
	s := "[" + strings.Join(items, ",") + "]"
	for i := 3; i <= depth; i++ {
		s = "[" + s + "]"
	}
	return `{"amount":100,"a":` + s + `}`
}

func repeat(n int, item string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = item
	}
	return out
}

// worstEvent is the costliest event for the paths allowed: as many values
// as allowed, all at the bottom of the deepest nesting, each an object
// (measured against arrays and numbers: objects cost most under a union).
func worstEvent() string {
	// 1 (amount) + depth-2 arrays + 2 per object (at the deepest level).
	objects := (limits.EventValues - limits.EventDepth) / 2
	return nested(limits.EventDepth-1, repeat(objects, `{"a":1}`)...)
}

func TestEventLimits(t *testing.T) {
	tests := []struct {
		name, event string
		problem     string // "": accepted
	}{
		{"deepest allowed", nested(limits.EventDepth, "1"), ""},
		{"one level deeper", nested(limits.EventDepth+1, "1"), fmt.Sprintf("deeper than %d levels", limits.EventDepth)},
		{"the 17 KB attack", `{"amount":1,"a":` + strings.Repeat("[", 8000) + strings.Repeat("]", 8000) + `}`, "nest"},
		{"most values allowed", nested(3, repeat(limits.EventValues-3, "1")...), ""},
		{"one value more", nested(3, repeat(limits.EventValues-2, "1")...), fmt.Sprintf("more than %d values", limits.EventValues)},
		{"worst event", worstEvent(), ""},
		{"largest allowed", `{"s":"` + strings.Repeat("x", limits.EventBytes-8) + `"}`, ""},
		{"one byte more", `{"s":"` + strings.Repeat("x", limits.EventBytes-7) + `"}`, fmt.Sprintf("at most %d are allowed", limits.EventBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEvent([]byte(tt.event))
			switch {
			case tt.problem == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.problem != "" && (!errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), tt.problem)):
				t.Errorf("err = %v, want ErrInvalidEvent saying %q", err, tt.problem)
			}
		})
	}
}

// TestPathShapes: a path may select several values, but within bounds:
// each selector of several values multiplies the work of the rest.
func TestPathShapes(t *testing.T) {
	tests := []struct {
		path, problem string // problem "": accepted
	}{
		{"$.amount", ""},
		{`$["unit price"]`, ""},
		{`$["a..b"]`, ""}, // a string, not a descent
		{"$..price", ""},
		{"$.items[*].price", ""},
		{"$..*", ""},
		{"$.items[0:3]", ""},
		{"$.items[0,1,2,3,4,5,6,7,8,9]", ""},
		{`$.items[?(@.product_id == "7")]`, ""},
		{`$.items[?(@.product_id == "7")].quantity`, ""},
		{`$..[?(@.sku == "x")]`, ""},
		{"$..*..*", "at most 1 recursive descent"},
		{"$..a..b", "at most 1 recursive descent"},
		{"$..*[*]", "at most 2 selectors"},
		{"$.*.*.*", "at most 2 selectors"},
		{"$.items[0,1,2,3,4,5,6,7,8,9,10]", "at most 10 keys"},
		{`$..*[?(@..x == 1)]`, "at most 1 recursive descent"},
		{`$..*[?($..x == 1)]`, "another path"},
		{`$.items[$.n]`, "another path"},
		{`$.items[?(@[?(@ == 1)] == 1)]`, "one filter"},
		{"$.items[@.length]", "@ (the value filtered)"},
		{"$.items.(1)", "script"},
	}
	for _, tt := range tests {
		_, err := compilePath(tt.path)
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("%s refused: %v", tt.path, err)
		case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
			t.Errorf("%s: err = %v, want %q", tt.path, err, tt.problem)
		}
	}
}

func TestMultiValuePathsPerCampaign(t *testing.T) {
	cond := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`{"variable":"$..k%d","rule":"is_present"}`, i))
		}
		return `{"any":[` + strings.Join(parts, ",") + `]}`
	}
	mustCompile(t, draft(rule(cond(limits.MultiValuePaths), "1")))
	_, err := Compile(draft(rule(cond(limits.MultiValuePaths+1), "1")))
	assertProblem(t, err, fmt.Sprintf("rules[0].condition.any[%d].variable", limits.MultiValuePaths), fmt.Sprintf("at most %d paths", limits.MultiValuePaths))
	// The same path read twice counts once.
	mustCompile(t, draft(rule(`{"all":[`+strings.Repeat(`{"variable":"$..k","rule":"is_present"},`, 9)+`{"variable":"$..k","rule":"is_present"}]}`, "1")))
}

// TestMultiValuePresence: a path that selects several values is present
// when it selects at least one (it used to be present always, as an empty
// list).
func TestMultiValuePresence(t *testing.T) {
	c := mustCompile(t, draft(`[{"variable":"$.items[?(@.product_id == \"7\")]","condition":{"rule":"is_present"},"action":{"command":"issue","formula":"50"}}]`))
	for ev, want := range map[string]int64{
		`{"items":[{"product_id":"3"},{"product_id":"7"}]}`: 50,
		`{"items":[{"product_id":"3"}]}`:                    0,
		`{"items":[]}`:                                      0,
		`{}`:                                                0,
	} {
		if got := total(t, c, ev); got != want {
			t.Errorf("%s: %d points, want %d", ev, got, want)
		}
	}
}

// countdown is a context whose deadline passes after its Err has been
// asked a number of times: a deterministic clock for "stops at its
// deadline".
type countdown struct {
	context.Context
	left atomic.Int64
}

func (c *countdown) Err() error {
	if c.left.Add(-1) < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestEvaluationStopsAtItsDeadline: evaluation looks at its context before
// every rule (its Done channel) and every path it reads (its Err), and
// stops with its error.
func TestEvaluationStopsAtItsDeadline(t *testing.T) {
	ev := event(t, worstEvent())
	var campaigns []*Campaign
	for i := range 50 {
		var parts []string
		for j := range limits.MultiValuePaths {
			parts = append(parts, fmt.Sprintf(`{"variable":"$..[%d,%d]","rule":"is_present","value":false}`, i, j))
		}
		d := draft(rule(`{"any":[`+strings.Join(parts, ",")+`]}`, "1"))
		d.Name = fmt.Sprint("c", i)
		campaigns = append(campaigns, mustCompile(t, d))
	}
	ctx := &countdown{Context: context.Background()}
	ctx.left.Store(10)
	if _, err := Evaluate(ctx, campaigns, ev, now, nil, Ceiling{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if asked := 10 - ctx.left.Load(); asked > 12 {
		t.Errorf("the context was asked %d times after its deadline: the evaluation went on", asked-10)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(cancelled, campaigns, ev, now, nil, Ceiling{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	// A real deadline, far shorter than the work: it stops there.
	short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := Evaluate(short, campaigns, ev, now, nil, Ceiling{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("short deadline: err = %v", err)
	}
}

func TestCampaignBytes(t *testing.T) {
	list := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf("%q", fmt.Sprintf("%080d", i))
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	mustCompile(t, draft(rule(`{"variable":"$.sku","rule":"string_in","value":`+list(700)+`}`, "1")))
	_, err := Compile(draft(rule(`{"variable":"$.sku","rule":"string_in","value":`+list(1000)+`}`, "1")))
	assertProblem(t, err, "", fmt.Sprintf("at most %d are allowed", limits.CampaignBytes))
}
