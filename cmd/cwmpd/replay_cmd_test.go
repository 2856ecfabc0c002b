package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

// The operator sees a ScheduleDownload's retries in cwmpd replay's state:
// how many attempts failed, the last fault and when the next attempt is
// due (MaxRetries, D§11.9); --json carries the same fields.
func TestReplayShowsAScheduleDownloadsFailedAttempts(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	w2 := t0.Add(3 * time.Hour)
	evs := []event.Event{
		event.Booted{Reason: event.BootPowerOn},
		event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd-1", FileType: "1 Firmware Upgrade Image",
			URL: "https://files.example/fw.bin", NotBefore: t0, Windows: []event.TimeWindow{
				{Start: t0, End: t0.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 1},
				{Start: w2, End: w2.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: -1}}},
		event.TransferStarted{Transfer: 2, StartTime: t0},
		event.TransferAttemptFailed{Transfer: 2, FaultCode: 9015, FaultString: "unreachable", Window: 0, NextAttempt: t0.Add(time.Minute)},
		event.TransferAttemptFailed{Transfer: 2, FaultCode: 9016, FaultString: "HTTP 404", Window: 0, NextAttempt: w2},
	}
	var recs []journal.Record
	for i, e := range evs {
		typ, payload := event.MustEncode(e)
		recs = append(recs, journal.Record{Schema: journal.SchemaVersion, Seq: uint64(i + 1), Time: t0, BootID: "b", Type: typ, Payload: payload})
	}
	var buf bytes.Buffer
	if _, err := journal.ExportJSONL(&buf, journal.NewSliceReader(recs), journal.ExportOptions{Name: event.Name}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "export.jsonl")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, "replay", file)
	want := `transfer #2 schedule-download ck="sd-1": in-progress  failed attempts: 2 (2 in window 1, last fault 9016)  next attempt: 2026-11-22T04:00:00Z`
	if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "TransferAttemptFailed") {
		t.Fatalf("replay: exit %d, want the line\n%s\nin:\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	j := runBin(t, "replay", file, "--json")
	for _, field := range []string{`"failed_attempts": 2`, `"last_fault_code": 9016`, `"next_attempt": "2026-11-22T04:00:00Z"`} {
		if !strings.Contains(j.stdout, field) {
			t.Errorf("replay --json lacks %s:\n%s", field, j.stdout)
		}
	}
}
