package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
)

func gpvValues(t *testing.T, m soap.Message) map[string]string {
	t.Helper()
	r, ok := m.(*soap.GetParameterValuesResponse)
	if !ok {
		t.Fatalf("not a GetParameterValuesResponse: %#v", m)
	}
	out := map[string]string{}
	for _, p := range r.ParameterList {
		out[p.Name] = p.Value
	}
	return out
}

// TestE2EDataModelThroughTheACS drives the parameter RPCs the way an ACS
// does, against the real binary: GPN and GPV of the whole tree, an SPV with
// one invalid value (nothing applied), a valid SPV, AddObject + SPV on the
// new row, a restart of the agent, and a GPV showing the row survived.
func TestE2EDataModelThroughTheACS(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	enqueue(t, srv,
		&soap.GetParameterNames{ParameterPath: "Device.", NextLevel: false},
		&soap.GetParameterValues{ParameterNames: []string{"Device."}},
		&soap.SetParameterValues{ParameterKey: "bad", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Time.NTPServer1", Value: "ntp.example", Type: soap.TypeString},
			{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "0", Type: soap.TypeUnsignedInt}}},
		&soap.SetParameterValues{ParameterKey: "good", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Time.NTPServer1", Value: "ntp.example", Type: soap.TypeString},
			{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "7200", Type: soap.TypeUnsignedInt}}},
		&soap.AddObject{ObjectName: "Device.Users.User.", ParameterKey: "add"},
		&soap.SetParameterValues{ParameterKey: "user", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Users.User.1.Username", Value: "alice", Type: soap.TypeString},
			{Name: "Device.Users.User.1.Password", Value: "alice-secret", Type: soap.TypeString}}},
	)
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")

	gpn := responses(t, srv, "GetParameterNamesResponse")
	if len(gpn) != 1 || len(gpn[0].(*soap.GetParameterNamesResponse).ParameterList) < 60 {
		t.Fatalf("GPN Device.: %v", gpn)
	}
	all := gpvValues(t, responses(t, srv, "GetParameterValuesResponse")[0])
	if all["Device.DeviceInfo.ManufacturerOUI"] != "02C0DE" || all["Device.ManagementServer.Password"] != "" || all["Device.DeviceInfo.UpTime"] == "" {
		t.Fatalf("GPV Device.: %d values, OUI %q", len(all), all["Device.DeviceInfo.ManufacturerOUI"])
	}
	var faults []soap.Message
	for _, e := range srv.Transcript() {
		if e.Direction == "cpe->acs" && e.Method == "Fault" {
			env, _ := soap.Decode(strings.NewReader(e.Raw), 0)
			faults = append(faults, env.Body)
		}
	}
	if len(faults) != 1 {
		t.Fatalf("%d faults, want the one for the invalid SPV", len(faults))
	}
	f := faults[0].(*soap.Fault)
	if f.Detail.FaultCode != 9003 || len(f.Detail.SetParameterValuesFault) != 1 ||
		f.Detail.SetParameterValuesFault[0].FaultCode != 9007 {
		t.Fatalf("invalid SPV fault: %+v", f.Detail)
	}
	if add := responses(t, srv, "AddObjectResponse"); len(add) != 1 || add[0].(*soap.AddObjectResponse).InstanceNumber != 1 {
		t.Fatalf("AddObject: %v", add)
	}
	if errs := transcriptErrors(srv); len(errs) > 0 {
		t.Fatalf("the strict ACS found errors: %v", errs)
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// The restart: a plain BOOT, and the configuration is still there.
	enqueue(t, srv, &soap.GetParameterValues{ParameterNames: []string{"Device.Users.", "Device.Time.NTPServer1", "Device.ManagementServer."}})
	a = startAgent(t, state)
	waitSessions(t, srv, 2, a)
	wantEvents(t, srv, "1 BOOT")
	v := gpvValues(t, responses(t, srv, "GetParameterValuesResponse")[1])
	if v["Device.Users.User.1.Username"] != "alice" || v["Device.Users.User.1.Password"] != "" || v["Device.Time.NTPServer1"] != "ntp.example" ||
		v["Device.ManagementServer.PeriodicInformInterval"] != "7200" || v["Device.ManagementServer.ParameterKey"] != "user" {
		t.Fatalf("after restart: %v", v)
	}
	// The ACS's interval is the operator's setting too.
	r := runBin(t, "print", "--state", state, "--json")
	var p struct{ Settings map[string]string }
	json.Unmarshal([]byte(r.stdout), &p)
	if p.Settings["periodic-inform-interval"] != "7200" {
		t.Fatalf("print: %s %s", r.stdout, r.stderr)
	}
	a.stop()
}

// TestE2ETriggers: each trigger produces its events — a connection
// request (session within 2 s), a periodic inform, a ScheduleInform, a
// local settings change seen by the ACS, a reboot with a command key.
func TestE2ETriggers(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	if !strings.Contains(a.logs(), "simulated device: what the ACS asks for") {
		t.Fatalf("no warning that the device is simulated:\n%s", a.logs())
	}

	start := time.Now()
	connReq(t, srv)
	waitSessions(t, srv, 2, a)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("connection request to session took %v", d)
	}
	wantEvents(t, srv, "6 CONNECTION REQUEST")

	// A local change shows in the ACS's next GPV; the ScheduleInform fires.
	if r := runBin(t, "set", "--state", state, "periodic-inform-interval=2s"); r.code != 0 || !strings.Contains(r.stdout, "set periodic-inform-interval") ||
		strings.Contains(r.stdout, "restart") {
		t.Fatalf("set: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// --connreq-listen names the port here: the operator is told the
	// setting cannot move it rather than left to believe it moved.
	if r := runBin(t, "set", "--state", state, "connection-request-port=17548"); r.code != 0 ||
		!strings.Contains(r.stderr, "(--connreq-listen names the port)") {
		t.Fatalf("set connection-request-port: %d %s %s", r.code, r.stdout, r.stderr)
	}
	enqueue(t, srv,
		&soap.GetParameterValues{ParameterNames: []string{"Device.ManagementServer.PeriodicInformInterval"}},
		&soap.ScheduleInform{DelaySeconds: 1, CommandKey: "sched-1"})
	connReq(t, srv)
	waitSessions(t, srv, 3, a)
	gpv := responses(t, srv, "GetParameterValuesResponse")
	if v := gpvValues(t, gpv[len(gpv)-1]); v["Device.ManagementServer.PeriodicInformInterval"] != "2" {
		t.Fatalf("local set not visible to the ACS: %v", v)
	}
	waitSessions(t, srv, 4, a)
	ev := eventCodes(onlyDevice(t, srv))
	if !strings.Contains(ev, "3 SCHEDULED") || !strings.Contains(ev, "M ScheduleInform(sched-1)") {
		t.Fatalf("scheduled inform events %q", ev)
	}
	waitSessions(t, srv, 5, a)
	if ev := eventCodes(onlyDevice(t, srv)); !strings.Contains(ev, "2 PERIODIC") {
		t.Fatalf("periodic events %q", ev)
	}

	enqueue(t, srv, &soap.Reboot{CommandKey: "rb-7"})
	connReq(t, srv)
	n := srv.Counts("").Sessions
	waitSessions(t, srv, n+2, a) // the session with the Reboot, then the one after it
	found := false
	for _, s := range srv.Sessions() {
		_ = s
	}
	for i := 0; i < 50 && !found; i++ {
		found = strings.Contains(eventCodes(onlyDevice(t, srv)), "M Reboot(rb-7)")
		if !found {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !found {
		t.Fatalf("no M Reboot after the reboot: %q\n%s", eventCodes(onlyDevice(t, srv)), a.logs())
	}
	if !strings.Contains(eventCodes(onlyDevice(t, srv)), "1 BOOT") {
		t.Fatal("no 1 BOOT after the reboot")
	}
	if errs := transcriptErrors(srv); len(errs) > 0 {
		t.Fatalf("the strict ACS found errors: %v", errs)
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestE2EStatusRetryAndReset: disabled → waiting-URL → running; an ACS
// failure shows in last-session-error and retry-count and clears after a
// success; reset-tr069-config leads to a BOOTSTRAP.
func TestE2EStatusRetryAndReset(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	status := func() map[string]any {
		r := runBin(t, "print", "--state", state, "--json")
		var p struct{ Status map[string]any }
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			return map[string]any{"error": r.stderr} // not started yet
		}
		return p.Status
	}
	defaults := filepath.Join(t.TempDir(), "defaults.conf")
	os.WriteFile(defaults, []byte("enabled=no\nusername=cpe\npassword=cpe-secret\nconnection-request-username=acs\nconnection-request-password=cr-secret\n"), 0o600)
	a := startAgent(t, state, "--defaults", defaults)
	waitFor(t, func() bool { return status()["status"] == "disabled" }, "status disabled")
	runBin(t, "set", "--state", state, "enabled=yes")
	waitFor(t, func() bool { return status()["status"] == "waiting-URL" }, "status waiting-URL")

	// The first session sets a 3 s retry wait and a 2 s periodic interval;
	// the periodic session after it fails with a 503 and is retried.
	enqueue(t, srv, &soap.SetParameterValues{ParameterKey: "k", ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.ManagementServer.CWMPRetryMinimumWaitInterval", Value: "3", Type: soap.TypeUnsignedInt},
		{Name: "Device.ManagementServer.CWMPRetryIntervalMultiplier", Value: "1000", Type: soap.TypeUnsignedInt},
		{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "2", Type: soap.TypeUnsignedInt}}})
	srv.PushFaults(acsim.FaultPlan{}, acsim.FaultPlan{HTTPStatus: 503})
	runBin(t, "set", "--state", state, "acs-url="+srv.URL())
	waitSessions(t, srv, 1, a)
	waitFor(t, func() bool {
		s := status()
		return s["retry-count"] == float64(1) && s["last-session-error"] == "ACS returned HTTP 503"
	}, "retry-count 1 after a 503")
	waitSessions(t, srv, 2, a) // the retry, 3 s later, succeeds
	waitFor(t, func() bool { s := status(); return s["retry-count"] == float64(0) && s["last-session-error"] == "" }, "reset after success")
	if d := onlyDevice(t, srv); d.LastRetryCount != 1 || !strings.Contains(eventCodes(d), "2 PERIODIC") {
		t.Fatalf("the retry Inform: RetryCount %d, events %s", d.LastRetryCount, eventCodes(d))
	}

	if r := runBin(t, "reset-tr069-config", "--state", state); r.code != 0 {
		t.Fatalf("reset: %d %s", r.code, r.stderr)
	}
	// Back to the factory defaults: disabled, no URL. Configured again, the
	// next session is a BOOTSTRAP.
	waitFor(t, func() bool { return status()["status"] == "disabled" }, "disabled after reset")
	runBin(t, "set", "--state", state, "enabled=yes", "acs-url="+srv.URL())
	waitFor(t, func() bool {
		return strings.Contains(eventCodes(onlyDevice(t, srv)), "0 BOOTSTRAP") && srv.Counts("").Sessions >= 3
	},
		"a BOOTSTRAP session after reset-tr069-config")
	a.stop()
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestE2ESigtermDuringSession: SIGTERM while the ACS is slow: the session
// is interrupted after --stop-wait, journaled as failed, exit 0.
func TestE2ESigtermDuringSession(t *testing.T) {
	srv := acs(t, func(c *acsim.Config) { c.Faults = acsim.FaultPlan{Delay: acsim.Duration(5 * time.Second), DelayAt: 1} })
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv), "--stop-wait", "300ms")
	waitFor(t, func() bool { return strings.Contains(a.logs(), "session start") }, "a session")
	start := time.Now()
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, a.logs())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stop took %v", d)
	}
	r := runBin(t, "replay", state)
	if !strings.Contains(r.stdout, "session interrupted: agent stopping") {
		t.Fatalf("interruption not journaled:\n%s", r.stdout)
	}
}

func TestE2EBadFlagsAndSettings(t *testing.T) {
	state := t.TempDir()
	for name, args := range map[string][]string{
		"platform":     {"run", "--state", state, "--platform", "nope"},
		"log format":   {"run", "--state", state, "--log-format", "xml"},
		"defaults":     {"run", "--state", state, "--defaults", "/nonexistent/defaults"},
		"bad interval": {"set", "--state", state, "periodic-inform-interval=soon"},
		"bad url":      {"set", "--state", state, "acs-url=ftp://acs/"},
		"unknown":      {"set", "--state", state, "colour=blue"},
		"no value":     {"set", "--state", state, "enabled"},
	} {
		r := runBin(t, args...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
	r := runBin(t, "set", "--state", state, "periodic-inform-interval=soon")
	if !strings.Contains(r.stderr, "periodic-inform-interval") || !strings.Contains(r.stderr, "duration") {
		t.Errorf("message does not name the setting and what it takes: %q", r.stderr)
	}
	// Nothing was written by the refused commands.
	if _, err := os.Stat(filepath.Join(state, "journal")); err == nil {
		t.Error("a refused set created a journal")
	}
	// Several at once, all or nothing: one bad value changes nothing.
	runBin(t, "set", "--state", state, "--create", "acs-url=https://acs.example/")
	r = runBin(t, "set", "--state", state, "username=x", "periodic-inform-interval=0")
	if r.code != 2 {
		t.Fatalf("exit %d", r.code)
	}
	p := runBin(t, "print", "--state", state)
	if strings.Contains(p.stdout, "username: x") || !strings.Contains(p.stdout, "https://acs.example/") {
		t.Fatalf("partial set applied:\n%s", p.stdout)
	}
}

// TestE2EControlSocketIsPrivate: the socket is mode 0600, and a process of
// another user cannot use it.
func TestE2EControlSocketIsPrivate(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	st, err := os.Stat(controlPath(state))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("control socket mode %v", st.Mode())
	}
	if os.Getuid() != 0 {
		t.Log("not root: cannot run a client as another user; the mode check above stands")
		a.stop()
		return
	}
	os.Chmod(state, 0o755) // let the other user reach the socket file itself
	cmd := exec.Command(cwmpdBinary(t), "set", "--state", state, "enabled=no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("another user changed a setting: %s", out)
	}
	if r := runBin(t, "print", "--state", state); !strings.Contains(r.stdout, "enabled: yes") {
		t.Fatalf("setting changed by another user:\n%s", r.stdout)
	}
	a.stop()
}

// A connection-request port held by something else at start does not leave
// the agent deaf for its whole life: it keeps trying, and once bound the
// new ConnectionRequestURL reaches the ACS (an active-notified parameter)
// and connection requests work.
func TestE2EConnectionRequestPortBusyAtStart(t *testing.T) {
	srv := acs(t)
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.Addr().String()
	a := startAgent(t, t.TempDir(), "--defaults", defaultsFor(t, srv), "--connreq-listen", addr)
	waitSessions(t, srv, 1, a)
	if u := onlyDevice(t, srv).ConnectionRequest; u != "" {
		t.Fatalf("published %q while the port was taken", u)
	}
	if !strings.Contains(a.logs(), "connection-request port unavailable") {
		t.Fatalf("no error logged for the taken port:\n%s", a.logs())
	}
	busy.Close()
	waitFor(t, func() bool { return strings.HasPrefix(onlyDevice(t, srv).ConnectionRequest, "http://"+addr+"/") }, "the bound URL at the ACS")
	n := srv.Counts("").Sessions
	connReq(t, srv)
	waitFor(t, func() bool {
		return srv.Counts("").Sessions > n && strings.Contains(eventCodes(onlyDevice(t, srv)), "6 CONNECTION REQUEST")
	}, "a session on the connection request")
}

// Connection requests turned on while their port is taken (by a process
// that holds it a moment, as at start): the agent keeps trying in the
// background, as it does at start, rather than stay deaf to the ACS until
// it restarts, and publishes the URL once bound.
func TestE2EConnectionRequestsTurnedOnWhileThePortIsTaken(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv), "--connreq-listen", addr)
	waitSessions(t, srv, 1, a)
	if r := runBin(t, "set", "--state", state, "enabled=no"); r.code != 0 {
		t.Fatalf("set enabled=no: %d %s", r.code, r.stderr)
	}
	busy, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is not free with connection requests off: %v", err)
	}
	if r := runBin(t, "set", "--state", state, "enabled=yes"); r.code != 0 {
		t.Fatalf("set enabled=yes: %d %s", r.code, r.stderr)
	}
	busy.Close()
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "the agent listening once the port is free")
	waitFor(t, func() bool { return strings.HasPrefix(onlyDevice(t, srv).ConnectionRequest, "http://"+addr+"/") }, "the bound URL at the ACS")
	n := srv.Counts("").Sessions
	connReq(t, srv)
	waitFor(t, func() bool {
		return srv.Counts("").Sessions > n && strings.Contains(eventCodes(onlyDevice(t, srv)), "6 CONNECTION REQUEST")
	}, "a session on the connection request")
	a.stop()
}

// The operator's connection-request-port applies at once: the daemon
// listens on the new port before it closes the old one, the ACS learns the
// new ConnectionRequestURL (active notification) and its connection
// requests work there. A port that cannot be bound leaves connection
// requests where they were, and the operator is told.
func TestE2EConnectionRequestPortMovesLive(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	first := freePort(t)
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv, fmt.Sprintf("connection-request-port=%d", first)),
		"--connreq-listen", "127.0.0.1")
	waitSessions(t, srv, 1, a)
	waitFor(t, func() bool {
		return strings.HasPrefix(onlyDevice(t, srv).ConnectionRequest, fmt.Sprintf("http://127.0.0.1:%d/", first))
	}, "the first port's URL at the ACS")

	second := freePort(t)
	n := srv.Counts("").Sessions
	if r := runBin(t, "set", "--state", state, fmt.Sprintf("connection-request-port=%d", second)); r.code != 0 || r.stderr != "" {
		t.Fatalf("set connection-request-port: %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, func() bool {
		return srv.Counts("").Sessions > n && strings.HasPrefix(onlyDevice(t, srv).ConnectionRequest, fmt.Sprintf("http://127.0.0.1:%d/", second))
	}, "a session telling the ACS the new URL")
	if ev := eventCodes(onlyDevice(t, srv)); ev != "4 VALUE CHANGE" {
		t.Fatalf("events of the session after the move: %q", ev)
	}
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", first)); err == nil {
		c.Close()
		t.Fatalf("the old port %d still accepts connections", first)
	}
	n = srv.Counts("").Sessions
	connReq(t, srv)
	waitFor(t, func() bool {
		return srv.Counts("").Sessions > n && strings.Contains(eventCodes(onlyDevice(t, srv)), "6 CONNECTION REQUEST")
	}, "a session on a connection request to the new port")

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, taken, _ := net.SplitHostPort(busy.Addr().String())
	r := runBin(t, "set", "--state", state, "connection-request-port="+taken)
	if r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("connection requests stay on 127.0.0.1:%d until cwmpd restarts", second)) {
		t.Fatalf("set to a taken port: %d %q %q", r.code, r.stdout, r.stderr)
	}
	n = srv.Counts("").Sessions
	connReq(t, srv)
	waitSessions(t, srv, n+1, a)
	if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, "connection-request-port: "+taken) {
		t.Fatalf("the setting was not kept for the next start:\n%s", p.stdout)
	}
	// The operator frees the port and sets it again: now it moves.
	busy.Close()
	if r := runBin(t, "set", "--state", state, "connection-request-port="+taken); r.code != 0 || r.stderr != "" {
		t.Fatalf("set again once free: %d %q %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, func() bool {
		return strings.HasPrefix(onlyDevice(t, srv).ConnectionRequest, "http://127.0.0.1:"+taken+"/")
	}, "the URL on the freed port at the ACS")
	a.stop()
}

// Connection requests are accepted only while they are on (digest D§13.1,
// D§14): HTTPConnectionRequestEnable=false set by the ACS closes the port
// and empties ConnectionRequestURL, true opens it again; the operator's
// enabled=no closes it too, and nothing sent meanwhile is journaled, so
// re-enabling brings no stale "6 CONNECTION REQUEST".
func TestE2EConnectionRequestsOnlyWhileOn(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	// A fixed port (not :0), so the URL is the same when it opens again.
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv), "--connreq-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	waitSessions(t, srv, 1, a)
	url := onlyDevice(t, srv).ConnectionRequest
	u, err := neturl.Parse(url)
	if err != nil || u.Host == "" {
		t.Fatalf("ConnectionRequestURL %q", url)
	}
	listening := func() bool {
		c, err := net.Dial("tcp", u.Host)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	const enable = "Device.ManagementServer.HTTPConnectionRequestEnable"
	enqueue(t, srv, &soap.SetParameterValues{ParameterKey: "cr-off", ParameterList: []soap.ParameterValueStruct{{Name: enable, Value: "false", Type: "xsd:boolean"}}},
		&soap.ScheduleInform{DelaySeconds: 2, CommandKey: "back"})
	connReq(t, srv)
	waitFor(t, func() bool { return !listening() }, "the port closed by HTTPConnectionRequestEnable=false")
	waitFor(t, func() bool {
		d := onlyDevice(t, srv)
		return d.ConnectionRequest == "" && strings.Contains(eventCodes(d), "4 VALUE CHANGE")
	}, "an empty ConnectionRequestURL at the ACS")

	enqueue(t, srv, &soap.SetParameterValues{ParameterKey: "cr-on", ParameterList: []soap.ParameterValueStruct{{Name: enable, Value: "true", Type: "xsd:boolean"}}})
	waitFor(t, func() bool { return strings.Contains(eventCodes(onlyDevice(t, srv)), "M ScheduleInform(back)") }, "the scheduled session")
	waitFor(t, listening, "the port open again")
	waitFor(t, func() bool { return onlyDevice(t, srv).ConnectionRequest == url }, "the URL back at the ACS")

	if r := runBin(t, "set", "--state", state, "enabled=no"); r.code != 0 {
		t.Fatalf("set enabled=no: %d %s", r.code, r.stderr)
	}
	if listening() {
		t.Fatal("the port stays open with enabled=no")
	}
	if r := runBin(t, "set", "--state", state, "enabled=yes"); r.code != 0 {
		t.Fatalf("set enabled=yes: %d %s", r.code, r.stderr)
	}
	if !listening() {
		t.Fatal("the port stays closed after enabled=yes")
	}
	n := srv.Counts("").Sessions
	connReq(t, srv)
	waitSessions(t, srv, n+1, a)
	if ev := eventCodes(onlyDevice(t, srv)); ev != "6 CONNECTION REQUEST" {
		t.Fatalf("events after re-enabling: %q", ev)
	}
	if errs := transcriptErrors(srv); len(errs) > 0 {
		t.Fatalf("acsim found: %v", errs)
	}
	a.stop()
}

// Without --connreq-host, ConnectionRequestURL names the local address of
// the route to the ACS, from the first Inform on, and follows it when it
// changes: here the ACS moves from 127.0.0.1 to ::1, so the route leaves
// from ::1, and the new URL reaches the ACS as an active VALUE CHANGE.
func TestE2EConnectionRequestURLFollowsTheRoute(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv), "--connreq-host", "")
	waitSessions(t, srv, 1, a)
	url := onlyDevice(t, srv).ConnectionRequest
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first Inform's ConnectionRequestURL %q, want the route's 127.0.0.1 (first IPv4 here: %s)", url, firstIPv4())
	}
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Logf("no IPv6 loopback here (%v): the route change is not tried", err)
		a.stop()
		return
	} else {
		l.Close()
	}
	srv6 := acs(t, func(c *acsim.Config) { c.Listen = "[::1]:0" })
	if r := runBin(t, "set", "--state", state, "acs-url="+srv6.URL()); r.code != 0 {
		t.Fatalf("set acs-url: %d %s", r.code, r.stderr)
	}
	waitFor(t, func() bool {
		d := srv6.Devices()
		return len(d) == 1 && strings.HasPrefix(d[0].ConnectionRequest, "http://[::1]:")
	}, "the ::1 URL at the new ACS")
	if u := onlyDevice(t, srv6).ConnectionRequest; !strings.HasSuffix(u, url[strings.LastIndex(url, "/"):]) {
		t.Fatalf("URL %q lost its path (was %q)", u, url)
	}
	// The new ACS's very first Inform (its BOOTSTRAP) already names the
	// route to it, not the route to the ACS the device left: the ACS
	// would otherwise keep a URL it may not reach until a later session.
	first := responses(t, srv6, "Inform")[0].(*soap.Inform)
	for _, p := range first.ParameterList {
		if p.Name == paramCRURL && !strings.HasPrefix(p.Value, "http://[::1]:") {
			t.Fatalf("the first Inform at the new ACS names %q, the route to the old one", p.Value)
		}
	}
	a.stop()
}

// The daemon sets its timer slack on every thread (--timer-slack, 10 ms by
// default); 0 leaves the slack it was started with. Reading another
// process's /proc/TID/timerslack_ns takes CAP_SYS_NICE: without it the test
// checks the daemon's log line instead of the threads.
func TestE2ETimerSlackOnEveryThread(t *testing.T) {
	const prGetTimerSlack = 30
	own, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetTimerSlack, 0, 0)
	if errno != 0 {
		t.Fatalf("prctl(PR_GET_TIMERSLACK): %v", errno)
	}
	srv := acs(t)
	for _, tc := range []struct {
		args []string
		want uint64
	}{
		{nil, 10_000_000},
		{[]string{"--timer-slack", "1ms"}, 1_000_000},
		{[]string{"--timer-slack", "0"}, uint64(own)},
	} {
		n := srv.Counts("").Sessions
		a := startAgent(t, t.TempDir(), append([]string{"--defaults", defaultsFor(t, srv)}, tc.args...)...)
		waitSessions(t, srv, n+1, a) // running, threads started
		pid := a.cmd.Process.Pid
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil || len(tasks) < 2 {
			t.Fatalf("%v: threads of %d: %v (%d)", tc.args, pid, err, len(tasks))
		}
		for _, task := range tasks {
			b, err := os.ReadFile("/proc/" + task.Name() + "/timerslack_ns")
			if errors.Is(err, fs.ErrPermission) {
				t.Logf("%v: cannot read the daemon's timer slack without CAP_SYS_NICE; checking its log", tc.args)
				set := strings.Contains(a.logs(), "timer slack set on every thread")
				if set != (len(tc.args) == 0 || tc.args[1] != "0") {
					t.Fatalf("%v: log says set=%v\n%s", tc.args, set, a.logs())
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(b)); got != strconv.FormatUint(tc.want, 10) {
				t.Fatalf("%v: thread %s has timer slack %s ns, want %d", tc.args, task.Name(), got, tc.want)
			}
		}
		if code := a.stop(); code != 0 {
			t.Fatalf("%v: exit %d", tc.args, code)
		}
	}
	for _, bad := range []string{"-1s", "2s"} {
		if r := runBin(t, "run", "--state", t.TempDir(), "--timer-slack", bad); r.code != 2 || !strings.Contains(r.stderr, "--timer-slack") {
			t.Fatalf("--timer-slack %s: exit %d, %q", bad, r.code, r.stderr)
		}
	}
}

// TestE2ERetryAfterDeliveredFailure: the ACS acknowledges the BOOTSTRAP
// Inform, then fails the session with an HTTP 500. Nothing is left to
// deliver, yet the session failed: the agent retries after its retry wait
// with an empty Event array and RetryCount 1 (D§7, D§9), instead of waiting
// an hour for the periodic inform.
func TestE2ERetryAfterDeliveredFailure(t *testing.T) {
	srv := acs(t)
	// Post 1 the Inform, answered; post 2 the empty POST: answered 500.
	srv.PushFaults(acsim.FaultPlan{HTTPStatus: 500, HTTPStatusAt: 2})
	a := startAgent(t, t.TempDir(), "--defaults", defaultsFor(t, srv))
	// acsim counts successful sessions: the retry, 5 to 10 s later (the
	// default retry wait), is the first.
	waitSessions(t, srv, 1, a)
	d := onlyDevice(t, srv)
	if d.LastRetryCount != 1 || len(d.LastEvents) != 0 {
		t.Fatalf("the retry Inform: RetryCount %d, events %q (want 1 and none)\n%s", d.LastRetryCount, eventCodes(d), a.logs())
	}
	a.stop()
}
