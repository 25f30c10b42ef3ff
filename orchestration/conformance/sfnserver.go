package conformance

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/internal/childproc"
	"github.com/unicornstore/unicorn/internal/syncbuf"
)

// Machine is a state machine the server runs: its ARN
// (arn:aws:states:<region>:<account>:stateMachine:<name>) and the file of
// its definition.
type Machine struct {
	ARN        string
	Definition string
}

// startTimeout bounds how long the server may take to say it listens: Node
// loads the AWS SDK first, which takes seconds on a busy machine.
const startTimeout = 90 * time.Second

// StartStepFunctions starts sfn-server.mjs with machines and returns its
// endpoint (http://127.0.0.1:<port>); tb's cleanup stops it. env is added
// to the server's environment: AWS_ENDPOINT_URL_LAMBDA=<url> is where its
// Task states invoke their Lambda functions.
func StartStepFunctions(tb testing.TB, env []string, machines ...Machine) string {
	tb.Helper()
	dir := Dir(tb)
	args := []string{filepath.Join(dir, "sfn-server.mjs"), "--port", "0"}
	for _, m := range machines {
		args = append(args, "--state-machine", m.ARN+"="+m.Definition)
	}
	cmd := exec.Command("node", args...)
	cmd.Env = append(os.Environ(), env...)
	childproc.DieWithParent(cmd)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	ready := make(chan string, 1)
	cmd.Stdout = &firstLine{ready: ready}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the Step Functions server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if tb.Failed() && stderr.String() != "" {
			tb.Logf("the Step Functions server said:\n%s", stderr.String())
		}
	})

	select {
	case line := <-ready:
		port, ok := strings.CutPrefix(line, "listening ")
		if !ok {
			tb.Fatalf("the Step Functions server did not start (its first line: %q):\n%s", line, stderr.String())
		}
		return "http://127.0.0.1:" + port
	case <-exited:
		tb.Fatalf("the Step Functions server exited: %v\n%s", cmd.ProcessState, stderr.String())
	case <-time.After(startTimeout):
		tb.Fatalf("the Step Functions server did not listen within %v:\n%s", startTimeout, stderr.String())
	}
	return ""
}

// firstLine hands the first line written to it to ready, and drops the
// rest.
type firstLine struct {
	ready chan<- string
	line  []byte
	sent  bool
}

func (f *firstLine) Write(p []byte) (int, error) {
	if !f.sent {
		f.line = append(f.line, p...)
		if i := bytes.IndexByte(f.line, '\n'); i >= 0 {
			f.ready <- string(f.line[:i])
			f.sent = true
		}
	}
	return len(p), nil
}
