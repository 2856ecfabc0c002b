package main

import (
	"fmt"
	"syscall"
	"time"
)

// prSetTimerSlack is PR_SET_TIMERSLACK (linux/prctl.h).
const prSetTimerSlack = 29

// applyTimerSlack sets the kernel's timer slack of every thread of the
// process, as systemd's TimerSlackNSec= does for a service; threads the
// runtime starts later inherit it. The kernel may then run a timer up to
// that much late, so that wake-ups coalesce. The one that matters is the Go
// runtime's monitor thread (sysmon): once woken by a system call it polls
// every 20 µs while the agent is busy, about 24 sleeps per periodic session
// (strace), each a timer and two context switches. With 10 ms of slack —
// sysmon's own longest back-off — it polls about as often while the agent
// works as it does when the agent idles. Measured (make bench-agent, 100
// sessions each): 3.2 ms of CPU per periodic session with the kernel's
// 50 µs, 2.2 ms with 1 ms, 2.0 ms with 10 ms. Every timer the agent itself
// relies on is in seconds; the journal's 100 µs linger for concurrent
// appenders may last up to the slack.
//
// Programs the agent runs (the hooks platform) inherit the slack, and the
// kernel makes it their default too. It fails (ENOTSUP) in a cgo build,
// where the runtime cannot reach every thread; the caller logs it and goes
// on. The caller keeps d at most a second, so that it fits a 32-bit
// uintptr.
func applyTimerSlack(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if _, _, errno := syscall.AllThreadsSyscall(syscall.SYS_PRCTL, prSetTimerSlack, uintptr(d.Nanoseconds()), 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_TIMERSLACK, %v) on every thread: %w", d, errno)
	}
	return nil
}
