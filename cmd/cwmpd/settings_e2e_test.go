package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
