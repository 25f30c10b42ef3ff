// Command loadbench drives the store with k6 beside the limit baseline and
// writes what it measured into docs/benchmarks.md, with a chart (make
// bench runs it after the Go benchmarks).
//
//	loadbench -k6 .cache/bin/k6 -unicorn bin/unicorn -doc docs/benchmarks.md -chart docs/benchmarks-load.svg
//	loadbench baseline <address> <database file>    the baseline server
//
// Each scenario runs on a fresh server and database: the points mix of
// seed 003 (50 virtual users), purchases (16 buyers), and GET /points on
// an account with ten years of daily lots (about 100,000 events). The
// baseline answers the same requests with one SQLite insert per write at
// the same durability; each scenario's throughput is reported as a ratio
// to the baseline's in the same run.
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
	profile := flag.String("profile", "", "a directory: take a CPU profile of the store during each scenario into it (see go tool pprof)")
	only := flag.String("only", "", "run only the scenarios whose name contains this (for a quick look: pair it with -doc and -chart elsewhere)")
	flag.IntVar(&perDay, "heavy-per-day", perDay, "issues a day in the heavy account's ten years (27 gives 100,000 events)")
	flag.Parse()
	r := &runner{k6: *k6, unicorn: *unicorn, duration: *duration, scripts: scriptsDir(), only: *only, profile: *profile}
	results, err := r.all()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
	if err := report(*doc, *chart, results); err != nil {
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

func (r *runner) all() ([]result, error) {
	var out []result
	for _, sc := range []struct {
		name, script string
		vus          int
		seed         func(db string) (balance int64, err error)
		purchases    bool
	}{
		{name: "points mix", script: "points-mix.js", vus: 50},
		{name: "purchases", script: "purchases.js", vus: 16, purchases: true},
		{name: "GET /points, heavy account", script: "heavy-balance.js", vus: 4, seed: seedHeavy},
	} {
		if !strings.Contains(sc.name, r.only) {
			continue
		}
		var pair []result
		for _, kind := range []string{"baseline", "unicorn serve"} {
			fmt.Fprintf(os.Stderr, "loadbench: %s on %s...\n", sc.name, kind)
			dir, err := os.MkdirTemp("", "loadbench-")
			if err != nil {
				return nil, err
			}
			srv, env, err := r.start(kind, dir, sc.seed)
			if err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
			env["VUS"] = strconv.Itoa(sc.vus)
			profiled := r.takeProfile(srv, sc.name)
			res, err := r.k6run(sc.script, env, dir, sc.purchases)
			if perr := <-profiled; perr != nil {
				fmt.Fprintln(os.Stderr, "loadbench: profile:", perr)
			}
			res.Scenario, res.Server, res.PeakRSS = sc.name, kind, srv.peakRSS()
			srv.stop()
			os.RemoveAll(dir)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", sc.name, kind, err)
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
	return out, nil
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

// start runs a fresh server of kind in dir and returns it and the
// environment its scenario needs.
func (r *runner) start(kind, dir string, seed func(string) (int64, error)) (*server, map[string]string, error) {
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
		if r.profile != "" {
			if env["DEBUG"], err = freeAddr(); err != nil {
				return nil, nil, err
			}
			base = append(base, "UNICORN_DEBUG_ADDR="+env["DEBUG"])
		}
		cmd = exec.Command(r.unicorn, "serve")
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
		done <- func() error {
			seconds := max(1, int(r.duration.Seconds())-3)
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.debug, seconds))
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
			name := strings.NewReplacer(" ", "-", "/", "", ",", "").Replace(scenario) + ".pprof"
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
		}()
	}()
	return done
}

// peakRSS is the process's resident set high-water mark (Linux).
func (s *server) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
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

// k6run runs a script and reads its summary.
func (r *runner) k6run(script string, env map[string]string, dir string, purchases bool) (result, error) {
	summary := filepath.Join(dir, "summary.json")
	args := []string{"run", "--quiet", "--no-usage-report", "--summary-export", summary, "--duration", r.duration.String()}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.duration+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.k6, append(args, filepath.Join(r.scripts, script))...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("k6: %w\n%s", err, tail(out.Bytes()))
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		return result{}, err
	}
	var s struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return result{}, err
	}
	d := s.Metrics["http_req_duration"]
	res := result{P50: d["p(50)"], P95: d["p(95)"], P99: d["p(99)"], Unit: "requests/s",
		Throughput: s.Metrics["http_reqs"]["rate"], Errors: s.Metrics["http_reqs"]["count"] * s.Metrics["http_req_failed"]["value"]}
	if purchases {
		res.Unit, res.Throughput = "purchases/s", s.Metrics["purchases_completed"]["rate"]
		res.Errors = s.Metrics["purchases_unexpected"]["count"]
		res.Refused = s.Metrics["purchases_business_failures"]["count"]
	}
	return res, nil
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
