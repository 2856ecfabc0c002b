package live

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

func open(t *testing.T, dir string, every int) (*journal.Journal, *Store) {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: dir, BootID: "b", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(j, Options{SnapshotEvery: every, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return j, s
}

func TestConcurrentAppendsFoldInOrderAndBootFromSnapshotMatches(t *testing.T) {
	dir := t.TempDir()
	j, s := open(t, dir, 50)
	ctx := context.Background()
	if _, err := s.Append(ctx, event.Booted{Reason: event.BootPowerOn}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				if _, err := s.Append(ctx, event.PeriodicInformDue{}, event.ConnectionRequestReceived{Remote: "x", Accepted: i%2 == 0}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var want []byte
	var seq uint64
	s.View(func(st *projections.State) { want, _ = st.Snapshot(); seq = st.Seq })
	if seq != 1+8*40*2 {
		t.Fatalf("folded %d records", seq)
	}
	s.Close()
	snap, ok, err := j.LoadSnapshot(projections.SnapshotName)
	if err != nil || !ok || snap.Seq == 0 {
		t.Fatalf("no periodic snapshot: %v %v", ok, err)
	}
	j.Close()

	j2, s2 := open(t, dir, 50)
	defer j2.Close()
	var got []byte
	s2.View(func(st *projections.State) { got, _ = st.Snapshot() })
	if string(got) != string(want) {
		t.Fatal("boot from snapshot + tail differs from the live state")
	}
}

func TestUnusableSnapshotFallsBackToFullFold(t *testing.T) {
	dir := t.TempDir()
	j, s := open(t, dir, 1000)
	s.Append(context.Background(), event.Booted{Reason: "x"}, event.PeriodicInformDue{})
	if err := j.SaveSnapshot(journal.Snapshot{Name: projections.SnapshotName, Seq: 2, Data: []byte(`{"version":99}`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j2, s2 := open(t, dir, 1000)
	defer j2.Close()
	s2.View(func(st *projections.State) {
		if st.Seq != 2 || !st.Pending.Has(projections.EventPeriodic, "") {
			t.Fatalf("state %+v", st)
		}
	})
}

func TestParseFailpoint(t *testing.T) {
	if fp := parseFailpoint("after:TransferFetched:2"); fp == nil || fp.typ != event.TypeTransferFetched || fp.n != 2 {
		t.Fatalf("%+v", fp)
	}
	if fp := parseFailpoint("after:Booted"); fp == nil || fp.n != 1 {
		t.Fatalf("%+v", fp)
	}
	if fp := parseFailpoint("bytes:download:65536"); fp == nil || fp.name != "download" || fp.n != 65536 {
		t.Fatalf("%+v", fp)
	}
	for _, bad := range []string{"after:NoSuchEvent", "sometime", "bytes:x"} {
		if parseFailpoint(bad) != nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSubscribersWakeAfterTheFold(t *testing.T) {
	j, s := open(t, t.TempDir(), 1000)
	defer j.Close()
	wake, cancel := s.Subscribe()
	defer cancel()
	go s.Append(context.Background(), event.Booted{Reason: "x"})
	<-wake
	s.View(func(st *projections.State) {
		if st.Seq != 1 {
			t.Fatalf("woken before the fold: seq %d", st.Seq)
		}
	})
}

// TestCancelledAppendsNeverWedgeTheStore: appends whose context is
// cancelled at random moments either fold or fail cleanly; a later append
// always completes, and the state has every record the journal has.
func TestCancelledAppendsNeverWedgeTheStore(t *testing.T) {
	j, s := open(t, t.TempDir(), 1000)
	defer j.Close()
	for i := 0; i < 300; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Duration(i%50) * 20 * time.Microsecond); cancel() }()
		s.Append(ctx, event.ConnectionRequestReceived{Remote: "x"})
		cancel()
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(context.Background(), event.ConnectionRequestReceived{Remote: "y"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an append hangs after cancelled ones")
	}
	s.View(func(st *projections.State) {
		if st.Seq != j.LastSeq() {
			t.Fatalf("state at %d, journal at %d", st.Seq, j.LastSeq())
		}
	})
}

// A journal trimmed by retention whose snapshot is then unusable still
// opens: the state is folded from the records left (the agent must not be
// left unable to start), and says so in the log.
func TestTrimmedJournalWithoutUsableSnapshotStillOpens(t *testing.T) {
	dir := t.TempDir()
	j, s := open(t, dir, 10)
	ctx := context.Background()
	s.Append(ctx, event.Booted{Reason: "x"})
	for range 30 {
		s.Append(ctx, event.ConnectionRequestReceived{Reason: "bad digest"})
	}
	if err := s.SnapshotNow(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	j.Close()
	j, err := journal.Open(journal.Options{Dir: dir, BootID: "b", Logger: zerolog.Nop(), Retention: journal.Retention{MaxRecords: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.EnforceRetention(); err != nil || j.FirstSeq() == 1 {
		t.Fatalf("retention: first seq %d, %v", j.FirstSeq(), err)
	}
	if err := j.SaveSnapshot(journal.Snapshot{Name: projections.SnapshotName, Seq: j.LastSeq(), Data: []byte(`{"version":99}`)}); err != nil {
		t.Fatal(err)
	}
	first, last := j.FirstSeq(), j.LastSeq()
	j.Close()
	j2, s2 := open(t, dir, 1000)
	defer j2.Close()
	s2.View(func(st *projections.State) {
		if st.Seq != last || st.Session.RejectedConnectionRequests != int(last-first+1) {
			t.Fatalf("state folded from record %d: seq %d, rejected %d", first, st.Seq, st.Session.RejectedConnectionRequests)
		}
	})
}

// An append of nothing records nothing and leaves the store usable (it
// used to index an empty result).
func TestEmptyAppendRecordsNothing(t *testing.T) {
	j, s := open(t, t.TempDir(), 1000)
	defer j.Close()
	if recs, err := s.Append(context.Background()); err != nil || len(recs) != 0 {
		t.Fatalf("empty append: %v %v", recs, err)
	}
	if _, err := s.Append(context.Background(), event.Booted{Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	s.View(func(st *projections.State) {
		if st.Seq != 1 {
			t.Fatalf("seq %d after one record", st.Seq)
		}
	})
}
