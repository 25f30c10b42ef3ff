package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/internal/syncbuf"
)

// binary is the unicorn command built for the tests that run it as a
// separate process (to kill it).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "unicorn-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "unicorn")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build unicorn: %v\n%s", err, out)
		os.Exit(1)
	}
	code := dynamotest.Run(m) // DynamoDB Local, for serve on DynamoDB
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running `unicorn serve`.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   *sync.Mutex
}

// listening finds the API's address in the log (the debug address is
// logged before it, with its own url=).
var listening = regexp.MustCompile(`msg="unicorn store listening" url=(http://\S+)`)

// startServe runs the binary on a free port over the database at db.
func startServe(t *testing.T, db string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, "serve", "-addr", "127.0.0.1:0", "-db", db)
	cmd.Env = append(append(os.Environ(), "UNICORN_DEMO_PASSWORD="+demoPassword), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case p.url = <-found:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("unicorn serve did not start:\n%s", p.log())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return p
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// kill9 ends the process with SIGKILL: no shutdown code runs.
func (p *process) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

var client = &http.Client{Timeout: 10 * time.Second}

func call(method, url, body string, header ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// apiKey makes an API key with scopes in the database at db, as an
// operator would with "unicorn apikeys create".
func apiKey(t *testing.T, db, scopes string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"apikeys", "create", "-db", db, "-scopes", scopes}, func(string) string { return "" },
		nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String())
}

// demoPassword is the demo users' password in the binary tests.
const demoPassword = "demo-password-for-tests"

// signIn returns an Authorization header value for a demo user.
func signIn(t *testing.T, url, username string) string {
	t.Helper()
	status, body, err := call("POST", url+"/auth/token", fmt.Sprintf(`{"username":%q,"password":%q}`, username, demoPassword))
	if err != nil || status != 200 {
		t.Fatalf("sign in as %s: %d %v %s", username, status, err, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok.AccessToken
}

type issueReq struct {
	key    string
	amount int64
}

// TestCrashKeepsAcknowledgedIssues runs the real binary, sends issues from
// several clients, kill -9s it mid-stream three times, and checks after the
// last restart that every acknowledged issue is in the ledger and the
// balance exactly once. Then clients retry what was never acknowledged,
// with the same idempotency keys, and the balance is exactly the sum of all
// requests.
func TestCrashKeepsAcknowledgedIssues(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for several seconds")
	}
	db := filepath.Join(t.TempDir(), "unicorn.db")
	key := apiKey(t, db, "points:read,points:write")
	var mu sync.Mutex
	acked := map[string]int64{}   // key -> amount, answered 201
	unacked := map[string]int64{} // sent, no answer (or not 201)
	next := 0
	rng := rand.New(rand.NewPCG(7, 7))

	for round := range 3 {
		p := startServe(t, db)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					next++
					r := issueReq{key: fmt.Sprintf("r%d-c%d-%d", round, c, next), amount: int64(1 + next%97)}
					mu.Unlock()
					status, _, err := call("POST", p.url+"/points", fmt.Sprintf(`{"account_id":"crash","amount":%d,"reference":%q}`, r.amount, r.key), "Idempotency-Key", r.key, "X-Api-Key", key)
					mu.Lock()
					if err == nil && status == 201 {
						acked[r.key] = r.amount
					} else {
						unacked[r.key] = r.amount
					}
					mu.Unlock()
					if err != nil {
						return // the server is gone
					}
				}
			})
		}
		time.Sleep(time.Duration(300+rng.IntN(500)) * time.Millisecond)
		p.kill9(t)
		close(stop)
		wg.Wait()
	}
	if len(acked) < 50 {
		t.Fatalf("only %d issues were acknowledged before the crashes", len(acked))
	}

	p := startServe(t, db)
	refs := references(t, p.url, key)
	var ackedSum int64
	for key, amount := range acked {
		ackedSum += amount
		if refs[key] != 1 {
			t.Errorf("acknowledged issue %s is in the ledger %d times", key, refs[key])
		}
	}
	for key, n := range refs {
		if _, ok := unacked[key]; n != 1 || (!ok && acked[key] == 0) {
			t.Errorf("ledger holds %s %d times (acknowledged: %v)", key, n, acked[key] != 0)
		}
	}
	// The balance is exactly the issues the ledger holds: the acknowledged
	// ones and those that committed before their answer was lost.
	var ledgerSum int64
	for key := range refs {
		ledgerSum += acked[key] + unacked[key]
	}
	if got := balance(t, p.url, "crash", key); got != ledgerSum {
		t.Errorf("balance after the crashes = %d, the ledger holds %d", got, ledgerSum)
	}
	// Retry every request that was never acknowledged, as a client would.
	total := ackedSum
	for ref, amount := range unacked {
		status, body, err := call("POST", p.url+"/points", fmt.Sprintf(`{"account_id":"crash","amount":%d,"reference":%q}`, amount, ref), "Idempotency-Key", ref, "X-Api-Key", key)
		if err != nil || status != 201 {
			t.Fatalf("retry %s: %d %v %s", ref, status, err, body)
		}
		total += amount
	}
	if got := balance(t, p.url, "crash", key); got != total {
		t.Errorf("balance = %d, want %d (%d acknowledged + %d retried requests)", got, total, len(acked), len(unacked))
	}
	for ref, n := range references(t, p.url, key) {
		if n != 1 {
			t.Errorf("after retries %s is in the ledger %d times", ref, n)
		}
	}
	t.Logf("%d acknowledged, %d retried after 3 kill -9", len(acked), len(unacked))
}

// references counts the issues in the crash account's ledger by reference.
func references(t *testing.T, url, key string) map[string]int {
	t.Helper()
	refs := map[string]int{}
	cursor := ""
	for {
		status, body, err := call("GET", url+"/points/transactions?account_id=crash&limit=500&cursor="+cursor, "", "X-Api-Key", key)
		if err != nil || status != 200 {
			t.Fatalf("transactions: %d %v %s", status, err, body)
		}
		var page struct {
			Items []struct {
				Reference string `json:"reference"`
				Seq       int64  `json:"seq"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			refs[it.Reference]++
		}
		if page.NextCursor == "" {
			return refs
		}
		cursor = page.NextCursor
	}
}

func balance(t *testing.T, url, account, key string) int64 {
	t.Helper()
	status, body, err := call("GET", url+"/points?account_id="+account, "", "X-Api-Key", key)
	if err != nil || status != 200 {
		t.Fatalf("balance: %d %v %s", status, err, body)
	}
	var b struct{ Balance int64 }
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b.Balance
}

// TestServeShutsDownGracefully runs serve in-process: SIGTERM (a cancelled
// context) ends it with no error.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	db := filepath.Join(t.TempDir(), "unicorn.db")
	key := apiKey(t, db, "points:write")
	var stderr syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db, "-webapp-dir", t.TempDir()}, func(string) string { return "" }, nil, io.Discard, &stderr)
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if status, body, err := call("POST", url+"/points", `{"account_id":"1234","amount":100}`, "Authorization", "Bearer "+key); err != nil || status != 201 {
		t.Fatalf("issue: %d %v %s", status, err, body)
	}
	// No web app is built: start-up said so, once, and / says how to build it.
	if n := strings.Count(stderr.String(), "the web app is not built"); n != 1 {
		t.Errorf("%d warnings that the web app is not built, want 1:\n%s", n, stderr.String())
	}
	if status, body, err := call("GET", url+"/", ""); err != nil || status != 200 || !strings.Contains(string(body), "make webapp") {
		t.Errorf("GET /: %d %v %s", status, err, body)
	}
	// The outbox dispatcher projects the event without anyone reading the
	// balance: look at the read model through a second handle on the file.
	other, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		v, err := other.Balances().Get(context.Background(), "UnicornStore/1234") // the store key's client
		if err == nil && v.Seq == 1 && v.Lots[0].Remaining == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dispatcher did not project the issue: %+v, %v", v, err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", stderr.String())
	}
}

// Profiles are served only where -debug-addr says, never on the API's
// address.
func TestProfilesOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := startServe(t, filepath.Join(dir, "a.db"))
	if status, _, err := call("GET", plain.url+"/debug/pprof/", ""); err != nil || status != http.StatusNotFound {
		t.Errorf("profiles on the API's address: %d %v", status, err)
	}
	p := startServe(t, filepath.Join(dir, "b.db"), "UNICORN_DEBUG_ADDR=127.0.0.1:0")
	m := regexp.MustCompile(`msg="profiles served" url=(http://\S+)`).FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("no profiles address in the log:\n%s", p.log())
	}
	if status, body, err := call("GET", m[1]+"goroutine?debug=1", ""); err != nil || status != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("goroutine profile: %d %v", status, err)
	}
}

// envInt reads a whole number of at least least from the environment
// variable name, def when it is unset: the knobs of the longer runs.
func envInt(t testing.TB, name string, def, least int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		t.Fatalf("%s=%q: want a whole number of at least %d", name, v, least)
	}
	return n
}
