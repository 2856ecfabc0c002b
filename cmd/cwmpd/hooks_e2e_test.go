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

// TestE2EHooksPlatform runs the daemon with --platform hooks: a firmware
// image installed by a shell command, the reboot by another (the process
// then exits and is started again, as procd or systemd would), and an
// export hook that fails: its stderr becomes the TransferComplete fault.
func TestE2EHooksPlatform(t *testing.T) {
	srv := acs(t)
	dev := t.TempDir()
	image := []byte("firmware image v2\n")
	srv.AddFile("fw.bin", image)
	hooks := filepath.Join(t.TempDir(), "hooks.conf")
	os.WriteFile(hooks, []byte(fmt.Sprintf(`manufacturer=Example
oui=00AB1F
product-class=RT-1
serial-number=SN-1
version-command=cat %[1]s/version 2>/dev/null || echo hooks-1.0
firmware=cp %%f %[1]s/installed && echo hooks-2.0 > %[1]s/version
reboot=touch %[1]s/rebooted
export-log=echo disk on fire >&2; exit 3
`, dev)), 0o600)
	enqueue(t, srv, &soap.Download{CommandKey: "fw", FileType: "1 Firmware Upgrade Image", URL: srv.FilesURL() + "/files/fw.bin"},
		&soap.Upload{CommandKey: "log", FileType: "2 Vendor Log File", URL: srv.FilesURL() + "/upload/log"})
	state := t.TempDir()
	defaults := defaultsFor(t, srv)
	a := startAgent(t, state, "--defaults", defaults, "--platform", "hooks", "--hooks", hooks)
	// The reboot command ran and the daemon exited for the device to restart.
	select {
	case <-a.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("no reboot\n%s", a.logs())
	}
	if _, err := os.Stat(filepath.Join(dev, "rebooted")); err != nil {
		t.Fatalf("reboot hook not run\n%s", a.logs())
	}
	got, _ := os.ReadFile(filepath.Join(dev, "installed"))
	if string(got) != string(image) {
		t.Fatalf("installed %q", got)
	}
	a = startAgent(t, state, "--defaults", defaults, "--platform", "hooks", "--hooks", hooks)
	waitFor(t, func() bool { d := srv.Devices(); return len(d) == 1 && len(d[0].Transfers) >= 2 }, "both TransferCompletes")
	byKey := map[string]uint32{}
	var failMsg string
	for _, tc := range onlyDevice(t, srv).Transfers {
		byKey[tc.CommandKey] = tc.FaultCode
		if tc.CommandKey == "log" {
			failMsg = tc.FaultString
		}
	}
	if byKey["fw"] != 0 || byKey["log"] != 9011 || !strings.Contains(failMsg, "disk on fire") {
		t.Fatalf("TransferCompletes %v, log fault %q", byKey, failMsg)
	}
	if v := informParam(srv, "Device.DeviceInfo.SoftwareVersion"); v != "hooks-2.0" {
		t.Fatalf("SoftwareVersion %q", v)
	}
	a.stop()
}
