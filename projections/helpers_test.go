package projections

import (
	"reflect"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

var t0 = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// folder feeds events to a State as a journal would, checking invariants
// and the snapshot round trip after every record.
type folder struct {
	t    *testing.T
	s    *State
	recs []journal.Record
}

func newFolder(t *testing.T) *folder { return &folder{t: t, s: New()} }

// add appends an event and returns its sequence.
func (f *folder) add(e event.Event) uint64 {
	f.t.Helper()
	typ, payload := event.MustEncode(e)
	rec := journal.Record{Schema: journal.SchemaVersion, Seq: f.s.Seq + 1,
		Time: t0.Add(time.Duration(f.s.Seq+1) * time.Second), BootID: "b", Type: typ, Payload: payload}
	f.recs = append(f.recs, rec)
	if err := f.s.Apply(rec); err != nil {
		f.t.Fatalf("apply %v: %v", e.Type(), err)
	}
	for _, err := range f.s.Check() {
		f.t.Errorf("after %d %v: %v", rec.Seq, e.Type(), err)
	}
	snap, err := f.s.Snapshot()
	if err != nil {
		f.t.Fatal(err)
	}
	back, err := Restore(snap)
	if err != nil {
		f.t.Fatal(err)
	}
	again, _ := back.Snapshot()
	if string(again) != string(snap) {
		f.t.Fatalf("snapshot round trip differs:\n%s\n%s", snap, again)
	}
	return rec.Seq
}

// violation appends an event expected to be refused as a violation.
func (f *folder) violation(e event.Event) {
	f.t.Helper()
	typ, payload := event.MustEncode(e)
	rec := journal.Record{Seq: f.s.Seq + 1, Time: t0, BootID: "b", Type: typ, Payload: payload}
	err := f.s.Apply(rec)
	if _, ok := err.(*ViolationError); !ok {
		f.t.Fatalf("apply %v: want a violation, got %v", e.Type(), err)
	}
}

func (f *folder) events() []string {
	var out []string
	for _, e := range f.s.Pending.Events {
		if e.CommandKey != "" {
			out = append(out, e.Code+"("+e.CommandKey+")")
		} else {
			out = append(out, e.Code)
		}
	}
	return out
}

func (f *folder) wantEvents(want ...string) {
	f.t.Helper()
	got := f.events()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Fatalf("pending events\n got %q\nwant %q", got, want)
	}
}

// informed starts a session whose InformResponse arrives; it stays open.
func (f *folder) informed() uint64 {
	id := f.add(event.SessionStarted{Events: f.s.Pending.InformEvents(), RetryCount: f.s.Retry.Failures})
	f.add(event.InformAccepted{Session: id, Events: f.s.Pending.InformEvents()})
	return id
}

// session runs a whole successful session delivering what is pending; in
// runs before its end.
func (f *folder) session(in ...func()) uint64 {
	id := f.informed()
	for _, fn := range in {
		fn()
	}
	f.add(event.SessionSucceeded{Session: id})
	return id
}

// boot is a fresh start of the agent on a configured device.
func (f *folder) firstBoot() {
	f.add(event.Booted{Reason: event.BootPowerOn, SoftwareVersion: "1.0"})
	f.add(event.SettingsChanged{Source: event.SourceDefaults, Changes: []event.Setting{
		{Name: SettingEnabled, Value: "true"}, {Name: SettingACSURL, Value: "https://acs.example/"}}})
}
