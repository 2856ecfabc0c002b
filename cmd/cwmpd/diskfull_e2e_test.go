package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// TestE2EDiskFull runs the agent on a real small filesystem (a 64 MiB
// tmpfs), fills it below the journal's reserve, and checks: appends are
// refused (no crash, no session: nothing could be recorded), print says
// why, nothing journaled is lost, and the agent works again once space is
// freed. (A request refused mid-session for storage gets 9004: see
// cwmp/requests' TestDiskFullIsResourcesExceeded.)
func TestE2EDiskFull(t *testing.T) {
	srv, a, mnt, state := agentOnSmallDisk(t)

	// Leave about 10 MiB free: below the 20 MiB reserve.
	free := freeBytes(mnt)
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

// TestE2EDownloadLeavesTheJournalsReserve: downloads go to the state
// directory, on the journal's filesystem. A download that would eat into
// the journal's reserve (--min-free) is refused with 9010 before it starts,
// so its outcome can still be journaled and reported, and the agent keeps
// working; before, only the download's own 1 MiB reserve applied, and the
// journal then refused the outcome.
func TestE2EDownloadLeavesTheJournalsReserve(t *testing.T) {
	srv, a, mnt, state := agentOnSmallDisk(t)
	free := freeBytes(mnt)
	// Fits the filesystem with more than 1 MiB to spare, not the journal's
	// 20 MiB reserve; FileSize 0, so the size comes from Content-Length.
	srv.AddFile("big.bin", make([]byte, free-10<<20))
	enqueue(t, srv, &soap.Download{CommandKey: "big", FileType: "3 Vendor Configuration File", URL: srv.FilesURL() + "/files/big.bin"})
	connReq(t, srv)
	waitFor(t, func() bool { d := srv.Devices(); return len(d) == 1 && len(d[0].Transfers) >= 1 }, "the TransferComplete")
	tc := onlyDevice(t, srv).Transfers[0]
	if tc.CommandKey != "big" || tc.FaultCode != 9010 || !strings.Contains(tc.FaultString, "free space") {
		t.Fatalf("TransferComplete %+v\n%s", tc, a.logs())
	}
	if r := runBin(t, "print", "--state", state); strings.Contains(r.stdout, "disk full") {
		t.Fatalf("the journal hit its reserve:\n%s", r.stdout)
	}
	a.stop()
}

// agentOnSmallDisk runs the agent (--min-free 20MiB) with its state on a
// real 64 MiB tmpfs, past its BOOTSTRAP session. It skips where mounting is
// not allowed: the journal's own tests cover the reserve with an injected
// reading.
func agentOnSmallDisk(t *testing.T) (srv *acsim.Server, a *agent, mnt, state string) {
	t.Helper()
	mnt = t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): the journal's own tests cover the reserve with an injected reading", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	srv = acs(t)
	state = filepath.Join(mnt, "state")
	a = startAgent(t, state, "--defaults", defaultsFor(t, srv), "--min-free", "20MiB")
	waitSessions(t, srv, 1, a)
	return srv, a, mnt, state
}

// freeBytes is the space left to unprivileged users on dir's filesystem.
func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	syscall.Statfs(dir, &st)
	return int64(st.Bavail) * int64(st.Bsize)
}
