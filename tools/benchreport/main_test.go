package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/unicornstore/unicorn/adapters/httpapi
cpu: Test CPU
BenchmarkPOSTPoints-2   	    9482	    271464 ns/op	       228.0 p50-µs	       913.0 p99-µs
BenchmarkPOSTPoints-2   	    9482	    250000 ns/op	       200.0 p50-µs	       900.0 p99-µs
BenchmarkPOSTPoints-2   	    9482	    300000 ns/op	       240.0 p50-µs	       950.0 p99-µs
BenchmarkGET-2          	   29432	       749 ns/op
PASS
ok  	github.com/unicornstore/unicorn/adapters/httpapi	17.937s
`

func TestReport(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "b.md")
	if err := os.WriteFile(doc, []byte("# Notes\n\n"+begin+"\nold\n"+end+"\n\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(strings.NewReader(sample), doc, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	got := string(b)
	for _, want := range []string{
		"# Notes\n\n" + begin, "Measured 2026-11-21", "Test CPU", "median of 3 runs",
		"| adapters/httpapi | POSTPoints | 271.5 µs | 228 p50-µs, 913 p99-µs |",
		"| adapters/httpapi | GET | 749 ns |  |", end + "\n\nafter\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "old") {
		t.Errorf("old section kept:\n%s", got)
	}
	if err := run(strings.NewReader("--- FAIL: BenchmarkX\n"), doc, time.Now()); err == nil {
		t.Error("a failed benchmark was reported")
	}
}
