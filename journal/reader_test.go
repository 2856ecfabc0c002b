package journal

import (
	"context"
	"errors"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

func TestReaderFrom(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	if got := readAll(t, j, 0); len(got) != 0 {
		t.Fatalf("empty journal read %d records", len(got))
	}
	appendN(t, j, 50)
	checkContiguous(t, readAll(t, j, 0), 1, 50)
	checkContiguous(t, readAll(t, j, 1), 1, 50)
	checkContiguous(t, readAll(t, j, 37), 37, 50)
	if got := readAll(t, j, 51); len(got) != 0 {
		t.Fatalf("read past the end: %d records", len(got))
	}
}

// A reader sees the journal as of its first Next; appends after it are for
// the next reader.
func TestReaderIsConsistentView(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 5)
	r := j.NewReader(0)
	defer r.Close()
	if !r.Next() {
		t.Fatal(r.Err())
	}
	appendN(t, j, 5)
	n := 1
	for r.Next() {
		n++
	}
	if r.Err() != nil || n != 5 {
		t.Fatalf("read %d records (err %v), want the 5 present at start", n, r.Err())
	}
}

func corruptStore(t *testing.T, j *Journal, fn func(txn *badger.Txn) error) {
	t.Helper()
	if err := j.db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestReaderReportsCorruptionWithSeq(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 10)
	corruptStore(t, j, func(txn *badger.Txn) error {
		b := EncodeRecord(Record{Seq: 6, Time: time.Unix(1, 0), Payload: []byte(`{}`)})
		b[len(b)-6] ^= 0x40
		return txn.Set(recordKey(6), b)
	})
	r := j.NewReader(0)
	defer r.Close()
	n := 0
	for r.Next() {
		n++
	}
	var ce *CorruptionError
	if !errors.As(r.Err(), &ce) || ce.Seq != 6 || n != 5 {
		t.Fatalf("after %d records: %v, want corruption at seq 6", n, r.Err())
	}
}

func TestReaderReportsGap(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 10)
	corruptStore(t, j, func(txn *badger.Txn) error { return txn.Delete(recordKey(4)) })
	r := j.NewReader(2)
	defer r.Close()
	n := 0
	for r.Next() {
		n++
	}
	var ce *CorruptionError
	if !errors.As(r.Err(), &ce) || ce.Seq != 4 || n != 2 {
		t.Fatalf("after %d records: %v, want a gap at seq 4", n, r.Err())
	}
}

func TestReaderBelowFirstSeqIsCompacted(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.Retention.MaxRecords = 10
	j := mustOpen(t, o)
	defer j.Close()
	appendN(t, j, 30)
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	first := j.FirstSeq()
	if first <= 1 {
		t.Fatalf("retention dropped nothing (first %d)", first)
	}
	r := j.NewReader(1)
	if r.Next() || !errors.Is(r.Err(), ErrCompacted) {
		t.Fatalf("reading dropped records: %v", r.Err())
	}
	r.Close()
	checkContiguous(t, readAll(t, j, 0), first, 30)
}

func TestSliceReader(t *testing.T) {
	recs := []Record{{Seq: 1}, {Seq: 2}}
	r := NewSliceReader(recs)
	var got []uint64
	for r.Next() {
		got = append(got, r.Record().Seq)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 || r.Err() != nil || r.Next() {
		t.Fatalf("slice reader: %v %v", got, r.Err())
	}
}

func TestSubscribe(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	wake, cancel := j.Subscribe()
	wake2, cancel2 := j.Subscribe()
	defer cancel2()
	select {
	case <-wake:
		t.Fatal("woken before any append")
	default:
	}
	appendN(t, j, 3) // three commits, coalesced into one pending wake-up
	select {
	case <-wake:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after append")
	}
	select {
	case <-wake:
		t.Fatal("wake-ups not coalesced")
	default:
	}

	// The tail pattern: wake, read from where we were.
	done := make(chan uint64)
	go func() {
		next := uint64(1)
		for range wake2 {
			r := j.NewReader(next)
			for r.Next() {
				next = r.Record().Seq + 1
			}
			r.Close()
			if next == 11 {
				done <- next
				return
			}
		}
	}()
	for i := 0; i < 7; i++ {
		if _, err := j.Append(context.Background(), Entry{Type: 1, Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("tailing reader did not see seq 10")
	}

	cancel()
	<-wake // at most one pending wake-up may be buffered
	if _, ok := <-wake; ok {
		t.Fatal("cancel did not close the channel")
	}
	cancel() // twice is harmless
	j.Close()
	<-wake2
	if _, ok := <-wake2; ok {
		t.Fatal("Close did not close subscriptions")
	}
	w3, _ := j.Subscribe()
	if _, ok := <-w3; ok {
		t.Fatal("subscribing to a closed journal gave a live channel")
	}
}

// A journal closed under a live reader ends the reader with ErrClosed instead
// of touching a closed Badger.
func TestCloseEndsReaders(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	appendN(t, j, 5)
	r := j.NewReader(0)
	if !r.Next() {
		t.Fatal(r.Err())
	}
	j.Close()
	if r.Next() || !errors.Is(r.Err(), ErrClosed) {
		t.Fatalf("reader after close: %v", r.Err())
	}
	r.Close()
}
