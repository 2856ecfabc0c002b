package replay

import (
	"reflect"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
)

// When triggers are due, Decide says whether a session starts on them
// before they are folded, and the session's Inform carries
// InformEventsAfter: both must be exactly what the fold gives once the
// triggers are journaled. Checked at every prefix of every golden journal,
// at times that make periodic and scheduled informs due.
func TestDecideLooksAheadLikeTheFold(t *testing.T) {
	var raised, started, waited int
	for _, path := range goldenJournals(t) {
		recs := readJournal(t, path)
		for k := 1; k <= len(recs); k++ {
			res, err := Run(journal.NewSliceReader(recs), Options{At: recs[k-1].Seq})
			if err != nil {
				t.Fatal(err)
			}
			s := res.State
			snap, err := s.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			last := recs[k-1].Time
			times := []time.Time{last.Add(2 * time.Second), last.Add(10 * time.Minute), last.Add(time.Hour)}
			if s.Retry.Failures > 0 {
				// Just before a failed session's retry: triggers wait.
				times = append(times, s.Retry.NextAttempt.Add(-time.Millisecond))
			}
			for _, now := range times {
				dec := projections.Decide(s, now)
				if len(dec.Raise) == 0 {
					continue
				}
				raised++
				want := s.InformEventsAfter(dec.Raise)

				after, err := projections.Restore(snap)
				if err != nil {
					t.Fatal(err)
				}
				for i, ev := range dec.Raise {
					rec := journal.Record{Seq: s.Seq + uint64(i) + 1, Time: now}
					if err := after.ApplyEvent(rec, ev); err != nil {
						t.Fatalf("%s prefix %d: fold %T: %v", path, k, ev, err)
					}
				}
				if got := after.Pending.InformEvents(); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s prefix %d at %v: looked ahead %v, the fold gives %v", path, k, now, want, got)
				}
				// After a long gap the next periodic is already due again
				// (one per missed interval, each raising the same single
				// event): fold those too before comparing.
				then := projections.Decide(after, now)
				for n := 0; len(then.Raise) > 0; n++ {
					if n > 10000 {
						t.Fatalf("%s prefix %d: triggers keep coming", path, k)
					}
					for _, ev := range then.Raise {
						if err := after.ApplyEvent(journal.Record{Seq: after.Seq + 1, Time: now}, ev); err != nil {
							t.Fatal(err)
						}
					}
					if got := after.Pending.InformEvents(); !reflect.DeepEqual(got, want) {
						t.Fatalf("%s prefix %d: a later trigger changed the Inform's events: %v", path, k, got)
					}
					then = projections.Decide(after, now)
				}
				if then.Start != dec.Start {
					t.Fatalf("%s prefix %d at %v: Decide said start=%v with %d triggers; after folding them start=%v raise=%v",
						path, k, now, dec.Start, len(dec.Raise), then.Start, then.Raise)
				}
				if dec.Start {
					started++
					if !reflect.DeepEqual(then.Reasons, dec.Reasons) {
						t.Fatalf("%s prefix %d: reasons %v, after the fold %v", path, k, dec.Reasons, then.Reasons)
					}
				} else {
					waited++
				}
			}
		}
	}
	// Triggers waiting out a retry are table-tested in projections
	// (TestDecideTriggerStartsSessionUnlessRetryWait): the golden journals'
	// retry waits are shorter than their intervals.
	if started == 0 {
		t.Fatalf("raised %d times, never started a session: the check checked nothing", raised)
	}
	t.Logf("triggers due %d times: %d sessions started on them, %d waited", raised, started, waited)
}
