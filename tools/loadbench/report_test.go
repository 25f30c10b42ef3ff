package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		if err := report(doc, chart, results); err != nil {
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
	svgText, _ := os.ReadFile(chart)
	d := xml.NewDecoder(strings.NewReader(string(svgText)))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Errorf("the chart is not well-formed: %v", err)
			}
			break
		}
	}
}
