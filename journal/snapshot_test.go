package journal

import (
	"bytes"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

func TestSnapshotSaveLoad(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, testOptions(t, dir))
	if _, ok, err := j.LoadSnapshot("p"); ok || err != nil {
		t.Fatalf("load before save: %v %v", ok, err)
	}
	appendN(t, j, 20)
	for _, s := range []Snapshot{{Name: "p", Seq: 5, Data: []byte("five")}, {Name: "p", Seq: 12, Data: []byte("twelve")}, {Name: "pa", Seq: 20, Data: []byte("other")}} {
		if err := j.SaveSnapshot(s); err != nil {
			t.Fatal(err)
		}
	}
	s, ok, err := j.LoadSnapshot("p")
	if err != nil || !ok || s.Seq != 12 || string(s.Data) != "twelve" || s.Name != "p" {
		t.Fatalf("load p: %+v %v %v", s, ok, err)
	}
	// Saving replaces: an older seq saved later is the newest snapshot.
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 8, Data: []byte("eight")}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = mustOpen(t, testOptions(t, dir))
	defer j.Close()
	s, ok, err = j.LoadSnapshot("p")
	if err != nil || !ok || s.Seq != 8 || string(s.Data) != "eight" {
		t.Fatalf("load p after reopen: %+v %v %v", s, ok, err)
	}
	s, _, _ = j.LoadSnapshot("pa")
	if s.Seq != 20 || string(s.Data) != "other" {
		t.Fatalf("name prefix leaked: %+v", s)
	}
}

func TestSnapshotValidation(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 3)
	for _, s := range []Snapshot{{Name: "", Seq: 1}, {Name: "a\x00b", Seq: 1}, {Name: "p", Seq: 4}} {
		if err := j.SaveSnapshot(s); err == nil {
			t.Fatalf("saved invalid snapshot %+v", s)
		}
	}
	if err := j.SaveSnapshot(Snapshot{Name: "empty", Seq: 0}); err != nil {
		t.Fatalf("snapshot at seq 0: %v", err)
	}
}

// A snapshot too large for the LSM goes through the value log; it must still
// save atomically and load intact.
func TestSnapshotLarge(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 1)
	data := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	if err := j.SaveSnapshot(Snapshot{Name: "big", Seq: 1, Data: data}); err != nil {
		t.Fatal(err)
	}
	s, ok, err := j.LoadSnapshot("big")
	if err != nil || !ok || !bytes.Equal(s.Data, data) {
		t.Fatalf("large snapshot: ok %v err %v len %d", ok, err, len(s.Data))
	}
}

func TestSnapshotCorruptionIsAnError(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 2)
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 2, Data: []byte("state")}); err != nil {
		t.Fatal(err)
	}
	corruptStore(t, j, func(txn *badger.Txn) error {
		return txn.Set(snapshotKey("p", 2), []byte("\x00\x01not a snapshot envelope"))
	})
	if _, _, err := j.LoadSnapshot("p"); err == nil || !strings.Contains(err.Error(), "crc32c") || !IsCorrupt(err) {
		t.Fatalf("corrupt snapshot loaded: %v", err)
	}
}

func TestDeleteSnapshot(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	appendN(t, j, 2)
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 2}); err != nil {
		t.Fatal(err)
	}
	if err := j.DeleteSnapshot("p"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := j.LoadSnapshot("p"); ok || err != nil {
		t.Fatalf("deleted snapshot loads: %v %v", ok, err)
	}
}

func TestMeta(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, testOptions(t, dir))
	if _, ok, err := j.GetMeta("k"); ok || err != nil {
		t.Fatalf("missing meta: %v %v", ok, err)
	}
	val := []byte("v1")
	if err := j.PutMeta("k", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the journal must have copied it
	if err := j.PutMeta("empty", nil); err != nil {
		t.Fatal(err)
	}
	if err := j.PutMeta("", []byte("x")); err == nil {
		t.Fatal("empty meta key accepted")
	}
	j.Close()
	j = mustOpen(t, testOptions(t, dir))
	defer j.Close()
	if v, ok, err := j.GetMeta("k"); !ok || err != nil || string(v) != "v1" {
		t.Fatalf("meta after reopen: %q %v %v", v, ok, err)
	}
	if v, ok, err := j.GetMeta("empty"); !ok || err != nil || len(v) != 0 {
		t.Fatalf("empty meta: %q %v %v", v, ok, err)
	}
	// Caller metadata never shows up as records or snapshots.
	if j.LastSeq() != 0 {
		t.Fatalf("meta moved last seq to %d", j.LastSeq())
	}
}

// PutMeta of an unchanged value writes nothing: meta keys sort before the
// records, and a level-0 table holding one makes its compaction rewrite
// every table (the daemon puts its defaults path at every start).
func TestPutMetaUnchangedWritesNothing(t *testing.T) {
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	if err := j.PutMeta("k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	v0 := j.db.MaxVersion()
	if err := j.PutMeta("k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if v := j.db.MaxVersion(); v != v0 {
		t.Fatalf("unchanged value written again (version %d → %d)", v0, v)
	}
	if err := j.PutMeta("k", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if v := j.db.MaxVersion(); v == v0 {
		t.Fatal("changed value not written")
	}
	if b, ok, err := j.GetMeta("k"); err != nil || !ok || string(b) != "v2" {
		t.Fatalf("GetMeta %q %v %v", b, ok, err)
	}
}
