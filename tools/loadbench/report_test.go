package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The load section is added once and then rewritten in place, leaving
// the rest of the document alone; the chart is well-formed SVG.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	doc, chart := filepath.Join(dir, "benchmarks.md"), filepath.Join(dir, "load.svg")
	if err := os.WriteFile(doc, []byte("# Benchmarks\n\nGo figures.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	results := []result{
		{Scenario: "points mix", Server: "baseline", Throughput: 2000, Unit: "requests/s", P95: 52, Ratio: 1, PeakRSS: 30 << 20},
		{Scenario: "points mix", Server: "unicorn serve", Throughput: 600, Unit: "requests/s", P95: 210, Ratio: 0.3, PeakRSS: 80 << 20},
		{Scenario: "purchases", Server: "unicorn serve", Throughput: 70, Unit: "purchases/s", Refused: 12, Ratio: 0.05},
	}
	for range 2 {
		if err := report(doc, chart, results, nil); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(doc)
	text := string(b)
	if strings.Count(text, beginMark) != 1 || !strings.HasPrefix(text, "# Benchmarks\n\nGo figures.\n") {
		t.Errorf("document:\n%s", text)
	}
	for _, want := range []string{"| points mix | unicorn serve | 600 requests/s |", "0.30 |", "80 MB |", "(+12 business refusals)", "(load.svg)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	wellFormed(t, chart)
}

// wellFormed fails the test unless the file is well-formed XML.
func wellFormed(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s is not well-formed: %v", filepath.Base(path), err)
			}
			return
		}
	}
}

// writeSection replaces its marked section in place, or adds it under a
// heading at the end; a missing document is started only when asked.
func TestWriteSection(t *testing.T) {
	t.Parallel()
	const begin, end = "<!-- b -->", "<!-- e -->"
	for _, tc := range []struct {
		name        string
		old         *string // nil: no document
		fresh, want string
		wantErr     bool
	}{
		{name: "added at the end", old: ptr("# Doc\n\nText.\n\n"), want: "# Doc\n\nText.\n\n## Part\n\n<!-- b -->new<!-- e -->\n"},
		{name: "replaced in place", old: ptr("# Doc\n\n## Part\n\n<!-- b -->old\nlines<!-- e -->\n\nNotes.\n"),
			want: "# Doc\n\n## Part\n\n<!-- b -->new<!-- e -->\n\nNotes.\n"},
		{name: "marks out of order are not a section", old: ptr("<!-- e --> <!-- b -->"),
			want: "<!-- e --> <!-- b -->\n\n## Part\n\n<!-- b -->new<!-- e -->\n"},
		{name: "started afresh", fresh: "# New\n", want: "# New\n\n## Part\n\n<!-- b -->new<!-- e -->\n"},
		{name: "missing", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := filepath.Join(t.TempDir(), "doc.md")
			if tc.old != nil {
				if err := os.WriteFile(doc, []byte(*tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := writeSection(doc, tc.fresh, begin, end, "Part", begin+"new"+end)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			got, _ := os.ReadFile(doc)
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("document (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// Each stage and stream gets its rates per second over the hold, its
// refusals by kind, what is left as other, and the latency of the
// admitted; a stage k6 has no figures for reads as nothing.
func TestOverloadRows(t *testing.T) {
	t.Parallel()
	m := metrics{
		"http_reqs{stage:0,scenario:purchases}":                                {"count": 500},
		"http_reqs{stage:0,scenario:purchases,expected_response:true}":         {"count": 500},
		"http_req_duration{stage:0,scenario:purchases,expected_response:true}": {"p(50)": 40, "p(99)": 120},
		"http_reqs{stage:4,scenario:purchases}":                                {"count": 3000},
		"http_reqs{stage:4,scenario:purchases,expected_response:true}":         {"count": 1000},
		"http_reqs{stage:4,scenario:purchases,status:503}":                     {"count": 1500},
		"http_reqs{stage:4,scenario:purchases,status:429}":                     {"count": 300},
		"http_req_duration{stage:4,scenario:purchases,expected_response:true}": {"p(50)": 300, "p(99)": 900},
		"http_reqs{stage:4,scenario:points}":                                   {"count": 3000},
		"http_reqs{stage:4,scenario:points,expected_response:true}":            {"count": 3000},
		"http_req_duration{stage:4,scenario:points,expected_response:true}":    {"p(50)": 5, "p(99)": 30},
		"http_reqs{stage:ramp,scenario:points}":                                {"count": 999},
	}
	rows := overloadRows(m, 100, 10*time.Second)
	if len(rows) != 2*len(overloadMultiples) {
		t.Fatalf("%d rows, want %d", len(rows), 2*len(overloadMultiples))
	}
	for _, want := range []overloadRow{
		{Stage: 1, Multiple: 0.5, Stream: "purchases", Offered: 50, Sent: 50, Admitted: 50, P50: 40, P99: 120},
		{Stage: 1, Multiple: 0.5, Stream: "points", Offered: 50},
		{Stage: 2, Multiple: 1, Stream: "purchases", Offered: 100},
		{Stage: 5, Multiple: 3, Stream: "purchases", Offered: 300, Sent: 300, Admitted: 100, Shed: 1500, Throttled: 300, Other: 200, P50: 300, P99: 900},
		{Stage: 5, Multiple: 3, Stream: "points", Offered: 300, Sent: 300, Admitted: 300, P50: 5, P99: 30},
	} {
		i := 2*(want.Stage-1) + map[string]int{"purchases": 0, "points": 1}[want.Stream]
		if diff := cmp.Diff(want, rows[i]); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
	}
	if lv := overloadLevel(0.5, 1); lv != 1 {
		t.Errorf("a stage offers at least one request a second, not %d", lv)
	}
}

// The overload section is written beside the load section, each rewritten
// alone: a run of one leaves the other as it was.
func TestReportOverload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	doc, chart := filepath.Join(dir, "benchmarks.md"), filepath.Join(dir, "load.svg")
	if err := os.WriteFile(doc, []byte("# Benchmarks\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	results := []result{{Scenario: "purchases", Server: "unicorn serve", Throughput: 177, Unit: "purchases/s", Ratio: 0.14}}
	ov := &overloadRun{Capacity: 177, Hold: 10 * time.Second, ServeArgs: overloadArgs, Dropped: 12, NoRetryAfter: 3,
		Rows: []overloadRow{{Stage: 5, Multiple: 3, Stream: "purchases", Offered: 531, Sent: 520, Admitted: 170, Shed: 3400, Throttled: 2, Other: 1, P50: 80, P99: 250}}}
	steps := []struct {
		results []result
		ov      *overloadRun
	}{{results, nil}, {nil, ov}, {results, nil}, {nil, ov}}
	for _, s := range steps {
		if err := report(doc, chart, s.results, s.ov); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(doc)
	text := string(b)
	if strings.Count(text, beginMark) != 1 || strings.Count(text, overloadBeginMark) != 1 || strings.Index(text, endMark) > strings.Index(text, overloadBeginMark) {
		t.Errorf("document:\n%s", text)
	}
	for _, want := range []string{"| purchases | unicorn serve | 177 purchases/s |", "## Overload (k6)", "`unicorn serve -caller-rate 0`",
		"Its capacity, 177 purchases a second, is from the purchases scenario of the same run",
		"| 5 (3×) | purchases | 531/s | 520/s | 170/s | 3400 | 2 | 1 | 80.0 ms | 250.0 ms |",
		"could not send (no free virtual user): 12", "without Retry-After: 3"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
}
