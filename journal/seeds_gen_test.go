package journal

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// TestFuzzSeedsCommitted checks that the committed seed corpora are the ones
// generated here (so the seeds track the format); -update-seeds rewrites them.
func TestFuzzSeedsCommitted(t *testing.T) {
	write := func(name, file, body string) {
		p := filepath.Join("testdata", "fuzz", name, file)
		want := []byte("go test fuzz v1\n" + body)
		if *updateSeeds {
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("seed %s is stale or missing (%v): run go test -run FuzzSeedsCommitted -update-seeds", p, err)
		}
	}
	good := EncodeRecord(docRecord())
	flip := append([]byte{}, good...)
	flip[25] ^= 1
	big := EncodeRecord(Record{Seq: 7, Time: time.Unix(0, -5), BootID: "", Type: 65535, Payload: []byte{0xff, 0, '\n'}})
	badLen := append([]byte{}, good...)
	badLen[24] = 0xff
	for name, c := range map[string]struct {
		seq uint64
		b   []byte
	}{
		"valid":      {12, good},
		"any_key":    {0, good},
		"wrong_key":  {13, good},
		"flipped":    {12, flip},
		"truncated":  {12, good[:20]},
		"empty":      {1, nil},
		"binary":     {7, big},
		"bad_length": {12, badLen},
		"schema2":    {12, EncodeRecord(Record{Schema: 2, Seq: 12})},
	} {
		write("FuzzDecodeRecord", name, fmt.Sprintf("uint64(%d)\n[]byte(%q)\n", c.seq, c.b))
	}
	for name, s := range map[string]string{
		"doc_example": `{"v":1,"seq":12,"time":"2026-11-22T01:02:03.000000004Z","boot":"b1","type":3,"name":"Booted","payload":{"a":1}}` + "\n",
		"two_lines":   `{"v":1,"seq":1,"time":"2026-11-22T01:02:03Z","boot":"b","type":1,"payload":[1,2]}` + "\n" + `{"v":1,"seq":2,"time":"2026-11-22T01:02:04Z","boot":"b","type":2,"payload_b64":"/wA="}` + "\n",
		"gap":         `{"v":1,"seq":1,"time":"2026-11-22T01:02:03Z","type":1}` + "\n" + `{"v":1,"seq":3,"time":"2026-11-22T01:02:03Z","type":1}` + "\n",
		"bad_second":  `{"v":1,"seq":1,"time":"2026-11-22T01:02:03Z","type":1}` + "\nnope\n",
		"unknown":     `{"v":1,"seq":5,"time":"2026-11-22T01:02:03+02:00","type":1,"x":{"y":[]},"payload":"str"}`,
		"both":        `{"v":1,"seq":5,"time":"2026-11-22T01:02:03Z","type":1,"payload":1,"payload_b64":"AA=="}`,
		"far_time":    `{"v":1,"seq":5,"time":"9999-12-31T23:59:59Z","type":1}`,
		"blank":       "\n\n   \n",
		"null":        `{"v":1,"seq":1,"time":"2026-11-22T01:02:03Z","type":1,"payload":null}`,
	} {
		write("FuzzJSONLImport", name, fmt.Sprintf("[]byte(%q)\n", s))
	}
}
