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

// Once space is freed, print stops showing the storage problem at once (it
// used to keep it until the next successful session, an hour away with the
// defaults' periodic interval). On a real 64 MiB tmpfs, as TestE2EDiskFull.
func TestE2EDiskFullProblemClearsWhenSpaceIsFreed(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	srv := acs(t)
	state := filepath.Join(mnt, "state")
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv), "--min-free", "20MiB")
	waitSessions(t, srv, 1, a)
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, free-10<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	connReq(t, srv)
	waitFor(t, func() bool {
		return strings.Contains(runBin(t, "print", "--state", state).stdout, "disk full")
	}, "print to show the storage problem")
	os.Remove(filler)
	syscall.Statfs(mnt, &st)
	t.Logf("free after removing the filler: %d MiB", int64(st.Bavail)*int64(st.Bsize)>>20)
	runBin(t, "print", "--state", state) // kicks the conductor
	time.Sleep(3 * time.Second)
	r := runBin(t, "print", "--state", state)
	if strings.Contains(r.stdout, "disk full") {
		t.Errorf("space freed 3s ago, print still says:\n%s", r.stdout[strings.Index(r.stdout, "  status:"):])
	}
	a.stop()
}
