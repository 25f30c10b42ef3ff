package executor_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/unicornstore/unicorn/adapters/clock"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/internal/childproc"
	"github.com/unicornstore/unicorn/orchestration/executor"
	"github.com/unicornstore/unicorn/ports"
)

// The crash test runs the executor in a child process (this test binary,
// re-run with crashChildEnv set), kills it with SIGKILL at random moments,
// restarts it, and checks the end state.
const (
	crashChildEnv  = "EXECUTOR_CRASH_CHILD"
	crashCount     = 200
	crashStepCount = 4 // tasks with an effect per execution
)

const crashDefinition = `{
  "Comment": "several steps, a wait, a branch and a parallel state, every task writing to SQLite",
  "StartAt": "Reserve",
  "States": {
    "Reserve": {"Type": "Task", "Resource": "${Effect}", "Parameters": {"execution.$": "$$.Execution.Name", "step": "reserve"}, "ResultPath": "$.reserve", "Next": "Pause"},
    "Pause": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Route"},
    "Route": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 0, "Next": "Charge"}], "Default": "Failed"},
    "Charge": {"Type": "Task", "Resource": "${Effect}", "Parameters": {"execution.$": "$$.Execution.Name", "step": "charge"}, "ResultPath": "$.charge",
      "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 5}], "Next": "Both"},
    "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Done", "Branches": [
      {"StartAt": "Award", "States": {"Award": {"Type": "Task", "Resource": "${Effect}", "Parameters": {"execution.$": "$$.Execution.Name", "step": "award"}, "End": true}}},
      {"StartAt": "Notify", "States": {"Notify": {"Type": "Task", "Resource": "${Effect}", "Parameters": {"execution.$": "$$.Execution.Name", "step": "notify"}, "End": true}}}
    ]},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "Unexpected"}
  }
}`

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func openEffects(dir string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "effects.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS effects (execution TEXT NOT NULL, step TEXT NOT NULL, PRIMARY KEY (execution, step));
		CREATE TABLE IF NOT EXISTS calls (n INTEGER NOT NULL);
		CREATE TABLE IF NOT EXISTS total (n INTEGER NOT NULL);
		INSERT INTO total SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM total);
		INSERT INTO calls SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM calls);`)
	return db, err
}

// crashChild starts the executions (again: a start by name is idempotent)
// and runs them until every one has ended.
func crashChild(dir string) error {
	ctx := context.Background()
	effects, err := openEffects(dir)
	if err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "executions.db"))
	if err != nil {
		return err
	}
	ex, err := executor.New(executor.Config{Store: db.Executions(), Clock: clock.System{}, IDs: clock.UUIDs{}, Workers: 4, Poll: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	// The effect of a task is written once per (execution, step), whatever
	// the number of calls: that is what makes the task idempotent. The
	// running total moves only with a new effect, in the same transaction.
	effect := func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		var req struct{ Execution, Step string }
		if err := json.Unmarshal(in, &req); err != nil {
			return nil, err
		}
		tx, err := effects.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`UPDATE calls SET n = n + 1`); err != nil {
			return nil, err
		}
		res, err := tx.Exec(`INSERT OR IGNORE INTO effects (execution, step) VALUES (?, ?)`, req.Execution, req.Step)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if _, err := tx.Exec(`UPDATE total SET n = n + 1`); err != nil {
				return nil, err
			}
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		// A slow task: a kill here, after the effect and before the
		// transition is stored, makes the task run again after restart.
		time.Sleep(10 * time.Millisecond)
		return json.RawMessage(`{"done":true}`), nil
	}
	if err := ex.Register("crash", []byte(crashDefinition), map[string]executor.Handler{"Effect": effect}); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- ex.Run(runCtx) }()
	for i := range crashCount {
		if _, _, err := ex.Start(ctx, "crash", fmt.Sprint("e-", i), json.RawMessage(fmt.Sprintf(`{"n":%d,"delay":%d}`, i, i%4))); err != nil {
			return err
		}
	}
	for i := range crashCount {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		x, err := ex.Wait(wctx, fmt.Sprint("e-", i))
		cancel()
		if err != nil {
			return err
		}
		if !executor.Terminal(x) {
			return fmt.Errorf("e-%d did not end", i)
		}
	}
	stop()
	return <-done
}

// progressed polls until the process started last has called a task (the
// task calls counted pass since, their count when the one before was
// killed) while executions are running; false once every execution has
// ended. It gives up after a minute, however slow the machine.
func progressed(t *testing.T, dir string, since int) bool {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		running, ended := countStatuses(t, dir)
		if ended == crashCount {
			return false
		}
		if countCalls(dir) > since && running > 0 {
			return true
		}
	}
	t.Fatal("the executor called no task within a minute")
	return false
}

// countCalls reads how many times the tasks were called, by every
// process so far (0 before the first).
func countCalls(dir string) int {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "effects.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	if db.QueryRow(`SELECT n FROM calls`).Scan(&n) != nil {
		return 0 // not created yet
	}
	return n
}

// countStatuses reads the store as it was left by a killed process.
func countStatuses(t *testing.T, dir string) (running, ended int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "executions.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT COUNT(*) FILTER (WHERE status = 'RUNNING'), COUNT(*) FILTER (WHERE status != 'RUNNING') FROM executions`).Scan(&running, &ended); err != nil {
		return 0, 0 // killed before the schema existed
	}
	return running, ended
}

// TestCrashResumesEveryExecution kills the executor's process with SIGKILL
// at random points several times; after the last restart every execution
// ends, and each task's effect is there exactly once. Waits of 0 to 3 s
// spread the executions out, so kills land in every phase. Each kill
// waits until the process is running executions, then a random moment
// more: a fixed delay alone would, on a busy machine, kill a process that
// had not started yet, and prove nothing.
func TestCrashResumesEveryExecution(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a process several times")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 2))
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		childproc.DieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	interrupted, called := 0, 0
	for kill := range 6 {
		cmd := child()
		if !progressed(t, dir, called) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			break // every execution ended: nothing left to interrupt
		}
		time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		called = countCalls(dir) // what the next process must go beyond
		running, ended := countStatuses(t, dir)
		t.Logf("kill %d: %d executions running, %d ended", kill+1, running, ended)
		interrupted += running
	}
	if interrupted == 0 {
		t.Fatal("no kill interrupted a running execution: the test proves nothing")
	}
	cmd := child()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("last run: %v", err)
		}
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the last run did not finish")
	}

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "executions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range crashCount {
		x, err := db.Executions().Get(ctx, fmt.Sprint("e-", i))
		if err != nil || x.Status != ports.ExecutionSucceeded {
			t.Errorf("e-%d: %+v, %v", i, x.Status, err)
		}
	}
	effects, err := openEffects(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer effects.Close()
	var rows, total, calls int
	effects.QueryRow(`SELECT COUNT(*) FROM effects`).Scan(&rows)
	effects.QueryRow(`SELECT n FROM total`).Scan(&total)
	effects.QueryRow(`SELECT n FROM calls`).Scan(&calls)
	if want := crashCount * crashStepCount; rows != want || total != want {
		t.Errorf("%d effects, running total %d; want %d each", rows, total, want)
	}
	var missing int
	effects.QueryRow(`SELECT COUNT(*) FROM (SELECT execution FROM effects GROUP BY execution HAVING COUNT(*) != ?)`, crashStepCount).Scan(&missing)
	if missing != 0 {
		t.Errorf("%d executions lack an effect", missing)
	}
	t.Logf("%d effects from %d task calls across 6 kills", rows, calls)
}
