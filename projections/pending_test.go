package projections

import (
	"fmt"
	"testing"

	"github.com/cwmpd/cwmpd/projections/event"
)

func TestFirstBootIsBootstrapAndBoot(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.wantEvents(EventBootstrap, EventBoot)
	f.session(func() { f.wantEvents() })
	if !f.s.Boot.BootstrapDelivered {
		t.Fatal("BOOTSTRAP delivered but not recorded")
	}
	// The next start is a plain BOOT.
	f.add(event.Booted{Reason: event.BootPowerOn})
	f.wantEvents(EventBoot)
}

func TestUndeliveredBootstrapSurvivesReboot(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.add(event.PeriodicInformDue{Due: t0})
	f.add(event.Booted{Reason: event.BootPowerOn})
	// BOOTSTRAP was already pending: re-raising it discards nothing, the
	// periodic event survives the reboot, BOOT is raised again.
	f.wantEvents(EventBootstrap, EventPeriodic, EventBoot)
}

func TestSingleEventsAreCumulativeMultipleOnesPerCommandKey(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.PeriodicInformDue{Due: t0})
	f.add(event.PeriodicInformDue{Due: t0})
	a := f.add(event.InformScheduled{CommandKey: "a", Due: t0})
	b := f.add(event.InformScheduled{CommandKey: "b", Due: t0})
	f.add(event.ScheduledInformDue{Schedule: a})
	f.add(event.ScheduledInformDue{Schedule: b})
	f.wantEvents(EventPeriodic, EventScheduled, "M ScheduleInform(a)", "M ScheduleInform(b)")
	f.violation(event.ScheduledInformDue{Schedule: a}) // fired twice
}

func TestDeliveredEventsAreNeverSentAgainEvenIfTheSessionFails(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	id := f.informed()
	f.add(event.SessionFailed{Session: id, Error: "connection reset", RetryCount: 1})
	f.wantEvents() // A.3.3.1: the retry Inform's Event array is empty
	if f.s.Retry.Failures != 1 || f.s.Retry.LastError != "connection reset" {
		t.Fatalf("retry %+v", f.s.Retry)
	}
}

func TestFaultToInformDeliversNothing(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	f.add(event.SessionFailed{Session: id, Error: "ACS fault 8005", RetryCount: 1})
	f.wantEvents(EventBootstrap, EventBoot)
}

func TestEventRaisedDuringSessionIsNotLostByItsInformResponse(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.PeriodicInformDue{Due: t0})
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	offered := f.s.Pending.InformEvents()
	f.add(event.PeriodicInformDue{Due: t0}) // the next period, raised mid-session
	f.add(event.InformAccepted{Session: id, Events: offered})
	f.wantEvents(EventPeriodic)
}

func TestPeriodicAccumulatesAcrossFailedSessions(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	for i := 1; i <= 3; i++ {
		f.add(event.PeriodicInformDue{Due: t0})
		id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents(), RetryCount: f.s.Retry.Failures})
		f.add(event.SessionFailed{Session: id, Error: "timeout", RetryCount: i})
	}
	f.wantEvents(EventPeriodic)
	if f.s.Retry.Failures != 3 {
		t.Fatal(f.s.Retry)
	}
}

func TestConnectionRequestIsNeverRetried(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ConnectionRequestReceived{Remote: "10.0.0.1:1", Accepted: true})
	f.add(event.ConnectionRequestReceived{Remote: "10.0.0.9:1", Accepted: false, Reason: "bad credentials"})
	f.add(event.PeriodicInformDue{Due: t0})
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	f.add(event.SessionFailed{Session: id, Error: "x", RetryCount: 1})
	f.wantEvents(EventPeriodic)
	if f.s.Session.RejectedConnectionRequests != 1 {
		t.Fatal("rejected attempt not counted")
	}
}

func TestValueChangesAndWhatSurvivesReboot(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "2"}, {Name: "Device.B", Value: "x"}}, Active: true})
	f.wantEvents(EventValueChange)
	if got := f.s.Pending.Changed["Device.A"].Value; got != "2" || !f.s.Pending.ActiveChange {
		t.Fatalf("latest value %q active %v", got, f.s.Pending.ActiveChange)
	}
	f.add(event.RebootRequested{CommandKey: "rb1", Source: event.SourceACS})
	f.add(event.Booted{Reason: event.BootReboot})
	f.wantEvents(EventBoot, "M Reboot(rb1)")
	if len(f.s.Pending.Changed) != 0 || f.s.Pending.ActiveChange {
		t.Fatal("value changes survived a reboot")
	}
}

func TestValueChangeDuringSessionStaysOwed(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	offered := f.s.Pending.InformEvents()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.B", Value: "2"}}})
	f.add(event.InformAccepted{Session: id, Events: offered})
	f.wantEvents(EventValueChange)
	if _, ok := f.s.Pending.Changed["Device.A"]; ok {
		t.Fatal("delivered change still owed")
	}
	if _, ok := f.s.Pending.Changed["Device.B"]; !ok {
		t.Fatal("change made during the session lost")
	}
}

// A change journaled between the Inform's composition and its
// SessionStarted was not in that Inform: it stays owed, also when the
// state is restored from a snapshot taken mid-session (replay).
func TestValueChangeBeforeSessionStartedButAfterComposingStaysOwed(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	composed := f.s.Seq
	offered := f.s.Pending.InformEvents()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "2"}}})
	id := f.add(event.SessionStarted{Events: offered, Composed: composed})
	b, err := f.s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if f.s, err = Restore(b); err != nil {
		t.Fatal(err)
	}
	f.add(event.InformAccepted{Session: id, Events: offered})
	f.wantEvents(EventValueChange)
	if got := f.s.Pending.Changed["Device.A"].Value; got != "2" {
		t.Fatalf("owed value %q, want 2", got)
	}
}

// SetParameterAttributes turning notification off for a parameter whose
// change is owed takes the change back: the ParameterList reports changed
// parameters with passive or active notification (digest §7), and an
// active change the ACS no longer wants must not start a session.
func TestNotificationTurnedOffTakesTheOwedChangeBack(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.B", Value: "2"}}})
	f.add(event.AttributesSet{Changes: []event.AttributeChange{{Name: "Device.A", NotificationChange: true, Notification: 0}}})
	if _, ok := f.s.Pending.Changed["Device.A"]; ok || f.s.Pending.ActiveChange {
		t.Fatalf("change of Device.A, whose notification is off, still owed: %+v", f.s.Pending)
	}
	f.wantEvents(EventValueChange)
	f.add(event.AttributesSet{Changes: []event.AttributeChange{{Name: "Device.B", AccessListChange: true}}})
	f.wantEvents(EventValueChange) // the access list alone leaves it owed
	f.add(event.AttributesSet{Changes: []event.AttributeChange{{Name: "Device.B", NotificationChange: true, Notification: 0}}})
	f.wantEvents()
}

func TestBootstrapDiscardsEverythingElse(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.PeriodicInformDue{Due: t0})
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	f.add(event.InformScheduled{CommandKey: "s", Due: t0})
	f.add(event.SettingsChanged{Source: event.SourceACS, Changes: []event.Setting{{Name: SettingACSURL, Value: "https://new.example/"}}})
	f.wantEvents(EventBootstrap)
	if len(f.s.Schedules) != 0 || len(f.s.Pending.Changed) != 0 {
		t.Fatal("URL change kept the old ACS's schedules or changes")
	}
}

func TestSameURLIsNotABootstrap(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{{Name: "Device.ManagementServer.URL", Value: "https://acs.example/"}}})
	f.wantEvents()
}

func TestTransferCompleteKeptUntilAcknowledged(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	id := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw", FileType: "1 Firmware Upgrade Image", URL: "https://f/x"})
	f.add(event.TransferStarted{Transfer: id, StartTime: t0})
	f.add(event.TransferFinished{Transfer: id, StartTime: t0, CompleteTime: t0})
	f.add(event.Booted{Reason: event.BootFirmware})
	f.wantEvents(EventTransferComplete, "M Download(fw)", EventBoot) // no M Reboot: not a Reboot RPC
	s1 := f.informed()
	f.add(event.SessionFailed{Session: s1, Error: "reset before TransferCompleteResponse", RetryCount: 1})
	f.wantEvents(EventTransferComplete, "M Download(fw)")
	f.session(func() { f.add(event.TransferCompleteAcked{Transfer: id}) })
	f.wantEvents()
	f.violation(event.TransferCompleteAcked{Transfer: id}) // never after
	if f.s.Transfers.Acked != 1 {
		t.Fatal(f.s.Transfers.Acked)
	}
}

func TestTwoTransfersOneSevenUntilBothAcked(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	a := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "a"})
	b := f.add(event.TransferQueued{Kind: event.KindUpload, CommandKey: "b"})
	f.add(event.TransferFinished{Transfer: a})
	f.add(event.TransferFinished{Transfer: b, FaultCode: 9011, FaultString: "upload failure"})
	f.wantEvents(EventTransferComplete, "M Download(a)", "M Upload(b)")
	f.session(func() { f.add(event.TransferCompleteAcked{Transfer: a}) })
	f.wantEvents(EventTransferComplete, "M Upload(b)")
	f.add(event.TransferCompleteAcked{Transfer: b})
	f.wantEvents()
}

func TestCancelledTransferSendsNothing(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	id := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "x"})
	f.add(event.TransferCancelled{Transfer: id})
	if len(f.s.Transfers.ByID) != 0 {
		t.Fatal("cancelled transfer kept")
	}
	f.violation(event.TransferFinished{Transfer: id})
}

func TestSeventyMEventsAreCappedAtSixtyFourDroppingTheOldestM(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.PeriodicInformDue{Due: t0})
	for i := 0; i < 70; i++ {
		id := f.add(event.InformScheduled{CommandKey: fmt.Sprintf("k%02d", i), Due: t0})
		f.add(event.ScheduledInformDue{Schedule: id})
	}
	evs := f.s.Pending.Events
	if len(evs) != MaxInformEvents {
		t.Fatalf("%d pending", len(evs))
	}
	// PERIODIC and SCHEDULED (single) kept; 62 M entries, the newest.
	if evs[0].Code != EventPeriodic || evs[1].Code != EventScheduled {
		t.Fatalf("singles dropped: %v", f.events()[:3])
	}
	if evs[2].CommandKey != "k08" || evs[63].CommandKey != "k69" {
		t.Fatalf("kept %s..%s", evs[2].CommandKey, evs[63].CommandKey)
	}
}

func TestCapPrefersDroppingAnnouncementsOfNoTransfer(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	tr := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw"})
	f.add(event.TransferFinished{Transfer: tr})
	for i := 0; i < 70; i++ {
		id := f.add(event.InformScheduled{CommandKey: fmt.Sprintf("k%02d", i), Due: t0})
		f.add(event.ScheduledInformDue{Schedule: id})
	}
	if !f.s.Pending.Has(EventMDownload, "fw") {
		t.Fatal("the oldest M dropped although it announces an owed TransferComplete")
	}
}

func TestFactoryResetIsAResetPoint(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ParametersSet{Source: event.SourceACS, ParameterKey: "pk", SetKey: true,
		Values: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp"}}})
	f.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, Source: event.SourceACS})
	f.add(event.AttributesSet{Changes: []event.AttributeChange{{Name: "Device.Time.NTPServer1", NotificationChange: true, Notification: 2}}})
	f.add(event.PeriodicInformDue{Due: t0})
	tr := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw"})
	f.add(event.FactoryResetRequested{Source: event.SourceACS})
	if !f.s.Boot.FactoryResetPending {
		t.Fatal("intent not recorded")
	}
	f.add(event.FactoryResetDone{Defaults: []event.Setting{{Name: SettingEnabled, Value: "true"}, {Name: SettingACSURL, Value: "https://factory/"}}})
	f.add(event.Booted{Reason: event.BootFactoryReset})
	f.wantEvents(EventBootstrap, EventBoot)
	if f.s.Params.ParameterKey != "" || len(f.s.Params.Values) != 0 || len(f.s.Params.Attributes) != 0 ||
		f.s.Transfers.get(tr) != nil || f.s.Boot.FactoryResetPending || f.s.Settings.Get(SettingACSURL) != "https://factory/" {
		t.Fatalf("factory reset left state behind: %+v", f.s)
	}
	// Instance numbers are never reused.
	f.violation(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1})
	f.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 2})
}

func TestSettingsResetForgetsClientStateKeepsDeviceConfig(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ParametersSet{Source: event.SourceACS, ParameterKey: "pk", SetKey: true,
		Values: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp"}}})
	id := f.add(event.SessionStarted{})
	f.add(event.SessionFailed{Session: id, Error: "x", RetryCount: 1})
	f.add(event.SettingsReset{Defaults: []event.Setting{{Name: SettingACSURL, Value: "https://factory/"}}})
	f.wantEvents(EventBootstrap)
	if f.s.Params.Values["Device.Time.NTPServer1"].Value != "ntp" {
		t.Fatal("device configuration lost by a client reset")
	}
	if f.s.Params.ParameterKey != "" || f.s.Retry.Failures != 0 || f.s.Settings.Get(SettingEnabled) != "" {
		t.Fatalf("client state kept: %+v", f.s)
	}
}

func TestInterruptedSessionCountsAsFailedAtBoot(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.add(event.ConnectionRequestReceived{Accepted: true})
	f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	f.add(event.Booted{Reason: event.BootPowerOn})
	if f.s.Session.Open != 0 || f.s.Session.Failed != 1 {
		t.Fatalf("%+v", f.s.Session)
	}
	f.wantEvents(EventBootstrap, EventBoot)
}

func TestProtocolViolations(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.violation(event.InformAccepted{Session: 99})
	id := f.add(event.SessionStarted{})
	f.violation(event.SessionStarted{})
	_ = id
	f.violation(event.TransferStarted{Transfer: 1234})
	f.violation(event.ObjectDeleted{Object: "Device.Users.User.7."})
}

func TestCancelOfStartedTransferIsRefused(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	id := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "x"})
	f.add(event.TransferStarted{Transfer: id, StartTime: t0})
	f.violation(event.TransferCancelled{Transfer: id})
	if f.s.Transfers.get(id) == nil {
		t.Fatal("a started transfer was forgotten by a cancel")
	}
}

// The ACS URL changes during a session, after a connection request: the new
// BOOTSTRAP discards the connection request whether the session's
// InformAccepted is journaled before those records (when it arrives) or
// after them (with the session's end, cwmp/session).
func TestBootstrapMidSessionDiscardsTheRestWhereverInformAcceptedLands(t *testing.T) {
	for _, acceptedFirst := range []bool{true, false} {
		f := newFolder(t)
		f.firstBoot()
		id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
		offered := f.s.Pending.InformEvents()
		accept := func() { f.add(event.InformAccepted{Session: id, Events: offered}) }
		if acceptedFirst {
			accept()
		}
		f.add(event.ConnectionRequestReceived{Remote: "10.0.0.1:1", Accepted: true})
		f.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{{Name: SettingACSURL, Value: "https://other.example/"}}})
		if !acceptedFirst {
			accept()
		}
		f.add(event.SessionSucceeded{Session: id})
		f.wantEvents(EventBootstrap)
		if f.s.Boot.BootstrapDelivered {
			t.Fatalf("acceptedFirst=%v: the new BOOTSTRAP counts as delivered", acceptedFirst)
		}
	}
}

// A change the device made during a session stays owed (above); when the
// ACS then sets that parameter itself, the value it would report is the
// ACS's own, so the change is no longer owed, and with nothing else owed
// neither is "4 VALUE CHANGE" (nor the session an active change asks for).
func TestACSWriteSupersedesAnOwedChange(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	id := f.informed()
	f.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.B", Value: "1"}}})
	f.add(event.ParametersSet{Source: event.SourceACS, SetKey: true, Values: []event.ParamValue{{Name: "Device.A", Value: "7"}}})
	f.add(event.SessionSucceeded{Session: id})
	f.wantEvents(EventValueChange)
	if _, ok := f.s.Pending.Changed["Device.A"]; ok {
		t.Fatal("change the ACS overwrote is still owed")
	}
	if _, ok := f.s.Pending.Changed["Device.B"]; !ok || f.s.Pending.ActiveChange {
		t.Fatalf("owed %v, active %v: want only the passive Device.B", f.s.Pending.Changed, f.s.Pending.ActiveChange)
	}

	f.add(event.ParametersSet{Source: event.SourceACS, SetKey: true, Values: []event.ParamValue{{Name: "Device.B", Value: "2"}}})
	f.wantEvents()
	if len(f.s.Pending.Changed) != 0 {
		t.Fatalf("owed %v after the ACS set every changed parameter", f.s.Pending.Changed)
	}
}

// The device's own writes (a configuration file it applied) are not the
// ACS's: a change owed for that parameter stays owed.
func TestPlatformWriteKeepsAnOwedChange(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	f.add(event.ParametersSet{Source: event.SourcePlatform, Values: []event.ParamValue{{Name: "Device.A", Value: "2"}}})
	f.wantEvents(EventValueChange)
}

// A deleted object's parameters cannot be reported: changes owed for them
// go with it, and "4 VALUE CHANGE" with them when nothing else is owed.
func TestDeletedObjectTakesItsOwedChanges(t *testing.T) {
	f := newFolder(t)
	f.firstBoot()
	f.session()
	f.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, Source: event.SourceACS})
	f.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 10, Source: event.SourceACS})
	f.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{
		{Name: "Device.Users.User.1.Enable", Value: "false"}, {Name: "Device.Users.User.10.Enable", Value: "false"}}})
	f.add(event.ObjectDeleted{Object: "Device.Users.User.1.", Source: event.SourceACS})
	if _, ok := f.s.Pending.Changed["Device.Users.User.10.Enable"]; !ok || !f.s.Pending.ActiveChange {
		t.Fatalf("owed %v, active %v: instance 10's change must stay", f.s.Pending.Changed, f.s.Pending.ActiveChange)
	}
	f.add(event.ObjectDeleted{Object: "Device.Users.User.10.", Source: event.SourcePlatform})
	f.wantEvents()
	if len(f.s.Pending.Changed) != 0 || f.s.Pending.ActiveChange {
		t.Fatalf("owed %v, active %v after both instances went", f.s.Pending.Changed, f.s.Pending.ActiveChange)
	}
}
