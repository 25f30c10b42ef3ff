package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The soak (make soak): the store under a steady, moderate mix for a long
// while (-soak), sampled every window: its resident memory, goroutines and
// open files, and the p99 latency of the window's requests. It passes
// when these stay flat: the last third of the run against the second
// (the first is warm-up), within the limits of soakLimits.

// soakWindow is how often the store is sampled, and the span of each
// latency figure.
const soakWindow = 10 * time.Second

// soakRates are the mix's arrival rates, per second.
type soakRates struct {
	Purchases, Points, Browse, Deposits float64
}

// rates scales the mix to purchases a second: a round of the points mix
// (14 calls) per purchase, a visit to the catalog and a buyer's orders
// (3 calls) per purchase and a quarter, a deposit per eight.
func soakMix(purchases float64) soakRates {
	return soakRates{Purchases: purchases, Points: purchases, Browse: purchases * 1.25, Deposits: purchases / 8}
}

// sample is the store at the end of a window, and k6's figures for the
// requests begun in it.
type sample struct {
	At         time.Duration // since the start of the run: the end of the window
	RSS        int64         // bytes
	Goroutines int
	OpenFiles  int
	P99        float64 // milliseconds
	Requests   float64
	Errors     float64 // requests that failed: an error status or no answer
	Load       float64 // the machine's load average over the last minute
}

// soakRun is what a soak measured.
type soakRun struct {
	Began     time.Time
	Duration  time.Duration
	Rates     soakRates
	ServeArgs []string
	Samples   []sample
	Requests  float64 // over the whole run
	Errors    float64
	Purchases struct{ Completed, Refused, Unexpected float64 }
	// Arrivals: begun, and dropped because every virtual user was busy
	// (the store did not keep up).
	Iterations, Dropped float64
	PeakRSS             int64
	SampleErrs          int // samples the store could not be read for
}

// soakArgs are the store's flags in the soak: its bounds as shipped, but
// no rate limit, because one API key and one admin carry the requests of
// a crowd.
var soakArgs = []string{"-client-rate", "0", "-caller-rate", "0"}

// soak runs the mix for d on a fresh store.
func (r *runner) soak(d time.Duration, rates soakRates) (*soakRun, error) {
	if d < 3*soakWindow || d > 23*time.Hour {
		return nil, fmt.Errorf("a soak lasts from %s to 23h, not %s", 3*soakWindow, d)
	}
	dir, err := os.MkdirTemp("", "loadbench-soak-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	began := time.Now()
	// The admin's token must outlive the run: it is taken once, in setup.
	srv, env, err := r.start("unicorn serve", dir, launch{debug: true, args: append(soakArgs, "-token-ttl", "24h")})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	t0 := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		samples []sample
		failed  int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(t0.Add(time.Duration(i) * soakWindow))):
			}
			s, err := srv.sample()
			if err != nil {
				failed++
				fmt.Fprintln(os.Stderr, "loadbench: soak: sample:", err)
			}
			s.At = time.Duration(i) * soakWindow
			samples = append(samples, s)
			// Heap profiles at the end of each third, and CPU profiles
			// of the window after, to compare when memory or latency
			// grows (go tool pprof -diff_base).
			if n := int(d / soakWindow); r.profile != "" && i%max(1, n/3) == 0 && i <= n {
				if err := r.saveProfile(srv, "heap", fmt.Sprintf("soak-heap-%s", s.At)); err != nil {
					fmt.Fprintln(os.Stderr, "loadbench: soak: heap profile:", err)
				}
			}
			if n := int(d / soakWindow); r.profile != "" && i%max(1, n/3) == 0 && i < n {
				wg.Go(func() {
					what := fmt.Sprintf("profile?seconds=%d", int(soakWindow.Seconds()))
					if err := r.saveProfile(srv, what, fmt.Sprintf("soak-cpu-%s", s.At)); err != nil {
						fmt.Fprintln(os.Stderr, "loadbench: soak: CPU profile:", err)
					}
				})
			}
			if i%6 == 0 {
				fmt.Fprintf(os.Stderr, "loadbench: soak: %s, RSS %.0f MB, %d goroutines, %d open files\n",
					s.At, float64(s.RSS)/(1<<20), s.Goroutines, s.OpenFiles)
			}
		}
	}()
	env["T0"] = strconv.FormatInt(t0.UnixMilli(), 10)
	env["SECONDS"] = strconv.Itoa(int(d.Seconds()))
	env["WINDOW"] = strconv.Itoa(int(soakWindow.Seconds()))
	for k, v := range map[string]float64{"PURCHASES": rates.Purchases, "POINTS": rates.Points, "BROWSE": rates.Browse, "DEPOSITS": rates.Deposits} {
		env[k] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	fmt.Fprintf(os.Stderr, "loadbench: soak for %s: %g purchases, %g rounds of the points mix, %g catalog visits and %g deposits a second...\n",
		d, rates.Purchases, rates.Points, rates.Browse, rates.Deposits)
	m, err := r.k6exec("soak.js", env, dir, d)
	cancel()
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	run := &soakRun{Began: began, Duration: d, Rates: rates, ServeArgs: soakArgs, SampleErrs: failed, PeakRSS: srv.peakRSS(),
		Requests: m["http_reqs"]["count"], Errors: m["http_reqs"]["count"] * m["http_req_failed"]["value"]}
	run.Purchases.Completed = m["purchases_completed"]["count"]
	run.Purchases.Refused = m["purchases_business_failures"]["count"]
	run.Purchases.Unexpected = m["purchases_unexpected"]["count"]
	run.Iterations, run.Dropped = m["iterations"]["count"], m["dropped_iterations"]["count"]
	run.Samples = windows(samples, m, int(d/soakWindow))
	return run, nil
}

// windows keeps the first n samples, the windows the mix ran through,
// each with k6's figures for the requests begun in it.
func windows(samples []sample, m metrics, n int) []sample {
	out := make([]sample, 0, n)
	for i, s := range samples {
		if i >= n {
			break
		}
		s.P99 = m[fmt.Sprintf("http_req_duration{w:%d}", i)]["p(99)"]
		s.Requests = m[fmt.Sprintf("http_reqs{w:%d}", i)]["count"]
		s.Errors = m[fmt.Sprintf("http_reqs{w:%d,expected_response:false}", i)]["count"]
		out = append(out, s)
	}
	return out
}

// debugClient reads the store's goroutine profile; it must not hang a sample.
var debugClient = &http.Client{Timeout: 5 * time.Second}

// sample reads the store's resident memory and open files from /proc
// (Linux) and its goroutines from its profile listener.
func (s *server) sample() (sample, error) {
	var out sample
	pid := s.cmd.Process.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out, err
	}
	if out.RSS, err = statusKB(string(b), "VmRSS"); err != nil {
		return out, err
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return out, err
	}
	out.OpenFiles = len(fds)
	resp, err := debugClient.Get("http://" + s.debug + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("goroutine profile: %s", resp.Status)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return out, fmt.Errorf("goroutine profile: %w", err)
	}
	out.Goroutines, err = goroutineTotal(line)
	if b, lerr := os.ReadFile("/proc/loadavg"); lerr == nil {
		out.Load, _ = strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	}
	return out, err
}

// statusKB reads a field of /proc/<pid>/status given in kB, in bytes.
func statusKB(status, field string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", field, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s in the process status", field)
}

// goroutineTotal reads the first line of a goroutine profile in text
// form: "goroutine profile: total 42".
func goroutineTotal(line string) (int, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if !ok {
		return 0, errors.New("not a goroutine profile: " + strings.TrimSpace(line))
	}
	return strconv.Atoi(rest)
}
