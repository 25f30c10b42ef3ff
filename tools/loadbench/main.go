// Command loadbench drives the store with k6 beside the limit baseline and
// writes what it measured into docs/benchmarks.md, with a chart (make
// bench runs it after the Go benchmarks).
//
//	loadbench -k6 .cache/bin/k6 -unicorn bin/unicorn -doc docs/benchmarks.md -chart docs/benchmarks-load.svg
//	loadbench -soak 10m -soak-doc docs/soak.md -soak-chart docs/soak.svg
//	loadbench baseline <address> <database file>    the baseline server
//
// Each scenario runs on a fresh server and database: the points mix of
// seed 003 (50 virtual users), purchases (16 buyers), and GET /points on
// an account with ten years of daily lots (about 100,000 events). The
// baseline answers the same requests with one SQLite insert per write at
// the same durability; each scenario's throughput is reported as a ratio
// to the baseline's in the same run. These run without the store's rate
// limits, to measure what it can do.
//
// The overload scenario (-only overload) then offers the store purchases
// and points calls at a rising rate, up to three times the purchases a
// second it managed in the purchases scenario, with its bounds as shipped,
// and reports per stage what it admitted, shed and throttled, and how
// fast it answered what it admitted (overload.go).
//
// With -soak, loadbench runs the soak instead (make soak): a steady mix
// at a moderate rate, the store sampled every ten seconds, judged flat or
// not into its own document and chart (soak.go).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "baseline" {
		if err := baseline(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		return
	}
	k6 := flag.String("k6", ".cache/bin/k6", "the k6 binary")
	unicorn := flag.String("unicorn", "bin/unicorn", "the unicorn binary")
	doc := flag.String("doc", "docs/benchmarks.md", "the document whose load section is rewritten")
	chart := flag.String("chart", "docs/benchmarks-load.svg", "where the chart goes")
	duration := flag.Duration("duration", 20*time.Second, "how long each scenario runs")
	profile := flag.String("profile", "", "a directory: take a CPU profile of the store during each scenario into it, or heap profiles at each third of a soak (see go tool pprof)")
	only := flag.String("only", "", "run only the scenarios whose name contains this: points mix, purchases, GET /points, overload (for a quick look: pair it with -doc and -chart elsewhere; overload alone rewrites only its own section)")
	flag.IntVar(&perDay, "heavy-per-day", perDay, "issues a day in the heavy account's ten years (27 gives 100,000 events)")
	soak := flag.Duration("soak", 0, "instead of the scenarios, soak the store in a steady mix for this long and check that it stays flat (make soak)")
	soakRate := flag.Float64("soak-rate", 30, "the soak's purchases a second; the rest of its mix scales with them")
	soakDoc := flag.String("soak-doc", "docs/soak.md", "the document whose soak section is rewritten")
	soakChart := flag.String("soak-chart", "docs/soak.svg", "where the soak's chart goes")
	flag.Parse()
	r := &runner{k6: *k6, unicorn: *unicorn, duration: *duration, scripts: scriptsDir(), only: *only, profile: *profile}
	if *soak > 0 {
		run, err := r.soak(*soak, soakMix(*soakRate))
		if err == nil {
			err = soakReport(*soakDoc, *soakChart, run)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "loadbench: the soak stayed flat; see", *soakDoc)
		return
	}
	results, ov, err := r.all()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
	if err := report(*doc, *chart, results, ov); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func scriptsDir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "k6")
}

type runner struct {
	k6, unicorn, scripts, only, profile string
	duration                            time.Duration
}

// result is one scenario on one server.
type result struct {
	Scenario, Server string
	Throughput       float64 // per second: requests, or completed purchases
	Unit             string
	P50, P95, P99    float64 // milliseconds
	Errors           float64 // failed requests, or unexpected purchase outcomes
	Refused          float64 // purchases failed for a business reason (expected)
	PeakRSS          int64   // bytes
	Ratio            float64 // throughput over the baseline's in the same scenario
}

// scenario is a throughput scenario, run on the baseline and on the store.
type scenario struct {
	name, script string
	vus          int
	seed         func(db string) (balance int64, err error)
	purchases    bool
}

var (
	pointsMix = scenario{name: "points mix", script: "points-mix.js", vus: 50}
	purchases = scenario{name: "purchases", script: "purchases.js", vus: 16, purchases: true}
	heavy     = scenario{name: "GET /points, heavy account", script: "heavy-balance.js", vus: 4, seed: seedHeavy}
)

// all runs the throughput scenarios, then the overload scenario, whose
// rates are multiples of the store's purchases a second in the purchases
// scenario (measured again when -only left it out).
func (r *runner) all() ([]result, *overloadRun, error) {
	var out []result
	for _, sc := range []scenario{pointsMix, purchases, heavy} {
		if !strings.Contains(sc.name, r.only) {
			continue
		}
		var pair []result
		for _, kind := range []string{"baseline", "unicorn serve"} {
			res, err := r.one(sc, kind)
			if err != nil {
				return nil, nil, err
			}
			pair = append(pair, res)
		}
		for i := range pair {
			if pair[0].Throughput > 0 {
				pair[i].Ratio = pair[i].Throughput / pair[0].Throughput
			}
		}
		out = append(out, pair...)
	}
	if !strings.Contains(overloadName, r.only) {
		return out, nil, nil
	}
	capacity, measured := 0.0, false
	for _, res := range out {
		if res.Scenario == purchases.name && res.Server == "unicorn serve" {
			capacity = res.Throughput
		}
	}
	if capacity == 0 {
		res, err := r.one(purchases, "unicorn serve")
		if err != nil {
			return nil, nil, err
		}
		capacity, measured = res.Throughput, true
	}
	ov, err := r.overload(capacity)
	if err != nil {
		return nil, nil, err
	}
	ov.CapacityMeasured = measured
	return out, ov, nil
}

// one runs a throughput scenario on a fresh server of kind.
func (r *runner) one(sc scenario, kind string) (result, error) {
	fmt.Fprintf(os.Stderr, "loadbench: %s on %s...\n", sc.name, kind)
	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	srv, env, err := r.start(kind, dir, launch{seed: sc.seed, args: rawThroughput})
	if err != nil {
		return result{}, err
	}
	env["VUS"] = strconv.Itoa(sc.vus)
	profiled := r.takeProfile(srv, sc.name)
	res, err := r.k6run(sc.script, env, dir, sc.purchases)
	if perr := <-profiled; perr != nil {
		fmt.Fprintln(os.Stderr, "loadbench: profile:", perr)
	}
	res.Scenario, res.Server, res.PeakRSS = sc.name, kind, srv.peakRSS()
	srv.stop()
	if err != nil {
		return result{}, fmt.Errorf("%s on %s: %w", sc.name, kind, err)
	}
	return res, nil
}

// server is a running server process.
type server struct {
	cmd         *exec.Cmd
	base, debug string // debug: the store's pprof address, when profiling
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// launch is how a server starts: seed, when set, writes the heavy account
// before it does; debug opens the store's pprof listener (always on when
// profiling); args are the store's own flags after serve.
type launch struct {
	seed  func(db string) (balance int64, err error)
	debug bool
	args  []string
}

// rawThroughput are the store's flags for the throughput scenarios: no
// rate limit (k6 sends a whole crowd's requests with one API key or one
// admin), and a bound on requests in flight that the scenarios never
// reach, so that they measure what the store can do, not what it admits.
var rawThroughput = []string{"-client-rate", "0", "-caller-rate", "0", "-max-in-flight", "1000000"}

// start runs a fresh server of kind in dir and returns it and the
// environment its scenario needs.
func (r *runner) start(kind, dir string, l launch) (*server, map[string]string, error) {
	seed := l.seed
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	env := map[string]string{"BASE": "http://" + addr}
	db := filepath.Join(dir, "load.db")
	var cmd *exec.Cmd
	if kind == "baseline" {
		env["MODE"] = "baseline"
		self, err := os.Executable()
		if err != nil {
			return nil, nil, err
		}
		if seed != nil {
			balance, err := seedBaseline(db)
			if err != nil {
				return nil, nil, err
			}
			env["ACCOUNT"], env["WANT_BALANCE"] = heavyAccount, strconv.FormatInt(balance, 10)
		}
		cmd = exec.Command(self, "baseline", addr, db)
	} else {
		password := randomText()
		base := append(os.Environ(), "UNICORN_DB="+db, "UNICORN_ADDR="+addr, "UNICORN_DEMO_PASSWORD="+password,
			"POINT_TTL_DAYS=4000", "UNICORN_WEBAPP_DIR="+dir)
		if seed != nil {
			balance, err := seed(db)
			if err != nil {
				return nil, nil, err
			}
			env["ACCOUNT"], env["WANT_BALANCE"] = heavyAccount, strconv.FormatInt(balance, 10)
		}
		key, err := r.apiKey(base)
		if err != nil {
			return nil, nil, err
		}
		env["API_KEY"], env["ADMIN_PASSWORD"] = key, password
		args := []string{"serve"}
		if r.profile != "" || l.debug {
			if env["DEBUG"], err = freeAddr(); err != nil {
				return nil, nil, err
			}
			args = append(args, "-debug-addr", env["DEBUG"])
		}
		cmd = exec.Command(r.unicorn, append(args, l.args...)...)
		cmd.Env = base
	}
	logs, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	s := &server{cmd: cmd, base: env["BASE"], debug: env["DEBUG"]}
	if err := s.ready(env); err != nil {
		s.stop()
		out, _ := os.ReadFile(logs.Name())
		return nil, nil, fmt.Errorf("%s did not start: %w\n%s", kind, err, tail(out))
	}
	return s, env, nil
}

// apiKey makes the store's API key for the /points scenarios.
func (r *runner) apiKey(env []string) (string, error) {
	cmd := exec.Command(r.unicorn, "apikeys", "create", "-scopes", "points:read,points:write", "-name", "load test")
	cmd.Env = env
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("create an API key: %w\n%s", err, errs.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// probe asks whether a server is ready; a server that accepts and never
// answers must not hang the run.
var probe = &http.Client{Timeout: 10 * time.Second}

// ready waits until the server answers, and for a seeded account until
// the read model holds all of it (the outbox catches up at start).
func (s *server) ready(env map[string]string) error {
	deadline := time.Now().Add(10 * time.Minute)
	url := s.base + "/points?account_id=nobody"
	if acc := env["ACCOUNT"]; acc != "" {
		url = s.base + "/points?account_id=" + acc
	}
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("X-Api-Key", env["API_KEY"])
		resp, err := probe.Do(req)
		if err == nil {
			var b struct {
				Balance int64 `json:"balance"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&b)
			resp.Body.Close()
			want, _ := strconv.ParseInt(env["WANT_BALANCE"], 10, 64)
			if resp.StatusCode == http.StatusOK && b.Balance == want {
				return nil
			}
		}
		if s.cmd.ProcessState != nil {
			return errors.New("it exited")
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("not ready within 10 minutes")
}

// takeProfile records a CPU profile of the server over most of the
// scenario, into the profile directory, when both are set up; the channel
// says how it went once it is done.
func (r *runner) takeProfile(s *server, scenario string) <-chan error {
	done := make(chan error, 1)
	if r.profile == "" || s.debug == "" {
		done <- nil
		return done
	}
	go func() {
		seconds := max(1, int(r.duration.Seconds())-3)
		done <- r.saveProfile(s, fmt.Sprintf("profile?seconds=%d", seconds), scenario)
	}()
	return done
}

// saveProfile fetches a profile from the store's pprof listener (what is
// the part of its URL after /debug/pprof/) into the profile directory, as
// name.pprof.
func (r *runner) saveProfile(s *server, what, name string) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s", s.debug, what))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	if err := os.MkdirAll(r.profile, 0o755); err != nil {
		return err
	}
	name = strings.NewReplacer(" ", "-", "/", "", ",", "").Replace(name) + ".pprof"
	f, err := os.Create(filepath.Join(r.profile, name))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintln(os.Stderr, "loadbench: profile in", f.Name())
	return f.Close()
}

// peakRSS is the process's resident set high-water mark (Linux).
func (s *server) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	hwm, _ := statusKB(string(b), "VmHWM")
	return hwm
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// k6run runs a throughput script for the runner's duration and reads its
// summary.
func (r *runner) k6run(script string, env map[string]string, dir string, purchases bool) (result, error) {
	m, err := r.k6exec(script, env, dir, r.duration, "--duration", r.duration.String())
	if err != nil {
		return result{}, err
	}
	d := m["http_req_duration"]
	res := result{P50: d["p(50)"], P95: d["p(95)"], P99: d["p(99)"], Unit: "requests/s",
		Throughput: m["http_reqs"]["rate"], Errors: m["http_reqs"]["count"] * m["http_req_failed"]["value"]}
	if purchases {
		res.Unit, res.Throughput = "purchases/s", m["purchases_completed"]["rate"]
		res.Errors = m["purchases_unexpected"]["count"]
		res.Refused = m["purchases_business_failures"]["count"]
	}
	return res, nil
}

// metrics are a k6 summary's metrics by name, a submetric named as its
// threshold names it ("http_reqs{w:3}"), each with its figures ("count",
// "rate", "p(99)", ...).
type metrics map[string]map[string]float64

// k6exec runs a script with env, its summary exported into dir, allowing
// it about how long it should run and some minutes more, and reads the
// summary.
func (r *runner) k6exec(script string, env map[string]string, dir string, about time.Duration, flags ...string) (metrics, error) {
	summary := filepath.Join(dir, "summary.json")
	args := append([]string{"run", "--quiet", "--no-usage-report", "--summary-export", summary}, flags...)
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), about+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.k6, append(args, filepath.Join(r.scripts, script))...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("k6: %w\n%s", err, tail(out.Bytes()))
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		return nil, err
	}
	var s struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("k6 summary: %w", err)
	}
	m := metrics{}
	for name, figures := range s.Metrics {
		m[name] = map[string]float64{}
		for k, v := range figures {
			if f, ok := v.(float64); ok { // not "thresholds", an object
				m[name][k] = f
			}
		}
	}
	return m, nil
}

func randomText() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(b []byte) string {
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}
