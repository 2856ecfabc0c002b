package journal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManyTablesSurviveReopen is the guard for the 32-bit ARM data loss
// (Badger with ristretto drops data unless BaseTableSize >= MemTableSize):
// it writes enough to fill several memtables, flush them to tables and
// compact, reopens, and reads every record back. Run it under qemu-arm too.
func TestManyTablesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	j, o := openSmall(t, dir, 1<<20)
	const total = 12000
	body := strings.Repeat("x", 300)
	appendBatches(t, j, total, 400, func(n int) []byte { return []byte(fmt.Sprintf(`{"n":%d,"b":"%s"}`, n, body)) })
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) < 3 {
		t.Fatalf("only %d tables written: the test did not cross memtables", len(tables))
	}

	j = mustOpen(t, o)
	defer j.Close()
	if j.LastSeq() != total {
		t.Fatalf("last seq %d after reopen, want %d", j.LastSeq(), total)
	}
	r := j.NewReader(0)
	defer r.Close()
	n := 0
	for r.Next() {
		n++
		rec := r.Record()
		want := fmt.Sprintf(`{"n":%d,"b":"%s"}`, n, body)
		if rec.Seq != uint64(n) || !bytes.Equal(rec.Payload, []byte(want)) {
			t.Fatalf("seq %d: read back seq %d payload %.40q", n, rec.Seq, rec.Payload)
		}
	}
	if err := r.Err(); err != nil || n != total {
		t.Fatalf("read %d of %d: %v", n, total, err)
	}
	st, _ := os.ReadDir(dir)
	t.Logf("%d records, %d tables, %d files", total, len(tables), len(st))
}

// With no Badger compactor goroutines, the journal itself must keep level 0
// below the stall: otherwise a memtable flush waits forever and appends
// block (each append here has a deadline so that shows as a failure, not a
// hang). Enough is written to fill many memtables.
func TestJournalCompactsLevel0(t *testing.T) {
	dir := t.TempDir()
	j, o := openSmall(t, dir, 1<<20)
	if n := badgerOptions(o).NumCompactors; n != 0 {
		t.Fatalf("Badger runs %d compactors; this test is about the journal's own compaction", n)
	}
	stall := badgerOptions(o).NumLevelZeroTablesStall
	const total = 40000
	body := strings.Repeat("y", 300)
	maxL0 := 0
	for chunk := 0; chunk < total; chunk += 200 {
		appendBatches(t, j, 200, 200, func(n int) []byte { return []byte(fmt.Sprintf(`{"n":%d,"b":"%s"}`, chunk+n, body)) })
		if n := j.level0Tables(); n > maxL0 {
			maxL0 = n
		}
	}
	if maxL0 >= stall {
		t.Fatalf("level 0 reached %d tables (stall at %d)", maxL0, stall)
	}
	if j.Compactions() == 0 {
		t.Fatal("no compaction ran")
	}
	waitFor(t, func() bool { return j.level0Tables() < compactL0At }, "level 0 compacted after the writes")
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	t.Logf("%d compactions, level 0 peaked at %d tables, %d tables on disk", j.Compactions(), maxL0, len(tables))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = mustOpen(t, o)
	defer j.Close()
	checkContiguous(t, readAll(t, j, 0), 1, total)
}
