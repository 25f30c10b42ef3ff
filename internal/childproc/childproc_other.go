//go:build !linux

package childproc

import "os/exec"

// DieWithParent is Linux-only (Pdeathsig); elsewhere a killed test may
// leave its children to the cleanup that did not run.
func DieWithParent(*exec.Cmd) {}
