package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIsDaemonOnChecksTheStateDir: --force kills a pid only when /proc
// shows a `cwmpd run` whose --state, resolved in its working directory, is
// this state dir. Checked on a real daemon started with a relative --state.
func TestIsDaemonOnChecksTheStateDir(t *testing.T) {
	srv := acs(t)
	parent := t.TempDir()
	state := filepath.Join(parent, "st")
	cmd := exec.Command(cwmpdBinary(t), "run", "--state", "st", "--defaults", defaultsFor(t, srv),
		"--connreq-listen", "127.0.0.1:0", "--connreq-host", "127.0.0.1")
	cmd.Dir = parent
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, func() bool { _, err := os.Stat(controlPath(state)); return err == nil }, "the daemon's control socket")
	pid := cmd.Process.Pid

	if err := isDaemonOn(pid, state); err != nil {
		t.Fatalf("the daemon on %s: %v", state, err)
	}
	if err := isDaemonOn(pid, t.TempDir()); err == nil || !strings.Contains(err.Error(), "another state directory") {
		t.Fatalf("the daemon checked against another dir: %v", err)
	}
	if err := isDaemonOn(os.Getpid(), state); err == nil || !strings.Contains(err.Error(), "not a cwmpd run") {
		t.Fatalf("the test process taken for a daemon: %v", err)
	}
	// stopHungDaemon refuses the same way, and kills nothing.
	if err := stopHungDaemon(t.TempDir(), pid, time.Second); err == nil {
		t.Fatal("stopHungDaemon accepted a daemon of another state dir")
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the daemon was stopped: %v", err)
	}
}
