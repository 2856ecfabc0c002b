package replay

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

var (
	update = flag.Bool("update", false, "rewrite the expected timelines and states of the golden journals")
	regen  = flag.Bool("regen", false, "rewrite the golden journals from their scenarios (never compat-v1)")
)

const compatName = "compat-v1"

func writeJSONL(t *testing.T, path string, recs []journal.Record) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := journal.ExportJSONL(&buf, journal.NewSliceReader(recs), journal.ExportOptions{Name: event.Name}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRegenerateGoldenJournals(t *testing.T) {
	if !*regen {
		return
	}
	compat := filepath.Join("testdata", compatName+".jsonl")
	if _, err := os.Stat(compat); os.IsNotExist(err) {
		writeJSONL(t, compat, compatV1().recs) // the first time only: then kept forever
	}
	for name, sc := range scenarios {
		writeJSONL(t, filepath.Join("testdata", name+".jsonl"), sc().recs)
	}
}

func goldenJournals(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) < 11 {
		t.Fatalf("only %d golden journals in testdata", len(files))
	}
	return files
}

func readJournal(t *testing.T, path string) []journal.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := journal.NewJSONLReader(f)
	var recs []journal.Record
	for r.Next() {
		recs = append(recs, r.Record())
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./replay -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./replay -update to accept):\n--- got\n%s", path, got)
	}
}

// TestGoldenJournals replays every golden journal and compares its timeline
// and final state with the expected files.
func TestGoldenJournals(t *testing.T) {
	for _, path := range goldenJournals(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		t.Run(name, func(t *testing.T) {
			recs := readJournal(t, path)
			var tl bytes.Buffer
			res, err := Run(journal.NewSliceReader(recs), Options{Timeline: &tl})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range res.Violations {
				t.Errorf("violation: %v", v)
			}
			state, err := json.MarshalIndent(struct {
				Status projections.Status `json:"status"`
				State  *projections.State `json:"state"`
			}{res.State.Status(), res.State.Redacted()}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", name+".timeline"), tl.Bytes())
			checkGolden(t, filepath.Join("testdata", name+".state.json"), append(state, '\n'))
			if strings.Contains(tl.String(), "secret") || strings.Contains(string(state), "secret") {
				t.Error("a secret reached the timeline")
			}
		})
	}
}

// TestScenariosMatchTheirJournals makes sure a scenario edited without
// -regen is noticed (compat-v1 is exempt: it is frozen, not generated).
func TestScenariosMatchTheirJournals(t *testing.T) {
	for name, sc := range scenarios {
		path := filepath.Join("testdata", name+".jsonl")
		got := sc().recs
		want := readJournal(t, path)
		if len(got) != len(want) {
			t.Errorf("%s: scenario has %d records, journal %d (go test ./replay -regen -update)", name, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].Type != want[i].Type || !bytes.Equal(got[i].Payload, want[i].Payload) {
				t.Errorf("%s: record %d differs from its scenario", name, i+1)
				break
			}
		}
	}
}

// TestEveryPrefixReplaysCleanly replays every prefix of every golden journal
// and checks that "snapshot at k, then fold the tail" gives exactly the state
// of a full fold — boot from a snapshot is the same as replay from zero.
func TestEveryPrefixReplaysCleanly(t *testing.T) {
	for _, path := range goldenJournals(t) {
		recs := readJournal(t, path)
		full, err := Run(journal.NewSliceReader(recs), Options{})
		if err != nil {
			t.Fatal(err)
		}
		fullSnap, _ := full.State.Snapshot()
		for k := 1; k <= len(recs); k++ {
			res, err := Run(journal.NewSliceReader(recs), Options{At: recs[k-1].Seq})
			if err != nil {
				t.Fatalf("%s prefix %d: %v", path, k, err)
			}
			if len(res.Violations) > 0 || res.Records != k {
				t.Fatalf("%s prefix %d: %d records, violations %v", path, k, res.Records, res.Violations)
			}
			snap, err := res.State.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			from, err := projections.Restore(snap)
			if err != nil {
				t.Fatal(err)
			}
			rest, err := Run(journal.NewSliceReader(recs[k:]), Options{From: from})
			if err != nil || len(rest.Violations) > 0 {
				t.Fatalf("%s tail after %d: %v %v", path, k, err, rest.Violations)
			}
			got, _ := rest.State.Snapshot()
			if !bytes.Equal(got, fullSnap) {
				t.Fatalf("%s: snapshot at %d + tail differs from a full replay", path, k)
			}
		}
	}
}

func TestAtStopsAtTheSequence(t *testing.T) {
	recs := scenarios["first-boot"]().recs
	res, err := Run(journal.NewSliceReader(recs), Options{At: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || res.State.Seq != 3 {
		t.Fatalf("%d records, seq %d", res.Records, res.State.Seq)
	}
}

func TestGapsAndCorruptionAreReported(t *testing.T) {
	recs := scenarios["first-boot"]().recs
	gapped := append(append([]journal.Record{}, recs[:2]...), recs[3:]...)
	res, err := Run(journal.NewSliceReader(gapped), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) == 0 || !strings.Contains(res.Violations[0].Reason, "gap") {
		t.Fatalf("gap not reported: %v", res.Violations)
	}
	bad := append([]journal.Record{}, recs...)
	bad[4].Payload = []byte(`{"events":`)
	_, err = Run(journal.NewSliceReader(bad), Options{})
	var ce *journal.CorruptionError
	if err == nil || !errorsAs(err, &ce) || ce.Seq != bad[4].Seq {
		t.Fatalf("corrupt record: %v", err)
	}
}

func TestUnknownEventTypesAreCountedNotFatal(t *testing.T) {
	recs := scenarios["first-boot"]().recs
	recs = append(recs, journal.Record{Seq: uint64(len(recs) + 1), Time: recs[0].Time, Type: 4242, Payload: []byte(`{"new":true}`)})
	var tl bytes.Buffer
	res, err := Run(journal.NewSliceReader(recs), Options{Timeline: &tl})
	if err != nil || res.Unknown != 1 {
		t.Fatalf("err %v unknown %d", err, res.Unknown)
	}
	if !strings.Contains(tl.String(), "Type(4242)") {
		t.Fatal(tl.String())
	}
}

func TestReplayIsDeterministic(t *testing.T) {
	for name, sc := range scenarios {
		a, b := sc(), sc()
		if !reflect.DeepEqual(a.recs, b.recs) {
			t.Fatalf("%s: scenario not deterministic", name)
		}
	}
}
