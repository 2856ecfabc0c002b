package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// TestE2EHooksConfigurationFiles drives every configuration hook of the
// real-device platform the way an ACS does, with shell commands acting on
// a fake device directory: a ".alter" Download alters, another Download
// replaces (then the agent reboots the device), the factory configuration
// is set and exported back byte for byte, the configuration is exported,
// and a FactoryReset runs its command and brings the device back with
// "0 BOOTSTRAP". Each outcome is checked on the device and at the ACS.
func TestE2EHooksConfigurationFiles(t *testing.T) {
	srv := acs(t)
	dev := t.TempDir()
	if err := os.WriteFile(filepath.Join(dev, "config"), []byte("hostname=a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	alter, full, factory := []byte("ntp=pool\n"), []byte("hostname=b\nntp=none\n"), []byte("hostname=factory\n")
	srv.AddFile("cfg.alter", alter)
	srv.AddFile("full.cfg", full)
	srv.AddFile("default.cfg", factory)
	hooks := filepath.Join(t.TempDir(), "hooks.conf")
	os.WriteFile(hooks, []byte(fmt.Sprintf(`manufacturer=Example
oui=00AB1F
product-class=RT-1
serial-number=SN-1
software-version=1.0
config-alter=cat %%f >> %[1]s/config
config-replace=cp %%f %[1]s/config
set-default=cp %%f %[1]s/default
export-config=cat %[1]s/config
export-default=cat %[1]s/default
factory-reset=cp %[1]s/default %[1]s/config && touch %[1]s/reset
reboot=echo x >> %[1]s/reboots
`, dev)), 0o600)
	state := t.TempDir()
	args := []string{"--defaults", defaultsFor(t, srv), "--hooks", hooks}
	const factoryType = "X 00AB1F Factory Configuration File"
	enqueue(t, srv,
		&soap.Download{CommandKey: "alter", FileType: "3 Vendor Configuration File", URL: srv.FilesURL() + "/files/cfg.alter"},
		&soap.Upload{CommandKey: "export", FileType: "1 Vendor Configuration File", URL: srv.FilesURL() + "/upload/cfg"},
		&soap.Download{CommandKey: "set-default", FileType: factoryType, URL: srv.FilesURL() + "/files/default.cfg"},
		&soap.Upload{CommandKey: "export-default", FileType: factoryType, URL: srv.FilesURL() + "/upload/default"},
		&soap.Download{CommandKey: "replace", FileType: "3 Vendor Configuration File", URL: srv.FilesURL() + "/files/full.cfg"})
	reboots := func() int {
		b, _ := os.ReadFile(filepath.Join(dev, "reboots"))
		return strings.Count(string(b), "x")
	}
	a := startAgent(t, state, args...)
	// The replacement asks for a reboot: the command runs and the daemon
	// exits for the device to restart (its supervisor starts it again).
	select {
	case <-a.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("no reboot after the replacement\n%s", a.logs())
	}
	if n := reboots(); n != 1 {
		t.Fatalf("%d reboots, want 1\n%s", n, a.logs())
	}
	if got, _ := os.ReadFile(filepath.Join(dev, "config")); string(got) != string(full) {
		t.Fatalf("configuration after the replacement %q, want %q", got, full)
	}
	if got, _ := os.ReadFile(filepath.Join(dev, "default")); string(got) != string(factory) {
		t.Fatalf("default configuration %q, want %q", got, factory)
	}
	if got, ok := srv.Upload("cfg"); !ok || string(got) != "hostname=a\n"+string(alter) {
		t.Fatalf("exported configuration %q (%v), want the altered one", got, ok)
	}
	if got, ok := srv.Upload("default"); !ok || string(got) != string(factory) {
		t.Fatalf("exported default configuration %q (%v), want the one set", got, ok)
	}

	a = startAgent(t, state, args...)
	waitFor(t, func() bool { d := srv.Devices(); return len(d) == 1 && len(d[0].Transfers) >= 5 }, "five TransferCompletes")
	for _, tc := range onlyDevice(t, srv).Transfers {
		if tc.FaultCode != 0 {
			t.Errorf("TransferComplete %s: fault %d %q", tc.CommandKey, tc.FaultCode, tc.FaultString)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	enqueue(t, srv, &soap.FactoryReset{})
	connReq(t, srv)
	select {
	case <-a.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("no reboot after the factory reset\n%s", a.logs())
	}
	if _, err := os.Stat(filepath.Join(dev, "reset")); err != nil || reboots() != 2 {
		t.Fatalf("factory reset command run: %v, reboots %d\n%s", err, reboots(), a.logs())
	}
	if got, _ := os.ReadFile(filepath.Join(dev, "config")); string(got) != string(factory) {
		t.Fatalf("configuration after the factory reset %q, want the default one", got)
	}
	n := srv.Counts("").Sessions
	a = startAgent(t, state, args...)
	waitSessions(t, srv, n+1, a)
	wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
	a.stop()
}
