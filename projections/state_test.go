package projections

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

func TestStatusFollowsSettingsAndSessions(t *testing.T) {
	f := newFolder(t)
	f.add(event.Booted{Reason: event.BootPowerOn})
	if got := f.s.Status().Status; got != StatusWaitingURL {
		t.Fatalf("no URL: %s", got)
	}
	f.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{{Name: SettingEnabled, Value: "false"}}})
	if got := f.s.Status().Status; got != StatusDisabled {
		t.Fatalf("disabled: %s", got)
	}
	f.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{
		{Name: SettingEnabled, Value: "true"}, {Name: SettingACSURL, Value: "https://acs/"}}})
	if got := f.s.Status().Status; got != StatusRunning {
		t.Fatalf("configured: %s", got)
	}
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	f.add(event.SessionFailed{Session: id, Error: "ACS returned 401 after digest auth", RetryCount: 1,
		Delay: 7 * time.Second, NextAttempt: t0.Add(time.Minute)})
	st := f.s.Status()
	if st.LastSessionError != "ACS returned 401 after digest auth" || st.RetryCount != 1 {
		t.Fatalf("after failure: %+v", st)
	}
	if f.s.Retry.NextAttempt != t0.Add(time.Minute) || f.s.Retry.Delay != 7*time.Second {
		t.Fatalf("journaled retry decision not kept: %+v", f.s.Retry)
	}
	f.session()
	if st := f.s.Status(); st.RetryCount != 0 || st.LastSessionError != "" {
		t.Fatalf("after success: %+v", st)
	}
}

func TestRetryResetsOnRebootAndDisable(t *testing.T) {
	for _, reset := range []event.Event{
		event.Booted{Reason: event.BootPowerOn},
		event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{{Name: SettingEnabled, Value: "false"}}},
	} {
		f := newFolder(t)
		f.firstBoot()
		id := f.add(event.SessionStarted{})
		f.add(event.SessionFailed{Session: id, Error: "x", RetryCount: 1, NextAttempt: t0})
		f.add(reset)
		if f.s.Retry.Failures != 0 {
			t.Fatalf("%v did not reset retry: %+v", reset.Type(), f.s.Retry)
		}
	}
}

func TestACSParameterAndLocalSettingAreOneValue(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{
		{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "600", Type: "unsignedInt"}}})
	if got := f.s.Settings.Get(SettingPeriodicInformInterval); got != "600" {
		t.Fatalf("SPV not visible as setting: %q", got)
	}
	if _, ok := f.s.Params.Values["Device.ManagementServer.PeriodicInformInterval"]; ok {
		t.Fatal("mirrored parameter stored twice")
	}
}

func TestParameterKeyOnlyWhenSet(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.add(event.ParametersSet{Source: event.SourceACS, ParameterKey: "a", SetKey: true})
	f.add(event.ParametersSet{Source: event.SourcePlatform, Values: []event.ParamValue{{Name: "Device.X", Value: "1"}}})
	if f.s.Params.ParameterKey != "a" {
		t.Fatal(f.s.Params.ParameterKey)
	}
}

func TestObjectsNestedDeleteAndNoReuse(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.add(event.ObjectAdded{Object: "Device.IP.Interface.", Instance: 1})
	f.add(event.ObjectAdded{Object: "Device.IP.Interface.1.IPv4Address.", Instance: 1})
	f.add(event.ParametersSet{Values: []event.ParamValue{{Name: "Device.IP.Interface.1.IPv4Address.1.IPAddress", Value: "192.0.2.1"},
		{Name: "Device.IP.Interface.10.Name", Value: "keep"}}})
	f.add(event.ObjectDeleted{Object: "Device.IP.Interface.1."})
	if _, ok := f.s.Params.Values["Device.IP.Interface.1.IPv4Address.1.IPAddress"]; ok {
		t.Fatal("values below a deleted instance kept")
	}
	if _, ok := f.s.Params.Values["Device.IP.Interface.10.Name"]; !ok {
		t.Fatal("deleting instance 1 removed instance 10's values")
	}
	if live := f.s.Params.Tables["Device.IP.Interface.1.IPv4Address."].Live; len(live) != 0 {
		t.Fatal("nested table kept its instances")
	}
	f.violation(event.ObjectAdded{Object: "Device.IP.Interface.", Instance: 1})
}

func TestSplitInstance(t *testing.T) {
	for in, want := range map[string]struct {
		table string
		n     uint32
		ok    bool
	}{
		"Device.Users.User.3.":  {"Device.Users.User.", 3, true},
		"Device.Users.User.":    {"", 0, false},
		"Device.Users.User.3":   {"", 0, false},
		"Device.A.99999999999.": {"", 0, false},
		".":                     {"", 0, false},
	} {
		table, n, ok := splitInstance(in)
		if table != want.table || n != want.n || ok != want.ok {
			t.Errorf("%q: %q %d %v", in, table, n, ok)
		}
	}
}

func TestApplyRejectsOutOfOrderAndCorrupt(t *testing.T) {
	s := New()
	typ, payload := event.MustEncode(event.Booted{Reason: "x"})
	if err := s.Apply(journal.Record{Seq: 1, Type: typ, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(journal.Record{Seq: 3, Type: typ, Payload: payload}); err == nil {
		t.Fatal("gap accepted")
	}
	err := s.Apply(journal.Record{Seq: 2, Type: typ, Payload: []byte("{")})
	var ce *journal.CorruptionError
	if !errors.As(err, &ce) || ce.Seq != 2 || s.Seq != 1 {
		t.Fatalf("corrupt record: %v (seq %d)", err, s.Seq)
	}
}

func TestRestoreRefusesOtherVersions(t *testing.T) {
	if _, err := Restore([]byte(`{"version":99,"state":{}}`)); !errors.Is(err, ErrSnapshotVersion) {
		t.Fatal(err)
	}
	if _, err := Restore([]byte(`{`)); err == nil {
		t.Fatal("bad snapshot accepted")
	}
}

func TestRedactedStateHoldsNoSecret(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{
		{Name: SettingPassword, Value: "pw-secret"}, {Name: SettingConnectionRequestPassword, Value: "cr-secret"}}})
	f.add(event.ParametersSet{Values: []event.ParamValue{{Name: "Device.Users.User.1.Password", Value: "u-secret", Hidden: true}}})
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.Users.User.1.Password", Value: "v-secret", Hidden: true}}})
	f.add(event.ChangeApplying{Kind: event.ChangeSet, Values: []event.ParamValue{{Name: "Device.Users.User.1.Password", Value: "a-secret", Hidden: true}}})
	id := f.add(event.TransferQueued{Kind: event.KindDownload, Password: "dl-secret", URL: "https://cpe:url-secret@files.example/fw.bin?sig=sig-secret"})
	f.add(event.TransferStarted{Transfer: id, StartTime: t0})
	f.add(event.TransferProgress{Transfer: id, URL: "https://cpe:link-secret@files.example/part", Offset: 4096})
	red, _ := f.s.Redacted().Snapshot()
	if strings.Contains(string(red), "secret") {
		t.Fatalf("secret in redacted state: %s", red)
	}
	live, _ := f.s.Snapshot()
	if !strings.Contains(string(live), "pw-secret") {
		t.Fatal("Redacted modified the live state")
	}
}

func TestClientResetKeepsATransferUnderWay(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	started := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw"})
	queued := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "later"})
	f.add(event.TransferStarted{Transfer: started, StartTime: t0})
	f.add(event.SettingsReset{})
	if f.s.Transfers.get(started) == nil || f.s.Transfers.get(queued) != nil {
		t.Fatalf("transfers after reset: %v", f.s.Transfers.ByID)
	}
	f.add(event.TransferFinished{Transfer: started}) // not a violation
}

// A restart of the agent alone (AgentRestarted) is not a boot: what is
// pending survives, no "1 BOOT" is raised, the retry state stays, and a
// session the stopped agent left open counts as failed. A Booted drops
// what does not survive a reboot.
func TestAgentRestartIsNotABoot(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	f.add(event.ConnectionRequestReceived{Accepted: true})
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	f.add(event.SessionFailed{Session: id, Error: "x", RetryCount: 1, NextAttempt: t0.Add(time.Hour)})
	open := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents(), RetryCount: 1})
	// The daemon journals the failure of the session its stopped process
	// left open, then the restart.
	f.add(event.SessionFailed{Session: open, Error: "agent stopped during the session", RetryCount: 2, NextAttempt: t0.Add(2 * time.Hour)})
	f.add(event.AgentRestarted{DeviceBoot: "kb-1"})
	f.wantEvents(EventValueChange)
	if f.s.Session.Open != 0 || f.s.Retry.Failures != 2 || f.s.Pending.Changed["Device.A"].Value != "1" {
		t.Fatalf("after the restart: open session %d (was %d), retry %+v, changed %v", f.s.Session.Open, open, f.s.Retry, f.s.Pending.Changed)
	}
	f.add(event.Booted{Reason: event.BootPowerOn, DeviceBoot: "kb-2"})
	f.wantEvents(EventBoot)
	if f.s.Boot.DeviceBoot != "kb-2" || f.s.Retry.Failures != 0 {
		t.Fatalf("after the boot: device boot %q, retry %+v", f.s.Boot.DeviceBoot, f.s.Retry)
	}
}

// TestChangeApplyingChangesNothingUntilItsOutcome: an ACS change the device
// must carry out is an intent first. Its outcome is the change's own record
// (naming the intent), which sets the values and the ParameterKey at once,
// or ChangeApplyFailed, after which nothing has changed, the ParameterKey
// neither, and an add's instance number is spent.
func TestChangeApplyingChangesNothingUntilItsOutcome(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.add(event.ParametersSet{Source: event.SourceACS, ParameterKey: "old", SetKey: true, Values: []event.ParamValue{
		{Name: "Device.Time.NTPServer1", Value: "ntp.old"}}})
	set := []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp.new"},
		{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "600", Type: "unsignedInt"},
		{Name: "Device.ManagementServer.CWMPRetryMinimumWaitInterval", Value: "30", Type: "unsignedInt"},
		{Name: "Device.Users.User.1.Password", Value: "pw", Hidden: true}}
	seq := f.add(event.ChangeApplying{Kind: event.ChangeSet, Values: set, ParameterKey: "new"})
	if f.s.Params.Values["Device.Time.NTPServer1"].Value != "ntp.old" || f.s.Params.ParameterKey != "old" ||
		f.s.Settings.Get(SettingPeriodicInformInterval) == "600" || f.s.Params.Applying == nil {
		t.Fatalf("the intent changed the state: %+v", f.s.Params)
	}
	// The device gets its own configuration, not the agent's (its settings
	// and the rest of ManagementServer).
	got := DeviceChanges(f.s.Params.Applying.Change)
	want := []DeviceChange{{Op: OpSet, Name: "Device.Time.NTPServer1", Value: "ntp.new"},
		{Op: OpSet, Name: "Device.Users.User.1.Password", Value: "pw", Hidden: true}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("device changes %+v", got)
	}
	f.add(event.ChangeApplyFailed{Change: seq, Error: "exit status 1"})
	if f.s.Params.Values["Device.Time.NTPServer1"].Value != "ntp.old" || f.s.Params.ParameterKey != "old" || f.s.Params.Applying != nil {
		t.Fatalf("after the failure: %+v", f.s.Params)
	}

	seq = f.add(event.ChangeApplying{Kind: event.ChangeSet, Values: set, ParameterKey: "new"})
	f.add(event.ParametersSet{Source: event.SourceACS, Values: set, ParameterKey: "new", SetKey: true, Applies: seq})
	if f.s.Params.Values["Device.Time.NTPServer1"].Value != "ntp.new" || f.s.Params.ParameterKey != "new" ||
		f.s.Settings.Get(SettingPeriodicInformInterval) != "600" || f.s.Params.Applying != nil {
		t.Fatalf("after the success: %+v", f.s.Params)
	}

	// A failed add spends its number; a delete's outcome removes the row.
	seq = f.add(event.ChangeApplying{Kind: event.ChangeAdd, Object: "Device.Users.User.", Instance: 1, ParameterKey: "a1"})
	if got := DeviceChanges(f.s.Params.Applying.Change); len(got) != 1 || got[0] != (DeviceChange{Op: OpAdd, Name: "Device.Users.User.1."}) {
		t.Fatalf("add: %+v", got)
	}
	f.add(event.ChangeApplyFailed{Change: seq})
	if tb := f.s.Params.Tables["Device.Users.User."]; tb == nil || tb.Highest != 1 || len(tb.Live) != 0 || f.s.Params.ParameterKey != "new" {
		t.Fatalf("after a failed add: %+v", f.s.Params)
	}
	seq = f.add(event.ChangeApplying{Kind: event.ChangeAdd, Object: "Device.Users.User.", Instance: 2, ParameterKey: "a2"})
	f.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 2, ParameterKey: "a2", SetKey: true, Source: event.SourceACS, Applies: seq})
	seq = f.add(event.ChangeApplying{Kind: event.ChangeDelete, Object: "Device.Users.User.2.", ParameterKey: "d2"})
	if got := DeviceChanges(f.s.Params.Applying.Change); len(got) != 1 || got[0] != (DeviceChange{Op: OpDelete, Name: "Device.Users.User.2."}) {
		t.Fatalf("delete: %+v", got)
	}
	f.add(event.ObjectDeleted{Object: "Device.Users.User.2.", ParameterKey: "d2", SetKey: true, Source: event.SourceACS, Applies: seq})
	if tb := f.s.Params.Tables["Device.Users.User."]; len(tb.Live) != 0 || f.s.Params.ParameterKey != "d2" || f.s.Params.Applying != nil {
		t.Fatalf("after the delete: %+v %+v", f.s.Params, tb)
	}

	// Outcomes of no intent, or of another one, are violations.
	f.violation(event.ChangeApplyFailed{Change: seq})
	f.add(event.ChangeApplying{Kind: event.ChangeSet, Values: set})
	f.violation(event.ParametersSet{Source: event.SourceACS, Values: set, Applies: seq})
}

// A journal that replaced a damaged one starts with JournalRecovered: the
// status says so (print shows it) for the journal's life, through boots,
// sessions and a reset, and the first boot after it is a BOOTSTRAP.
func TestJournalRecoveredShowsInStatus(t *testing.T) {
	f := newFolder(t)
	f.add(event.JournalRecovered{MovedTo: "/s/journal.corrupt-20261122T010204Z", Cause: "manifest has bad magic", By: "cwmpd run"})
	want := "2026-11-22T00:00:01Z: the previous journal was damaged (manifest has bad magic); cwmpd run moved it to /s/journal.corrupt-20261122T010204Z and started this one afresh"
	if got := f.s.Status().JournalRecovered; got != want {
		t.Fatalf("status after JournalRecovered:\n got %q\nwant %q", got, want)
	}
	f.firstBoot()
	f.wantEvents(EventBootstrap, EventBoot)
	f.session()
	f.add(event.SettingsReset{})
	if got := f.s.Status().JournalRecovered; got != want {
		t.Fatalf("status later: %q", got)
	}
	if New().Status().JournalRecovered != "" {
		t.Fatal("an ordinary journal says it was recovered")
	}
}
