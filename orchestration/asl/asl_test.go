package asl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDefinitionErrors: each mistake is reported with its state and field.
func TestDefinitionErrors(t *testing.T) {
	tests := []struct {
		name, def, state, field, text string
	}{
		{"not JSON", `{`, "", "", "not JSON"},
		{"no StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, "", "StartAt", "required"},
		{"StartAt unknown", `{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}`, "", "StartAt", `"B"`},
		{"unknown type", `{"StartAt":"A","States":{"A":{"Type":"Loop"}}}`, "A", "Type", "unknown state type"},
		{"map rejected", `{"StartAt":"A","States":{"A":{"Type":"Map","End":true}}}`, "A", "Type", "Map states are not supported"},
		{"next and end", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B","End":true},"B":{"Type":"Succeed"}}}`, "A", "Next", "exactly one of Next"},
		{"neither next nor end", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, "A", "Next", "exactly one of Next"},
		{"next unknown", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`, "A", "Next", `"Nowhere"`},
		{"unreachable", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, "B", "", "cannot be reached"},
		{"field not allowed", `{"StartAt":"A","States":{"A":{"Type":"Succeed","Result":1}}}`, "A", "Result", "cannot have Result"},
		{"task without resource", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}`, "A", "Resource", "needs a Resource"},
		{"bad input path", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"order","End":true}}}`, "A", "InputPath", "must start with $"},
		{"bad result path", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, "A", "ResultPath", "not a reference path"},
		{"bad parameters", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope()"},"End":true}}}`, "A", "Parameters", "unknown or unsupported intrinsic"},
		{"choice without rules", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[]}}}`, "A", "Choices", "at least one rule"},
		{"unknown operator", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericBigger":1,"Next":"B"}]},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]", "unknown comparison operator"},
		{"wrong literal", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"B"}]},"B":{"Type":"Succeed"}}}`, "A", "Choices[0]", "needs a number"},
		{"wait twice", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"Timestamp":"2026-01-01T00:00:00Z","End":true}}}`, "A", "Seconds", "exactly one"},
		{"States.ALL not last", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}`, "A", "Retry[0].ErrorEquals", "alone"},
		{"States.ALL not alone", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["X","States.ALL"],"Next":"A"}],"End":true}}}`, "A", "Catch[0].ErrorEquals", "alone"},
		{"bad backoff", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}`, "A", "Retry[0].BackoffRate", "at least 1.0"},
		{"bad jitter", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"SOME"}],"End":true}}}`, "A", "Retry[0].JitterStrategy", "FULL or NONE"},
		{"catch without next", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["X"]}],"End":true}}}`, "A", "Catch[0].Next", "needs Next"},
		{"branch problem", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass"}}}]}}}`, "P.Branches[0].X", "Next", "exactly one of Next"},
		{"timeout", `{"StartAt":"A","TimeoutSeconds":0,"States":{"A":{"Type":"Succeed"}}}`, "", "TimeoutSeconds", "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DefinitionError", err)
			}
			for _, p := range de.Problems {
				if p.State == tt.state && p.Field == tt.field && strings.Contains(p.Message, tt.text) {
					return
				}
			}
			t.Errorf("no problem at %q/%q containing %q in %+v", tt.state, tt.field, tt.text, de.Problems)
		})
	}
}

func TestReferencePathSet(t *testing.T) {
	doc := mustDecode(t, `{"a":{"x":1},"list":[{"v":1},{"v":2}],"s":"text"}`)
	tests := []struct {
		path, want string
	}{
		{"$", `"R"`},
		{"$.a.b", `{"a":{"b":"R","x":1},"list":[{"v":1},{"v":2}],"s":"text"}`},
		{"$.new.deep", `{"a":{"x":1},"list":[{"v":1},{"v":2}],"new":{"deep":"R"},"s":"text"}`},
		{"$['a']['x']", `{"a":{"x":"R"},"list":[{"v":1},{"v":2}],"s":"text"}`},
		{"$.list[1].v", `{"a":{"x":1},"list":[{"v":1},{"v":"R"}],"s":"text"}`},
	}
	for _, tt := range tests {
		rp, err := CompileReferencePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rp.Set(doc, "R")
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if encode(t, got) != tt.want {
			t.Errorf("%s: %s, want %s", tt.path, encode(t, got), tt.want)
		}
	}
	if encode(t, doc) != `{"a":{"x":1},"list":[{"v":1},{"v":2}],"s":"text"}` {
		t.Errorf("Set changed its input: %s", encode(t, doc))
	}
	for _, p := range []string{"$.s.inner", "$.list[5]", "$.a[0]"} {
		rp, _ := CompileReferencePath(p)
		_, err := rp.Set(doc, 1)
		var e *Error
		if !errors.As(err, &e) || e.Name != ErrorResultPathMatch {
			t.Errorf("%s: %v, want States.ResultPathMatchFailure", p, err)
		}
	}
	for _, bad := range []string{"a", "$$.x", "$.a[*]", "$..a", "$.a[?(@.x)]", "$[x]"} {
		if _, err := CompileReferencePath(bad); err == nil {
			t.Errorf("CompileReferencePath(%q) accepted", bad)
		}
	}
}

func TestIntrinsics(t *testing.T) {
	data := mustDecode(t, `{"name":"derick","n":2,"list":[1,2,3],"obj":{"a":true},"raw":"{\"k\":[1]}"}`)
	ctx := mustDecode(t, `{"Execution":{"Name":"o-1"}}`)
	tests := []struct{ expr, want string }{
		{`States.Format('Hello {}, you have {} items: {}', $.name, $.n, $.list[0])`, `"Hello derick, you have 2 items: 1"`},
		{`States.Format('it\'s \{literal\} {}', $$.Execution.Name)`, `"it's {literal} o-1"`},
		{`States.StringToJson($.raw)`, `{"k":[1]}`},
		{`States.JsonToString($.obj)`, `"{\"a\":true}"`},
		{`States.Array('a', 1, null, $.obj)`, `["a",1,null,{"a":true}]`},
		{`States.ArrayLength($.list)`, `3`},
		{`States.MathAdd($.n, -5)`, `-3`},
		{`States.UUID()`, `"uuid-1"`},
		{`States.Format('{} and {}', States.ArrayLength($.list), States.MathAdd(1, 1))`, `"3 and 2"`},
	}
	for _, tt := range tests {
		c, err := CompileIntrinsic(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		v, err := c.Eval(data, ctx, func() string { return "uuid-1" })
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got := encode(t, v); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
		}
	}
	for _, bad := range []string{`States.Nope()`, `States.Format()`, `States.UUID(1)`, `States.Format('x'`, `States.Array(foo)`, `States.Format('x') extra`} {
		if _, err := CompileIntrinsic(bad); err == nil {
			t.Errorf("CompileIntrinsic(%q) accepted", bad)
		}
	}
	for _, expr := range []string{`States.Format('{} {}', $.name)`, `States.StringToJson($.name)`, `States.ArrayLength($.obj)`, `States.Format('{}', $.obj)`} {
		c, err := CompileIntrinsic(expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Eval(data, ctx, nil)
		var e *Error
		if !errors.As(err, &e) || e.Name != ErrorIntrinsicFailure {
			t.Errorf("%s: %v, want States.IntrinsicFailure", expr, err)
		}
	}
}

func TestChoiceOperators(t *testing.T) {
	data := mustDecode(t, `{"s":"banana","n":10.5,"b":true,"ts":"2026-11-21T12:00:00Z","null":null,"other":10.5,"path":"a/b/c"}`)
	tests := []struct {
		rule string
		want bool
	}{
		{`{"Variable":"$.s","StringEquals":"banana"}`, true},
		{`{"Variable":"$.s","StringLessThan":"cherry"}`, true},
		{`{"Variable":"$.s","StringGreaterThanEquals":"banana"}`, true},
		{`{"Variable":"$.s","StringMatches":"ban*"}`, true},
		{`{"Variable":"$.s","StringMatches":"*nana"}`, true},
		{`{"Variable":"$.s","StringMatches":"b?nana"}`, false},
		{`{"Variable":"$.path","StringMatches":"a/*"}`, true},
		{`{"Variable":"$.n","NumericEquals":10.50}`, true},
		{`{"Variable":"$.n","NumericGreaterThan":10}`, true},
		{`{"Variable":"$.n","NumericLessThanEquals":10.4}`, false},
		{`{"Variable":"$.n","NumericEqualsPath":"$.other"}`, true},
		{`{"Variable":"$.s","NumericEquals":1}`, false},
		{`{"Variable":"$.b","BooleanEquals":true}`, true},
		{`{"Variable":"$.ts","TimestampGreaterThan":"2026-11-21T11:59:59Z"}`, true},
		{`{"Variable":"$.ts","TimestampEquals":"2026-11-21T13:00:00+01:00"}`, true},
		{`{"Variable":"$.null","IsNull":true}`, true},
		{`{"Variable":"$.absent","IsPresent":false}`, true},
		{`{"Variable":"$.n","IsNumeric":true}`, true},
		{`{"Variable":"$.s","IsString":true}`, true},
		{`{"Variable":"$.b","IsBoolean":true}`, true},
		{`{"Variable":"$.ts","IsTimestamp":true}`, true},
		{`{"Variable":"$.s","IsTimestamp":true}`, false},
		{`{"And":[{"Variable":"$.b","BooleanEquals":true},{"Not":{"Variable":"$.n","NumericLessThan":5}}]}`, true},
		{`{"Or":[{"Variable":"$.b","BooleanEquals":false},{"Variable":"$.s","StringEquals":"x"}]}`, false},
	}
	for _, tt := range tests {
		raw := mustDecode(t, tt.rule).(map[string]any)
		c, err := CompileCondition(raw, false)
		if err != nil {
			t.Fatalf("%s: %v", tt.rule, err)
		}
		got, err := c.Holds(data, nil)
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.rule, got, err, tt.want)
		}
	}
	// A comparison on a path that is absent is a runtime error.
	c, _ := CompileCondition(mustDecode(t, `{"Variable":"$.absent","StringEquals":"x"}`).(map[string]any), false)
	if _, err := c.Holds(data, nil); AsError(err).Name != ErrorRuntime {
		t.Errorf("absent variable: %v, want States.Runtime", err)
	}
}

func TestErrorMatching(t *testing.T) {
	timeout := &Error{Name: ErrorTimeout}
	named := &Error{Name: "OutOfStock"}
	for _, tt := range []struct {
		list   []string
		e      *Error
		inTask bool
		want   bool
	}{
		{[]string{"OutOfStock"}, named, true, true},
		{[]string{"Other"}, named, true, false},
		{[]string{ErrorAll}, timeout, true, true},
		{[]string{ErrorTaskFailed}, named, true, true},
		{[]string{ErrorTaskFailed}, timeout, true, false},
		{[]string{ErrorTaskFailed}, named, false, false},
	} {
		if got := Matches(tt.list, tt.e, tt.inTask); got != tt.want {
			t.Errorf("Matches(%v, %s, %v) = %v", tt.list, tt.e.Name, tt.inTask, got)
		}
	}
	if e := AsError(errors.New("boom")); e.Name != ErrorTaskFailed || e.Cause != "boom" {
		t.Errorf("AsError(plain) = %+v", e)
	}
	if AsError(runtimeError("x")).Catchable() {
		t.Error("States.Runtime is catchable")
	}
}

func TestShape(t *testing.T) {
	loop := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"A"}],"Default":"A"}}}`
	m, err := Parse([]byte(loop))
	if err != nil {
		t.Fatal(err)
	}
	err = m.CheckShape()
	var de *DefinitionError
	if !errors.As(err, &de) || len(de.Problems) != 2 {
		t.Errorf("CheckShape of a trap = %v, want A and B reported", err)
	}

	saga := `{"StartAt":"Reserve","States":{
		"Reserve":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Fail"}],"Next":"Charge"},
		"Charge":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Release"}],"Next":"Award"},
		"Award":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Refund"}],"End":true},
		"Refund":{"Type":"Task","Resource":"r","Next":"Release"},
		"Release":{"Type":"Task","Resource":"r","Next":"Fail"},
		"Fail":{"Type":"Fail","Error":"PurchaseFailed"}}}`
	m, err = Parse([]byte(saga))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckShape(); err != nil {
		t.Errorf("CheckShape: %v", err)
	}
	want := map[string][]string{"Reserve": nil, "Charge": {"Release"}, "Award": {"Refund", "Release"}, "Refund": nil, "Release": nil}
	got := m.Compensations()
	delete(want, "Refund")
	delete(want, "Release")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compensations (-want +got):\n%s", diff)
	}
}

// Decode takes one JSON value and nothing after it but white space, even
// when what follows is a closing bracket (which json.Decoder.More does not
// count as more).
func TestDecodeTakesOneValue(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{`{"a":1}`, true},
		{" {\"a\":1} \n\t", true},
		{`[1,2]`, true},
		{`{"a":1}]`, false},
		{`{"a":1}}`, false},
		{`[1]]`, false},
		{`{"a":1} {}`, false},
		{`1 2`, false},
		{`"x"x`, false},
	} {
		if _, err := Decode([]byte(tt.in)); (err == nil) != tt.ok {
			t.Errorf("Decode(%q): %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

// A field name in brackets reads the same in single quotes (as Step
// Functions' examples write it) as in double quotes, in a path and in a
// reference path; an empty name is a field, never an array index.
func TestQuotedFieldNames(t *testing.T) {
	data := mustDecode(t, `{"a b":{"c":1},"it's":2,"":3,"q\"":4}`)
	for _, tt := range []struct {
		path string
		want any
	}{
		{`$['a b'].c`, json.Number("1")},
		{`$["a b"].c`, json.Number("1")},
		{`$['it\'s']`, json.Number("2")},
		{`$["it's"]`, json.Number("2")},
		{`$['']`, json.Number("3")},
		{`$['q"']`, json.Number("4")},
	} {
		p, err := CompilePath(tt.path)
		if err != nil {
			t.Errorf("CompilePath(%s): %v", tt.path, err)
			continue
		}
		if got, err := p.Get(data, nil); err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.path, got, err, tt.want)
		}
		r, err := CompileReferencePath(tt.path)
		if err != nil {
			t.Errorf("CompileReferencePath(%s): %v", tt.path, err)
			continue
		}
		doc, err := r.Set(data, "x")
		if err != nil {
			t.Errorf("%s: Set: %v", tt.path, err)
			continue
		}
		if got, err := p.Get(doc, nil); err != nil || got != "x" {
			t.Errorf("after setting %s to \"x\", it reads %v, %v", tt.path, got, err)
		}
	}
	if _, err := CompileReferencePath(`$['']`); err != nil {
		t.Fatal(err)
	}
	r, _ := CompileReferencePath(`$['']`)
	if _, err := r.Set([]any{1}, "x"); err == nil {
		t.Error(`$[''] set an array's element: an empty name is a field, not index 0`)
	}
	for _, bad := range []string{`$['a`, `$['a b]`, `$["a]`} {
		if _, err := CompilePath(bad); err == nil {
			t.Errorf("CompilePath(%s) accepted it", bad)
		}
	}
}
