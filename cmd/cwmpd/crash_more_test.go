package main

import (
	"sync/atomic"

	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/live"
)

// crashStory runs one story with a failpoint, restarts the agent without it,
// and hands the ACS to check.
func crashStory(t *testing.T, name string, points []string, setup func(*testing.T, *acsim.Server), check func(*testing.T, *acsim.Server, string, *agent)) {
	var passed atomic.Int32
	for _, fp := range points {
		t.Run(fp, func(t *testing.T) {
			t.Parallel() // each point has its own ACS, state dir and ports
			srv := acs(t)
			setup(t, srv)
			state := t.TempDir()
			defaults := defaultsFor(t, srv)
			cr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			a := startAgentEnv(t, state, []string{live.FailpointEnv + "=" + fp}, "--defaults", defaults, "--connreq-listen", cr)
			if err := a.waitKilled(30 * time.Second); err != nil {
				t.Fatalf("%v\n%s", err, a.logs())
			}
			a = startAgent(t, state, "--defaults", defaults, "--connreq-listen", cr)
			check(t, srv, state, a)
			if code := a.stop(); code != 0 {
				t.Fatalf("exit %d", code)
			}
			r := runBin(t, "replay", state)
			if r.code != 0 {
				t.Fatalf("replay: exit %d\n%s", r.code, r.stdout)
			}
			if strings.Contains(fp, "FactoryReset") || name == "factory reset" {
				if n := strings.Count(r.stdout, "FactoryResetDone"); n != 1 {
					t.Fatalf("factory reset done %d times:\n%s", n, r.stdout)
				}
			}
			passed.Add(1)
		})
	}
	t.Cleanup(func() { t.Logf("%s: %d crash points, %d passed", name, len(points), passed.Load()) })
}

// oneTransferComplete waits for the TransferComplete of ck, provokes one
// more session, and checks it was reported exactly once, with fault.
func oneTransferComplete(t *testing.T, srv *acsim.Server, ck string, fault uint32, a *agent) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if d := srv.Devices(); len(d) == 1 && len(d[0].Transfers) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			r := runBin(t, "journal", "export", "--state", a.state)
			t.Fatalf("no TransferComplete\nagent log:\n%s\njournal: %s %s", a.logs(), r.stdout, r.stderr)
		}
	}
	connReq(t, srv)
	waitFor(t, func() bool { return strings.Contains(eventCodes(onlyDevice(t, srv)), "6 CONNECTION REQUEST") }, "a later session")
	tcs := onlyDevice(t, srv).Transfers
	if len(tcs) != 1 || tcs[0].CommandKey != ck || tcs[0].FaultCode != fault {
		t.Fatalf("TransferCompletes %+v\n%s", tcs, a.logs())
	}
}

// TestCrashDuringConfigReplace: a full configuration replacement (then a
// restart), killed after each record.
func TestCrashDuringConfigReplace(t *testing.T) {
	script := "add Device.Users.User.\nset Device.Users.User.+.Username=replaced\nset Device.Time.NTPServer1=ntp.replaced.example\n"
	crashStory(t, "config replace", []string{
		"after:TransferQueued", "after:TransferStarted", "after:TransferFetched", "after:TransferApplying",
		"after:TransferFinished", "after:Booted", "after:TransferCompleteAcked",
	}, func(t *testing.T, srv *acsim.Server) {
		srv.AddFile("full.rsc", []byte(script))
		enqueue(t, srv, &soap.Download{CommandKey: "cfg-1", FileType: "3 Vendor Configuration File", URL: srv.FilesURL() + "/files/full.rsc"})
	}, func(t *testing.T, srv *acsim.Server, state string, a *agent) {
		oneTransferComplete(t, srv, "cfg-1", 0, a)
		enqueue(t, srv, &soap.GetParameterValues{ParameterNames: []string{"Device.Users.", "Device.Time.NTPServer1"}})
		connReq(t, srv)
		waitFor(t, func() bool { return len(responses(t, srv, "GetParameterValuesResponse")) == 1 }, "the GPV")
		v := gpvValues(t, responses(t, srv, "GetParameterValuesResponse")[0])
		if v["Device.Time.NTPServer1"] != "ntp.replaced.example" || v["Device.Users.UserNumberOfEntries"] != "1" {
			t.Fatalf("configuration after the replacement: %v", v)
		}
	})
}

// TestCrashDuringUpload: the journal export uploaded to the ACS.
func TestCrashDuringUpload(t *testing.T) {
	crashStory(t, "upload", []string{
		"after:TransferQueued", "after:TransferStarted", "after:TransferFinished", "after:TransferCompleteAcked",
	}, func(t *testing.T, srv *acsim.Server) {
		enqueue(t, srv, &soap.Upload{CommandKey: "up-1", FileType: "X 02C0DE Journal", URL: srv.FilesURL() + "/upload/journal.jsonl"})
	}, func(t *testing.T, srv *acsim.Server, state string, a *agent) {
		oneTransferComplete(t, srv, "up-1", 0, a)
		b, ok := srv.Upload("journal.jsonl")
		if !ok || !strings.Contains(string(b), `"name":"Booted"`) || strings.Contains(string(b), "cpe-secret") {
			t.Fatalf("uploaded journal (ok %v, %d bytes) lacks records or holds a secret", ok, len(b))
		}
	})
}

// TestCrashDuringFactoryReset: after the reset the next Inform is a
// BOOTSTRAP (+ BOOT), the ACS-made configuration is gone.
func TestCrashDuringFactoryReset(t *testing.T) {
	crashStory(t, "factory reset", []string{
		"after:FactoryResetRequested", "after:SessionSucceeded", "after:FactoryResetDone", "after:Booted:1",
	}, func(t *testing.T, srv *acsim.Server) {
		enqueue(t, srv, &soap.AddObject{ObjectName: "Device.Users.User."}, &soap.FactoryReset{})
	}, func(t *testing.T, srv *acsim.Server, state string, a *agent) {
		// BOOTSTRAP twice: the first contact, then after the reset.
		waitFor(t, func() bool {
			n := 0
			for _, e := range srv.Transcript() {
				if e.Direction == "cpe->acs" && e.Method == "Inform" && strings.Contains(fmt.Sprint(e.Summary), "0 BOOTSTRAP") {
					n++
				}
			}
			return n >= 2
		}, "a BOOTSTRAP after the factory reset")
		enqueue(t, srv, &soap.GetParameterValues{ParameterNames: []string{"Device.Users.UserNumberOfEntries"}})
		connReq(t, srv)
		waitFor(t, func() bool { return len(responses(t, srv, "GetParameterValuesResponse")) == 1 }, "the GPV")
		if v := gpvValues(t, responses(t, srv, "GetParameterValuesResponse")[0]); v["Device.Users.UserNumberOfEntries"] != "0" {
			t.Fatalf("configuration survived the factory reset: %v", v)
		}
	})
}
