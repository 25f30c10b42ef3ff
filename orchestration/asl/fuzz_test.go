package asl

import (
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzContext is a context object ($$) as the executor builds it.
var fuzzContext = map[string]any{
	"Execution":    map[string]any{"Id": "o-1", "Name": "o-1", "Input": map[string]any{"id": "o-1"}, "StartTime": "2026-11-21T12:00:00Z"},
	"State":        map[string]any{"Name": "S", "EnteredTime": "2026-11-21T12:00:00Z", "RetryCount": json.Number("0")},
	"StateMachine": map[string]any{"Id": "m", "Name": "m"},
}

// fuzzData is a document the seeds' paths and templates read.
const fuzzData = `{"id":"o-1","user":{"name":"derick","tier":"gold"},"total":1700,"n":-5,"raw":"{\"a\":[1,2],\"b\":null}",` +
	`"items":[{"sku":"u1","qty":2},{"sku":"u2","qty":1.5}],"list":[1,2,3],"b":true,"z":null,"a b":{"c":[[0]]}}`

// slowest is how long one fuzzed path, template or call may take: far
// above what any takes, so only a loop trips it.
const slowest = 5 * time.Second

// encodes asserts that v is a JSON value Encode writes and Decode reads
// back, and returns its text once read back (a string with bytes that are
// not UTF-8 is written with U+FFFD in their place, so the first writing
// may differ from the next ones).
func encodes(t *testing.T, what string, v any) string {
	t.Helper()
	text := func(v any) string {
		b, err := Encode(v)
		if err != nil {
			t.Fatalf("%s: the value cannot be written as JSON: %v (%#v)", what, err, v)
		}
		return string(b)
	}
	read := func(s string) any {
		back, err := Decode([]byte(s))
		if err != nil {
			t.Fatalf("%s: %s does not read back: %v", what, s, err)
		}
		return back
	}
	once := text(read(text(v)))
	if twice := text(read(once)); twice != once {
		t.Fatalf("%s: %s reads back as %s", what, once, twice)
	}
	return once
}

// named asserts that a runtime failure is a named States error, so that a
// Catch can see it (or, for States.Runtime, so that the execution fails
// with a name).
func named(t *testing.T, what string, err error, names ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %v (%T) is not a named error", what, err, err)
	}
	for _, n := range names {
		if e.Name == n {
			return
		}
	}
	t.Fatalf("%s: error %s, want one of %v", what, e.Name, names)
}

// plainField is a field name every JSONPath implementation reads the same
// way after a dot.
var plainField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// FuzzPath: any path text compiles or is refused; a compiled path reads
// any document without a panic, gives a JSON value or a States.Runtime
// error, and never changes the document. A reference path (ResultPath)
// writes a copy, and a path of plain fields and indexes reads back what
// it wrote.
func FuzzPath(f *testing.F) {
	for _, p := range []string{"$", "$.id", "$.user.name", "$.items[0].sku", "$.items[*].sku", "$..sku", "$.items[-1:]", "$.list[0:2]",
		"$['a b'].c[0][0]", `$["a b"]`, "$.items[?(@.qty > 1)].sku", "$$.Execution.Name", "$$.State.RetryCount", "$.items.length",
		"$.list[1,2]", "$[*]", "$..*", "$.user['name','tier']", "$.", "$[", "$..", "$.a[999999999999999999999]", "$.list[-1]",
		"$.x.y.z", "$.n.x", "$.raw[0]", "$.items[0]['sku']", "$.a-b", "$.a b", "$['it''s']", "$.list[(@.length-1)]", "id", "$$"} {
		f.Add(p, fuzzData)
	}
	f.Add("$.a", `{"a":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}`)
	f.Add("$..a", `{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}`)
	f.Add("$[0]", `[1e999,-0,0.000000000000000000000001]`)
	f.Add("$.x", `"\u0000\ud800"`)
	f.Fuzz(func(t *testing.T, text, doc string) {
		data, err := Decode([]byte(doc))
		if err != nil {
			data = nil // the path still runs, on null
		}
		before := encodes(t, "document", data)
		start := time.Now()
		if p, err := CompilePath(text); err == nil {
			if p.String() != text {
				t.Fatalf("CompilePath(%q).String() = %q", text, p.String())
			}
			v, err := p.Get(data, fuzzContext)
			if err != nil {
				named(t, "Get "+text, err, ErrorRuntime)
			} else {
				encodes(t, "Get "+text, v)
			}
			if p.Exists(data, fuzzContext) != (err == nil) {
				t.Fatalf("Exists(%q) disagrees with Get (err %v)", text, err)
			}
		}
		if rp, err := CompileReferencePath(text); err == nil {
			out, err := rp.Set(data, "R")
			if err != nil {
				named(t, "Set "+text, err, ErrorResultPathMatch)
			} else {
				encodes(t, "Set "+text, out)
				if readBack(rp) {
					p, err := CompilePath(text)
					if err != nil {
						t.Fatalf("reference path %q is not a path: %v", text, err)
					}
					got, err := p.Get(out, nil)
					if err != nil || got != "R" {
						t.Fatalf("Set %q then Get: %v, %v; want \"R\"", text, got, err)
					}
				}
			}
		}
		if after := encodes(t, "document", data); after != before {
			t.Fatalf("the document changed from %s to %s", before, after)
		}
		if d := time.Since(start); d > slowest {
			t.Fatalf("path %q took %s", text, d)
		}
	})
}

// readBack reports whether every segment of a reference path is one that
// a JSONPath reads as the same place: a plain field after a dot, a name in
// quotes (single or double) without quotes, escapes or bytes that are not
// UTF-8 inside, or an index.
func readBack(rp *ReferencePath) bool {
	text := rp.text[1:]
	for _, s := range rp.segments {
		switch {
		case strings.HasPrefix(text, "."):
			if !plainField.MatchString(s.name) {
				return false
			}
			text = text[1+len(s.name):]
		case strings.HasPrefix(text, "['"), strings.HasPrefix(text, `["`):
			end := strings.IndexByte(text, ']')
			if s.name == "" || end < 4 || text[2:end-1] != s.name || strings.ContainsAny(s.name, `'"\`) || !utf8.ValidString(s.name) {
				return false
			}
			text = text[end+1:]
		default:
			end := strings.IndexByte(text, ']')
			if end < 0 || text[1:end] != big.NewInt(int64(s.index)).String() {
				return false // +1, 01 and the like: Atoi reads them, a JSONPath may not
			}
			text = text[end+1:]
		}
	}
	return true
}

// FuzzTemplate: any Parameters or ResultSelector value compiles or is
// refused; a compiled one evaluates on any document to a JSON value or a
// named error, and never changes the document or itself.
func FuzzTemplate(f *testing.F) {
	for _, tmpl := range []string{
		`{"id.$":"$.id","first.$":"$.items[0].sku","skus.$":"$.items[*].sku","execution.$":"$$.Execution.Name","fixed":{"nested":[1,2.5,"x"]},"count":3}`,
		`{"message.$":"States.Format('Order {} for {} costs {}', $.id, $.user.name, $.total)","parsed.$":"States.StringToJson($.raw)",` +
			`"text.$":"States.JsonToString($.user)","list.$":"States.Array($.id, 'two', 3, $.user)","length.$":"States.ArrayLength($.items)",` +
			`"sum.$":"States.MathAdd($.total, 5)","nested.$":"States.Format('{} items', States.ArrayLength($.items))"}`,
		`{"a":[{"b.$":"$.user"},{"c":null}],"a.$":"$.id"}`,
		`{"x.$":"$.missing"}`, `{"x.$":1}`, `{"x.$":"States.UUID()"}`, `{"":{"$":{".$":"$"}}}`, `[{"x.$":"$"}]`, `"literal"`, `null`,
		`{"order.$":"$","retry.$":"$$.State.RetryCount","input.$":"$$.Execution.Input"}`,
	} {
		f.Add(tmpl, fuzzData)
	}
	f.Add(`{"d.$":"$"}`, `{"a":`+strings.Repeat(`{"a":`, 100)+`1`+strings.Repeat("}", 101))
	f.Fuzz(func(t *testing.T, tmplText, doc string) {
		raw, err := Decode([]byte(tmplText))
		if err != nil {
			return
		}
		data, err := Decode([]byte(doc))
		if err != nil {
			data = nil
		}
		tmplBefore, dataBefore := encodes(t, "template", raw), encodes(t, "document", data)
		tmpl, err := CompileTemplate(raw)
		if err != nil {
			return
		}
		start := time.Now()
		ids := 0
		newID := func() string { ids++; return "id-" + big.NewInt(int64(ids)).String() }
		for range 2 { // twice: the first evaluation must not change the second
			v, err := tmpl.Eval(data, fuzzContext, newID)
			if err != nil {
				named(t, "Eval", err, ErrorRuntime, ErrorIntrinsicFailure)
				continue
			}
			out := encodes(t, "Eval", v)
			// The result is a copy: changing it changes neither the
			// document nor the template's literals.
			scribble(v)
			if after := encodes(t, "document", data); after != dataBefore {
				t.Fatalf("evaluating %s changed the document to %s (result %s)", tmplBefore, after, out)
			}
		}
		if after := encodes(t, "template", raw); after != tmplBefore {
			t.Fatalf("compiling changed the template to %s", after)
		}
		if d := time.Since(start); d > slowest {
			t.Fatalf("template %s took %s", tmplBefore, d)
		}
	})
}

// scribble changes every object and array of v in place.
func scribble(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			scribble(x)
			v[k] = "scribbled"
		}
		v["scribbled"] = true
	case []any:
		for i, x := range v {
			scribble(x)
			v[i] = "scribbled"
		}
	}
}

// FuzzIntrinsic: any intrinsic call text compiles or is refused; a
// compiled call evaluates on any document to a JSON value or a named
// error. States.MathAdd adds exactly or refuses; States.Format fills
// exactly its {}; States.JsonToString and States.StringToJson undo each
// other.
func FuzzIntrinsic(f *testing.F) {
	for _, call := range []string{
		`States.Format('Hello {}, you have {} items: {}', $.user.name, $.total, $.list[0])`,
		`States.Format('it\'s \{literal\} {}', $$.Execution.Name)`,
		`States.StringToJson($.raw)`, `States.JsonToString($.user)`, `States.Array('a', 1, null, $.user, true)`,
		`States.ArrayLength($.list)`, `States.MathAdd($.total, -5)`, `States.MathAdd(9223372036854775807, 1)`,
		`States.MathAdd(-9223372036854775808, -1)`, `States.MathAdd(1.5, 1)`, `States.MathAdd(1e3, 1)`, `States.UUID()`,
		`States.Format('{} and {}', States.ArrayLength($.list), States.MathAdd(1, 1))`, `States.Format('{}', $.items)`,
		`States.Format('{}')`, `States.Format('\')`, `States.Format('{}', $.items[?(@.qty > 1)].sku)`,
		`States.JsonToString(States.StringToJson(States.JsonToString($.items)))`, `States.Array(States.Array(States.Array()))`,
		`States.Format('x', $.a[(1,2)])`, `States.Format( 'a' , 'b' )`, `States.MathAdd(0x10, 1)`, `States.MathAdd(Inf, 1)`,
		`States.Array(0x10, +5, .5, 5., 1_0, Inf)`, `States.Format('{}', -0.0e+00)`,
	} {
		f.Add(call, fuzzData)
	}
	f.Fuzz(func(t *testing.T, text, doc string) {
		data, err := Decode([]byte(doc))
		if err != nil {
			data = nil
		}
		c, err := CompileIntrinsic(text)
		if err != nil {
			return
		}
		start := time.Now()
		v, err := c.Eval(data, fuzzContext, func() string { return "uuid-1" })
		if d := time.Since(start); d > slowest {
			t.Fatalf("%s took %s", text, d)
		}
		if err != nil {
			named(t, text, err, ErrorRuntime, ErrorIntrinsicFailure)
			return
		}
		encodes(t, text, v)
		switch c.name {
		case "States.MathAdd":
			sum, ok := v.(json.Number)
			if !ok {
				t.Fatalf("%s = %#v, not a number", text, v)
			}
			x, y := literalInt(t, c.args[0], data), literalInt(t, c.args[1], data)
			if want := new(big.Int).Add(x, y); want.String() != sum.String() {
				t.Fatalf("%s = %s, want %s", text, sum, want)
			}
		case "States.JsonToString":
			s, ok := v.(string)
			if !ok {
				t.Fatalf("%s = %#v, not a string", text, v)
			}
			back, err := Decode([]byte(s))
			if err != nil {
				t.Fatalf("%s = %q, which is not JSON: %v", text, s, err)
			}
			if encodes(t, "StringToJson", back) != s {
				t.Fatalf("%s = %q, which reads back differently", text, s)
			}
		case "States.Format":
			if _, ok := v.(string); !ok {
				t.Fatalf("%s = %#v, not a string", text, v)
			}
		}
	})
}

// literalInt is the whole number an argument of a call that succeeded
// stood for.
func literalInt(t *testing.T, a intrinsicArg, data any) *big.Int {
	t.Helper()
	var v any
	switch {
	case a.path != nil:
		v, _ = a.path.Get(data, fuzzContext)
	case a.call != nil:
		v, _ = a.call.Eval(data, fuzzContext, func() string { return "uuid-1" })
	default:
		v = a.literal
	}
	n, ok := v.(json.Number)
	i, okInt := new(big.Int).SetString(n.String(), 10)
	if !ok || !okInt {
		t.Fatalf("States.MathAdd added %#v, which is not a whole number", v)
	}
	return i
}

// definitionSeeds are the definitions of the repository with their
// inputs: the purchase saga with each of its test inputs, and every
// conformance case.
func definitionSeeds(f *testing.F) [][2][]byte {
	f.Helper()
	var out [][2][]byte
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
		out = append(out, [2][]byte{purchase, read(in)})
	}
	for _, def := range defs {
		out = append(out, [2][]byte{read(def), read(filepath.Join(filepath.Dir(def), "input.json"))})
	}
	return out
}

// hostileDefinitions are definitions at the edges of what Parse and the
// executor must survive, each with an input.
var hostileDefinitions = [][2]string{
	{`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"A"}],"Default":"C"},"C":{"Type":"Succeed"}}}`, `{"x":1}`},
	{`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"}}}`, `{}`},
	{`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":99999999999999,"End":true}}}`, `{}`},
	{`{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":9223372036854775807}`},
	{`{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}`, `{"t":"9999-12-31T23:59:59Z"}`},
	{`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":99999999,"BackoffRate":1e300,"MaxAttempts":1e300}],"End":true}}}`, `{"error":"Boom"}`},
	{`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["Boom"],"MaxAttempts":2}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"F"}],"End":true},"F":{"Type":"Fail","ErrorPath":"$.err.Error","CausePath":"$.err.Cause"}}}`, `{"error":"Boom"}`},
	{`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}}],"End":true}}}],"ResultSelector":{"r.$":"$[0][0]"},"End":true}}}`, `[1]`},
	{`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"States.Array($, $, $)","b.$":"States.JsonToString($)"},"ResultPath":"$.a.b.c","OutputPath":"$.a","End":true}}}`, `{"a":"not an object"}`},
	{`{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":null,"OutputPath":null,"ResultPath":null,"End":true}}}`, `null`},
	{`{"StartAt":"A","TimeoutSeconds":1,"States":{"A":{"Type":"Wait","Seconds":5,"End":true}}}`, `{}`},
	{`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}},"StartAt":"B"}`, `{}`},
	{`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}` + " trailing", `{}`},
	{`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Not":{"Not":{"Variable":"$","IsNull":true}}},"Next":"B"}]},"B":{"Type":"Fail"}}}`, "\"\x00\""},
	{`{"StartAt":"A","States":{"A":` + strings.Repeat(`{"Type":"Pass","Result":`, 500) + `1` + strings.Repeat("}", 500) + `}}`, `{}`},
}

// FuzzDefinition: any bytes are a definition or a DefinitionError naming
// at least one problem, never a panic. Each state of a definition Parse
// accepts then runs its input and output processing, Choice rules, Wait
// times and Fail errors on any input: a JSON value or a named error
// (which the executor turns into a failed or caught state), never a
// panic; a Choice goes to a state of its machine; a Wait never ends
// before it began; a retry never waits a negative time.
func FuzzDefinition(f *testing.F) {
	for _, s := range definitionSeeds(f) {
		f.Add(s[0], s[1])
	}
	for _, s := range hostileDefinitions {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, def, input []byte) {
		start := time.Now()
		m, err := Parse(def)
		if err != nil {
			var de *DefinitionError
			if !errors.As(err, &de) || len(de.Problems) == 0 || m != nil {
				t.Fatalf("Parse: %v, %v; want a DefinitionError with its problems", m, err)
			}
			return
		}
		if err := m.CheckShape(); err != nil {
			var de *DefinitionError
			if !errors.As(err, &de) || len(de.Problems) == 0 {
				t.Fatalf("CheckShape: %v", err)
			}
		}
		m.Compensations()
		m.Resources()
		data, err := Decode(input)
		if err != nil {
			data = map[string]any{}
		}
		ids := 0
		newID := func() string { ids++; return "id-" + big.NewInt(int64(ids)).String() }
		var visit func(m *StateMachine)
		visit = func(m *StateMachine) {
			if !slices.Equal(m.Names(), slices.Sorted(maps.Keys(m.States))) {
				t.Fatalf("Names %v do not list the states", m.Names())
			}
			for _, name := range m.Names() {
				st := m.States[name]
				for _, b := range st.Branches {
					visit(b)
				}
				runState(t, m, st, data, newID, t0)
			}
		}
		visit(m)
		if d := time.Since(start); d > slowest {
			t.Fatalf("the definition took %s", d)
		}
	})
}

// runState runs what a state does with its input, as the executor does.
func runState(t *testing.T, m *StateMachine, st *State, raw any, newID func() string, t0 time.Time) {
	t.Helper()
	what := func(step string) string { return st.Name + ": " + step }
	c := fuzzContext
	in, err := st.Input(raw, c)
	if err != nil {
		named(t, what("Input"), err, ErrorRuntime)
		return
	}
	encodes(t, what("Input"), in)
	for _, r := range st.Retry {
		last := time.Duration(0)
		for attempt := range min(r.MaxAttempts, 100) {
			d := r.Delay(attempt)
			if d < last {
				t.Fatalf("%s: retry %d waits %s, after %s (%+v)", st.Name, attempt, d, last, r)
			}
			last = d
		}
	}
	for _, cat := range st.Catch {
		out, err := cat.ErrorOutput(raw, &Error{Name: "Boom", Cause: "fuzz"})
		if err != nil {
			named(t, what("Catch"), err, ErrorResultPathMatch)
		} else {
			encodes(t, what("Catch"), out)
		}
		if _, ok := m.States[cat.Next]; !ok {
			t.Fatalf("%s: a catcher goes to %q, which is not a state", st.Name, cat.Next)
		}
	}
	switch st.Type {
	case "Choice":
		next, err := st.Choose(in, c)
		if err != nil {
			named(t, what("Choose"), err, ErrorRuntime, ErrorNoChoiceMatched)
			return
		}
		if _, ok := m.States[next]; !ok {
			t.Fatalf("%s: Choose went to %q, which is not a state", st.Name, next)
		}
	case "Wait":
		until, err := st.WaitUntil(in, c, t0)
		if err != nil {
			named(t, what("WaitUntil"), err, ErrorRuntime)
			return
		}
		if (st.HasSeconds || st.SecondsPath != nil) && until.Before(t0) {
			t.Fatalf("%s: a wait of seconds entered at %s ends at %s", st.Name, t0, until)
		}
	case "Fail":
		if st.Failure(in, c) == nil {
			t.Fatalf("%s: a Fail state without an error", st.Name)
		}
	case "Pass", "Task", "Parallel":
		eff, err := st.Effective(in, c, newID)
		if err != nil {
			named(t, what("Parameters"), err, ErrorRuntime, ErrorIntrinsicFailure)
			return
		}
		encodes(t, what("Parameters"), eff)
		result := eff
		if st.Type == "Pass" {
			result = st.PassResult(eff)
		}
		out, err := st.Output(raw, result, c, newID)
		if err != nil {
			named(t, what("Output"), err, ErrorRuntime, ErrorIntrinsicFailure, ErrorResultPathMatch)
			return
		}
		encodes(t, what("Output"), out)
	}
}
