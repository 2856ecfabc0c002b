package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/testpki"
)

// A --state without a journal (a typo, or the default dir when the daemon
// uses another) is refused by set and reset-tr069-config: a journal made
// there would never be read by the daemon. --create makes one on purpose.
func TestSetRefusesStateWithoutJournal(t *testing.T) {
	state := filepath.Join(t.TempDir(), "typo")
	for name, args := range map[string][]string{
		"set":   {"set", "--state", state, "username=x"},
		"reset": {"reset-tr069-config", "--state", state},
	} {
		r := runBin(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "no journal in "+state) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and \"no journal in %s\"", name, r.code, r.stderr, state)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "journal")); err == nil {
		t.Fatal("a refused command created a journal")
	}
	r := runBin(t, "set", "--state", state, "--create", "username=x")
	if r.code != 0 {
		t.Fatalf("set --create: exit %d %s", r.code, r.stderr)
	}
	if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, "username: x") {
		t.Fatalf("set --create did not journal the value:\n%s%s", p.stdout, p.stderr)
	}
	// Once the journal exists, set needs no --create.
	if r := runBin(t, "set", "--state", state, "username=y"); r.code != 0 {
		t.Fatalf("set on the created journal: exit %d %s", r.code, r.stderr)
	}
}

// Provisioned before the first start (set --create), a per-device setting
// is kept and the factory defaults still fill in the rest at that start:
// the ACS URL and password come from the defaults, the username the ACS
// accepts from the operator (the defaults' one would be refused).
func TestProvisionedBeforeFirstStartGetsDefaults(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	if r := runBin(t, "set", "--state", state, "--create", "username=cpe", "periodic-inform-interval=2h"); r.code != 0 {
		t.Fatalf("provisioning: exit %d %s", r.code, r.stderr)
	}
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv, "username=factory-user"))
	waitSessions(t, srv, 1, a)
	wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
	p := runBin(t, "print", "--state", state)
	for _, want := range []string{"acs-url: " + srv.URL(), "username: cpe", "periodic-inform-interval: 2h", "connection-request-password: (set)"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("print lacks %q:\n%s", want, p.stdout)
		}
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// acs-url values the transport would refuse at every session are refused by
// set (offline and with a daemon running) and in a defaults file: exit 2,
// one line naming the setting, nothing written.
func TestSetRefusesACSURLTheTransportRefuses(t *testing.T) {
	state := t.TempDir()
	if r := runBin(t, "set", "--state", state, "--create", "acs-url=https://acs.example/cwmp"); r.code != 0 {
		t.Fatalf("set: %d %s", r.code, r.stderr)
	}
	bad := []string{"http://acs.example/c wmp", "http://bücher.example/cwmp", "http://acs.example/cwmp?a=b c", "http://cpe:url-secret@acs.example/"}
	check := func(how string) {
		t.Helper()
		for _, u := range bad {
			r := runBin(t, "set", "--state", state, "acs-url="+u)
			if r.code != 2 || !strings.HasPrefix(r.stderr, "cwmpd: set: acs-url: ") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
				strings.Contains(r.stderr, "url-secret") {
				t.Errorf("%s: set acs-url=%q: exit %d, stderr %q", how, u, r.code, r.stderr)
			}
		}
		if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, "acs-url: https://acs.example/cwmp") {
			t.Errorf("%s: acs-url changed:\n%s", how, p.stdout)
		}
	}
	check("offline")
	srv := acs(t)
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitFor(t, func() bool { _, err := os.Stat(controlPath(state)); return err == nil }, "the control socket")
	check("daemon running")
	a.stop()
	// A defaults file is checked the same way (reset reads it offline and
	// exits; run would too, but keeps running on the old code).
	for _, u := range bad[:2] {
		defaults := defaultsFor(t, srv, "acs-url="+u)
		r := runBin(t, "reset-tr069-config", "--state", state, "--defaults", defaults)
		if r.code != 2 || !strings.Contains(r.stderr, "acs-url: ") {
			t.Errorf("defaults file with acs-url=%q: exit %d, stderr %q", u, r.code, r.stderr)
		}
	}
}

// A relative certificate path is resolved by the CLI (against its working
// directory; in a defaults file, against the file's directory) and the
// journal keeps the absolute path, which the daemon can read from its own.
func TestSetStoresAbsoluteCertificatePaths(t *testing.T) {
	ca := testpki.NewCA(t, "paths CA")
	dir := t.TempDir()
	testpki.Write(t, dir, "ca.pem", ca.PEM)
	state := t.TempDir()
	setIn := func(args ...string) result {
		t.Helper()
		return runBinIn(t, dir, append([]string{"set", "--state", state}, args...)...)
	}
	want := "ca-certificate: " + filepath.Join(dir, "ca.pem") + "\n"
	if r := setIn("--create", "ca-certificate=ca.pem"); r.code != 0 {
		t.Fatalf("offline set: exit %d %s", r.code, r.stderr)
	}
	if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, want) {
		t.Errorf("offline set: print lacks %q:\n%s", want, p.stdout)
	}
	// With a daemon running in another directory.
	srv := acs(t)
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitFor(t, func() bool { _, err := os.Stat(controlPath(state)); return err == nil }, "the control socket")
	runBin(t, "set", "--state", state, "ca-certificate=")
	if r := setIn("ca-certificate=ca.pem"); r.code != 0 {
		t.Fatalf("set with the daemon running: exit %d %s", r.code, r.stderr)
	}
	if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, want) {
		t.Errorf("set with the daemon running: print lacks %q:\n%s", want, p.stdout)
	}
	a.stop()
	// A defaults file names a neighbour.
	defaults := filepath.Join(dir, "defaults.conf")
	os.WriteFile(defaults, []byte("ca-certificate=ca.pem\n"), 0o600)
	if r := runBin(t, "reset-tr069-config", "--state", state, "--defaults", defaults); r.code != 0 {
		t.Fatalf("reset with defaults: exit %d %s", r.code, r.stderr)
	}
	if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, want) {
		t.Errorf("defaults file: print lacks %q:\n%s", want, p.stdout)
	}
}

// reset-tr069-config --defaults FILE while the daemon runs: the control
// request cannot carry FILE, so it is refused (exit 2) and nothing is reset.
func TestResetDefaultsRefusedWhileDaemonRuns(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	other := defaultsFor(t, srv, "username=other-user")
	r := runBin(t, "reset-tr069-config", "--state", state, "--defaults", other)
	if r.code != 2 || !strings.Contains(r.stderr, "--defaults") {
		t.Errorf("exit %d, stderr %q; want 2 and a message about --defaults", r.code, r.stderr)
	}
	if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, "username: cpe") {
		t.Errorf("print:\n%s", p.stdout)
	}
	a.stop()
	if r := runBin(t, "reset-tr069-config", "--state", state, "--defaults", other); r.code != 0 {
		t.Fatalf("stopped daemon: exit %d %s", r.code, r.stderr)
	}
	if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, "username: other-user") {
		t.Errorf("offline reset ignored --defaults:\n%s", p.stdout)
	}
}

// A defaults file may put spaces around '=' (found building
// FuzzReadDefaults): "username = cpe-1" is the username "cpe-1". It used
// to keep " cpe-1", so the device failed its ACS's authentication with
// nothing to say why, and "acs-url = https://…" was refused as no URL.
func TestDefaultsFileIgnoresSpacesAroundTheEqualsSign(t *testing.T) {
	state := t.TempDir()
	if r := runBin(t, "set", "--state", state, "--create", "enabled=yes"); r.code != 0 {
		t.Fatalf("set --create: exit %d %s", r.code, r.stderr)
	}
	defaults := filepath.Join(t.TempDir(), "defaults.conf")
	os.WriteFile(defaults, []byte("username = cpe-1\n  acs-url = https://acs.example/cwmp\t\nperiodic-inform-interval= 1h\n"), 0o600)
	if r := runBin(t, "reset-tr069-config", "--state", state, "--defaults", defaults); r.code != 0 {
		t.Fatalf("reset with defaults: exit %d %s", r.code, r.stderr)
	}
	p := runBin(t, "print", "--state", state, "--json")
	var got struct{ Settings map[string]string }
	if err := json.Unmarshal([]byte(p.stdout), &got); err != nil {
		t.Fatalf("print --json: %v\n%s", err, p.stdout)
	}
	want := map[string]string{"username": "cpe-1", "acs-url": "https://acs.example/cwmp", "periodic-inform-interval": "3600"}
	for k, v := range want {
		if got.Settings[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Settings[k], v)
		}
	}
}

// A certificate setting naming something other than a regular file is
// refused at once: set used to open a FIFO and wait for a writer forever
// (and would read /dev/zero until the memory ran out).
func TestSetRefusesACertificatePathThatIsNoRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ca.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cwmpdBinary(t), "set", "--state", t.TempDir(), "--create", "ca-certificate="+fifo)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("set ca-certificate=<a FIFO> still running after 20s")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "not a regular file") {
		t.Fatalf("set ca-certificate=<a FIFO>: %v\n%s", err, out)
	}
}

// The daemon reads its certificate files at every session: a file swapped
// for a FIFO after it was set fails that session with a clear error (and
// the next ones, until fixed) instead of blocking the agent for good.
func TestSessionWithACertificateSwappedForAFIFOFails(t *testing.T) {
	srv := acs(t)
	dir := t.TempDir()
	ca := testpki.Write(t, dir, "ca.pem", testpki.NewCA(t, "test CA").PEM)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv, "ca-certificate="+ca))
	waitSessions(t, srv, 1, a)
	if err := os.Remove(ca); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runBin(t, "set", "--state", state, "periodic-inform-interval=1s"); r.code != 0 {
		t.Fatalf("set: %d %s", r.code, r.stderr)
	}
	waitFor(t, func() bool {
		r := runBin(t, "print", "--state", state)
		return strings.Contains(r.stdout, "cannot read ca-certificate "+ca)
	}, "the session failing on the FIFO, in print's last-session-error")
	a.stop()
}
