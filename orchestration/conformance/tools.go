// Package conformance runs the independent Step Functions tools that make
// asl-tools installs here (aws-local-stepfunctions, asl-validator) for
// tests: Dir finds them, StartStepFunctions serves the Step Functions API
// on them (sfn-server.mjs).
//
// Without the tools, a test that needs them is skipped with the reason,
// unless UNICORN_REQUIRE_ASL_TOOLS is set (make test sets it), in which
// case it fails: CI can never pass by skipping them.
package conformance

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Dir returns the folder holding the tools (orchestration/conformance of
// the module), or skips or fails tb when they or Node.js are missing.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := find()
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		if os.Getenv("UNICORN_REQUIRE_ASL_TOOLS") != "" {
			tb.Fatalf("the ASL tools are required: %v", err)
		}
		tb.Skipf("the ASL tools are missing: %v", err)
	}
	return dir
}

// find looks for the installed tools from the working directory up to the
// module's root.
func find() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(d, "orchestration", "conformance")
			if _, err := os.Stat(filepath.Join(dir, "node_modules", "aws-local-stepfunctions")); err != nil {
				return "", fmt.Errorf("they are not installed in %s: run make asl-tools", dir)
			}
			return dir, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod above the working directory")
		}
	}
}
