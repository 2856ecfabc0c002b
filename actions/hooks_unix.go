//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package actions

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes the hook's shell lead its own process group and
// makes cancelling (the timeout) kill the whole group, so a command's
// children do not outlive it holding its output open.
func ownProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
}
