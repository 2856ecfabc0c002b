package journal

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestAppendAssignsSeqTimeBoot(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	o := testOptions(t, dir)
	o.Clock = clock.Now
	j := mustOpen(t, o)
	if j.LastSeq() != 0 || j.FirstSeq() != 0 {
		t.Fatalf("empty journal: first %d last %d", j.FirstSeq(), j.LastSeq())
	}
	recs, err := j.Append(context.Background(), Entry{Type: 3, Payload: []byte(`{"a":1}`)}, Entry{Type: 4, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Seq != 1 || recs[1].Seq != 2 {
		t.Fatalf("seqs: %+v", recs)
	}
	want := time.Date(2026, 11, 22, 1, 2, 3, 4, time.UTC).Add(time.Millisecond)
	for _, r := range recs {
		if !r.Time.Equal(want) || r.BootID != "boot-test" || r.Schema != SchemaVersion {
			t.Fatalf("stamp: %+v (want time %v)", r, want)
		}
	}
	if j.FirstSeq() != 1 || j.LastSeq() != 2 {
		t.Fatalf("first %d last %d", j.FirstSeq(), j.LastSeq())
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened by another boot: numbering continues, the old boot id stays.
	o.BootID = "boot-2"
	j = mustOpen(t, o)
	defer j.Close()
	if j.FirstSeq() != 1 || j.LastSeq() != 2 {
		t.Fatalf("after reopen: first %d last %d", j.FirstSeq(), j.LastSeq())
	}
	recs, err = j.Append(context.Background(), Entry{Type: 5, Payload: []byte(`[]`)})
	if err != nil || recs[0].Seq != 3 || recs[0].BootID != "boot-2" {
		t.Fatalf("append after reopen: %+v %v", recs, err)
	}
	all := readAll(t, j, 0)
	checkContiguous(t, all, 1, 3)
	if all[0].BootID != "boot-test" || all[0].Type != 3 || string(all[0].Payload) != `{"a":1}` {
		t.Fatalf("record 1 read back as %+v", all[0])
	}
}

// N concurrent appenders must share syncs and still get unique, gap-free seqs.
func TestGroupCommitSharesSyncs(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	const workers, each = 32, 20
	var mu sync.Mutex
	seen := map[uint64]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				recs, err := j.Append(context.Background(), Entry{Type: uint16(w), Payload: payload(w*1000 + i)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[recs[0].Seq] = w*1000 + i
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct seqs for %d appends", len(seen), workers*each)
	}
	all := readAll(t, j, 0)
	checkContiguous(t, all, 1, workers*each)
	for _, r := range all {
		if !bytes.Equal(r.Payload, payload(seen[r.Seq])) {
			t.Fatalf("seq %d holds %s, acked for %s", r.Seq, r.Payload, payload(seen[r.Seq]))
		}
	}
	if c := j.Commits(); c >= workers*each {
		t.Fatalf("%d commits for %d concurrent appends: no grouping", c, workers*each)
	} else {
		t.Logf("%d appends in %d commits", workers*each, c)
	}
}

func TestFailedCommitConsumesNoSeq(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 3)
	boom := errors.New("disk on fire")
	var mu sync.Mutex
	fail := true
	j.beforeCommit = func() error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return boom
		}
		return nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := j.Append(context.Background(), Entry{Type: 1, Payload: []byte(`{}`)}); !errors.Is(err, boom) {
				t.Errorf("append during failing commits: %v", err)
			}
		}()
	}
	wg.Wait()
	if j.LastSeq() != 3 {
		t.Fatalf("last seq %d after failed commits, want 3", j.LastSeq())
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	recs, err := j.Append(context.Background(), Entry{Type: 1, Payload: []byte(`{"after":1}`)})
	if err != nil || recs[0].Seq != 4 {
		t.Fatalf("append after failure: %+v %v", recs, err)
	}
	checkContiguous(t, readAll(t, j, 0), 1, 4)
}

func TestAppendTooLargeFailsAlone(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.memTableSize = 1 << 20
	j := mustOpen(t, o)
	defer j.Close()
	many := make([]Entry, 20000) // far past one transaction's entry budget
	for i := range many {
		many[i] = Entry{Type: 1, Payload: []byte(`{}`)}
	}
	if _, err := j.Append(context.Background(), many...); err == nil {
		t.Fatal("an append larger than a transaction succeeded")
	}
	if j.LastSeq() != 0 {
		t.Fatalf("failed append consumed seqs: last %d", j.LastSeq())
	}
	recs, err := j.Append(context.Background(), Entry{Type: 1, Payload: []byte(`{}`)})
	if err != nil || recs[0].Seq != 1 {
		t.Fatalf("next append: %+v %v", recs, err)
	}
}

func TestAppendContext(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Append(ctx, Entry{Type: 1}); !errors.Is(err, context.Canceled) || errors.Is(err, ErrMaybeCommitted) {
		t.Fatalf("cancelled before: %v", err)
	}
	if j.LastSeq() != 0 {
		t.Fatalf("cancelled append was committed: last %d", j.LastSeq())
	}

	// A commit that hangs: the waiter gives up on ctx, the entry still lands.
	release := make(chan struct{})
	j.beforeCommit = func() error { <-release; return nil }
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := j.Append(ctx, Entry{Type: 1, Payload: []byte(`{}`)})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrMaybeCommitted) {
		t.Fatalf("cancelled while committing: %v", err)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for j.LastSeq() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if j.LastSeq() != 1 {
		t.Fatalf("entry handed to the committer was lost: last %d", j.LastSeq())
	}
}

func TestClosedAndReadOnlyErrors(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, testOptions(t, dir))
	appendN(t, j, 1)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := j.Append(context.Background(), Entry{Type: 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if err := j.PutMeta("k", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("put meta after close: %v", err)
	}
	r := j.NewReader(0)
	if r.Next() || !errors.Is(r.Err(), ErrClosed) {
		t.Fatalf("reader after close: %v", r.Err())
	}

	o := testOptions(t, dir)
	o.ReadOnly = true
	ro := mustOpen(t, o)
	defer ro.Close()
	if _, err := ro.Append(context.Background(), Entry{Type: 1}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append read-only: %v", err)
	}
	if err := ro.SaveSnapshot(Snapshot{Name: "a", Seq: 1}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("snapshot read-only: %v", err)
	}
	if err := ro.PutMeta("k", nil); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("meta read-only: %v", err)
	}
	if _, err := ro.EnforceRetention(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("retention read-only: %v", err)
	}
	if _, err := Import(ro, NewSliceReader(nil)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("import read-only: %v", err)
	}
	checkContiguous(t, readAll(t, ro, 0), 1, 1)
}

// Close with appends in flight: every Append returns, either acked (and then
// durable) or with ErrClosed.
func TestCloseWithAppendsInFlight(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, testOptions(t, dir))
	var acked sync.Map
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				recs, err := j.Append(context.Background(), Entry{Type: 1, Payload: []byte(`{}`)})
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("append: %v", err)
					}
					return
				}
				acked.Store(recs[0].Seq, true)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	j = mustOpen(t, testOptions(t, dir))
	defer j.Close()
	all := readAll(t, j, 0)
	checkContiguous(t, all, 1, j.LastSeq())
	acked.Range(func(k, _ any) bool {
		if k.(uint64) > j.LastSeq() {
			t.Errorf("acked seq %d missing after reopen (last %d)", k, j.LastSeq())
		}
		return true
	})
}
