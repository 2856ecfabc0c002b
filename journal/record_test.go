package journal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func docRecord() Record {
	return Record{
		Schema: SchemaVersion, Seq: 12,
		Time:   time.Date(2026, 11, 22, 1, 2, 3, 4, time.UTC),
		BootID: "b1", Type: 3, Payload: []byte(`{"a":1}`),
	}
}

// TestEnvelopeMatchesDoc pins the byte layout documented in doc.go.
func TestEnvelopeMatchesDoc(t *testing.T) {
	b := EncodeRecord(docRecord())
	want := "0001" + "000000000000000c" + "18ea38513b5cae04" + "0003" + "02" + "6231" + "00000007" + hex.EncodeToString([]byte(`{"a":1}`))
	if got := hex.EncodeToString(b[:len(b)-4]); got != want {
		t.Fatalf("envelope\n got %s\nwant %s", got, want)
	}
	if len(b) != 38 {
		t.Fatalf("envelope is %d bytes, doc says 38", len(b))
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []Record{
		docRecord(),
		{Schema: 1, Seq: 1, Time: time.Unix(0, 0).UTC(), Payload: []byte{}},
		{Schema: 1, Seq: ^uint64(0), Time: time.Date(2200, 1, 1, 0, 0, 0, 999999999, time.UTC), BootID: strings.Repeat("x", 255), Type: 65535, Payload: bytes.Repeat([]byte{0, 0xff}, 5000)},
	} {
		got, err := DecodeRecord(r.Seq, EncodeRecord(r))
		if err != nil {
			t.Fatalf("decode seq %d: %v", r.Seq, err)
		}
		if got.Seq != r.Seq || !got.Time.Equal(r.Time) || got.Time.Location() != time.UTC || got.BootID != r.BootID || got.Type != r.Type || !bytes.Equal(got.Payload, r.Payload) || got.Schema != 1 {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, r)
		}
	}
}

func TestDecodeOwnsMemory(t *testing.T) {
	b := EncodeRecord(docRecord())
	r, err := DecodeRecord(12, b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if string(r.Payload) != `{"a":1}` || r.BootID != "b1" {
		t.Fatalf("decoded record aliases its input: %+v", r)
	}
}

// Every single-bit flip and every truncation must be caught and carry the seq.
func TestDecodeDetectsCorruption(t *testing.T) {
	good := EncodeRecord(docRecord())
	check := func(what string, b []byte) {
		t.Helper()
		_, err := DecodeRecord(12, b)
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want *CorruptionError", what, err)
		}
		if ce.Seq != 12 {
			t.Fatalf("%s: corruption error has seq %d, want 12", what, ce.Seq)
		}
		if !strings.Contains(err.Error(), "seq 12") {
			t.Fatalf("%s: message %q lacks the seq", what, err)
		}
	}
	for i := range good {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte{}, good...)
			b[i] ^= 1 << bit
			check("flip", b)
		}
	}
	for n := 0; n < len(good); n++ {
		check("truncate", good[:n])
	}
	check("extended", append(append([]byte{}, good...), 0))
	// A well-formed envelope under the wrong key is corruption too.
	_, err := DecodeRecord(13, good)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Seq != 13 {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestDecodeRefusesUnknownSchema(t *testing.T) {
	r := docRecord()
	r.Schema = 2
	_, err := DecodeRecord(12, EncodeRecord(r))
	if err == nil || !strings.Contains(err.Error(), "schema 2") {
		t.Fatalf("schema 2 decoded: %v", err)
	}
}
