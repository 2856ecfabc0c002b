package datamodel

import (
	"errors"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

func TestWatcherReportsExternalChangesOnly(t *testing.T) {
	f := newFix(t)
	f.do(&soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.Time.NTPServer1", NotificationChange: true, Notification: 1},
		{Name: "Device.Time.NTPServer2", NotificationChange: true, Notification: 2}}})
	if ch, _ := f.poll(); len(ch) != 0 {
		t.Fatalf("first poll reported %v: it only takes the baseline", ch)
	}
	// The ACS's own change is never reported back.
	f.do(&soap.SetParameterValues{ParameterList: []soap.ParameterValueStruct{{Name: "Device.Time.NTPServer1", Value: "by-acs"}}})
	if ch, _ := f.poll(); len(ch) != 0 {
		t.Fatalf("ACS change reported: %v", ch)
	}
	// A local change (the operator, the platform) is.
	f.append(event.ParametersSet{Source: event.SourceCLI, Values: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "local"}}})
	ch, active := f.poll()
	if len(ch) != 1 || ch[0].Value != "local" || active {
		t.Fatalf("passive change: %v active=%v", ch, active)
	}
	f.append(event.ParametersSet{Source: event.SourcePlatform, Values: []event.ParamValue{{Name: "Device.Time.NTPServer2", Value: "x"}}})
	if ch, active := f.poll(); len(ch) != 1 || !active {
		t.Fatalf("active change: %v active=%v", ch, active)
	}
	// Unwatched parameters are not compared.
	f.append(event.ParametersSet{Source: event.SourceCLI, Values: []event.ParamValue{{Name: "Device.Time.NTPServer3", Value: "y"}}})
	if ch, _ := f.poll(); len(ch) != 0 {
		t.Fatalf("unwatched change reported: %v", ch)
	}
}

func TestForcedActiveHostValueChangeIsActive(t *testing.T) {
	f := newFix(t)
	f.do(&soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.Ethernet.Interface.2.Stats.BytesSent", NotificationChange: true, Notification: 1}}})
	f.poll()
	f.host.snap.Interfaces[1].Stats.BytesSent = 5000
	ch, active := f.poll()
	if len(ch) != 1 || ch[0].Name != "Device.Ethernet.Interface.2.Stats.BytesSent" || active {
		t.Fatalf("%v %v", ch, active)
	}
	// Journaled, it raises VALUE CHANGE; a reboot drops it.
	f.append(event.ValueChanged{Changes: ch, Active: active})
	f.store.View(func(st *projections.State) {
		if !st.Pending.Has(projections.EventValueChange, "") {
			t.Fatal("VALUE CHANGE not pending")
		}
	})
	f.append(event.Booted{Reason: event.BootPowerOn})
	f.store.View(func(st *projections.State) {
		if st.Pending.Has(projections.EventValueChange, "") || len(st.Pending.Changed) != 0 {
			t.Fatal("value change survived a reboot")
		}
	})
}

func TestWatchStartsAtTheSPANotAtTheNextPoll(t *testing.T) {
	f := newFix(t)
	f.poll() // baseline: nothing watched
	f.do(&soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.Time.NTPServer1", NotificationChange: true, Notification: 2}}})
	// Changed before any poll saw the parameter watched.
	f.append(event.ParametersSet{Source: event.SourceCLI, Values: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "fast"}}})
	if ch, active := f.poll(); len(ch) != 1 || !active {
		t.Fatalf("change right after the SPA missed: %v %v", ch, active)
	}
}

// The value-change poll runs every 30 s for the agent's life: it reads the
// host (/proc, every interface's counters) only while a watched parameter
// may come from it.
func TestPollReadsTheHostOnlyWhenAWatchedParameterNeedsIt(t *testing.T) {
	f := newFix(t)
	f.poll()
	f.do(&soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.Time.NTPServer1", NotificationChange: true, Notification: 2}}})
	before := f.host.reads
	f.poll()
	if f.host.reads != before {
		t.Fatalf("host read %d times by a poll watching only journal parameters", f.host.reads-before)
	}
	f.do(&soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.DeviceInfo.MemoryStatus.Free", NotificationChange: true, Notification: 1}}})
	f.poll()
	f.host.snap.MemFree = 100
	before = f.host.reads
	ch, _ := f.poll()
	if f.host.reads != before+1 || len(ch) != 1 || ch[0].Name != "Device.DeviceInfo.MemoryStatus.Free" {
		t.Fatalf("watching a host parameter: %d host reads, changes %v", f.host.reads-before, ch)
	}
}

func TestDependsOnHost(t *testing.T) {
	s := DefaultSchema()
	for name, want := range map[string]bool{
		"Device.Time.NTPServer1":                        false,
		"Device.DeviceInfo.SoftwareVersion":             false,
		"Device.ManagementServer.ConnectionRequestURL":  false,
		"Device.DeviceInfo.UpTime":                      true,  // read from the host
		"Device.Ethernet.Interface.2.Stats.BytesSent":   true,  // in a host table
		"Device.IP.Interface.3.IPv4Address.1.IPAddress": true,  // nested host tables
		"Device.IP.InterfaceNumberOfEntries":            true,  // counts a host table
		"Device.Users.User.4.Username":                  false, // a journal table
		"Device.No.Such.Parameter":                      true,  // unknown: read to be safe
	} {
		if got := s.dependsOnHost(name); got != want {
			t.Errorf("dependsOnHost(%q) = %v, want %v", name, got, want)
		}
	}
	if s.forcedFromHost {
		t.Error("the default schema watches a host parameter by default; every poll would read the host")
	}
}

// poll runs one Poll and returns what it handed to be journaled.
func (f *fix) poll() (changes []event.ParamValue, active bool) {
	f.t.Helper()
	if err := f.w.Poll(func(c []event.ParamValue, a bool) error { changes, active = c, a; return nil }); err != nil {
		f.t.Fatal(err)
	}
	return changes, active
}

// What the ACS's own SPV, AddObject and DeleteObject move besides the
// values it sets (ParameterKey, a table's NumberOfEntries) is not reported
// back as VALUE CHANGE either (digest §8.2).
func TestWatcherIgnoresWhatTheACSChangeAlsoMoves(t *testing.T) {
	f := newFix(t)
	f.do(&soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.ManagementServer.ParameterKey", NotificationChange: true, Notification: 1},
		{Name: "Device.Users.UserNumberOfEntries", NotificationChange: true, Notification: 2}}})
	f.poll()
	f.do(&soap.SetParameterValues{ParameterKey: "pk-1", ParameterList: []soap.ParameterValueStruct{{Name: "Device.Time.NTPServer1", Value: "by-acs"}}})
	if ch, _ := f.poll(); len(ch) != 0 {
		t.Fatalf("the ACS's SPV reported: %v", ch)
	}
	if _, ok := f.do(&soap.AddObject{ObjectName: "Device.Users.User.", ParameterKey: "pk-2"}).(*soap.AddObjectResponse); !ok {
		t.Fatal("AddObject refused")
	}
	if ch, active := f.poll(); len(ch) != 0 {
		t.Fatalf("the ACS's AddObject reported: %v (active %v)", ch, active)
	}
	if _, ok := f.do(&soap.DeleteObject{ObjectName: "Device.Users.User.1.", ParameterKey: "pk-3"}).(*soap.DeleteObjectResponse); !ok {
		t.Fatal("DeleteObject refused")
	}
	if ch, _ := f.poll(); len(ch) != 0 {
		t.Fatalf("the ACS's DeleteObject reported: %v", ch)
	}
	// A row added by someone else is a change.
	f.append(event.ObjectAdded{Object: "Device.Users.User.", Instance: 2, Source: event.SourceCLI})
	if ch, active := f.poll(); len(ch) != 1 || ch[0].Name != "Device.Users.UserNumberOfEntries" || !active {
		t.Fatalf("a row added locally: %v (active %v)", ch, active)
	}
}

// A change the journal refuses (a full disk) is not lost: it stays out of
// the baseline, and the next poll hands it over again.
func TestWatcherKeepsAChangeTheJournalRefused(t *testing.T) {
	f := newFix(t)
	f.do(&soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.Time.NTPServer1", NotificationChange: true, Notification: 1}}})
	f.poll()
	f.append(event.ParametersSet{Source: event.SourceCLI, Values: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "local"}}})
	refused := errors.New("journal: disk full")
	if err := f.w.Poll(func([]event.ParamValue, bool) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("Poll returned %v", err)
	}
	if ch, _ := f.poll(); len(ch) != 1 || ch[0].Value != "local" {
		t.Fatalf("after the refusal the change was lost: %v", ch)
	}
	if ch, _ := f.poll(); len(ch) != 0 {
		t.Fatalf("journaled change reported again: %v", ch)
	}
}
