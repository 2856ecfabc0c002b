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
