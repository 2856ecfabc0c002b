package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var errStopping = errors.New("agentbench is stopping")

// helpers are the processes agentbench has started and not yet waited for,
// by process-group id (each helper leads its own group: childAttr).
var helpers = struct {
	mu      sync.Mutex
	pids    map[int]bool
	stopped bool // interrupted: no new helper starts
}{pids: map[int]bool{}}

// startHelper starts cmd in its own process group, dying with agentbench
// where the OS allows (childAttr), and remembers it until waitHelper.
func startHelper(cmd *exec.Cmd) error {
	cmd.SysProcAttr = childAttr()
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	if helpers.stopped {
		return errStopping
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	helpers.pids[cmd.Process.Pid] = true
	return nil
}

// waitHelper waits for a helper started by startHelper and forgets it.
func waitHelper(cmd *exec.Cmd) error {
	err := cmd.Wait()
	helpers.mu.Lock()
	delete(helpers.pids, cmd.Process.Pid)
	helpers.mu.Unlock()
	return err
}

// killHelpers SIGKILLs every helper's group, lets no new one start, and
// returns once each has exited (gone, or a zombie that writes nothing
// more), or after d.
func killHelpers(d time.Duration) {
	helpers.mu.Lock()
	helpers.stopped = true
	pids := make([]int, 0, len(helpers.pids))
	for pid := range helpers.pids {
		syscall.Kill(-pid, syscall.SIGKILL)
		pids = append(pids, pid)
	}
	helpers.mu.Unlock()
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for running(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// running reports whether pid is alive and not a zombie. Where /proc is
// missing it falls back to signal 0, which a zombie still answers: the
// wait then ends at killHelpers' deadline.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err == nil {
		return !strings.Contains(string(b), ") Z ")
	}
	if _, statErr := os.Stat("/proc/self"); statErr == nil {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

// cleanUpOnInterrupt makes SIGINT or SIGTERM end agentbench the way a
// finished run does: helpers killed, root removed (unless kept), then exit
// status 130. Without it an interrupted benchmark leaves its temporary
// directories, a journal per scenario, behind. The returned func stops the
// handling once the run is over; if an interrupt is being handled it never
// returns, so that the run's own exit cannot overtake the clean-up.
func cleanUpOnInterrupt(root string, keep bool, logf func(string, ...any)) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var handling sync.Mutex // held for good by the handler once it acts
	go func() {
		select {
		case s := <-sigs:
			handling.Lock()
			logf("%v: stopping the helpers", s)
			killHelpers(5 * time.Second)
			if keep {
				logf("directories kept in %s", root)
			} else if err := removeSettled(root); err != nil {
				logf("removing %s: %v", root, err)
			}
			os.Exit(130)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		handling.Lock()
		close(done)
	}
}

// stopping reports whether an interrupt is being handled: the run starts
// no scenario and creates no file then (its scenarios fail on their own
// once their helpers are gone, and would otherwise go on to the next).
func stopping() bool {
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	return helpers.stopped
}

// removeSettled removes dir and checks, a moment later, that it is still
// gone: a scenario that was past its stopping check when the interrupt came
// may create one more file in it.
func removeSettled(dir string) error {
	var err error
	for range 5 {
		if err = os.RemoveAll(dir); err == nil {
			time.Sleep(50 * time.Millisecond)
			if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) {
				return nil
			}
			err = errors.New("recreated while being removed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}
