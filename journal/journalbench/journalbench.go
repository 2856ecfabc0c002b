// Package journalbench holds the journal's benchmark bodies so that both
// `go test -bench` in journal/ and cmd/cwmpbench (which prints the table in
// docs/benchmarks.md) run exactly the same measurement.
package journalbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/rs/zerolog"
)

// Payload is a realistic event: a JSON object of about 200 bytes, the size
// of a ParametersSet or TransferProgress event.
func Payload(i int) []byte {
	return fmt.Appendf(nil, `{"seq_hint":%d,"source":"acs","key":"ParameterKey-%06d","values":{"Device.ManagementServer.PeriodicInformInterval":"3600","Device.WiFi.SSID.1.SSID":"home-%06d"},"pad":"0123456789abcdef0123456789"}`, i, i%1000000, i%1000000)
}

// Open opens a journal in dir for benchmarking (warnings to stderr).
func Open(dir string) (*journal.Journal, error) {
	return journal.Open(journal.Options{
		Dir:    dir,
		BootID: "bench",
		Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel),
	})
}

func tempDir(b *testing.B) string {
	b.Helper()
	dir, err := os.MkdirTemp("", "cwmpbench-")
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// RawSync is the disk's physical limit for our access pattern: one 256-byte
// append to a file followed by fdatasync, in a loop. ns/op is one durable
// write.
func RawSync(b *testing.B) {
	dir := tempDir(b)
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "raw"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 256)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "syncs/s")
}

// AppendDurable is one appender: each Append waits for its own sync. It
// reports the latency distribution as p50-µs and p99-µs.
func AppendDurable(b *testing.B) {
	dir := tempDir(b)
	defer os.RemoveAll(dir)
	j, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	lat := make([]time.Duration, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := j.Append(ctx, journal.Entry{Type: 1, Payload: Payload(i)}); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	b.StopTimer()
	sort.Slice(lat, func(x, y int) bool { return lat[x] < lat[y] })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// GroupCommit returns a benchmark of n goroutines appending one entry at a
// time, b.N appends in all; appends/commit shows how many shared each sync.
func GroupCommit(n int) func(*testing.B) {
	return func(b *testing.B) {
		dir := tempDir(b)
		defer os.RemoveAll(dir)
		j, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		b.ResetTimer()
		for w := 0; w < n; w++ {
			count := b.N / n
			if w < b.N%n {
				count++
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < count; i++ {
					if _, err := j.Append(ctx, journal.Entry{Type: 1, Payload: Payload(i)}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		if c := j.Commits(); c > 0 {
			b.ReportMetric(float64(b.N)/float64(c), "appends/commit")
		}
	}
}

// Fill appends n records in batches of 1000 (one sync each).
func Fill(j *journal.Journal, n int) error {
	const batch = 1000
	entries := make([]journal.Entry, 0, batch)
	for i := 0; i < n; {
		entries = entries[:0]
		for k := 0; k < batch && i < n; k++ {
			entries = append(entries, journal.Entry{Type: uint16(i % 20), Payload: Payload(i)})
			i++
		}
		if _, err := j.Append(context.Background(), entries...); err != nil {
			return err
		}
	}
	return nil
}

// ReadAll iterates the whole journal (the Reader decodes and checks every
// envelope) and returns how many records it read.
func ReadAll(j *journal.Journal) (int, error) {
	r := j.NewReader(0)
	defer r.Close()
	n := 0
	for r.Next() {
		n++
	}
	return n, r.Err()
}

// Replay returns a benchmark that reads a journal of n records end to end per
// op (records/s reported), and a cleanup for the journal it builds once.
// Building is not timed.
func Replay(n int) (func(*testing.B), func()) {
	var once sync.Once
	var dir string
	var j *journal.Journal
	var setupErr error
	bench := func(b *testing.B) {
		once.Do(func() {
			dir, setupErr = os.MkdirTemp("", "cwmpbench-replay-")
			if setupErr != nil {
				return
			}
			if j, setupErr = Open(dir); setupErr != nil {
				return
			}
			setupErr = Fill(j, n)
		})
		if setupErr != nil {
			b.Fatal(setupErr)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			got, err := ReadAll(j)
			if err != nil {
				b.Fatal(err)
			}
			if got != n {
				b.Fatalf("replayed %d of %d records", got, n)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	cleanup := func() {
		if j != nil {
			j.Close()
		}
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	return bench, cleanup
}

// MemoryWorkload is what the resident-memory row measures, in a fresh
// process: open, n durable appends from 16 concurrent appenders, and a full
// iteration.
func MemoryWorkload(dir string, n int) error {
	j, err := Open(dir)
	if err != nil {
		return err
	}
	const appenders = 16
	var wg sync.WaitGroup
	errs := make(chan error, appenders)
	for w := 0; w < appenders; w++ {
		count := n / appenders
		if w < n%appenders {
			count++
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < count; i++ {
				if _, err := j.Append(context.Background(), journal.Entry{Type: uint16(w), Payload: Payload(i)}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		j.Close()
		return err
	}
	got, err := ReadAll(j)
	if err == nil && got != n {
		err = fmt.Errorf("iterated %d of %d records", got, n)
	}
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	return err
}
