package journal

import (
	"context"
	"testing"
	"time"
)

func TestRetentionByCountKeepsUncovered(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir)
	o.Retention.MaxRecords = 100
	o.settleDelay = -1
	j := mustOpen(t, o)
	appendN(t, j, 250)

	// No snapshot: nothing is covered, nothing may go.
	if n, err := j.EnforceRetention(); err != nil || n != 0 || j.FirstSeq() != 1 {
		t.Fatalf("without snapshot dropped %d (err %v), first %d", n, err, j.FirstSeq())
	}
	// Covered up to 120: may drop 1..120 only, though the limit wants more gone.
	if err := j.SaveSnapshot(Snapshot{Name: "a", Seq: 120}); err != nil {
		t.Fatal(err)
	}
	// The snapshot itself wakes the background retention, so the explicit
	// call may find the work done already.
	if n, err := j.EnforceRetention(); err != nil || (n != 120 && n != 0) || j.FirstSeq() != 121 {
		t.Fatalf("with snapshot at 120 dropped %d (err %v), first %d", n, err, j.FirstSeq())
	}
	// Fully covered: down to 90% of the limit.
	if err := j.SaveSnapshot(Snapshot{Name: "a", Seq: 250}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return j.FirstSeq() == 161 }, "automatic retention after snapshot")
	checkContiguous(t, readAll(t, j, 0), 161, 250)
	j.Close()

	// FirstSeq survives a reopen.
	j = mustOpen(t, o)
	defer j.Close()
	if j.FirstSeq() != 161 || j.LastSeq() != 250 {
		t.Fatalf("after reopen first %d last %d", j.FirstSeq(), j.LastSeq())
	}
	checkContiguous(t, readAll(t, j, 0), 161, 250)
}

func TestRetentionMinimumAcrossSnapshotNames(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.Retention.MaxRecords = 10
	o.settleDelay = -1
	j := mustOpen(t, o)
	defer j.Close()
	appendN(t, j, 100)
	// The laggard "b" is saved first: each save wakes the background
	// retention, so saving "a" first could let it drop past 40 before "b"
	// exists (a map's random order made this flaky under qemu).
	for _, s := range []Snapshot{{Name: "b", Seq: 40}, {Name: "a", Seq: 90}, {Name: "c", Seq: 100}} {
		if err := j.SaveSnapshot(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if j.FirstSeq() != 41 {
		t.Fatalf("first %d, want 41 (b covers only up to 40)", j.FirstSeq())
	}
	// A snapshot can no longer be saved at a seq whose tail is gone.
	if err := j.SaveSnapshot(Snapshot{Name: "b", Seq: 20}); err == nil {
		t.Fatal("saved a snapshot older than the retained tail")
	}
	if err := j.DeleteSnapshot("b"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return j.FirstSeq() == 91 }, "retention after deleting the laggard")
}

func TestRetentionByBytes(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(t, dir)
	one := int64(encodedSize(Record{BootID: o.BootID, Payload: payload(0)}))
	o.Retention.MaxBytes = 50 * one
	j := mustOpen(t, o)
	appendN(t, j, 100)
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	kept := j.LastSeq() - j.FirstSeq() + 1
	if kept*uint64(one) > uint64(o.Retention.MaxBytes) || kept < 40 {
		t.Fatalf("kept %d records of %d bytes for a %d byte limit", kept, one, o.Retention.MaxBytes)
	}
	j.Close()
	// The byte count is persisted with the drop, so a reopened journal does not
	// think it is over the limit.
	j = mustOpen(t, o)
	defer j.Close()
	if n, err := j.EnforceRetention(); n != 0 || err != nil {
		t.Fatalf("reopened journal dropped %d more (err %v)", n, err)
	}
	var want int64
	for _, r := range readAll(t, j, 0) {
		want += int64(len(EncodeRecord(r)))
	}
	if want > o.Retention.MaxBytes {
		t.Fatalf("retained %d bytes over the %d limit", want, o.Retention.MaxBytes)
	}
	j.wmu.Lock()
	b := j.bytes
	j.wmu.Unlock()
	if b != want {
		t.Fatalf("persisted byte count %d, retained records hold %d", b, want)
	}
}

// Appends that cross a limit trigger retention without anyone calling it.
func TestRetentionRunsAfterAppends(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.Retention.MaxRecords = 20
	o.settleDelay = -1
	j := mustOpen(t, o)
	defer j.Close()
	appendN(t, j, 20)
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 20}); err != nil {
		t.Fatal(err)
	}
	if j.FirstSeq() != 1 {
		t.Fatalf("dropped at the limit: first %d", j.FirstSeq())
	}
	appendN(t, j, 1)
	// 21 > 20: down to 90% of the limit, 18 records.
	waitFor(t, func() bool { return j.FirstSeq() == 4 }, "retention after the 21st append")
	if _, err := j.Append(context.Background(), Entry{Type: 1}); err != nil {
		t.Fatal(err)
	}
	// Never the newest record, even when a snapshot covers everything.
	o2 := testOptions(t, t.TempDir())
	o2.Retention.MaxRecords = 1
	o2.settleDelay = -1
	k := mustOpen(t, o2)
	defer k.Close()
	appendN(t, k, 5)
	if err := k.SaveSnapshot(Snapshot{Name: "p", Seq: 5}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return k.FirstSeq() == 5 }, "retention to one record")
	checkContiguous(t, readAll(t, k, 0), 5, 5)
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A retention pass that drops many records writes a tombstone for each:
// with no Badger compactor, the pass itself must keep level 0 below the
// stall, or the memtable flush waits forever and the pass (holding the
// write lock, so every Append) with it.
func TestLargeRetentionPassDoesNotStall(t *testing.T) {
	dir := t.TempDir()
	j, o := openSmall(t, dir, 256<<10)
	const total = 100000
	appendBatches(t, j, total, 250, func(int) []byte { return []byte(`{"n":1}`) })
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: total}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	o.Retention.MaxRecords = 1000
	j = mustOpen(t, o) // retention starts at once, in the background
	defer j.Close()
	deadline := time.Now().Add(60 * time.Second) // slow under qemu-user
	for j.FirstSeq() <= total-1000 {
		if time.Now().After(deadline) {
			t.Fatalf("retention pass stuck at first %d, level 0 holds %d tables", j.FirstSeq(), j.level0Tables())
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := j.Append(ctx, Entry{Type: 1, Payload: []byte(`{"after":1}`)}); err != nil {
		t.Fatalf("append after the pass: %v (level 0 holds %d tables)", err, j.level0Tables())
	}
	t.Logf("first %d, level 0 %d tables, %d compactions", j.FirstSeq(), j.level0Tables(), j.Compactions())
}

// Retention waits until the journal has settled after Open, as compaction
// does: an agent starting on a long journal folds it and runs its first
// session before any trimming competes with them.
func TestRetentionWaitsForTheSettleDelay(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.Retention.MaxRecords = 20
	o.settleDelay = 500 * time.Millisecond
	j := mustOpen(t, o)
	defer j.Close()
	opened := time.Now()
	appendN(t, j, 50)
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 50}); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 1)
	time.Sleep(100 * time.Millisecond)
	if first := j.FirstSeq(); first != 1 && time.Since(opened) < o.settleDelay {
		t.Fatalf("retention ran %v after Open, before the settle delay: first seq %d", time.Since(opened), first)
	}
	deadline := time.Now().Add(10 * time.Second)
	for j.FirstSeq() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("retention never ran after the settle delay")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
