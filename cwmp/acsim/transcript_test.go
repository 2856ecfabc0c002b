package acsim

import "testing"

func TestTranscriptBounded(t *testing.T) {
	s, err := New(Config{MaxEntries: 10, Schema: SchemaOff})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 30 {
		s.record(Entry{Kind: "cwmp"})
	}
	tr := s.Transcript()
	if len(tr) < 10 || len(tr) > 11 || tr[len(tr)-1].Seq != 30 || tr[0].Seq != 30-int64(len(tr))+1 {
		t.Fatalf("kept %d entries, seqs %d..%d", len(tr), tr[0].Seq, tr[len(tr)-1].Seq)
	}
}
