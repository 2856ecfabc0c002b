package replay

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

// The cross-architecture check (make test-cross): a replay test binary built
// for another architecture (arm, arm64) runs TestCrossArchExport under
// qemu-user with CWMPD_CROSS_OUT set; it writes every scenario through a
// real journal (Badger) on that architecture and exports JSONL, the
// cross-architecture format. TestCrossArchReplay, on the host, does the same
// natively and, given CWMPD_CROSS_TESTBIN (and CWMPD_CROSS_WRAPPER, e.g.
// qemu-arm-static), runs the foreign binary itself; both exports must replay
// to byte-identical final states (projections.State.Snapshot), equal to the
// scenario's own fold.

// crossScenarios are the golden scenarios plus a long run that fills more
// than one memtable.
func crossScenarios() map[string]func() *script {
	m := map[string]func() *script{}
	for k, v := range scenarios {
		m[k] = v
	}
	m["long-run"] = func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok()
		for i := 0; i < 4000; i++ {
			s.wait(time.Hour)
			s.add(event.PeriodicInformDue{Due: s.now})
			s.ok()
		}
		return s
	}
	return m
}

// writeThroughJournal stores recs in a new journal in dir as the daemon
// would — one Append per record, the journal reopened with a new boot id at
// every boot, each record stamped by the journal's clock with its scripted
// time — or, for bulk, with Import. It reads everything back, checks it
// against recs, and returns the JSONL export.
func writeThroughJournal(t *testing.T, dir string, recs []journal.Record, bulk bool) []byte {
	t.Helper()
	var now time.Time
	open := func(boot string) *journal.Journal {
		j, err := journal.Open(journal.Options{Dir: dir, BootID: boot, Clock: func() time.Time { return now },
			Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return j
	}
	var j *journal.Journal
	if bulk {
		j = open("import")
		if _, err := journal.Import(j, journal.NewSliceReader(recs)); err != nil {
			t.Fatalf("import: %v", err)
		}
	} else {
		boot := ""
		for _, rec := range recs {
			if j == nil || rec.BootID != boot {
				if j != nil {
					if err := j.Close(); err != nil {
						t.Fatal(err)
					}
				}
				boot = rec.BootID
				j = open(boot)
			}
			now = rec.Time
			got, err := j.Append(context.Background(), journal.Entry{Type: rec.Type, Payload: rec.Payload})
			if err != nil || got[0].Seq != rec.Seq {
				t.Fatalf("append seq %d: %v %v", rec.Seq, got, err)
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen cold and read everything back before exporting.
	j = open("check")
	defer j.Close()
	r := j.NewReader(1)
	defer r.Close()
	i := 0
	var out bytes.Buffer
	for r.Next() {
		got := r.Record()
		if i >= len(recs) {
			t.Fatalf("read back more records than written (%d)", len(recs))
		}
		want := recs[i]
		if got.Seq != want.Seq || got.Type != want.Type || got.BootID != want.BootID || !got.Time.Equal(want.Time) || !bytes.Equal(got.Payload, want.Payload) {
			t.Fatalf("read back seq %d: got %+v, want %+v", want.Seq, got, want)
		}
		i++
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(recs) {
		t.Fatalf("read back %d records, wrote %d", i, len(recs))
	}
	if _, err := journal.ExportJSONL(&out, j.NewReader(1), journal.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestCrossArchExport is the helper run on the foreign architecture; it
// does nothing unless CWMPD_CROSS_OUT names a directory.
func TestCrossArchExport(t *testing.T) {
	out := os.Getenv("CWMPD_CROSS_OUT")
	if out == "" {
		t.Skip("helper for TestCrossArchReplay; set CWMPD_CROSS_OUT")
	}
	for name, sc := range crossScenarios() {
		data := writeThroughJournal(t, t.TempDir(), sc().recs, name == "long-run")
		if err := os.WriteFile(filepath.Join(out, name+".jsonl"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "GOARCH"), []byte(runtime.GOARCH), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaySnapshot(t *testing.T, name string, jsonl []byte) []byte {
	t.Helper()
	res, err := Run(journal.NewJSONLReader(bytes.NewReader(jsonl)), Options{})
	if err != nil {
		t.Fatalf("%s: replay: %v", name, err)
	}
	for _, v := range res.Violations {
		t.Errorf("%s: violation %v", name, v)
	}
	b, err := res.State.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCrossArchReplay: the native export of every scenario replays to the
// scenario's own state; with CWMPD_CROSS_TESTBIN, so does the foreign one,
// byte for byte.
func TestCrossArchReplay(t *testing.T) {
	foreign := map[string][]byte{}
	arch := ""
	if bin := os.Getenv("CWMPD_CROSS_TESTBIN"); bin != "" {
		out := t.TempDir()
		args := []string{"-test.run", "^TestCrossArchExport$", "-test.count", "1"}
		cmd := exec.Command(bin, args...)
		if w := os.Getenv("CWMPD_CROSS_WRAPPER"); w != "" {
			cmd = exec.Command(w, append([]string{bin}, args...)...)
		}
		cmd.Env = append(os.Environ(), "CWMPD_CROSS_OUT="+out)
		cmd.Dir = "."
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
		}
		a, err := os.ReadFile(filepath.Join(out, "GOARCH"))
		if err != nil {
			t.Fatal(err)
		}
		arch = string(a)
		t.Logf("%s wrote and exported the scenarios in %v", arch, time.Since(start).Round(time.Millisecond))
		for name := range crossScenarios() {
			if foreign[name], err = os.ReadFile(filepath.Join(out, name+".jsonl")); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		t.Log("CWMPD_CROSS_TESTBIN not set: native round trip only (make test-cross runs the arm builds)")
	}
	names := make([]string, 0)
	for name := range crossScenarios() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sc := crossScenarios()[name]()
		want, err := sc.st.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		native := writeThroughJournal(t, t.TempDir(), sc.recs, name == "long-run")
		if got := replaySnapshot(t, name, native); !bytes.Equal(got, want) {
			t.Errorf("%s: native export replays to another state than the scenario", name)
		}
		if f, ok := foreign[name]; ok {
			if got := replaySnapshot(t, name, f); !bytes.Equal(got, want) {
				t.Errorf("%s: the %s export replays to another state than the %s one", name, arch, runtime.GOARCH)
			}
			if !bytes.Equal(f, native) {
				t.Errorf("%s: the %s JSONL export differs from the %s one", name, arch, runtime.GOARCH)
			}
		}
	}
	if len(foreign) > 0 {
		t.Logf("%d scenarios: %s and %s exports identical, same final state", len(names), arch, runtime.GOARCH)
	}
}
