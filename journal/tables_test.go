package journal

import (
	"bytes"
	"context"
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
	o := testOptions(t, dir)
	o.memTableSize = 1 << 20
	j := mustOpen(t, o)
	const total, batch = 12000, 400
	body := strings.Repeat("x", 300)
	for seq := 0; seq < total; seq += batch {
		entries := make([]Entry, batch)
		for k := range entries {
			entries[k] = Entry{Type: uint16(k), Payload: []byte(fmt.Sprintf(`{"n":%d,"b":"%s"}`, seq+k+1, body))}
		}
		if _, err := j.Append(context.Background(), entries...); err != nil {
			t.Fatal(err)
		}
	}
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
