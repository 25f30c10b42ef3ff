package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/orchestration/conformance"
	"github.com/unicornstore/unicorn/ports"
)

// outcome is how an execution ended, comparable across runtimes.
type outcome struct {
	Output any      `json:"output,omitempty"`
	Error  string   `json:"error,omitempty"`
	Cause  string   `json:"cause,omitempty"`
	Calls  []string `json:"calls,omitempty"`
}

func decodeOutcome(t *testing.T, b []byte) outcome {
	t.Helper()
	var o outcome
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("outcome %s: %v", b, err)
	}
	// The two runtimes word their own (States.*) errors differently; the
	// name is what a Catch sees. Task and Fail causes must agree.
	if strings.HasPrefix(o.Error, "States.") {
		o.Cause = ""
	}
	if len(o.Calls) == 0 {
		o.Calls = nil
	}
	return o
}

// TestConformance runs every case of testdata/conformance through this
// executor and through aws-local-stepfunctions, and expects the same output
// or the same error, after the same task calls.
func TestConformance(t *testing.T) {
	cases, err := filepath.Glob("../testdata/conformance/*/definition.asl.json")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no conformance cases: %v", err)
	}
	for _, defPath := range cases {
		dir := filepath.Dir(defPath)
		t.Run(filepath.Base(dir), func(t *testing.T) { conform(t, defPath, dir) })
	}
}

// TestPurchaseConformance runs the purchase saga itself through both
// runtimes, with its tasks scripted for the happy path and each failure
// path: the same end, after the same steps.
func TestPurchaseConformance(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/purchase/*")
	if err != nil || len(dirs) < 5 {
		t.Fatalf("purchase cases: %v, %v", dirs, err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { conform(t, "../purchase.asl.json", dir) })
	}
}

// conform runs one case: the definition, with input.json and tasks.json
// from dir.
func conform(t *testing.T, defPath, dir string) {
	t.Parallel()
	tools := conformance.Dir(t)
	def, err := os.ReadFile(defPath)
	if err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile(filepath.Join(dir, "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var scripts map[string][]step
	if b, err := os.ReadFile(filepath.Join(dir, "tasks.json")); err == nil {
		if err := json.Unmarshal(b, &scripts); err != nil {
			t.Fatal(err)
		}
	}

	h := newHarness(t)
	var log callLog
	if err := h.ex.Register("case", def, loggedHandlers(t, def, scripts, &log)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.ex.Start(context.Background(), "case", "conformance", input); err != nil {
		t.Fatal(err)
	}
	x := h.finish("conformance")
	ours := map[string]any{"calls": log.names}
	if x.Status == ports.ExecutionSucceeded {
		ours["output"] = json.RawMessage(x.Output)
	} else {
		ours["error"], ours["cause"] = x.Error, x.Cause
	}
	oursJSON, _ := json.Marshal(ours)

	cmd := exec.Command("node", filepath.Join(tools, "localsfn.mjs"), defPath, filepath.Join(dir, "input.json"), filepath.Join(dir, "tasks.json"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	theirs, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws-local-stepfunctions: %v\n%s", err, stderr.String())
	}
	want, got := decodeOutcome(t, theirs), decodeOutcome(t, oursJSON)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcome differs (-aws-local-stepfunctions +ours):\n%s", diff)
	}
}

// TestDefinitionsAreValid runs asl-validator over every definition: the
// conformance corpus and the state machines of the repository.
func TestDefinitionsAreValid(t *testing.T) {
	tools := conformance.Dir(t)
	defs, _ := filepath.Glob("../testdata/conformance/*/definition.asl.json")
	repo, _ := filepath.Glob("../*.asl.json")
	defs = append(defs, repo...)
	args := []string{filepath.Join(tools, "node_modules", "asl-validator", "dist", "bin", "asl-validator.js")}
	for _, d := range defs {
		args = append(args, "--json-path", d)
	}
	out, err := exec.Command("node", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "is valid"); n != len(defs) {
		t.Errorf("asl-validator approved %d of %d definitions:\n%s", n, len(defs), out)
	}
}
