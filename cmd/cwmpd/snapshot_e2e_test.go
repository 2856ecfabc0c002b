package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// trimBehindSnapshot gives a stopped agent's journal a tail of refused
// connection requests, a snapshot covering it, and trims it behind that
// snapshot, as the daemon's retention does past --journal-max. It returns
// the journal's first and last seq.
func trimBehindSnapshot(t *testing.T, state string) (first, last uint64) {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: filepath.Join(state, "journal"), BootID: "test", Logger: zerolog.Nop(),
		Retention: journal.Retention{MaxRecords: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := s.Append(context.Background(), event.ConnectionRequestReceived{Remote: "203.0.113.9:4000", Reason: "bad digest"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SnapshotNow(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := j.EnforceRetention(); err != nil || j.FirstSeq() == 1 {
		t.Fatalf("retention: first seq %d, %v", j.FirstSeq(), err)
	}
	return j.FirstSeq(), j.LastSeq()
}

// garbleSnapshot flips a byte in the middle of the stored state snapshot's
// envelope, below Badger's own checksums (which the write recomputes), as a
// bit flipped in RAM before the write leaves it: the journal's CRC-32C is
// the only thing that can tell.
func garbleSnapshot(t *testing.T, state string) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(state, "journal")).WithLogger(nil).
		WithSyncWrites(true).WithMemTableSize(2 << 20).WithValueThreshold(64 << 10).
		WithCompression(options.None).WithBlockCacheSize(0)) // as the journal writes its tables
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prefix := append([]byte{'s'}, projections.SnapshotName...)
	n := 0
	err = db.Update(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		var keys, vals [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				it.Close()
				return err
			}
			v[len(v)/2] ^= 0x20
			keys, vals = append(keys, it.Item().KeyCopy(nil)), append(vals, v)
		}
		it.Close()
		for i := range keys {
			if err := txn.Set(keys[i], vals[i]); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("garble the snapshot: %d snapshots, %v", n, err)
	}
}

// TestE2ETrimmedJournalWithADamagedSnapshotStarts: a journal trimmed
// behind its snapshot, whose snapshot then fails its CRC-32C. The damage
// does not go away, yet it was taken for "a read error that may pass": the
// agent refused to start, at every start, for ever (and it was not damage
// IsCorrupt knew, so nothing was moved aside either). It is an unusable
// snapshot like one of another build's format: the agent starts from the
// records left, says what history is lost, and reaches its ACS.
func TestE2ETrimmedJournalWithADamagedSnapshotStarts(t *testing.T) {
	srv, defs, state := stoppedAfterOneSession(t)
	trimBehindSnapshot(t, state)
	garbleSnapshot(t, state)

	a := startAgent(t, state, "--defaults", defs)
	waitSessions(t, srv, 2, a)
	if !strings.Contains(a.logs(), "no usable snapshot") {
		t.Errorf("the lost history is not in the log:\n%s", a.logs())
	}
	if c := corruptCopies(t, state); len(c) != 0 {
		t.Errorf("the journal was moved aside (%v): its records are readable", c)
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// rewriteSnapshotSeq stores, under the snapshot's own seq, the state
// snapshot with the state's seq set to seq: a snapshot that decodes and
// passes every checksum but does not describe the state at the seq it is
// filed under (a bug of an older build, or a state saved at the wrong
// moment).
func rewriteSnapshotSeq(t *testing.T, state string, seq func(snap uint64) uint64) {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: filepath.Join(state, "journal"), BootID: "test", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	snap, ok, err := j.LoadSnapshot(projections.SnapshotName)
	if err != nil || !ok {
		t.Fatalf("snapshot: %v %v", ok, err)
	}
	var raw, st map[string]json.RawMessage
	if err := json.Unmarshal(snap.Data, &raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw["state"], &st); err != nil {
		t.Fatal(err)
	}
	if _, has := st["seq"]; !has {
		t.Fatalf("the snapshot's state has no seq: %s", snap.Data[:min(200, len(snap.Data))])
	}
	st["seq"], _ = json.Marshal(seq(snap.Seq))
	raw["state"], _ = json.Marshal(st)
	snap.Data, _ = json.Marshal(raw)
	if !bytes.Contains(snap.Data, []byte(`"version"`)) {
		t.Fatal("rewritten snapshot lost its version")
	}
	if err := j.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
}

// TestE2EInconsistentSnapshotIsNotTrusted: a snapshot whose state says it
// covers another seq than the one it is filed under. Ahead of the journal,
// the agent folded nothing after it and then waited for ever for records
// it would never see: its first append (the boot) never returned, no
// session, no control socket. Behind a trimmed journal's first record, the
// fold asked for dropped records and the agent refused to start for ever.
// Such a snapshot is not usable: the agent folds without it.
func TestE2EInconsistentSnapshotIsNotTrusted(t *testing.T) {
	for _, c := range []struct {
		name string
		trim bool
		seq  func(uint64) uint64
	}{
		{"ahead of the journal", false, func(s uint64) uint64 { return s + 5 }},
		{"behind a trimmed journal", true, func(s uint64) uint64 { return 2 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, defs, state := stoppedAfterOneSession(t)
			if c.trim {
				trimBehindSnapshot(t, state)
			}
			rewriteSnapshotSeq(t, state, c.seq)
			if c.trim {
				// Offline replay must not fold from it either.
				r := runBin(t, "replay", state)
				if !strings.Contains(r.stdout, "no usable snapshot covers them") {
					t.Errorf("replay folded from the inconsistent snapshot: exit %d\n%s\n%s", r.code, r.stdout[max(0, len(r.stdout)-1500):], r.stderr)
				}
			}

			a := startAgent(t, state, "--defaults", defs)
			waitSessions(t, srv, 2, a)
			if !strings.Contains(a.logs(), "snapshot not usable") {
				t.Errorf("the unusable snapshot is not in the log:\n%s", a.logs())
			}
			if code := a.stop(); code != 0 {
				t.Fatalf("exit %d", code)
			}
		})
	}
}
