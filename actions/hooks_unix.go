//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package actions

import (
	"errors"
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

// killedBySignal reports a hook that a signal ended rather than one that
// exited with a status.
func killedBySignal(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}
