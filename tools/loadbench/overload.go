package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The overload scenario offers the store more than it can do, in stages
// of rising arrival rate, and reports per stage what it admitted, what it
// shed and how fast it answered what it admitted: a store that holds load
// keeps its throughput near the peak and the latency of the admitted
// bounded, refusing the rest at once.

const overloadName = "overload"

// overloadMultiples are the stages' arrival rates, in multiples of the
// store's purchases a second in the purchases scenario: from below its
// capacity to three times it.
var overloadMultiples = []float64{0.5, 1, 1.5, 2, 3}

// overloadRamp is the time from a stage's rate to the next one's; what
// begins in it is not counted.
const overloadRamp = 2 * time.Second

// overloadMaxVUs bounds the virtual users of each stream: requests the
// store holds for long tie them up, and an arrival with none free is not
// sent (k6 counts it as dropped).
const overloadMaxVUs = 300

// overloadArgs are the store's flags in the overload scenario: its bounds
// and client limit as shipped; no limit per caller, because k6 buys for
// every buyer with one admin's token and calls /points with one API key.
var overloadArgs = []string{"-caller-rate", "0"}

var overloadStreams = []string{"purchases", "points"}

// overloadRow is one stream in one stage.
type overloadRow struct {
	Stage    int
	Multiple float64 // of the capacity
	Stream   string  // purchases, or calls of the points mix
	// Per second over the stage's hold: offered by the schedule, sent
	// (begun) by k6, and admitted (answered 2xx) by the store.
	Offered, Sent, Admitted float64
	Shed, Throttled, Other  float64 // answers 503, 429, anything else (or none)
	P50, P99                float64 // milliseconds, of the admitted requests
}

// overloadRun is what the overload scenario measured.
type overloadRun struct {
	Capacity         float64 // purchases a second in the purchases scenario
	CapacityMeasured bool    // by a run of its own, -only having left the scenario out
	Hold             time.Duration
	ServeArgs        []string
	Rows             []overloadRow
	Dropped          float64 // arrivals k6 had no free virtual user for
	NoRetryAfter     float64 // 503 and 429 answers without Retry-After
	PeakRSS          int64
}

// overloadHold is how long each stage holds its rate: half the runner's
// duration, at least five seconds.
func (r *runner) overloadHold() time.Duration {
	return max(5*time.Second, (r.duration / 2).Round(time.Second))
}

// overload runs the overload scenario on a fresh store whose capacity is
// purchases a second.
func (r *runner) overload(capacity float64) (*overloadRun, error) {
	if capacity <= 0 {
		return nil, fmt.Errorf("overload: no capacity to scale the stages by")
	}
	fmt.Fprintf(os.Stderr, "loadbench: %s on unicorn serve, up to %.0f purchases a second...\n", overloadName, 3*capacity)
	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, env, err := r.start("unicorn serve", dir, launch{args: overloadArgs})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	hold := r.overloadHold()
	levels := make([]string, len(overloadMultiples))
	for i, m := range overloadMultiples {
		levels[i] = strconv.Itoa(overloadLevel(m, capacity))
	}
	env["LEVELS"] = strings.Join(levels, ",")
	env["HOLD"] = strconv.Itoa(int(hold.Seconds()))
	env["RAMP"] = strconv.Itoa(int(overloadRamp.Seconds()))
	env["MAX_VUS"] = strconv.Itoa(overloadMaxVUs)
	m, err := r.k6exec("overload.js", env, dir, time.Duration(len(levels))*(hold+overloadRamp))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", overloadName, err)
	}
	return &overloadRun{Capacity: capacity, Hold: hold, ServeArgs: overloadArgs, PeakRSS: srv.peakRSS(),
		Rows: overloadRows(m, capacity, hold), Dropped: m["dropped_iterations"]["count"],
		NoRetryAfter: m["refusals_without_retry_after"]["count"]}, nil
}

// overloadLevel is a stage's requests a second, in each stream.
func overloadLevel(multiple, capacity float64) int {
	return max(1, int(multiple*capacity+0.5))
}

// overloadRows reads the stages from k6's summary: the submetrics of
// overload.js, by stage and stream.
func overloadRows(m metrics, capacity float64, hold time.Duration) []overloadRow {
	var rows []overloadRow
	for k, mult := range overloadMultiples {
		for _, stream := range overloadStreams {
			t := fmt.Sprintf("stage:%d,scenario:%s", k, stream)
			sent := m["http_reqs{"+t+"}"]["count"]
			admitted := m["http_reqs{"+t+",expected_response:true}"]["count"]
			shed := m["http_reqs{"+t+",status:503}"]["count"]
			throttled := m["http_reqs{"+t+",status:429}"]["count"]
			d := m["http_req_duration{"+t+",expected_response:true}"]
			secs := hold.Seconds()
			rows = append(rows, overloadRow{Stage: k + 1, Multiple: mult, Stream: stream,
				Offered: float64(overloadLevel(mult, capacity)), Sent: sent / secs, Admitted: admitted / secs,
				Shed: shed, Throttled: throttled, Other: max(0, sent-admitted-shed-throttled), P50: d["p(50)"], P99: d["p(99)"]})
		}
	}
	return rows
}
