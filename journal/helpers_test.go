package journal

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fakeClock advances one millisecond per reading so records are told apart.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 1, 2, 3, 4, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

func testOptions(t testing.TB, dir string) Options {
	return Options{Dir: dir, BootID: "boot-test", Clock: newFakeClock().Now, Logger: testLogger(t)}
}

func mustOpen(t testing.TB, o Options) *Journal {
	t.Helper()
	j, err := Open(o)
	if err != nil {
		t.Fatalf("open %s: %v", o.Dir, err)
	}
	return j
}

func payload(i int) []byte { return []byte(fmt.Sprintf(`{"i":%d,"pad":"%040d"}`, i, i)) }

func appendN(t testing.TB, j *Journal, n int) []Record {
	t.Helper()
	var out []Record
	for i := 0; i < n; i++ {
		recs, err := j.Append(context.Background(), Entry{Type: uint16(i % 7), Payload: payload(i)})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, recs...)
	}
	return out
}

// readAll reads every record from seq from and fails the test on any error.
func readAll(t testing.TB, j *Journal, from uint64) []Record {
	t.Helper()
	r := j.NewReader(from)
	defer r.Close()
	var out []Record
	for r.Next() {
		out = append(out, r.Record())
	}
	if err := r.Err(); err != nil {
		t.Fatalf("read from %d: %v", from, err)
	}
	return out
}

func checkContiguous(t testing.TB, recs []Record, first, last uint64) {
	t.Helper()
	if uint64(len(recs)) != last-first+1 && !(last == 0 && len(recs) == 0) {
		t.Fatalf("read %d records, want %d..%d", len(recs), first, last)
	}
	for i, r := range recs {
		if r.Seq != first+uint64(i) {
			t.Fatalf("record %d has seq %d, want %d", i, r.Seq, first+uint64(i))
		}
	}
}

// appendBatches appends total records in Appends of batch entries; the
// payload of record n (from 1) is body(n). Each Append gets a deadline, so a
// journal that blocks (level 0 at Badger's stall) fails the test instead of
// hanging it.
func appendBatches(t testing.TB, j *Journal, total, batch int, body func(n int) []byte) {
	t.Helper()
	for seq := 0; seq < total; seq += batch {
		entries := make([]Entry, min(batch, total-seq))
		for k := range entries {
			entries[k] = Entry{Type: uint16(k % 7), Payload: body(seq + k + 1)}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := j.Append(ctx, entries...)
		cancel()
		if err != nil {
			t.Fatalf("append at %d (level 0 holds %d tables): %v", seq, j.level0Tables(), err)
		}
	}
}

// openSmall opens a journal in dir with memtables of mem bytes, so that a
// test crosses many memtables and tables with little data; it returns the
// options for reopening.
func openSmall(t testing.TB, dir string, mem int64) (*Journal, Options) {
	t.Helper()
	o := testOptions(t, dir)
	o.memTableSize = mem
	return mustOpen(t, o), o
}
