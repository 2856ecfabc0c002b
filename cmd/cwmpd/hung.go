package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cwmpd/cwmpd/journal"
)

// noAnswer reports whether a control-socket error means the daemon did not
// answer (hung, stopped, or gone mid-request) rather than that it answered
// with an error.
func noAnswer(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// heldError is what the operator is told when a process holds the journal
// and its control socket does not answer.
func heldError(cmd string, pid int) error {
	if pid == 0 {
		return usagef("%s: the journal is held by a process whose pid cannot be read, and no daemon answers on the control socket; stop that process (or restart the daemon) and run this again", cmd)
	}
	return usagef("%s: the daemon (pid %d) does not answer; restart it (its supervisor will), or run with --force to stop it", cmd, pid)
}

// silentDaemon words a failed control-socket call of print or set: a
// daemon that does not answer is named by its pid, with what to do.
func silentDaemon(cmd, state string, err error) error {
	if !noAnswer(err) {
		return usagef("%s: %v", cmd, err)
	}
	if pid, held, _ := journal.Holder(journalDir(state)); held && pid != 0 {
		return usagef("%s: the daemon (pid %d) does not answer (%v); restart it (its supervisor will)", cmd, pid, err)
	}
	return usagef("%s: the daemon does not answer (%v); restart it (its supervisor will)", cmd, err)
}

// stopHungDaemon SIGKILLs pid, the holder of state's journal, after
// checking that it is a `cwmpd run` on this very state directory, and waits
// (up to wait) for the journal's lock to be released. Its supervisor
// (procd, systemd) starts it again; that start finds the reset journal.
func stopHungDaemon(state string, pid int, wait time.Duration) error {
	if pid == 0 {
		return errors.New("the pid of the journal's holder cannot be read: nothing stopped")
	}
	// FindProcess holds the process by a pidfd where the kernel has them,
	// so that the signal below reaches the process checked here even if
	// it dies and its pid is reused meanwhile.
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, err)
	}
	defer p.Release()
	if err := isDaemonOn(pid, state); err != nil {
		return fmt.Errorf("pid %d holds the journal but %v: not stopped", pid, err)
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop pid %d: %w", pid, err)
	}
	dir := journalDir(state)
	deadline := time.Now().Add(wait)
	for {
		_, held, err := journal.Holder(dir)
		if err != nil {
			return fmt.Errorf("pid %d killed; journal lock: %w", pid, err)
		}
		if !held {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d was sent SIGKILL but still holds the journal after %v", pid, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isDaemonOn checks, through /proc, that pid runs `cwmpd run` and that its
// --state (resolved in its working directory) is state.
func isDaemonOn(pid int, state string) error {
	proc := "/proc/" + strconv.Itoa(pid)
	raw, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		return fmt.Errorf("its command line cannot be read (%w)", err)
	}
	args := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	shown := strings.Join(args, " ")
	if len(args) < 2 || args[1] != "run" || !isCwmpd(proc, args[0]) {
		return fmt.Errorf("it is not a cwmpd run (%q)", shown)
	}
	theirs := defaultStateDir
	for i := 2; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if v, ok := cutFlag(a, "state"); ok {
			theirs = v
		} else if a == "--state" || a == "-state" {
			if i+1 < len(args) {
				theirs = args[i+1]
				i++
			}
		}
	}
	if !filepath.IsAbs(theirs) {
		cwd, err := os.Readlink(proc + "/cwd")
		if err != nil {
			return fmt.Errorf("its working directory cannot be read for --state %s (%w)", theirs, err)
		}
		theirs = filepath.Join(cwd, theirs)
	}
	a, err := os.Stat(theirs)
	if err != nil {
		return fmt.Errorf("its state directory %s cannot be read (%w)", theirs, err)
	}
	b, err := os.Stat(state)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", state, err)
	}
	if !os.SameFile(a, b) {
		return fmt.Errorf("it runs on another state directory (%s)", theirs)
	}
	return nil
}

// isCwmpd: the program is named cwmpd (or cwmpd-*), or is this very binary.
func isCwmpd(proc, argv0 string) bool {
	if base := filepath.Base(argv0); base == "cwmpd" || strings.HasPrefix(base, "cwmpd-") {
		return true // cwmpd-linux-armv7 and the like, as make cross names them
	}
	theirs, err1 := os.Stat(proc + "/exe")
	ours, err2 := os.Stat("/proc/self/exe")
	return err1 == nil && err2 == nil && os.SameFile(theirs, ours)
}

// cutFlag reads "--name=value" or "-name=value".
func cutFlag(arg, name string) (string, bool) {
	for _, p := range []string{"--" + name + "=", "-" + name + "="} {
		if v, ok := strings.CutPrefix(arg, p); ok {
			return v, true
		}
	}
	return "", false
}
