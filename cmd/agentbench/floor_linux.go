package main

import (
	"syscall"
	"time"
)

// setTimerSlack sets the kernel's timer slack on every thread, as cwmpd run
// does (cmd/cwmpd/timerslack_linux.go); PR_SET_TIMERSLACK is 29.
func setTimerSlack(d time.Duration) error {
	if _, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, 29, uintptr(d.Nanoseconds()), 0); errno != 0 {
		return errno
	}
	return nil
}

// childAttr puts a helper process (acsim, cwmpd, the floor's sides) in its
// own process group, so the benchmark can kill it with whatever it started,
// and has the kernel kill it when agentbench dies: a Ctrl-C reaches only
// the terminal's group, and would otherwise leave the helpers running.
// The signal is tied to the thread that started the helper; Go parks idle
// threads rather than ending them (agentbench locks none), so it fires only
// when agentbench itself exits.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
