package journal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
)

// TestDiskFullInjected drives the reserve with an injected free-space
// reading: below it Append, Import and SaveSnapshot are refused with
// ErrDiskFull, write nothing and consume no seq; what was journaled before
// survives a reopen; appends resume when space comes back.
func TestDiskFullInjected(t *testing.T) {
	dir := t.TempDir()
	var free atomic.Uint64
	free.Store(1 << 30)
	o := testOptions(t, dir)
	o.MinFreeBytes = 4 << 20
	o.FreeSpace = func() (uint64, error) { return free.Load(), nil }
	j := mustOpen(t, o)
	want := appendN(t, j, 10)

	free.Store(4<<20 - 1)
	_, err := j.Append(context.Background(), Entry{Type: 1, Payload: []byte(`{"x":1}`)})
	var dfe *DiskFullError
	if !errors.Is(err, ErrDiskFull) || !errors.As(err, &dfe) {
		t.Fatalf("append below the reserve: %v, want ErrDiskFull", err)
	}
	if dfe.Free != 4<<20-1 || dfe.Reserve != 4<<20 || dfe.Op != "append" || dfe.Dir != dir {
		t.Fatalf("DiskFullError = %+v", dfe)
	}
	// Concurrent appenders in one group all get the error.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = j.Append(context.Background(), Entry{Type: 2, Payload: payload(100 + i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrDiskFull) {
			t.Fatalf("concurrent append %d: %v, want ErrDiskFull", i, err)
		}
	}
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 10, Data: []byte("s")}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("snapshot below the reserve: %v, want ErrDiskFull", err)
	}
	if got := j.LastSeq(); got != 10 {
		t.Fatalf("LastSeq after refused appends = %d, want 10", got)
	}
	mustClose(t, j)

	// Reopen still full: everything journaled is there, nothing else.
	j = mustOpen(t, o)
	sameRecords(t, readAll(t, j, 1), want)
	if _, err := j.Append(context.Background(), Entry{Type: 1}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("append after reopen, still full: %v", err)
	}
	// Space freed: appends resume with the next seq, no gap.
	free.Store(4 << 20)
	recs, err := j.Append(context.Background(), Entry{Type: 3, Payload: []byte(`{"after":true}`)})
	if err != nil || len(recs) != 1 || recs[0].Seq != 11 {
		t.Fatalf("append after space freed: %v %v, want seq 11", recs, err)
	}
	if err := j.SaveSnapshot(Snapshot{Name: "p", Seq: 11, Data: []byte("s")}); err != nil {
		t.Fatalf("snapshot after space freed: %v", err)
	}
	mustClose(t, j)
}

// TestDiskFullUnreadableLetsWritesThrough: a failing statfs is logged, not
// turned into a refusal.
func TestDiskFullUnreadableLetsWritesThrough(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.MinFreeBytes = 1 << 20
	var logs bytes.Buffer
	o.Logger = zerolog.New(&logs)
	var broken atomic.Bool
	broken.Store(true)
	o.FreeSpace = func() (uint64, error) {
		if broken.Load() {
			return 0, errors.New("statfs broken")
		}
		return 1 << 30, nil
	}
	j := mustOpen(t, o)
	defer mustClose(t, j)
	for range 5 {
		if _, err := j.Append(context.Background(), Entry{Type: 1}); err != nil {
			t.Fatalf("append with an unreadable free space: %v", err)
		}
	}
	// One line for the run of failures, not one per commit.
	if n := strings.Count(logs.String(), "free space unreadable"); n != 1 {
		t.Fatalf("%d warnings for 5 failed readings in a row:\n%s", n, logs.String())
	}
	broken.Store(false)
	if _, err := j.Append(context.Background(), Entry{Type: 1}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "free space readable again") {
		t.Fatalf("the recovery was not logged:\n%s", logs.String())
	}
}

// The reserve is checked through the journal directory kept open (no path
// walk per commit): the same reading as statfs by path, and gone with close.
func TestFreeSpaceThroughTheOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	read, closeDir, err := openFreeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	byFD, err := read()
	if err != nil {
		t.Fatal(err)
	}
	byPath, err := statfsFree(dir)
	if err != nil {
		t.Fatal(err)
	}
	diff := int64(byFD) - int64(byPath)
	if byFD == 0 || diff > 1<<20 || diff < -(1<<20) {
		t.Errorf("free space through the directory %d, by path %d", byFD, byPath)
	}
	if err := closeDir(); err != nil {
		t.Fatal(err)
	}
	if _, err := read(); err == nil {
		t.Error("reading after close succeeded: the directory stayed open")
	}
}

func sameRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.Type != w.Type || !bytes.Equal(g.Payload, w.Payload) || !g.Time.Equal(w.Time) || g.BootID != w.BootID {
			t.Fatalf("record %d: got seq %d type %d %q, want seq %d type %d %q", i, g.Seq, g.Type, g.Payload, w.Seq, w.Type, w.Payload)
		}
	}
}

func mustClose(t *testing.T, j *Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// BenchmarkFreeSpaceCheck is the cost the reserve adds to each group commit:
// one fstatfs of the journal directory kept open, against a statfs by path.
func BenchmarkFreeSpaceCheck(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "state", "journal")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	b.Run("by-path", func(b *testing.B) {
		for b.Loop() {
			if _, err := statfsFree(dir); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open-directory", func(b *testing.B) {
		read, closeDir, err := openFreeSpace(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer closeDir()
		for b.Loop() {
			if _, err := read(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
