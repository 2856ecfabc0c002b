package projections

import (
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/projections/event"
)

// running returns a folder for a configured client whose BOOTSTRAP session
// succeeded at boot time + 2s (records are 1 s apart from t0).
func running(t *testing.T, extra ...event.Setting) *folder {
	f := newFolder(t)
	f.add(event.Booted{Reason: event.BootPowerOn})
	f.add(event.SettingsChanged{Source: event.SourceDefaults, Changes: append([]event.Setting{
		{Name: SettingEnabled, Value: "true"}, {Name: SettingACSURL, Value: "https://acs/"},
		{Name: SettingPeriodicInformInterval, Value: "600"}}, extra...)})
	return f
}

func TestDecideNothingWhenDisabledOrNoURL(t *testing.T) {
	f := newFolder(t)
	f.add(event.Booted{Reason: event.BootPowerOn})
	if d := Decide(f.s, t0.Add(time.Hour)); d.Start || len(d.Raise) > 0 || !d.Wake.IsZero() {
		t.Fatalf("no URL: %+v", d)
	}
	f.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{{Name: SettingACSURL, Value: "https://a/"}, {Name: SettingEnabled, Value: "false"}}})
	if d := Decide(f.s, t0.Add(time.Hour)); d.Start || len(d.Raise) > 0 {
		t.Fatalf("disabled: %+v", d)
	}
}

func TestDecideBootstrapStartsAtOnce(t *testing.T) {
	f := running(t)
	d := Decide(f.s, t0.Add(3*time.Second))
	if !d.Start || !strings.Contains(strings.Join(d.Reasons, ","), EventBootstrap) {
		t.Fatalf("%+v", d)
	}
}

func TestDecidePeriodicTimerRestartsAfterSuccess(t *testing.T) {
	f := running(t)
	f.session() // records 3..5, LastSuccess = t0+5s
	last := f.s.Session.LastSuccess
	d := Decide(f.s, last.Add(time.Minute))
	if d.Start || len(d.Raise) != 0 || !d.Wake.Equal(last.Add(600*time.Second)) {
		t.Fatalf("before the interval: %+v (want wake %v)", d, last.Add(600*time.Second))
	}
	d = Decide(f.s, last.Add(600*time.Second))
	if len(d.Raise) != 1 {
		t.Fatalf("at the interval: %+v", d)
	}
	if pd, ok := d.Raise[0].(event.PeriodicInformDue); !ok || !pd.Due.Equal(last.Add(600*time.Second)) {
		t.Fatalf("raise %+v", d.Raise)
	}
	f.add(d.Raise[0])
	if d := Decide(f.s, last.Add(600*time.Second)); !d.Start {
		t.Fatalf("after PERIODIC: %+v", d)
	}
}

func TestDecidePeriodicPhaseFromPeriodicInformTime(t *testing.T) {
	f := running(t)
	f.session()
	// Phase at 00:07:00 with 600 s interval: fires at hh:m7:00.
	f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{{Name: ParamPeriodicInformTime, Value: "2026-01-01T00:07:00Z"}}})
	next, ok := f.s.NextPeriodic()
	want := time.Date(2026, 11, 22, 0, 7, 0, 0, time.UTC) // t0 is 00:00:00; reference t0+5s
	if !ok || !next.Equal(want) {
		t.Fatalf("next %v want %v", next, want)
	}
	// A phase in the future counts back.
	f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{{Name: ParamPeriodicInformTime, Value: "2030-01-01T00:02:00Z"}}})
	if next, _ := f.s.NextPeriodic(); !next.Equal(time.Date(2026, 11, 22, 0, 2, 0, 0, time.UTC)) {
		t.Fatalf("future phase: %v", next)
	}
	// Unknown Time means no phase.
	f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{{Name: ParamPeriodicInformTime, Value: "0001-01-01T00:00:00Z"}}})
	if next, _ := f.s.NextPeriodic(); !next.Equal(f.s.Session.LastSuccess.Add(600 * time.Second)) {
		t.Fatalf("unknown time: %v", next)
	}
	f.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{{Name: SettingPeriodicInformEnabled, Value: "false"}}})
	if _, ok := f.s.NextPeriodic(); ok {
		t.Fatal("periodic disabled but scheduled")
	}
}

func TestDecideRetryWaitsForJournaledAttemptButNotForConnectionRequest(t *testing.T) {
	f := running(t)
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	next := t0.Add(time.Minute)
	f.add(event.SessionFailed{Session: id, Error: "x", RetryCount: 1, Delay: 50 * time.Second, NextAttempt: next})
	d := Decide(f.s, t0.Add(20*time.Second))
	if d.Start || !d.Wake.Equal(next) {
		t.Fatalf("during backoff: %+v", d)
	}
	if d := Decide(f.s, next); !d.Start {
		t.Fatalf("at next attempt: %+v", d)
	}
	f.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.X", Value: "1"}}})
	if d := Decide(f.s, t0.Add(20*time.Second)); d.Start {
		t.Fatalf("active change jumped the backoff: %+v", d)
	}
	f.add(event.ConnectionRequestReceived{Accepted: true})
	if d := Decide(f.s, t0.Add(20*time.Second)); !d.Start {
		t.Fatalf("connection request during backoff: %+v", d)
	}
}

func TestDecideScheduledInform(t *testing.T) {
	f := running(t)
	f.session()
	due := t0.Add(90 * time.Second)
	id := f.add(event.InformScheduled{CommandKey: "s", DelaySeconds: 80, Due: due})
	if d := Decide(f.s, t0.Add(10*time.Second)); !d.Wake.Equal(due) {
		t.Fatalf("%+v", d)
	}
	d := Decide(f.s, due)
	if len(d.Raise) != 1 || d.Raise[0] != (event.ScheduledInformDue{Schedule: id}) {
		t.Fatalf("%+v", d)
	}
}

func TestDecideActiveNotificationThrottle(t *testing.T) {
	f := running(t)
	f.session()
	f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{{Name: ParamActiveNotifyThrottle, Value: "120"}}})
	last := f.s.Session.LastSuccess
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	if d := Decide(f.s, last.Add(time.Second)); d.Start {
		t.Fatalf("passive change started a session: %+v", d)
	}
	f.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.B", Value: "1"}}})
	d := Decide(f.s, last.Add(time.Second))
	if d.Start || !d.Wake.Equal(last.Add(120*time.Second)) {
		t.Fatalf("throttled: %+v", d)
	}
	if d := Decide(f.s, last.Add(120*time.Second)); !d.Start {
		t.Fatalf("after throttle: %+v", d)
	}
	// Another reason is not throttled and carries the change.
	f.add(event.ConnectionRequestReceived{Accepted: true})
	if d := Decide(f.s, last.Add(time.Second)); !d.Start {
		t.Fatalf("connection request throttled: %+v", d)
	}
}

func TestDecideWaitsForRebootAndResetIntents(t *testing.T) {
	f := running(t)
	f.add(event.RebootRequested{CommandKey: "r"})
	if d := Decide(f.s, t0.Add(time.Hour)); d.Start || len(d.Raise) > 0 {
		t.Fatalf("%+v", d)
	}
}

func TestNextPeriodicWithExtremePhasesIsImmediate(t *testing.T) {
	for _, phase := range []string{"1500-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0002-01-01T00:00:00Z"} {
		f := running(t)
		f.session()
		f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{{Name: ParamPeriodicInformTime, Value: phase}}})
		f.add(event.SettingsChanged{Source: event.SourceACS, Changes: []event.Setting{{Name: SettingPeriodicInformInterval, Value: "1"}}})
		start := time.Now()
		next, ok := f.s.NextPeriodic()
		if !ok || !next.After(f.s.Session.LastSuccess) || next.Sub(f.s.Session.LastSuccess) > time.Second {
			t.Errorf("%s: next %v after %v", phase, next, f.s.Session.LastSuccess)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("%s: took %v", phase, d) // the old loop took minutes
		}
	}
}

func TestActiveFlagFollowsTheChangesStillOwed(t *testing.T) {
	f := running(t)
	f.session()
	f.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	offered := f.s.Pending.InformEvents()
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.B", Value: "2"}}}) // passive, mid-session
	f.add(event.InformAccepted{Session: id, Events: offered})
	if f.s.Pending.ActiveChange {
		t.Fatal("only a passive change is owed, yet the active flag stayed")
	}
}

// A trigger that comes due during a failed session's retry wait does not
// start a session: Decide says so before it is journaled, so the conductor
// journals it alone and the session waits for NextAttempt. A trigger due
// otherwise starts the session it raises (journaled with SessionStarted).
func TestDecideTriggerStartsSessionUnlessRetryWait(t *testing.T) {
	f := running(t, event.Setting{Name: SettingPeriodicInformInterval, Value: "10"})
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	next := t0.Add(5 * time.Minute)
	f.add(event.SessionFailed{Session: id, Error: "x", RetryCount: 1, Delay: 290 * time.Second, NextAttempt: next})
	d := Decide(f.s, t0.Add(15*time.Second))
	if len(d.Raise) != 1 || d.Start {
		t.Fatalf("periodic during the retry wait: %+v", d)
	}
	if got := f.s.InformEventsAfter(d.Raise); len(got) != 3 || got[0].Code != EventBootstrap || got[2].Code != EventPeriodic {
		t.Fatalf("events after the trigger: %+v", got)
	}
	f.add(d.Raise[0])
	// Still waiting: woken by the next periodic (which will wait too) or
	// the retry, whichever comes first.
	if d := Decide(f.s, t0.Add(15*time.Second)); d.Start || len(d.Raise) != 0 || d.Wake.IsZero() || d.Wake.After(next) {
		t.Fatalf("after journaling the trigger alone: %+v (want a wake-up by %v)", d, next)
	}
	if d := Decide(f.s, next); !d.Start {
		t.Fatalf("at the retry: %+v", d)
	}

	g := running(t, event.Setting{Name: SettingPeriodicInformInterval, Value: "10"})
	g.session()
	d = Decide(g.s, g.s.Session.LastSuccess.Add(10*time.Second))
	if len(d.Raise) != 1 || !d.Start || strings.Join(d.Reasons, ",") != EventPeriodic {
		t.Fatalf("periodic after a success: %+v", d)
	}
}

// A schedule removed between Decide and the session (a settings reset, a
// new ACS URL) is no longer a trigger: neither journaled nor announced.
func TestLiveTriggersDropsVanishedSchedules(t *testing.T) {
	f := running(t)
	f.session()
	id := f.add(event.InformScheduled{CommandKey: "k", Due: t0.Add(time.Minute)})
	trig := []event.Event{event.ScheduledInformDue{Schedule: id}, event.PeriodicInformDue{Due: t0}}
	if got := f.s.LiveTriggers(trig); len(got) != 2 {
		t.Fatalf("live schedule dropped: %v", got)
	}
	if ev := f.s.InformEventsAfter(trig); len(ev) != 3 {
		t.Fatalf("events with the schedule: %v", ev)
	}
	delete(f.s.Schedules, id) // as a reset would
	if got := f.s.LiveTriggers(trig); len(got) != 1 {
		t.Fatalf("vanished schedule kept: %v", got)
	}
	if ev := f.s.InformEventsAfter(trig); len(ev) != 1 || ev[0].Code != EventPeriodic {
		t.Fatalf("events without the schedule: %v", ev)
	}
}

// A session that fails after its InformResponse delivered everything is
// retried all the same, with an empty Event array (D§7, D§9).
func TestDecideRetriesAFailureThatDeliveredEverything(t *testing.T) {
	f := running(t)
	id := f.informed() // BOOTSTRAP delivered
	next := t0.Add(time.Minute)
	f.add(event.SessionFailed{Session: id, Error: "HTTP 500 to the empty POST", RetryCount: 1, Delay: 50 * time.Second, NextAttempt: next})
	if len(f.s.Pending.Events) != 0 {
		t.Fatalf("delivered events still pending: %+v", f.s.Pending.Events)
	}
	if d := Decide(f.s, t0.Add(20*time.Second)); d.Start || !d.Wake.Equal(next) {
		t.Fatalf("during the retry wait: %+v (want wake at %v)", d, next)
	}
	d := Decide(f.s, next)
	if !d.Start || len(f.s.Pending.InformEvents()) != 0 {
		t.Fatalf("at the next attempt: %+v, events %v", d, f.s.Pending.InformEvents())
	}
	f.session() // the retry succeeds: nothing more to retry
	if d := Decide(f.s, next.Add(time.Second)); d.Start {
		t.Fatalf("after the successful retry: %+v", d)
	}
}

// DefaultActiveNotificationThrottle holds back only sessions opened for
// active notifications alone; a retry carrying them is not delayed (D§9).
func TestDecideRetryIsNotThrottled(t *testing.T) {
	f := running(t)
	f.session()
	f.add(event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{{Name: ParamActiveNotifyThrottle, Value: "600"}}})
	last := f.s.Session.LastSuccess
	f.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.B", Value: "1"}}})
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents()})
	next := last.Add(30 * time.Second)
	f.add(event.SessionFailed{Session: id, Error: "HTTP 503", RetryCount: 1, Delay: 10 * time.Second, NextAttempt: next})
	if d := Decide(f.s, next); !d.Start {
		t.Fatalf("retry at %v held back by the throttle (until %v): %+v", next, last.Add(600*time.Second), d)
	}
}

// A passive change, which starts no session, does not hold back a download
// whose delay has passed.
func TestDecidePassiveChangeDoesNotStallADueTransfer(t *testing.T) {
	f := running(t)
	f.session()
	id := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw", FileType: "1 Firmware Upgrade Image", URL: "https://f/x", NotBefore: t0.Add(10 * time.Second)})
	if d := Decide(f.s, t0.Add(time.Minute)); d.Transfer != id {
		t.Fatalf("due download without a change: %+v", d)
	}
	f.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}})
	d := Decide(f.s, t0.Add(time.Minute))
	if d.Start || d.Transfer != id {
		t.Fatalf("due download #%d with a passive change pending: %+v", id, d)
	}
}
