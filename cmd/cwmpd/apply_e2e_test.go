package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/live"
)

// applyRig is an ACS and an agent configuration on the hooks platform
// whose apply-parameters command is a real shell script: each run copies
// the file of changes it was given to dev/got.N (N counting runs from 1),
// fails with the file's content on its stderr (passwords included, as a
// careless hook might) while dev/fail exists, and SIGKILLs the agent whose
// pid is in dev/kill-agent on its first run.
type applyRig struct {
	srv   *acsim.Server
	dev   string
	state string
	args  []string
}

func newApplyRig(t *testing.T) *applyRig {
	t.Helper()
	r := &applyRig{srv: acs(t), dev: t.TempDir(), state: t.TempDir()}
	script := filepath.Join(r.dev, "apply.sh")
	os.WriteFile(script, []byte(fmt.Sprintf(`#!/bin/sh
dev=%[1]s
n=$(cat "$dev/calls" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dev/calls"
cp "$1" "$dev/got.$n"
if [ "$n" = 1 ] && [ -f "$dev/kill-agent" ]; then
	kill -KILL "$(cat "$dev/kill-agent")"
	sleep 10
fi
if [ -f "$dev/fail" ]; then
	echo "uci: refused: $(tr '\t\n' '  ' < "$1")" >&2
	exit 1
fi
`, shellQuoteTest(r.dev))), 0o755)
	// The boot identity stays the same across the restarts below: they
	// are restarts of the agent alone, as after a crash.
	bootID := filepath.Join(r.dev, "boot_id")
	os.WriteFile(bootID, []byte("boot-1\n"), 0o644)
	hooks := filepath.Join(r.dev, "hooks.conf")
	os.WriteFile(hooks, []byte(fmt.Sprintf("manufacturer=Example\noui=00AB1F\nproduct-class=RT-1\nserial-number=SN-1\nsoftware-version=1.0\n"+
		"reboot=true\nboot-id-file=%s\napply-parameters=sh %s %%f\napply-timeout=20s\n", bootID, script)), 0o600)
	r.args = []string{"--defaults", defaultsFor(t, r.srv), "--platform", "hooks", "--hooks", hooks}
	return r
}

func shellQuoteTest(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// calls is how many times the hook ran.
func (r *applyRig) calls() int {
	b, _ := os.ReadFile(filepath.Join(r.dev, "calls"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// got is what the hook's n-th run was given.
func (r *applyRig) got(t *testing.T, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dev, "got."+strconv.Itoa(n)))
	if err != nil {
		t.Fatalf("hook run %d: %v", n, err)
	}
	return string(b)
}

// session queues requests, asks the agent for a session and returns the
// CPE's answers to them (responses and faults), in order.
func (r *applyRig) session(t *testing.T, a *agent, msgs ...soap.Message) []soap.Message {
	t.Helper()
	before := len(r.srv.Transcript())
	enqueue(t, r.srv, msgs...)
	connReq(t, r.srv)
	var out []soap.Message
	answers := func() bool {
		out = nil
		for _, e := range r.srv.Transcript()[before:] {
			if e.Direction != "cpe->acs" || e.Raw == "" || e.Method == "Inform" || e.Method == "TransferComplete" {
				continue
			}
			env, err := soap.Decode(strings.NewReader(e.Raw), 0)
			if err != nil {
				t.Fatalf("transcript %s: %v", e.Method, err)
			}
			out = append(out, env.Body)
		}
		return len(out) >= len(msgs)
	}
	for deadline := time.Now().Add(20 * time.Second); !answers(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d answers to %d requests\n%s", len(out), len(msgs), a.logs())
		}
	}
	return out
}

func wantFault9002(t *testing.T, m soap.Message, what string, secrets ...string) string {
	t.Helper()
	f, ok := m.(*soap.Fault)
	if !ok || f.Detail.FaultCode != soap.FaultInternalError {
		t.Fatalf("%s: want fault 9002, got %#v", what, m)
	}
	if len(f.Detail.SetParameterValuesFault) != 0 {
		// The device refused the request whole: no parameter is in error
		// (docs/decisions.md).
		t.Fatalf("%s: SetParameterValuesFault entries %v", what, f.Detail.SetParameterValuesFault)
	}
	for _, s := range secrets {
		if strings.Contains(f.Detail.FaultString, s) {
			t.Fatalf("%s: a password in the fault string %q", what, f.Detail.FaultString)
		}
	}
	return f.Detail.FaultString
}

// TestE2EApplyParametersHook: on the hooks platform the ACS's changes of
// the device's configuration reach the device through the apply-parameters
// hook before the ACS is answered. The hook gets exactly the names and
// values (a password too; shell syntax in a value stays data), not the
// agent's own (Device.ManagementServer.). When it fails the ACS gets 9002 with the hook's
// stderr (the password withheld) and nothing changed: not the values, not
// the settings set in the same SPV, not the ParameterKey, and a failed
// AddObject's instance number is not used again. No password reaches the
// agent's log.
func TestE2EApplyParametersHook(t *testing.T) {
	r := newApplyRig(t)
	a := startAgent(t, r.state, r.args...)
	waitSessions(t, r.srv, 1, a)
	const pw1, pw2 = "alice-pw-secret", "new-pw-secret"

	out := r.session(t, a,
		&soap.SetParameterValues{ParameterKey: "k1", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Time.NTPServer1", Value: `ntp.one; echo "$HOME" $(id) 'x'`, Type: soap.TypeString},
			{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "7200", Type: soap.TypeUnsignedInt},
			{Name: "Device.ManagementServer.CWMPRetryMinimumWaitInterval", Value: "7", Type: soap.TypeUnsignedInt}}},
		&soap.AddObject{ObjectName: "Device.Users.User.", ParameterKey: "k2"},
		&soap.SetParameterValues{ParameterKey: "k3", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Users.User.1.Username", Value: "alice", Type: soap.TypeString},
			{Name: "Device.Users.User.1.Password", Value: pw1, Type: soap.TypeString}}},
		&soap.SetParameterValues{ParameterKey: "bad", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Time.NTPServer2", Value: "a\nset\tDevice.Time.NTPServer3\tforged", Type: soap.TypeString}}},
	)
	if s, ok := out[0].(*soap.SetParameterValuesResponse); !ok || s.Status != soap.StatusApplied {
		t.Fatalf("SPV: %#v", out[0])
	}
	if add, ok := out[1].(*soap.AddObjectResponse); !ok || add.InstanceNumber != 1 || add.Status != soap.StatusApplied {
		t.Fatalf("AddObject: %#v", out[1])
	}
	if f, ok := out[3].(*soap.Fault); !ok || len(f.Detail.SetParameterValuesFault) != 1 || f.Detail.SetParameterValuesFault[0].FaultCode != 9007 {
		t.Fatalf("a value with a newline: %#v", out[3])
	}
	if n := r.calls(); n != 3 {
		t.Fatalf("the hook ran %d times for 3 changes", n)
	}
	if got := r.got(t, 1); got != "set\tDevice.Time.NTPServer1\tntp.one; echo \"$HOME\" $(id) 'x'\n" {
		t.Fatalf("the hook got %q", got)
	}
	if got := r.got(t, 2); got != "add\tDevice.Users.User.1.\n" {
		t.Fatalf("the hook got %q", got)
	}
	if got := r.got(t, 3); got != "set\tDevice.Users.User.1.Username\talice\nset\tDevice.Users.User.1.Password\t"+pw1+"\n" {
		t.Fatalf("the hook got %q", got)
	}

	// The device refuses: every kind of change fails whole.
	os.WriteFile(filepath.Join(r.dev, "fail"), nil, 0o644)
	out = r.session(t, a,
		&soap.SetParameterValues{ParameterKey: "k4", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Time.NTPServer1", Value: "ntp.two", Type: soap.TypeString},
			{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "60", Type: soap.TypeUnsignedInt},
			{Name: "Device.Users.User.1.Password", Value: pw2, Type: soap.TypeString}}},
		&soap.DeleteObject{ObjectName: "Device.Users.User.1.", ParameterKey: "k5"},
		&soap.AddObject{ObjectName: "Device.Users.User.", ParameterKey: "k6"},
		&soap.GetParameterValues{ParameterNames: []string{"Device.Time.NTPServer1", "Device.ManagementServer.PeriodicInformInterval",
			"Device.ManagementServer.ParameterKey", "Device.Users."}},
	)
	msg := wantFault9002(t, out[0], "SPV the device refused", pw1, pw2)
	if !strings.Contains(msg, "uci: refused") || !strings.Contains(msg, "ntp.two") {
		t.Fatalf("the fault string lacks the hook's stderr: %q", msg)
	}
	wantFault9002(t, out[1], "DeleteObject the device refused")
	wantFault9002(t, out[2], "AddObject the device refused")
	if got := r.got(t, 4); got != "set\tDevice.Time.NTPServer1\tntp.two\nset\tDevice.Users.User.1.Password\t"+pw2+"\n" {
		t.Fatalf("the hook got %q (the agent's own PeriodicInformInterval is not the device's)", got)
	}
	if got := r.got(t, 5) + r.got(t, 6); got != "delete\tDevice.Users.User.1.\nadd\tDevice.Users.User.2.\n" {
		t.Fatalf("the hook got %q", got)
	}
	v := gpvValues(t, out[3])
	if v["Device.Time.NTPServer1"] != `ntp.one; echo "$HOME" $(id) 'x'` || v["Device.ManagementServer.PeriodicInformInterval"] != "7200" ||
		v["Device.ManagementServer.ParameterKey"] != "k3" || v["Device.Users.UserNumberOfEntries"] != "1" || v["Device.Users.User.1.Username"] != "alice" {
		t.Fatalf("after the refused changes: %v", v)
	}

	// The device accepts again: the refused add's number stays spent.
	os.Remove(filepath.Join(r.dev, "fail"))
	out = r.session(t, a,
		&soap.AddObject{ObjectName: "Device.Users.User.", ParameterKey: "k7"},
		&soap.DeleteObject{ObjectName: "Device.Users.User.1.", ParameterKey: "k8"},
		&soap.GetParameterValues{ParameterNames: []string{"Device.ManagementServer.ParameterKey", "Device.Users.UserNumberOfEntries"}},
	)
	if add, ok := out[0].(*soap.AddObjectResponse); !ok || add.InstanceNumber != 3 {
		t.Fatalf("AddObject after a refused one: %#v", out[0])
	}
	if del, ok := out[1].(*soap.DeleteObjectResponse); !ok || del.Status != soap.StatusApplied {
		t.Fatalf("DeleteObject: %#v", out[1])
	}
	if got := r.got(t, 8); got != "delete\tDevice.Users.User.1.\n" {
		t.Fatalf("the hook got %q", got)
	}
	if v := gpvValues(t, out[2]); v["Device.ManagementServer.ParameterKey"] != "k8" || v["Device.Users.UserNumberOfEntries"] != "1" {
		t.Fatalf("after add and delete: %v", v)
	}
	if errs := transcriptErrors(r.srv); len(errs) > 0 {
		t.Fatalf("the strict ACS: %v", errs)
	}
	for _, s := range []string{pw1, pw2} {
		if strings.Contains(a.logs(), s) {
			t.Fatalf("a parameter's password (%s) reached the log:\n%s", s, a.logs())
		}
	}
	if !strings.Contains(a.logs(), "did not apply") {
		t.Fatalf("the refusals are not logged:\n%s", a.logs())
	}
	a.stop()
	if exp := runBin(t, "journal", "export", "--state", r.state); strings.Contains(exp.stdout, pw1) || strings.Contains(exp.stdout, pw2) ||
		!strings.Contains(exp.stdout, `"ChangeApplyFailed"`) {
		t.Fatalf("journal export: %s %s", exp.stdout, exp.stderr)
	}
}

// TestE2EApplyParametersAfterACrash: the agent dies between journaling an
// ACS change and journaling whether the device applied it. The next start
// runs the hook again with the same changes before any session: here once
// after the hook itself had finished its work (it kills the agent), and the
// change is then the device's and the ACS's (the ParameterKey too); once
// right after the intent (a failpoint), with a device that now refuses it,
// and nothing changes.
func TestE2EApplyParametersAfterACrash(t *testing.T) {
	r := newApplyRig(t)
	a := startAgent(t, r.state, r.args...)
	waitSessions(t, r.srv, 1, a)
	waitFor(t, func() bool { return strings.Contains(a.logs(), "session end: success") }, "the first session journaled")

	os.WriteFile(filepath.Join(r.dev, "kill-agent"), []byte(strconv.Itoa(a.cmd.Process.Pid)), 0o644)
	enqueue(t, r.srv, &soap.SetParameterValues{ParameterKey: "k1", ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.Time.NTPServer1", Value: "ntp.after-crash", Type: soap.TypeString},
		{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "7200", Type: soap.TypeUnsignedInt}}})
	connReq(t, r.srv)
	if err := a.waitKilled(20 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, a.logs())
	}
	if r.calls() != 1 {
		t.Fatalf("the hook ran %d times before the crash", r.calls())
	}
	os.Remove(filepath.Join(r.dev, "kill-agent"))

	a = startAgent(t, r.state, r.args...)
	waitFor(t, func() bool { return r.calls() == 2 }, "the hook run again at the start")
	if r.got(t, 1) != "set\tDevice.Time.NTPServer1\tntp.after-crash\n" || r.got(t, 2) != r.got(t, 1) {
		t.Fatalf("the hook got %q, then %q", r.got(t, 1), r.got(t, 2))
	}
	out := r.session(t, a, &soap.GetParameterValues{ParameterNames: []string{"Device.Time.NTPServer1",
		"Device.ManagementServer.PeriodicInformInterval", "Device.ManagementServer.ParameterKey"}})
	if v := gpvValues(t, out[0]); v["Device.Time.NTPServer1"] != "ntp.after-crash" || v["Device.ManagementServer.PeriodicInformInterval"] != "7200" ||
		v["Device.ManagementServer.ParameterKey"] != "k1" {
		t.Fatalf("after the restart: %v\n%s", v, a.logs())
	}
	a.stop()

	// Killed right after the intent of an AddObject, before the hook ran;
	// the device refuses it at the next start.
	enqueue(t, r.srv, &soap.AddObject{ObjectName: "Device.Users.User.", ParameterKey: "k2"})
	a = startAgentEnv(t, r.state, []string{live.FailpointEnv + "=after:ChangeApplying"}, r.args...)
	if err := a.waitKilled(20 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, a.logs())
	}
	if r.calls() != 2 {
		t.Fatalf("the hook ran before the intent was durable (%d runs)", r.calls())
	}
	os.WriteFile(filepath.Join(r.dev, "fail"), nil, 0o644)
	a = startAgent(t, r.state, r.args...)
	waitFor(t, func() bool { return r.calls() == 3 }, "the hook run again at the start")
	if got := r.got(t, 3); got != "add\tDevice.Users.User.1.\n" {
		t.Fatalf("the hook got %q", got)
	}
	waitFor(t, func() bool { return strings.Contains(a.logs(), "did not apply") }, "the refusal journaled")
	os.Remove(filepath.Join(r.dev, "fail"))
	out = r.session(t, a, &soap.GetParameterValues{ParameterNames: []string{"Device.Users.UserNumberOfEntries", "Device.ManagementServer.ParameterKey"}},
		&soap.AddObject{ObjectName: "Device.Users.User.", ParameterKey: "k3"})
	if v := gpvValues(t, out[0]); v["Device.Users.UserNumberOfEntries"] != "0" || v["Device.ManagementServer.ParameterKey"] != "k1" {
		t.Fatalf("after a refused change: %v", v)
	}
	if add, ok := out[1].(*soap.AddObjectResponse); !ok || add.InstanceNumber != 2 {
		t.Fatalf("AddObject after the refused one: %#v", out[1])
	}
	a.stop()
}

// TestE2EApplyHookLeavingABackgroundJob: a hook that applies the change and
// exits 0, leaving a job in the background that restarts a service once the
// ACS has its answer (the usual way to change the WAN without cutting the
// session), has applied the change: Status 0, the values and the
// ParameterKey are the ACS's. The job holds the hook's stderr open past its
// exit; that is no refusal.
func TestE2EApplyHookLeavingABackgroundJob(t *testing.T) {
	r := newApplyRig(t)
	os.WriteFile(filepath.Join(r.dev, "apply.sh"), []byte(fmt.Sprintf(`#!/bin/sh
dev=%[1]s
cp "$1" "$dev/got.1"
( sleep 4; echo reloaded > "$dev/reloaded" ) &
exit 0
`, shellQuoteTest(r.dev))), 0o755)
	a := startAgent(t, r.state, r.args...)
	waitSessions(t, r.srv, 1, a)
	out := r.session(t, a,
		&soap.SetParameterValues{ParameterKey: "k1", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.Time.NTPServer1", Value: "ntp.background", Type: soap.TypeString}}},
		&soap.GetParameterValues{ParameterNames: []string{"Device.Time.NTPServer1", "Device.ManagementServer.ParameterKey"}},
	)
	if f, ok := out[0].(*soap.Fault); ok {
		t.Fatalf("SPV the hook applied: fault %d %q", f.Detail.FaultCode, f.Detail.FaultString)
	}
	if s, ok := out[0].(*soap.SetParameterValuesResponse); !ok || s.Status != soap.StatusApplied {
		t.Fatalf("SPV the hook applied: %#v", out[0])
	}
	if got := r.got(t, 1); got != "set\tDevice.Time.NTPServer1\tntp.background\n" {
		t.Fatalf("the hook got %q", got)
	}
	if v := gpvValues(t, out[1]); v["Device.Time.NTPServer1"] != "ntp.background" || v["Device.ManagementServer.ParameterKey"] != "k1" {
		t.Fatalf("after the applied change: %v", v)
	}
	// The background job was not killed with the hook's run.
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(r.dev, "reloaded")); return err == nil }, "the background job done")
	a.stop()
}

// TestE2EApplyHookDiesWithTheAgent: the agent is SIGKILLed while its
// apply-parameters command is still at work. The next start runs the command
// again with the same changes; the first run must not carry on beside it
// (two runs at once share the device's staging, as uci's, where one's
// revert or commit lands in the other's): it ends with the agent.
func TestE2EApplyHookDiesWithTheAgent(t *testing.T) {
	r := newApplyRig(t)
	runs := filepath.Join(r.dev, "runs")
	os.WriteFile(filepath.Join(r.dev, "apply.sh"), []byte(fmt.Sprintf(`#!/bin/sh
dev=%[1]s
n=$(cat "$dev/calls" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dev/calls"
echo "start $n" >> "$dev/runs"
echo "$1" > "$dev/file.$n"
if [ "$n" = 1 ]; then
	kill -KILL "$(cat "$dev/kill-agent")"
	sleep 3
fi
echo "end $n" >> "$dev/runs"
`, shellQuoteTest(r.dev))), 0o755)
	a := startAgent(t, r.state, r.args...)
	waitSessions(t, r.srv, 1, a)
	waitFor(t, func() bool { return strings.Contains(a.logs(), "session end: success") }, "the first session journaled")
	os.WriteFile(filepath.Join(r.dev, "kill-agent"), []byte(strconv.Itoa(a.cmd.Process.Pid)), 0o644)
	enqueue(t, r.srv, &soap.SetParameterValues{ParameterKey: "k1", ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.Time.NTPServer1", Value: "ntp.after-crash", Type: soap.TypeString}}})
	connReq(t, r.srv)
	if err := a.waitKilled(20 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, a.logs())
	}
	a = startAgent(t, r.state, r.args...)
	waitFor(t, func() bool { b, _ := os.ReadFile(runs); return strings.Contains(string(b), "end 2") }, "the hook run again at the start")
	time.Sleep(4 * time.Second) // past the first run's sleep
	if b, _ := os.ReadFile(runs); string(b) != "start 1\nstart 2\nend 2\n" {
		t.Fatalf("the hook's runs:\n%s", b)
	}
	// The killed agent never removed the first run's file of changes (it
	// may hold passwords): the next run did.
	first, _ := os.ReadFile(filepath.Join(r.dev, "file.1"))
	if p := strings.TrimSpace(string(first)); p == "" {
		t.Fatal("the first run did not say where its file of changes was")
	} else if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the killed run's file of changes %s is still there (%v)", p, err)
	}
	out := r.session(t, a, &soap.GetParameterValues{ParameterNames: []string{"Device.Time.NTPServer1", "Device.ManagementServer.ParameterKey"}})
	if v := gpvValues(t, out[0]); v["Device.Time.NTPServer1"] != "ntp.after-crash" || v["Device.ManagementServer.ParameterKey"] != "k1" {
		t.Fatalf("after the restart: %v", v)
	}
	a.stop()
}

// TestE2EApplyInterruptedThenClientReset: the agent dies between
// journaling an ACS change and applying it, and the operator then runs
// reset-tr069-config (the manual's recovery for a stuck client) before it
// starts again. The next start still settles the change on the device (the
// device's configuration outlives a client reset, and the hook may have
// applied it already), but not what the reset forgot: the agent's own
// settings in the same request and its ParameterKey stay as the reset left
// them.
func TestE2EApplyInterruptedThenClientReset(t *testing.T) {
	r := newApplyRig(t)
	a := startAgent(t, r.state, r.args...)
	waitSessions(t, r.srv, 1, a)
	out := r.session(t, a, &soap.GetParameterValues{ParameterNames: []string{"Device.ManagementServer.PeriodicInformInterval"}})
	interval := gpvValues(t, out[0])["Device.ManagementServer.PeriodicInformInterval"]
	a.stop()

	enqueue(t, r.srv, &soap.SetParameterValues{ParameterKey: "k1", ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.Time.NTPServer1", Value: "ntp.kept", Type: soap.TypeString},
		{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "7200", Type: soap.TypeUnsignedInt}}})
	a = startAgentEnv(t, r.state, []string{live.FailpointEnv + "=after:ChangeApplying"}, r.args...)
	if err := a.waitKilled(20 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, a.logs())
	}
	if res := runBin(t, "reset-tr069-config", "--state", r.state, "--defaults", r.args[1]); res.code != 0 {
		t.Fatalf("reset-tr069-config: %d %s %s", res.code, res.stdout, res.stderr)
	}
	a = startAgent(t, r.state, r.args...)
	waitFor(t, func() bool { return r.calls() == 1 }, "the change settled at the start")
	out = r.session(t, a, &soap.GetParameterValues{ParameterNames: []string{"Device.Time.NTPServer1",
		"Device.ManagementServer.PeriodicInformInterval", "Device.ManagementServer.ParameterKey"}})
	if v := gpvValues(t, out[0]); v["Device.Time.NTPServer1"] != "ntp.kept" || v["Device.ManagementServer.PeriodicInformInterval"] != interval ||
		v["Device.ManagementServer.ParameterKey"] != "" {
		t.Fatalf("after the reset and the restart (interval was %s): %v\n%s", interval, v, a.logs())
	}
	a.stop()
}
