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
