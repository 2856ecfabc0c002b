package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// TestE2EDiskFull runs the agent on a real small filesystem (a 64 MiB
// tmpfs), fills it below the journal's reserve, and checks: appends are
// refused (no crash, no session: nothing could be recorded), print says
// why, nothing journaled is lost, and the agent works again once space is
// freed. (A request refused mid-session for storage gets 9004: see
// cwmp/requests' TestDiskFullIsResourcesExceeded.)
func TestE2EDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): the journal's own tests cover the reserve with an injected reading", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	srv := acs(t)
	state := filepath.Join(mnt, "state")
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv), "--min-free", "20MiB")
	waitSessions(t, srv, 1, a)

	// Leave about 10 MiB free: below the 20 MiB reserve.
	var st syscall.Statfs_t
	syscall.Statfs(mnt, &st)
	free := int64(st.Bavail) * int64(st.Bsize)
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, free-10<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	// A connection request is answered but cannot be recorded: no session.
	connReq(t, srv)
	waitFor(t, func() bool {
		r := runBin(t, "print", "--state", state)
		return strings.Contains(r.stdout, "problem:") && strings.Contains(r.stdout, "disk full")
	}, "print to show the storage problem")
	if n := srv.Counts("").Sessions; n != 1 {
		t.Fatalf("%d sessions while the journal is full", n)
	}

	// Space freed: print stops showing the problem at once, without
	// waiting for a session (an hour away with the defaults' periodic
	// interval), and the agent carries on.
	os.Remove(filler)
	runBin(t, "print", "--state", state) // kicks the conductor
	time.Sleep(3 * time.Second)
	if r := runBin(t, "print", "--state", state); strings.Contains(r.stdout, "disk full") {
		t.Fatalf("space freed 3 s ago, print still says:\n%s", r.stdout)
	}
	enqueue(t, srv, &soap.GetRPCMethods{})
	runBin(t, "print", "--state", state) // print kicks the conductor
	connReq(t, srv)
	waitSessions(t, srv, 2, a)
	if r := runBin(t, "print", "--state", state); strings.Contains(r.stdout, "problem:") {
		t.Fatalf("problem still shown after a good session:\n%s", r.stdout)
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	r := runBin(t, "replay", state)
	if r.code != 0 || !strings.Contains(r.stdout, "sessions: 2 ok") {
		t.Fatalf("journal after the full disk: exit %d\n%s", r.code, r.stdout)
	}
}
