package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/journal/journalbench"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
	"github.com/cwmpd/cwmpd/replay"
)

// The event-level rows: a journal of real events (the records of periodic
// sessions, with value changes now and then), replayed into the
// projections, and a boot from snapshot + tail.
func init() {
	Rows = append(Rows,
		Row{Name: "replay of decoded events into the projections", Goal: "≥ 500,000 events/s", Run: rowEventReplay},
		Row{Name: "boot: newest snapshot + tail, journal of 1M events", Goal: "≤ 300 ms", Run: rowBoot},
	)
}

// sessionEvents is one periodic session's records; the session ID is the
// sequence its SessionStarted will get.
func sessionEvents(seq uint64, i int) []event.Event {
	evs := []event.Event{event.PeriodicInformDue{Due: time.Unix(int64(i)*60, 0).UTC()}}
	if i%10 == 0 {
		evs = append(evs, event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: fmt.Sprintf("ntp%d.example", i)}}})
	}
	start := seq + uint64(len(evs))
	inform := []event.InformEvent{{Code: projections.EventPeriodic}}
	if i%10 == 0 {
		inform = append(inform, event.InformEvent{Code: projections.EventValueChange})
	}
	return append(evs,
		event.SessionStarted{Events: inform},
		event.InformAccepted{Session: start, Events: inform, CWMPVersion: "1.4"},
		event.SessionSucceeded{Session: start})
}

// fillEvents writes about n records of sessions through a live store (so
// snapshots are taken as the daemon takes them).
func fillEvents(dir string, n int) (*journal.Journal, error) {
	j, err := journalbench.Open(dir)
	if err != nil {
		return nil, err
	}
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, event.Booted{Reason: event.BootPowerOn},
		event.SettingsChanged{Source: event.SourceDefaults, Changes: []event.Setting{{Name: "acs-url", Value: "https://acs/"}}}); err != nil {
		return nil, err
	}
	var batch []event.Event
	for i := 1; j.LastSeq()+uint64(len(batch)) < uint64(n); i++ {
		batch = append(batch, sessionEvents(j.LastSeq()+uint64(len(batch))+1, i)...)
		if len(batch) >= 800 {
			if _, err := s.Append(ctx, batch...); err != nil {
				return nil, err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if _, err := s.Append(ctx, batch...); err != nil {
			return nil, err
		}
	}
	if err := s.SnapshotNow(); err != nil {
		return nil, err
	}
	s.Close()
	// A worst-case boot: a tail just short of the next snapshot, appended
	// past the live store so no snapshot covers it.
	for i := 0; j.LastSeq()%uint64(live.DefaultSnapshotEvery) < uint64(live.DefaultSnapshotEvery)-5; i++ {
		var entries []journal.Entry
		for _, e := range sessionEvents(j.LastSeq()+1, i) {
			typ, payload := event.MustEncode(e)
			entries = append(entries, journal.Entry{Type: typ, Payload: payload})
		}
		if _, err := j.Append(ctx, entries...); err != nil {
			return nil, err
		}
	}
	return j, nil
}

var eventJournal struct {
	dir string
	j   *journal.Journal
	err error
}

func eventsJournal(e *Env) (*journal.Journal, error) {
	if eventJournal.j == nil && eventJournal.err == nil {
		eventJournal.dir, eventJournal.err = os.MkdirTemp("", "cwmpbench-events-")
		if eventJournal.err == nil {
			fmt.Fprintf(e.Log, "cwmpbench: writing %s event records ...\n", num(float64(e.ReplayRecords)))
			eventJournal.j, eventJournal.err = fillEvents(eventJournal.dir, e.ReplayRecords)
		}
	}
	return eventJournal.j, eventJournal.err
}

func rowEventReplay(e *Env) (Result, error) {
	j, err := eventsJournal(e)
	if err != nil {
		return Result{}, err
	}
	best := 0.0
	var records int
	for round := 0; round < 3; round++ {
		start := time.Now()
		r := j.NewReader(0)
		res, err := replay.Run(r, replay.Options{})
		r.Close()
		if err != nil {
			return Result{}, err
		}
		if len(res.Violations) > 0 {
			return Result{}, fmt.Errorf("replay found %d violations: %v", len(res.Violations), res.Violations[0])
		}
		records = res.Records
		if rate := float64(res.Records) / time.Since(start).Seconds(); rate > best {
			best = rate
		}
	}
	return Result{Value: fmt.Sprintf("%s events/s (decode, fold, invariant checks; %s records; best of 3)", num(best), num(float64(records))),
		Status: verdict(best >= 500_000)}, nil
}

func rowBoot(e *Env) (Result, error) {
	j, err := eventsJournal(e)
	if err != nil {
		return Result{}, err
	}
	dir := eventJournal.dir
	j.Close()
	defer os.RemoveAll(dir)
	var worst time.Duration
	var tail uint64
	for round := 0; round < 3; round++ {
		start := time.Now()
		j2, err := journalbench.Open(dir)
		if err != nil {
			return Result{}, err
		}
		s, err := live.Open(j2, live.Options{Logger: zerolog.Nop()})
		if err != nil {
			return Result{}, err
		}
		d := time.Since(start)
		snap, _, _ := j2.LoadSnapshot(projections.SnapshotName)
		tail = j2.LastSeq() - snap.Seq
		s.Close()
		j2.Close()
		if d > worst {
			worst = d
		}
	}
	ms := float64(worst) / float64(time.Millisecond)
	return Result{Value: fmt.Sprintf("%.0f ms (open + snapshot + %d-record tail; worst of 3)", ms, tail), Status: verdict(ms <= 300)}, nil
}
