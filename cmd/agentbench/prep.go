package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// withStore opens the stopped agent's journal the way the daemon does
// (journal + live store, which snapshots every live.DefaultSnapshotEvery
// records) and runs fn; the store is snapshotted and closed after it, as the
// daemon does at SIGTERM.
func withStore(state string, fn func(*live.Store) error) error {
	j, err := journal.Open(journal.Options{Dir: filepath.Join(state, "journal"), BootID: "agentbench-prep", Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	st, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		j.Close()
		return err
	}
	err = fn(st)
	if err == nil {
		err = st.SnapshotNow()
	}
	st.Close()
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return err
}

// appendBatched appends evs in groups of 200 (one durable commit each).
func appendBatched(st *live.Store, evs []event.Event) error {
	for len(evs) > 0 {
		n := min(200, len(evs))
		if _, err := st.Append(context.Background(), evs[:n]...); err != nil {
			return err
		}
		evs = evs[n:]
	}
	return nil
}

// prepUsers adds rows Device.Users.User.{1..rows} as an ACS's AddObject and
// SetParameterValues would have journaled them (each row has 5 parameters).
func prepUsers(state string, rows int) error {
	return withStore(state, func(st *live.Store) error {
		var evs []event.Event
		for i := 1; i <= rows; i++ {
			evs = append(evs, event.ObjectAdded{Object: "Device.Users.User.", Instance: uint32(i), Source: event.SourceACS},
				event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{
					{Name: fmt.Sprintf("Device.Users.User.%d.Username", i), Value: fmt.Sprintf("user-%d", i)},
					{Name: fmt.Sprintf("Device.Users.User.%d.Enable", i), Value: "true"}}})
		}
		return appendBatched(st, evs)
	})
}

// prepHistory appends n records of ordinary history behind the agent: one
// user row, then n-1 SetParameterValues of its Username by the ACS (each
// record about the size of a session's own records). It returns the last
// seq.
func prepHistory(state string, n int) (uint64, error) {
	var last uint64
	err := withStore(state, func(st *live.Store) error {
		evs := []event.Event{event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, Source: event.SourceACS}}
		for i := 1; i < n; i++ {
			evs = append(evs, event.ParametersSet{Source: event.SourceACS, ParameterKey: fmt.Sprintf("k%d", i),
				Values: []event.ParamValue{{Name: "Device.Users.User.1.Username", Value: fmt.Sprintf("user-%d", i)}}})
		}
		if err := appendBatched(st, evs); err != nil {
			return err
		}
		last = st.Journal().LastSeq()
		return nil
	})
	return last, err
}

// dropSnapshot deletes the projections snapshot so the next start folds the
// whole journal (the worst case, for reference).
func dropSnapshot(state string) error {
	j, err := journal.Open(journal.Options{Dir: filepath.Join(state, "journal"), BootID: "agentbench-prep", Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	err = j.DeleteSnapshot(projections.SnapshotName)
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return err
}

// journalStats reads the stopped agent's journal: records, envelope bytes
// and commits (records of one group commit share their time) with time in
// [from, to].
func journalStats(state string, from, to int64) (recs, commits int, bytes int64, err error) {
	j, err := journal.Open(journal.Options{Dir: filepath.Join(state, "journal"), ReadOnly: true, Logger: zerolog.Nop()})
	if err != nil {
		return 0, 0, 0, err
	}
	defer j.Close()
	r := j.NewReader(j.FirstSeq())
	defer r.Close()
	var last int64
	for r.Next() {
		rec := r.Record()
		if t := rec.Time.UnixNano(); t >= from && t <= to {
			recs++
			bytes += int64(len(journal.EncodeRecord(rec)))
			if t != last {
				commits++
			}
			last = t
		}
	}
	return recs, commits, bytes, r.Err()
}
