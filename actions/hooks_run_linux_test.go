package actions

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A leftover run's record ends its process group only when it still names
// that group: same boot, and the id not taken by a later process.
func TestEndLeftoverRunKillsOnlyItsOwnGroup(t *testing.T) {
	boot, err := os.ReadFile(kernelBootID)
	if err != nil {
		t.Fatalf("this test needs %s: %v", kernelBootID, err)
	}
	start := func() *exec.Cmd {
		c := exec.Command("sleep", "30")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		t.Cleanup(func() { c.Process.Kill(); <-done })
		return c
	}
	alive := func(c *exec.Cmd) bool {
		st, err := procStat(c.Process.Pid)
		return err == nil && st[0] != "Z"
	}
	h := &Hooks{StateDir: t.TempDir()}
	record := func(pid int, start, bootID string) {
		os.WriteFile(filepath.Join(h.StateDir, applyRunFile), []byte(fmt.Sprintf("%d %s %s\n", pid, start, bootID)), 0o600)
	}
	bootID := strings.TrimSpace(string(boot))

	c := start()
	st, _ := procStart(c.Process.Pid)
	record(c.Process.Pid, st+"1", bootID) // a later process with the same id
	h.endLeftoverRun()
	record(c.Process.Pid, st, "another-boot")
	h.endLeftoverRun()
	if !alive(c) {
		t.Fatal("a process the record does not name was killed")
	}
	if _, err := os.Stat(filepath.Join(h.StateDir, applyRunFile)); !os.IsNotExist(err) {
		t.Fatalf("the record stays: %v", err)
	}

	h.recordRun(c.Process.Pid)
	h.endLeftoverRun()
	for deadline := time.Now().Add(5 * time.Second); alive(c); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the leftover run is still alive")
		}
	}
}
