package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent ends a child process with the test binary, even on kill -9.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
