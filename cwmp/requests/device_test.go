package requests

import (
	"reflect"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

func TestRebootJournalsIntentBeforeAnswering(t *testing.T) {
	f := newFix(t)
	before := f.seq()
	resp := f.do(&soap.Reboot{CommandKey: "rb-1"})
	if _, ok := resp.(*soap.RebootResponse); !ok {
		t.Fatalf("got %#v", resp)
	}
	evs := f.since(before)
	want := []event.Event{event.RebootRequested{CommandKey: "rb-1", Source: event.SourceACS}}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("journaled %#v, want %#v", evs, want)
	}
	st := f.state()
	if !st.Boot.RebootPending || st.Boot.RebootCommandKey != "rb-1" {
		t.Fatalf("projection: %+v", st.Boot)
	}
}

// The CommandKey survives a restart: the intent was durable when the
// response was returned, and the next boot turns it into "M Reboot".
func TestRebootCommandKeySurvivesRestart(t *testing.T) {
	f := newFix(t)
	if _, ok := f.do(&soap.Reboot{CommandKey: "rb-durable"}).(*soap.RebootResponse); !ok {
		t.Fatal("reboot refused")
	}
	f.restart()
	f.append(event.Booted{Reason: event.BootReboot})
	st := f.state()
	var got []event.InformEvent
	for _, e := range st.Pending.InformEvents() {
		if e.Code == projections.EventMReboot {
			got = append(got, e)
		}
	}
	want := []event.InformEvent{{Code: projections.EventMReboot, CommandKey: "rb-durable"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("M Reboot events after the restart: %v, want %v (all pending: %v)", got, want, st.Pending.InformEvents())
	}
	if !st.Pending.Has(projections.EventBoot, "") || st.Boot.RebootPending {
		t.Fatalf("after boot: pending %v, boot %+v", st.Pending.InformEvents(), st.Boot)
	}
}

// Decision: a second Reboot before the reboot is journaled and its key
// replaces the first; the device reboots once.
func TestSecondRebootReplacesCommandKey(t *testing.T) {
	f := newFix(t)
	f.do(&soap.Reboot{CommandKey: "first"})
	before := f.seq()
	if _, ok := f.do(&soap.Reboot{CommandKey: "second"}).(*soap.RebootResponse); !ok {
		t.Fatal("second reboot refused")
	}
	if f.seq() != before+1 {
		t.Fatalf("second reboot not journaled: %d → %d", before, f.seq())
	}
	f.append(event.Booted{Reason: event.BootReboot})
	st := f.state()
	if !st.Pending.Has(projections.EventMReboot, "second") || st.Pending.Has(projections.EventMReboot, "first") {
		t.Fatalf("pending: %v", st.Pending.InformEvents())
	}
}

func TestFactoryResetJournalsOnce(t *testing.T) {
	f := newFix(t)
	before := f.seq()
	if _, ok := f.do(&soap.FactoryReset{}).(*soap.FactoryResetResponse); !ok {
		t.Fatal("factory reset refused")
	}
	evs := f.since(before)
	want := []event.Event{event.FactoryResetRequested{Source: event.SourceACS}}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("journaled %#v", evs)
	}
	if !f.state().Boot.FactoryResetPending {
		t.Fatal("projection: factory reset not pending")
	}
	// Decision: a second one while pending is answered without a record.
	before = f.seq()
	if _, ok := f.do(&soap.FactoryReset{}).(*soap.FactoryResetResponse); !ok {
		t.Fatal("second factory reset refused")
	}
	if f.seq() != before {
		t.Fatalf("second factory reset journaled again (%d → %d)", before, f.seq())
	}
	// Once done, a new request is a new intent.
	f.append(event.FactoryResetDone{}, event.Booted{Reason: event.BootFactoryReset})
	before = f.seq()
	f.do(&soap.FactoryReset{})
	if f.seq() != before+1 || !f.state().Boot.FactoryResetPending {
		t.Fatal("factory reset after a completed one not journaled")
	}
}

func TestScheduleInform(t *testing.T) {
	f := newFix(t)
	before := f.seq()
	resp := f.do(&soap.ScheduleInform{DelaySeconds: 90, CommandKey: "si"})
	if _, ok := resp.(*soap.ScheduleInformResponse); !ok {
		t.Fatalf("got %#v", resp)
	}
	due := t0.Add(90 * time.Second)
	evs := f.since(before)
	if len(evs) != 1 {
		t.Fatalf("journaled %#v", evs)
	}
	got, ok := evs[0].(event.InformScheduled)
	if !ok || got.CommandKey != "si" || got.DelaySeconds != 90 || !got.Due.Equal(due) {
		t.Fatalf("journaled %#v, want due %v", evs[0], due)
	}
	sch, ok := f.state().Schedules[before+1]
	if !ok || sch.CommandKey != "si" || !sch.Due.Equal(due) {
		t.Fatalf("projection: %+v", f.state().Schedules)
	}
	// The schedule survives a restart.
	f.restart()
	if sch := f.state().Schedules[before+1]; !sch.Due.Equal(due) {
		t.Fatalf("after restart: %+v", f.state().Schedules)
	}
}

func TestScheduleInformFaults(t *testing.T) {
	f := newFix(t)
	before := f.seq()
	f.expectFault("DelaySeconds 0", before, f.do(&soap.ScheduleInform{CommandKey: "x"}), soap.FaultInvalidArguments)

	f.h.MaxSchedules = 3
	for i := range 3 {
		if _, ok := f.do(&soap.ScheduleInform{DelaySeconds: uint32(10 + i), CommandKey: "same"}).(*soap.ScheduleInformResponse); !ok {
			t.Fatalf("schedule %d refused", i)
		}
	}
	if n := len(f.state().Schedules); n != 3 {
		t.Fatalf("%d schedules, want 3 (same key is still separate)", n)
	}
	before = f.seq()
	f.expectFault("one past MaxSchedules", before, f.do(&soap.ScheduleInform{DelaySeconds: 5}), soap.FaultResourcesExceeded)

	// A schedule that fires makes room again.
	first := f.state().ScheduleIDs()[0]
	f.append(event.ScheduledInformDue{Schedule: first})
	if _, ok := f.do(&soap.ScheduleInform{DelaySeconds: 5}).(*soap.ScheduleInformResponse); !ok {
		t.Fatal("refused after a schedule fired")
	}
}

func TestDefaultScheduleBound(t *testing.T) {
	f := newFix(t)
	evs := make([]event.Event, DefaultMaxSchedules-1)
	for i := range evs {
		evs[i] = event.InformScheduled{DelaySeconds: 1, Due: t0}
	}
	f.append(evs...)
	if _, ok := f.do(&soap.ScheduleInform{DelaySeconds: 5}).(*soap.ScheduleInformResponse); !ok {
		t.Fatal("64th schedule refused")
	}
	before := f.seq()
	f.expectFault("65th schedule", before, f.do(&soap.ScheduleInform{DelaySeconds: 5}), soap.FaultResourcesExceeded)
}
