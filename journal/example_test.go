package journal_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/cwmpd/cwmpd/journal"
)

func ExampleExportJSONL() {
	recs := []journal.Record{{
		Schema: journal.SchemaVersion, Seq: 12,
		Time:   time.Date(2026, 11, 22, 1, 2, 3, 4, time.UTC),
		BootID: "b1", Type: 3, Payload: []byte(`{"a":1}`),
	}}
	names := map[uint16]string{3: "Booted"}
	journal.ExportJSONL(os.Stdout, journal.NewSliceReader(recs), journal.ExportOptions{
		Name: func(t uint16) string { return names[t] },
	})
	// Output:
	// {"v":1,"seq":12,"time":"2026-11-22T01:02:03.000000004Z","boot":"b1","type":3,"name":"Booted","payload":{"a":1}}
}

func ExampleNewJSONLReader() {
	in := `{"v":1,"seq":1,"time":"2026-11-22T01:02:03Z","boot":"b1","type":3,"payload":{}}
{"v":1,"seq":2,"time":"2026-11-22T01:02:04Z","boot":"b1","type":4,"payload":{"x":`
	r := journal.NewJSONLReader(bytes.NewBufferString(in))
	for r.Next() {
		fmt.Println("seq", r.Record().Seq)
	}
	fmt.Println(r.Err())
	// Output:
	// seq 1
	// journal: corrupt record seq 2 at line 2: unexpected end of JSON input
}
