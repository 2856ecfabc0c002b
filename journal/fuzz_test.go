package journal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func FuzzDecodeRecord(f *testing.F) {
	f.Add(uint64(12), EncodeRecord(docRecord()))
	f.Fuzz(func(t *testing.T, seq uint64, b []byte) {
		r, err := DecodeRecord(seq, b)
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *CorruptionError: %v", err)
			}
			return
		}
		// The envelope is canonical: what decodes re-encodes to the same bytes.
		if again := EncodeRecord(r); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
		if seq != 0 && r.Seq != seq {
			t.Fatalf("decoded seq %d under key %d", r.Seq, seq)
		}
	})
}

// FuzzJSONLImport reads arbitrary text as an export and imports what reads
// into a real journal: no panic, and whatever imported reads back the same.
func FuzzJSONLImport(f *testing.F) {
	f.Add([]byte(`{"v":1,"seq":1,"time":"2026-11-22T01:02:03.000000004Z","boot":"b1","type":3,"name":"Booted","payload":{"a":1}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []Record
		r := NewJSONLReader(bytes.NewReader(data))
		for r.Next() {
			recs = append(recs, r.Record())
		}
		if err := r.Err(); err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) || ce.Line < 1 {
				t.Fatalf("reader error is not a located *CorruptionError: %v", err)
			}
		}
		if len(recs) == 0 {
			return
		}
		// Export what was read and read it again: the format is stable.
		var buf bytes.Buffer
		if _, err := ExportJSONL(&buf, NewSliceReader(recs), ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		var again []Record
		r2 := NewJSONLReader(strings.NewReader(buf.String()))
		for r2.Next() {
			again = append(again, r2.Record())
		}
		if r2.Err() != nil || len(again) != len(recs) {
			t.Fatalf("re-read of our own export: %d of %d records, %v\n%s", len(again), len(recs), r2.Err(), buf.String())
		}
		j := mustOpen(t, testOptions(t, t.TempDir()))
		defer j.Close()
		n, err := Import(j, NewSliceReader(recs))
		if err != nil {
			if n != 0 && uint64(n) != j.LastSeq()-j.FirstSeq()+1 {
				t.Fatalf("import failed after %d records but journal holds %d..%d", n, j.FirstSeq(), j.LastSeq())
			}
			return
		}
		got := readAll(t, j, 0)
		for i := range got {
			w := recs[i]
			if got[i].Seq != w.Seq || !got[i].Time.Equal(w.Time) || got[i].BootID != w.BootID || got[i].Type != w.Type || !bytes.Equal(got[i].Payload, w.Payload) {
				t.Fatalf("record %d: imported %+v read back %+v", i, w, got[i])
			}
		}
	})
}
