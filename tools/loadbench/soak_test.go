package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// steady is n samples, a window apart, all alike but for f's touches.
func steady(n int, f func(i int, s *sample)) []sample {
	out := make([]sample, n)
	for i := range out {
		out[i] = sample{At: time.Duration(i+1) * soakWindow, RSS: 100 << 20, Goroutines: 400, OpenFiles: 200, P99: 50, Requests: 3000}
		if f != nil {
			f(i, &out[i])
		}
	}
	return out
}

// The last third is judged against the second by their medians, each
// figure within its own limit; the first third (warm-up) is not looked at.
func TestJudge(t *testing.T) {
	t.Parallel()
	last := func(i int) bool { return i >= 40 } // of 60 samples
	for _, tc := range []struct {
		name    string
		samples []sample
		grew    []string // the figures over their limit
		unknown []string // the figures that could not be judged
	}{
		{name: "flat", samples: steady(60, nil)},
		{name: "warm-up does not count", samples: steady(60, func(i int, s *sample) {
			if i < 20 {
				s.RSS, s.Goroutines, s.P99 = 10<<20, 10, 5000
			}
		})},
		{name: "memory within 1.25× + 20 MB", samples: steady(60, func(i int, s *sample) {
			if last(i) {
				s.RSS = 145 << 20
			}
		})},
		{name: "memory leak", samples: steady(60, func(i int, s *sample) {
			s.RSS = int64(100+i*5) << 20 // 30 MB a minute
		}), grew: []string{"resident memory (RSS)"}},
		{name: "goroutine leak", samples: steady(60, func(i int, s *sample) {
			if last(i) {
				s.Goroutines = 531
			}
		}), grew: []string{"goroutines"}},
		{name: "goroutines within 1.2× + 50", samples: steady(60, func(i int, s *sample) {
			if last(i) {
				s.Goroutines = 530
			}
		})},
		{name: "file leak", samples: steady(60, func(i int, s *sample) {
			s.OpenFiles = 200 + 5*i
		}), grew: []string{"open files"}},
		{name: "latency doubles and more", samples: steady(60, func(i int, s *sample) {
			if last(i) {
				s.P99 = 121
			}
		}), grew: []string{"p99 latency"}},
		{name: "a few slow windows do not decide", samples: steady(60, func(i int, s *sample) {
			if last(i) && i%4 == 0 {
				s.P99 = 5000
			}
		})},
		{name: "windows without requests have no latency", samples: steady(60, func(i int, s *sample) {
			if i >= 20 {
				s.Requests, s.P99 = 0, 0
			}
		}), unknown: []string{"p99 latency"}},
		{name: "unread samples are left out", samples: steady(60, func(i int, s *sample) {
			if last(i) && i%2 == 0 {
				s.RSS, s.Goroutines, s.OpenFiles = 0, 0, 0
			}
		})},
		{name: "too short to judge", samples: steady(5, nil), unknown: []string{"resident memory (RSS)", "goroutines", "open files", "p99 latency"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var grew, unknown []string
			for _, j := range judge(tc.samples) {
				switch {
				case j.Why != "":
					unknown = append(unknown, j.Name)
				case !j.Flat:
					grew = append(grew, j.Name)
				}
			}
			if diff := cmp.Diff(tc.grew, grew); diff != "" {
				t.Errorf("grew (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.unknown, unknown); diff != "" {
				t.Errorf("not judged (-want +got):\n%s", diff)
			}
		})
	}
}

// The verdict fails on any figure that grew or could not be judged, and
// on failed requests beyond their share.
func TestVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                  string
		samples               []sample
		requests, errors      float64
		completed, unexpected float64
		iterations, dropped   float64
		ok                    bool
		wantWhyContaining     string
	}{
		{name: "purchases within the share", samples: steady(30, nil), requests: 1, completed: 9990, unexpected: 10, ok: true},
		{name: "purchases not done in time", samples: steady(30, nil), requests: 1, completed: 9989, unexpected: 11,
			wantWhyContaining: "11 of 10000 purchases were neither completed nor refused in time"},
		{name: "arrivals dropped within the share", samples: steady(30, nil), requests: 1, iterations: 9900, dropped: 100, ok: true},
		{name: "the store did not keep up", samples: steady(30, nil), requests: 1, iterations: 9899, dropped: 101,
			wantWhyContaining: "101 of 10000 arrivals found every virtual user busy, more than 1%: the store did not keep up"},
		{name: "flat, no failure", samples: steady(30, nil), requests: 100000, ok: true},
		{name: "flat, failures within the share", samples: steady(30, nil), requests: 100000, errors: 100, ok: true},
		{name: "too many failures", samples: steady(30, nil), requests: 100000, errors: 101, wantWhyContaining: "101 of 100000 requests failed"},
		{name: "grew", samples: steady(30, func(i int, s *sample) { s.OpenFiles = 10 * i }), requests: 1,
			wantWhyContaining: "open files grew from 145 to 245, over the limit of 184"},
		{name: "too short", samples: steady(3, nil), requests: 1, wantWhyContaining: "too few samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := &soakRun{Samples: tc.samples, Requests: tc.requests, Errors: tc.errors, Iterations: tc.iterations, Dropped: tc.dropped}
			run.Purchases.Completed, run.Purchases.Unexpected = tc.completed, tc.unexpected
			ok, why := run.verdict(judge(run.Samples))
			if ok != tc.ok || !strings.Contains(strings.Join(why, "; "), tc.wantWhyContaining) {
				t.Errorf("verdict %v, %q; want %v, %q", ok, why, tc.ok, tc.wantWhyContaining)
			}
		})
	}
}

// The trend is the rise a minute of a least-squares line, over the
// samples that have the figure.
func TestSlope(t *testing.T) {
	t.Parallel()
	rss := func(s sample) (float64, bool) { return float64(s.RSS) / (1 << 20), s.RSS > 0 }
	for _, tc := range []struct {
		name    string
		samples []sample
		want    float64
	}{
		{"flat", steady(30, nil), 0},
		{"30 MB a minute", steady(30, func(i int, s *sample) { s.RSS = int64(100+5*i) << 20 }), 30},
		{"falling", steady(30, func(i int, s *sample) { s.RSS = int64(400-i) << 20 }), -6},
		{"unread samples left out", steady(30, func(i int, s *sample) {
			s.RSS = int64(100+5*i) << 20
			if i%3 == 0 {
				s.RSS = 0
			}
		}), 30},
		{"one sample", steady(1, nil), 0},
		{"none", nil, 0},
	} {
		if got := slope(tc.samples, rss); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("%s: slope %g, want %g", tc.name, got, tc.want)
		}
	}
}

func TestGoroutineTotal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line string
		want int
		ok   bool
	}{
		{"goroutine profile: total 42\n", 42, true},
		{"goroutine profile: total 7", 7, true},
		{"goroutine profile: total many\n", 0, false},
		{"<html>404 page not found\n", 0, false},
		{"", 0, false},
	} {
		got, err := goroutineTotal(tc.line)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("goroutineTotal(%q) = %d, %v; want %d, ok %v", tc.line, got, err, tc.want, tc.ok)
		}
	}
}

func TestStatusKB(t *testing.T) {
	t.Parallel()
	const status = "Name:\tunicorn\nVmPeak:\t 2085156 kB\nVmHWM:\t   90112 kB\nVmRSS:\t   81920 kB\nThreads:\t9\n"
	for _, tc := range []struct {
		status, field string
		want          int64
		ok            bool
	}{
		{status, "VmRSS", 81920 << 10, true},
		{status, "VmHWM", 90112 << 10, true},
		{status, "VmSwap", 0, false},
		{"VmRSS:\tlots kB\n", "VmRSS", 0, false},
		{"", "VmRSS", 0, false},
	} {
		got, err := statusKB(tc.status, tc.field)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("statusKB(%q, %s) = %d, %v; want %d, ok %v", tc.status, tc.field, got, err, tc.want, tc.ok)
		}
	}
}

// Each window's sample gets the figures of the requests begun in it; the
// samples after the mix ended are dropped.
func TestWindows(t *testing.T) {
	t.Parallel()
	m := metrics{
		"http_req_duration{w:0}":                     {"p(99)": 80},
		"http_reqs{w:0}":                             {"count": 2000},
		"http_req_duration{w:1}":                     {"p(99)": 40},
		"http_reqs{w:1}":                             {"count": 3000},
		"http_reqs{w:1,expected_response:false}":     {"count": 2},
		"http_reqs{w:2}":                             {"count": 1000},
		"http_req_duration{w:2}":                     {"p(99)": 30},
		"http_reqs{w:9}":                             {"count": 1},
		"http_reqs{w:0,expected_response:false}":     {"count": 0},
		"http_reqs{w:2,expected_response:false}":     {"count": 1},
		"http_req_duration{w:2,unrelated:submetric}": {"p(99)": 1},
	}
	samples := steady(4, func(i int, s *sample) { s.P99, s.Requests = 0, 0 })
	got := windows(samples, m, 3)
	want := []sample{samples[0], samples[1], samples[2]}
	want[0].P99, want[0].Requests = 80, 2000
	want[1].P99, want[1].Requests, want[1].Errors = 40, 3000, 2
	want[2].P99, want[2].Requests, want[2].Errors = 30, 1000, 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}
}

func TestByMinute(t *testing.T) {
	t.Parallel()
	samples := steady(15, func(i int, s *sample) {
		s.RSS = int64(100+i) << 20
		s.Requests = 600
		if i == 3 {
			s.P99, s.Errors, s.Load = 90, 4, 7.5
		}
	})
	got := byMinute(samples)
	if len(got) != 3 {
		t.Fatalf("%d minutes, want 3: %+v", len(got), got)
	}
	for i, want := range []struct {
		minute     int
		rss        int64
		p99, rate  float64
		errors     float64
		load       float64
		lastSample time.Duration
	}{
		{1, 105 << 20, 90, 60, 4, 7.5, time.Minute},
		{2, 111 << 20, 50, 60, 0, 0, 2 * time.Minute},
		{3, 114 << 20, 50, 60, 0, 0, 150 * time.Second}, // half a minute: the rate is over 30 s
	} {
		m := got[i]
		if m.minute != want.minute || m.RSS != want.rss || m.P99 != want.p99 || m.Requests != want.rate || m.Errors != want.errors ||
			m.Load != want.load || m.At != want.lastSample {
			t.Errorf("minute %d: %+v, want %+v", i+1, m, want)
		}
	}
}

// The soak's document says what ran, the limits and the verdict, keeps
// what was written around its section, and the chart is well-formed; a
// soak that grew is an error after both are written.
func TestSoakReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		samples []sample
		wantErr bool
		want    []string
	}{
		{name: "flat", samples: steady(60, nil), want: []string{"**Verdict: flat.**", "| resident memory (RSS) | 100.0 MB | 100.0 MB | 145.0 MB (1.25× + 20 MB) | flat |",
			"| goroutines | 400 | 400 | 530 (1.2× + 50) | flat | +0.0 a minute |", "| open files | 200 | 200 | 250 (1.2× + 10) | flat |",
			"| p99 latency | 50.0 ms | 50.0 ms | 120.0 ms (2× + 20 ms) | flat | +0.0 ms a minute |", "| 10 | 100 MB | 400 | 200 | 50.0 ms | 300 | 0 | 0.0 |",
			"`unicorn serve -client-rate 0 -caller-rate 0`", "30 purchases a second", "for 10m0s"}},
		{name: "leaking goroutines", samples: steady(60, func(i int, s *sample) { s.Goroutines = 400 + 10*i }), wantErr: true,
			want: []string{"**Verdict: not flat.** goroutines grew from 695 to 895, over the limit of 884.", "| goroutines | 695 | 895 | 884 (1.2× + 50) | **grew** | +60.0 a minute |"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			doc, chart := filepath.Join(dir, "soak.md"), filepath.Join(dir, "soak.svg")
			run := &soakRun{Began: time.Now(), Duration: 10 * time.Minute, Rates: soakMix(30), ServeArgs: soakArgs, Samples: tc.samples,
				Requests: 180000}
			for pass := range 2 {
				err := soakReport(doc, chart, run)
				if (err != nil) != tc.wantErr {
					t.Fatalf("pass %d: error %v, want one: %v", pass, err, tc.wantErr)
				}
				if pass == 0 {
					b, _ := os.ReadFile(doc)
					if err := os.WriteFile(doc, append(b, "\nNotes kept.\n"...), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			b, _ := os.ReadFile(doc)
			text := string(b)
			if strings.Count(text, soakBegin) != 1 || !strings.HasPrefix(text, "# Soak\n") || !strings.HasSuffix(text, "Notes kept.\n") {
				t.Errorf("document:\n%s", text)
			}
			for _, want := range append(tc.want, "(soak.svg)") {
				if !strings.Contains(text, want) {
					t.Errorf("the document lacks %q:\n%s", want, text)
				}
			}
			wellFormed(t, chart)
		})
	}
}

// The chart scales each figure to its highest value or limit.
func TestSoakSVG(t *testing.T) {
	t.Parallel()
	run := &soakRun{Duration: 10 * time.Minute, Samples: steady(60, func(i int, s *sample) { s.P99 = float64(i) })}
	got := soakSVG(run, judge(run.Samples))
	for _, want := range []string{"resident memory (RSS) (MB)", "goroutines", "open files", "p99 latency (ms)", "10 min", "polyline"} {
		if !strings.Contains(got, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	if n := strings.Count(got, "<polyline"); n != 4 {
		t.Errorf("%d lines, want 4", n)
	}
}
