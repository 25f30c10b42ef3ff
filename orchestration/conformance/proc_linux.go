package conformance

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes a server die with the test binary, even when the
// binary is killed (Linux only: Pdeathsig).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
