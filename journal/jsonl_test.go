package journal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExportLineFormat(t *testing.T) {
	recs := []Record{
		docRecord(),
		{Schema: 1, Seq: 13, Time: time.Date(2026, 11, 22, 1, 2, 4, 0, time.UTC), BootID: "b\"1", Type: 4, Payload: []byte{0xff, 0x00}},
		{Schema: 1, Seq: 14, Time: time.Date(2026, 11, 22, 1, 2, 5, 0, time.FixedZone("x", 3600)), BootID: "b1", Type: 5, Payload: []byte("{\n}")},
		{Schema: 1, Seq: 15, Time: time.Date(2026, 11, 22, 1, 2, 6, 0, time.UTC), BootID: "b1", Type: 6},
	}
	var buf bytes.Buffer
	names := map[uint16]string{3: "Booted"}
	n, err := ExportJSONL(&buf, NewSliceReader(recs), ExportOptions{Name: func(t uint16) string { return names[t] }})
	if err != nil || n != 4 {
		t.Fatalf("export: %d %v", n, err)
	}
	want := `{"v":1,"seq":12,"time":"2026-11-22T01:02:03.000000004Z","boot":"b1","type":3,"name":"Booted","payload":{"a":1}}
{"v":1,"seq":13,"time":"2026-11-22T01:02:04.000000000Z","boot":"b\"1","type":4,"name":"","payload_b64":"/wA="}
{"v":1,"seq":14,"time":"2026-11-22T00:02:05.000000000Z","boot":"b1","type":5,"name":"","payload_b64":"ewp9"}
{"v":1,"seq":15,"time":"2026-11-22T01:02:06.000000000Z","boot":"b1","type":6,"name":"","payload_b64":""}
`
	if buf.String() != want {
		t.Fatalf("export\n got:\n%s\nwant:\n%s", buf.String(), want)
	}

	// Without Name, "name" is omitted; Since skips; Redact sees every record.
	buf.Reset()
	redacted := 0
	n, err = ExportJSONL(&buf, NewSliceReader(recs), ExportOptions{Since: 13, Redact: func(r Record) Record {
		redacted++
		r.Payload = []byte(`{"secret":"***"}`)
		return r
	}})
	if err != nil || n != 3 || redacted != 3 || strings.Contains(buf.String(), `"name"`) || strings.Count(buf.String(), `{"secret":"***"}`) != 3 {
		t.Fatalf("since/redact export (%d lines, %d redacted):\n%s", n, redacted, buf.String())
	}
}

func TestJSONLRoundTripThroughImport(t *testing.T) {
	src := mustOpen(t, testOptions(t, t.TempDir()))
	defer src.Close()
	appendN(t, src, 300)
	if _, err := src.Append(t.Context(), Entry{Type: 9, Payload: []byte{0, 1, 2}}, Entry{Type: 10, Payload: []byte(` {"a": 1}`)}); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, src, 0)
	var buf bytes.Buffer
	r := src.NewReader(0)
	if _, err := ExportJSONL(&buf, r, ExportOptions{Name: func(uint16) string { return "X" }}); err != nil {
		t.Fatal(err)
	}
	r.Close()

	dst := mustOpen(t, testOptions(t, t.TempDir()))
	defer dst.Close()
	n, err := Import(dst, NewJSONLReader(strings.NewReader(buf.String()+"\n\n")))
	if err != nil || n != len(want) {
		t.Fatalf("import: %d %v", n, err)
	}
	got := readAll(t, dst, 0)
	if len(got) != len(want) {
		t.Fatalf("imported %d, exported %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.Seq != w.Seq || !g.Time.Equal(w.Time) || g.BootID != w.BootID || g.Type != w.Type || !bytes.Equal(g.Payload, w.Payload) {
			t.Fatalf("record %d\n got %+v\nwant %+v", i, g, w)
		}
	}
	if dst.FirstSeq() != 1 || dst.LastSeq() != src.LastSeq() {
		t.Fatalf("imported first %d last %d", dst.FirstSeq(), dst.LastSeq())
	}
	// Appends continue the imported numbering.
	if recs, err := dst.Append(t.Context(), Entry{Type: 1}); err != nil || recs[0].Seq != src.LastSeq()+1 {
		t.Fatalf("append after import: %+v %v", recs, err)
	}
	// The journal is no longer empty.
	if _, err := Import(dst, NewSliceReader(want)); err == nil {
		t.Fatal("import into a non-empty journal succeeded")
	}
}

func TestImportTrimmedTailAndGaps(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := []Record{{Schema: 1, Seq: 500, Time: at}, {Schema: 1, Seq: 501, Time: at}}
	j := mustOpen(t, testOptions(t, t.TempDir()))
	defer j.Close()
	if n, err := Import(j, NewSliceReader(recs)); err != nil || n != 2 || j.FirstSeq() != 500 || j.LastSeq() != 501 {
		t.Fatalf("import of a tail: %d %v first %d", n, err, j.FirstSeq())
	}
	checkContiguous(t, readAll(t, j, 0), 500, 501)

	k := mustOpen(t, testOptions(t, t.TempDir()))
	defer k.Close()
	gap := []Record{{Schema: 1, Seq: 1, Time: at}, {Schema: 1, Seq: 3, Time: at}}
	if _, err := Import(k, NewSliceReader(gap)); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Fatalf("import with a gap: %v", err)
	}
	if k.LastSeq() != 0 {
		t.Fatalf("a refused batch wrote records: last %d", k.LastSeq())
	}
	for _, bad := range [][]Record{{{Schema: 2, Seq: 1, Time: at}}, {{Schema: 1, Seq: 0, Time: at}}, {{Schema: 1, Seq: 1}}} {
		if _, err := Import(k, NewSliceReader(bad)); err == nil {
			t.Fatalf("imported %+v", bad)
		}
	}
}

func TestJSONLReaderErrors(t *testing.T) {
	good := `{"v":1,"seq":1,"time":"2026-11-22T01:02:03Z","boot":"b","type":1,"payload":{}}`
	cases := []struct {
		in       string
		line     int
		seq      uint64
		contains string
	}{
		{good + "\nnot json\n", 2, 0, ""},
		{good + "\n" + `{"v":1,"seq":2,"time":"2026-11-22T01:02:03Z","type":1,"payload":{"x":`, 2, 2, "JSON"},
		{good + "\n" + `{"v":1,"seq":2,"time":"yesterday","boot":"b","type":1}`, 2, 2, "time"},
		{`{"v":2,"seq":7,"time":"2026-11-22T01:02:03Z","type":1}`, 1, 7, "schema"},
		{`{"v":1,"time":"2026-11-22T01:02:03Z","type":1}`, 1, 0, "seq"},
		{`{"v":1,"seq":3,"time":"2026-11-22T01:02:03Z","type":70000}`, 1, 3, "type"},
		{`{"v":1,"seq":3,"time":"2026-11-22T01:02:03Z","type":1,"payload":{},"payload_b64":""}`, 1, 3, "both"},
		{`{"v":1,"seq":3,"time":"2026-11-22T01:02:03Z","type":1,"payload_b64":"!!"}`, 1, 3, "payload_b64"},
		{`{"v":1,"seq":3,"time":"2026-11-22T01:02:03Z","type":1}` + "\n\n" + `[1]`, 3, 0, ""},
	}
	for _, c := range cases {
		r := NewJSONLReader(strings.NewReader(c.in))
		for r.Next() {
		}
		var ce *CorruptionError
		if !errors.As(r.Err(), &ce) || ce.Line != c.line || ce.Seq != c.seq || !strings.Contains(r.Err().Error(), c.contains) {
			t.Errorf("%q: err %v, want line %d seq %d containing %q", c.in, r.Err(), c.line, c.seq, c.contains)
		}
	}
	// Unknown fields and "name" are ignored; missing payload is empty.
	r := NewJSONLReader(strings.NewReader(`{"v":1,"seq":4,"time":"2026-11-22T01:02:03.5+01:00","boot":"b","type":2,"name":"Whatever","future":[1,2]}`))
	if !r.Next() || r.Err() != nil {
		t.Fatalf("tolerant read: %v", r.Err())
	}
	rec := r.Record()
	if rec.Seq != 4 || rec.Type != 2 || len(rec.Payload) != 0 || !rec.Time.Equal(time.Date(2026, 11, 22, 0, 2, 3, 5e8, time.UTC)) || rec.Time.Location() != time.UTC {
		t.Fatalf("tolerant read: %+v", rec)
	}
}
