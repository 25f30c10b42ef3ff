// Package benchlat records the latency of individual operations in a
// benchmark, from several goroutines, and reports their median and 99th
// percentile beside the mean that go test prints.
package benchlat

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Recorder collects durations; the zero value is ready.
type Recorder struct {
	mu sync.Mutex
	d  []time.Duration
}

// Since records the time elapsed since start.
func (r *Recorder) Since(start time.Time) {
	d := time.Since(start)
	r.mu.Lock()
	r.d = append(r.d, d)
	r.mu.Unlock()
}

// Report adds p50-µs and p99-µs to the benchmark's figures.
func (r *Recorder) Report(b *testing.B) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.d) == 0 {
		return
	}
	slices.Sort(r.d)
	at := func(q float64) float64 { return float64(r.d[int(q*float64(len(r.d)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
