package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// TestE2EJournalIsTrimmed: a journal far past --journal-max (here 40,000
// refused connection requests, as a flood on port 7547 would leave) is
// trimmed by the running daemon once it has settled after its start, down
// to records a state snapshot covers, so flash use stays bounded.
func TestE2EJournalIsTrimmed(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	dir := filepath.Join(state, "journal")
	j, err := journal.Open(journal.Options{Dir: dir, BootID: "old", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	typ, p := event.MustEncode(event.ConnectionRequestReceived{Remote: "203.0.113.9:4000", Reason: "bad digest"})
	batch := make([]journal.Entry, 1000)
	for i := range batch {
		batch[i] = journal.Entry{Type: typ, Payload: p}
	}
	for range 40 {
		if _, err := j.Append(context.Background(), batch...); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	const limit = 1 << 20
	a := startAgent(t, state, "--journal-max", "1MiB")
	// Retention waits for the journal to settle (20 s after open), then runs
	// in the background.
	time.Sleep(24 * time.Second)
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, a.logs())
	}
	j, err = journal.Open(journal.Options{Dir: dir, ReadOnly: true, TempDir: t.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	first, last := j.FirstSeq(), j.LastSeq()
	var bytes int64
	r := j.NewReader(first)
	for r.Next() {
		bytes += int64(len(journal.EncodeRecord(r.Record())))
	}
	r.Close()
	t.Logf("records %d..%d, %d bytes", first, last, bytes)
	if first == 1 || bytes > limit {
		t.Fatalf("journal not trimmed to --journal-max 1MiB: records %d..%d, %d bytes", first, last, bytes)
	}

	// Without a usable snapshot (here deleted; another build's format
	// after a firmware change would do the same) the trimmed journal
	// cannot be folded whole, yet the agent starts, takes the factory
	// defaults and reaches the ACS.
	j.Close()
	j, err = journal.Open(journal.Options{Dir: dir, BootID: "test", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.DeleteSnapshot(projections.SnapshotName); err != nil {
		t.Fatal(err)
	}
	j.Close()
	// Offline replay folds what is left too, says what is lost, and
	// reports the gap as a finding (exit 1).
	if r := runBin(t, "replay", state); r.code != exitFindings || !strings.Contains(r.stdout, "no usable snapshot covers them") ||
		!strings.Contains(r.stdout, "VIOLATION record 30565") && !strings.Contains(r.stdout, "records before it are not in this input") {
		t.Fatalf("replay of the trimmed journal without a snapshot: exit %d\n%s\n%s", r.code, r.stdout[max(0, len(r.stdout)-1500):], r.stderr)
	}
	srv := acs(t)
	a = startAgent(t, state, "--journal-max", "1MiB", "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	if !strings.Contains(a.logs(), "no usable snapshot") {
		t.Errorf("the lost history is not in the log:\n%s", a.logs())
	}
	a.stop()
}
