package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
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
	// No apply-parameters: the operator is told the ACS's changes of the
	// device's configuration stay the agent's.
	if !strings.Contains(a.logs(), "sets no apply-parameters command") {
		t.Fatalf("no warning about the missing apply-parameters:\n%s", a.logs())
	}
	a.stop()
}

// TestE2EAgentRestartIsNotABoot: on the hooks platform the device's boot is
// told by a boot-id file (the kernel's by default). The agent killed and
// started again on the same boot sends no "1 BOOT": its first Inform is the
// active VALUE CHANGE of the ConnectionRequestURL it now listens on (the
// tests give it a new port), then a connection request works on that URL.
// A new boot id is a boot again.
func TestE2EAgentRestartIsNotABoot(t *testing.T) {
	srv, bootID, state, args := bootIDRig(t)
	a := startAgent(t, state, args...)
	waitSessions(t, srv, 1, a)
	wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
	if strings.Contains(a.logs(), "simulated device") {
		t.Fatalf("--hooks did not select the hooks platform:\n%s", a.logs())
	}
	// Killed once the session's end is journaled (the ACS counts it a
	// moment earlier): what it delivered is not owed again.
	waitFor(t, func() bool { return strings.Contains(a.logs(), "session end: success") }, "the session journaled")
	before := informParam(srv, "Device.ManagementServer.ConnectionRequestURL")
	a.kill()

	a = startAgent(t, state, args...)
	waitSessions(t, srv, 2, a)
	after := informParam(srv, "Device.ManagementServer.ConnectionRequestURL")
	if ev := eventCodes(onlyDevice(t, srv)); ev != "4 VALUE CHANGE" || after == before {
		t.Fatalf("Inform after a restart of the agent alone: %s, ConnectionRequestURL %s (was %s)\n%s", ev, after, before, a.logs())
	}
	connReq(t, srv)
	waitSessions(t, srv, 3, a)
	wantEvents(t, srv, "6 CONNECTION REQUEST")
	a.stop()

	os.WriteFile(bootID, []byte("boot-2\n"), 0o644) // the device booted
	a = startAgent(t, state, args...)
	waitSessions(t, srv, 4, a)
	wantEvents(t, srv, "1 BOOT")
	a.stop()
}

// TestE2EAgentKilledMidSessionRetries: the agent is killed after the ACS
// answered its Inform but before the session ended, and started again on
// the same boot. The session it left open failed: it is retried after the
// retry wait with RetryCount 1, and its delivered CONNECTION REQUEST is not
// repeated (D§7, D§9); the only event is the VALUE CHANGE of the
// ConnectionRequestURL the restarted agent listens on (a new port here).
func TestE2EAgentKilledMidSessionRetries(t *testing.T) {
	srv, _, state, args := bootIDRig(t)
	a := startAgent(t, state, args...)
	waitSessions(t, srv, 1, a)
	waitFor(t, func() bool { return strings.Contains(a.logs(), "session end: success") }, "the first session journaled")

	// The next session's empty POST is held by the ACS: the agent is killed
	// with the InformResponse received and the session open.
	srv.PushFaults(acsim.FaultPlan{Delay: acsim.Duration(30 * time.Second), DelayAt: 2})
	connReq(t, srv)
	waitFor(t, func() bool { return srv.Counts("").Informs >= 2 }, "the second Inform")
	time.Sleep(300 * time.Millisecond) // the InformResponse reaches the agent
	a.kill()

	a = startAgent(t, state, args...)
	// acsim may count the killed session as done (it answers the held POST
	// once the connection drops): the retry is the third Inform.
	waitFor(t, func() bool { return srv.Counts("").Informs >= 3 }, "the retry Inform")
	d := onlyDevice(t, srv)
	if d.LastRetryCount != 1 || eventCodes(d) != "4 VALUE CHANGE" {
		t.Fatalf("after the kill mid-session: RetryCount %d, events %q (want 1 and 4 VALUE CHANGE)\n%s", d.LastRetryCount, eventCodes(d), a.logs())
	}
	if errs := transcriptErrors(srv); len(errs) > 0 {
		t.Fatalf("the strict ACS: %v", errs)
	}
	a.stop()
}

// bootIDRig is an ACS and the arguments of an agent on the hooks platform
// whose device boot identity is the file bootID ("boot-1" at first).
func bootIDRig(t *testing.T) (srv *acsim.Server, bootID, state string, args []string) {
	t.Helper()
	srv = acs(t)
	bootID = filepath.Join(t.TempDir(), "boot_id")
	os.WriteFile(bootID, []byte("boot-1\n"), 0o644)
	hooks := filepath.Join(t.TempDir(), "hooks.conf")
	os.WriteFile(hooks, []byte(fmt.Sprintf("manufacturer=Example\noui=00AB1F\nproduct-class=RT-1\nserial-number=SN-1\nsoftware-version=1.0\nreboot=true\nboot-id-file=%s\n", bootID)), 0o600)
	// --hooks alone selects the hooks platform, as the shipped service files use it.
	return srv, bootID, t.TempDir(), []string{"--defaults", defaultsFor(t, srv), "--hooks", hooks}
}

// The journal does not record what an Inform carried (only its events), so
// a restart of the agent alone that finds no ConnectionRequestURL kept as
// informed cannot tell whether the URL moved, and announces it: here the
// first Inform was refused (8005, nothing acknowledged, nothing kept), the
// agent restarted on the same boot and the same port, and the next Inform
// carries an active VALUE CHANGE of a URL that did not move, beside the
// BOOT still owed (docs/decisions.md, "ConnectionRequestURL not known as
// informed at a restart of the agent alone").
func TestE2ERestartWithoutAnInformedURLAnnouncesIt(t *testing.T) {
	srv, _, state, args := bootIDRig(t)
	args = append(args, "--connreq-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	srv.PushFaults(acsim.FaultPlan{InformFault: 8005})
	a := startAgent(t, state, args...)
	waitFor(t, func() bool { return strings.Contains(a.logs(), "session end: failed") }, "the refused Inform")
	before := informParam(srv, paramCRURL)
	if before == "" {
		t.Fatalf("the refused Inform named no ConnectionRequestURL\n%s", a.logs())
	}
	a.stop()

	a = startAgent(t, state, args...)
	connReq(t, srv) // a session now, not after the retry wait
	waitFor(t, func() bool { return strings.Contains(eventCodes(onlyDevice(t, srv)), "6 CONNECTION REQUEST") }, "the session on the connection request")
	if ev, after := eventCodes(onlyDevice(t, srv)), informParam(srv, paramCRURL); ev != "0 BOOTSTRAP,1 BOOT,4 VALUE CHANGE,6 CONNECTION REQUEST" || after != before {
		t.Fatalf("Inform after the restart: %s, ConnectionRequestURL %s (was %s)\n%s", ev, after, before, a.logs())
	}
	a.stop()
}

// A journal written before the agent kept the informed ConnectionRequestURL
// (and before it told a restart from a boot) has Booted records without the
// device's boot identity: the first start of the newer agent on it is a
// boot, whose Inform carries the URL, and its acknowledgement keeps it. A
// restart of the agent alone after that, on the same URL, announces
// nothing.
func TestE2EUpgradeFromAJournalWithoutTheInformedURL(t *testing.T) {
	srv, _, state, args := bootIDRig(t)
	args = append(args, "--connreq-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	writeOldJournal(t, state, defaultsFor(t, srv))

	a := startAgent(t, state, args...)
	waitSessions(t, srv, 1, a)
	if ev := eventCodes(onlyDevice(t, srv)); ev != "1 BOOT" {
		t.Fatalf("first start on the old journal: %s, want a boot\n%s", ev, a.logs())
	}
	url := informParam(srv, paramCRURL)
	a.stop() // after the session: its acknowledgement is kept

	a = startAgent(t, state, args...)
	connReq(t, srv)
	waitSessions(t, srv, 2, a)
	if !strings.Contains(a.logs(), "agent restart") {
		t.Fatalf("not a restart of the agent alone:\n%s", a.logs())
	}
	if ev, now := eventCodes(onlyDevice(t, srv)), informParam(srv, paramCRURL); ev != "6 CONNECTION REQUEST" || now != url {
		t.Fatalf("Inform after a restart on the same URL: %s, ConnectionRequestURL %s (was %s)\n%s", ev, now, url, a.logs())
	}
	a.stop()
}

// writeOldJournal writes the journal of an agent from before AgentRestarted
// and the informed-connreq-url metadata: a Booted without device_boot, the
// factory defaults, and its BOOTSTRAP session delivered.
func writeOldJournal(t *testing.T, state, defaults string) {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: journalDir(state), BootID: "old", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	store, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m, err := readDefaults(defaults)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := store.Append(ctx, event.Booted{Reason: event.BootPowerOn, SoftwareVersion: "1.0"},
		event.SettingsChanged{Source: event.SourceDefaults, Changes: settingsEvents(m)}); err != nil {
		t.Fatal(err)
	}
	evs := []event.InformEvent{{Code: "0 BOOTSTRAP"}, {Code: "1 BOOT"}}
	recs, err := store.Append(ctx, event.SessionStarted{Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	s := recs[0].Seq
	if _, err := store.Append(ctx, event.InformAccepted{Session: s, Events: evs, CWMPVersion: "1.4"}, event.SessionSucceeded{Session: s}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := j.GetMeta(metaInformedCRURL); ok {
		t.Fatal("the old journal has an informed URL")
	}
}
