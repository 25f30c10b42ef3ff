package childproc

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes cmd's process end with this one, even when this one
// is killed with SIGKILL and runs no cleanup.
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
