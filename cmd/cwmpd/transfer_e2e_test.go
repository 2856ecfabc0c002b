package main

import (
	"net"

	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// firmware puts a 3-package manifest on acsim's file server; it returns the
// manifest URL and the package names and sizes.
func firmware(t *testing.T, srv *acsim.Server, version string, sizes ...int) (string, map[string]int) {
	t.Helper()
	var links []string
	pkgs := map[string]int{}
	for i, n := range sizes {
		data := make([]byte, n)
		rand.Read(data)
		name := fmt.Sprintf("pkg%d.npk", i+1)
		srv.AddFile(name, data)
		sum := sha256.Sum256(data)
		links = append(links, fmt.Sprintf(`<link size="%d" sha256="%s"><url>%s/files/%s</url></link>`, n, hex.EncodeToString(sum[:]), srv.FilesURL(), name))
		pkgs[name] = n
	}
	srv.AddFile("upgrade.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<upgrade version="1" type="links" firmware="`+version+`"><links>`+strings.Join(links, "")+`</links></upgrade>`))
	return srv.FilesURL() + "/files/upgrade.xml", pkgs
}

func informParam(srv *acsim.Server, name string) string {
	d := srv.Devices()
	if len(d) == 0 {
		return ""
	}
	for _, p := range d[0].LastParameters {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// checkFirmwareStory asserts what the ACS must see once the upgrade story
// is over: exactly one TransferComplete for fw-2 (fault 0, real times),
// the new SoftwareVersion in the Inform, each package fetched < 1.5× its
// size in total, and the firmware installed exactly once.
func checkFirmwareStory(t *testing.T, srv *acsim.Server, state string, pkgs map[string]int, a *agent) {
	t.Helper()
	waitFor(t, func() bool { d := srv.Devices(); return len(d) == 1 && len(d[0].Transfers) >= 1 }, "a TransferComplete")
	// Later sessions must not report it again.
	connReq(t, srv)
	waitFor(t, func() bool { return strings.Contains(eventCodes(onlyDevice(t, srv)), "6 CONNECTION REQUEST") }, "a later session")
	tcs := onlyDevice(t, srv).Transfers
	if len(tcs) != 1 {
		t.Fatalf("%d TransferCompletes: %+v\n%s", len(tcs), tcs, a.logs())
	}
	tc := tcs[0]
	if tc.CommandKey != "fw-2" || tc.FaultCode != 0 || tc.StartTime.IsZero() || tc.CompleteTime.Before(tc.StartTime) {
		t.Fatalf("TransferComplete %+v", tc)
	}
	if v := informParam(srv, "Device.DeviceInfo.SoftwareVersion"); v != "cwmpd-sim 2.0.0" {
		t.Fatalf("SoftwareVersion after the upgrade: %q", v)
	}
	for _, st := range srv.FileStats() {
		if n, ok := pkgs[st.Name]; ok && st.BytesServed >= int64(n)*3/2 {
			t.Errorf("%s: %d bytes served for %d", st.Name, st.BytesServed, n)
		}
	}
	b, _ := os.ReadFile(filepath.Join(state, "device", "installs.log"))
	if n := strings.Count(strings.TrimSpace(string(b)), "\n") + 1; len(strings.TrimSpace(string(b))) == 0 || n != 1 {
		t.Fatalf("firmware installed %d times:\n%s", n, b)
	}
}

// TestE2EFirmwareUpgradeThroughAManifest: Download of a 3-package manifest,
// install, restart, and the TransferComplete with 1 BOOT.
func TestE2EFirmwareUpgradeThroughAManifest(t *testing.T) {
	srv := acs(t)
	url, pkgs := firmware(t, srv, "cwmpd-sim 2.0.0", 100<<10, 200<<10, 50<<10)
	enqueue(t, srv, &soap.Download{CommandKey: "fw-2", FileType: "1 Firmware Upgrade Image", URL: url})
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	checkFirmwareStory(t, srv, state, pkgs, a)
	var with string
	for _, e := range srv.Transcript() {
		if e.Method == "TransferComplete" {
			break
		}
		if e.Method == "Inform" {
			with = fmt.Sprint(e.Summary)
		}
	}
	if !strings.Contains(with, "7 TRANSFER COMPLETE") || !strings.Contains(with, "M Download") || !strings.Contains(with, "1 BOOT") ||
		!strings.Contains(with, "4 VALUE CHANGE") || strings.Contains(with, "M Reboot") {
		t.Fatalf("the Inform with the TransferComplete: %s", with)
	}
	if errs := transcriptErrors(srv); len(errs) > 0 {
		t.Fatalf("strict ACS: %v", errs)
	}
	a.stop()
}

// TestCrashDuringFirmwareUpgrade kills the real daemon right after each
// journal record of the upgrade story, and at byte offsets inside each
// package download, restarts it, and checks the ACS's view: installed
// once, each file fetched < 1.5×, one TransferComplete, none after its
// acknowledgement.
func TestCrashDuringFirmwareUpgrade(t *testing.T) {
	points := []string{
		"after:TransferQueued", "after:TransferStarted",
		"after:TransferProgress:1", "after:TransferProgress:9",
		"after:TransferFetched:1", "after:TransferFetched:2", "after:TransferFetched:4",
		"after:TransferApplying", "after:TransferFinished", "after:RestartRequested",
		"after:Booted", "after:TransferCompleteAcked",
		"bytes:download:70000", "bytes:download:700000",
	}
	pkgs := map[string]int{"pkg1.npk": 1 << 20, "pkg2.npk": 800 << 10, "pkg3.npk": 600 << 10}
	crashStory(t, "firmware upgrade", points, func(t *testing.T, srv *acsim.Server) {
		url, _ := firmware(t, srv, "cwmpd-sim 2.0.0", pkgs["pkg1.npk"], pkgs["pkg2.npk"], pkgs["pkg3.npk"])
		enqueue(t, srv, &soap.Download{CommandKey: "fw-2", FileType: "1 Firmware Upgrade Image", URL: url})
	}, func(t *testing.T, srv *acsim.Server, state string, a *agent) {
		checkFirmwareStory(t, srv, state, pkgs, a)
	})
}

// freePort is a port an agent can listen on again after a restart. It is
// taken below Linux's ephemeral range (32768 and up): a port from ":0" is in
// that range, so while the killed agent is down an outgoing connection (the
// next agent's own to the ACS, a parallel test's) may be given it as its
// local port, and the restarted agent's listen then fails (a flake seen
// once in the crash tests).
func freePort(t *testing.T) int {
	for i := 0; i < 200; i++ {
		p := 20000 + mrand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// TestE2EScheduleDownloadWaitsForItsNextWindow: the agent is down through
// the first of a ScheduleDownload's two time windows; restarted in the gap,
// it waits for the second window before fetching (D§11.9), rather than
// installing between windows.
func TestE2EScheduleDownloadWaitsForItsNextWindow(t *testing.T) {
	t.Parallel()
	srv := acs(t)
	url, _ := firmware(t, srv, "cwmpd-sim 2.0.0", 20<<10)
	enqueue(t, srv, &soap.ScheduleDownload{CommandKey: "sd", FileType: "1 Firmware Upgrade Image", URL: url,
		TimeWindowList: []soap.TimeWindowStruct{
			{WindowStart: 1, WindowEnd: 2, WindowMode: "1 At Any Time", MaxRetries: -1},
			{WindowStart: 8, WindowEnd: 3600, WindowMode: "1 At Any Time", MaxRetries: -1}}})
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	received := time.Now() // the request was answered at most this late
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, a.logs())
	}
	time.Sleep(time.Until(received.Add(3 * time.Second))) // window 1 is over
	a.start()
	waitFor(t, func() bool { d := srv.Devices(); return len(d) == 1 && len(d[0].Transfers) >= 1 }, "a TransferComplete")
	tc := onlyDevice(t, srv).Transfers[0]
	// Window 2 opens 8 s after the request, which came at most a second
	// before received.
	if tc.CommandKey != "sd" || tc.FaultCode != 0 || tc.StartTime.Before(received.Add(7*time.Second)) {
		t.Fatalf("TransferComplete %+v: started %v after the request was answered, before window 2 (8 s)\n%s",
			tc, tc.StartTime.Sub(received), a.logs())
	}
	a.stop()
}

// TestE2EScheduleDownloadWhoseWindowsPassedWhileOffNeverStarted: the agent
// is down through a ScheduleDownload's only time window. At the next start
// the transfer is reported with 9020 (D§11.9) and, since it never began,
// an Unknown StartTime (D§11.4: "Use Unknown Time when unknown"). Before,
// a TransferStarted was journaled at that start, and the TransferComplete
// claimed the download had started when it was given up.
func TestE2EScheduleDownloadWhoseWindowsPassedWhileOffNeverStarted(t *testing.T) {
	t.Parallel()
	srv := acs(t)
	url, _ := firmware(t, srv, "cwmpd-sim 2.0.0", 20<<10)
	enqueue(t, srv, &soap.ScheduleDownload{CommandKey: "missed", FileType: "1 Firmware Upgrade Image", URL: url,
		TimeWindowList: []soap.TimeWindowStruct{{WindowStart: 2, WindowEnd: 3, WindowMode: "1 At Any Time", MaxRetries: -1}}})
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	received := time.Now()
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, a.logs())
	}
	time.Sleep(time.Until(received.Add(4 * time.Second))) // the window is over
	a.start()
	waitFor(t, func() bool { d := srv.Devices(); return len(d) == 1 && len(d[0].Transfers) >= 1 }, "a TransferComplete")
	tc := onlyDevice(t, srv).Transfers[0]
	if tc.CommandKey != "missed" || tc.FaultCode != 9020 || !tc.StartTime.IsZero() || tc.CompleteTime.IsZero() {
		t.Fatalf("TransferComplete %+v: want 9020 with an Unknown StartTime and a CompleteTime\n%s", tc, a.logs())
	}
	a.stop()
}
