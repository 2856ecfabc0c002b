package replay

import (
	"testing"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

// benchRecords is a journal of periodic sessions with value changes.
func benchRecords(n int) []journal.Record {
	s := newScript()
	s.start(event.BootPowerOn)
	s.defaults()
	for len(s.recs) < n {
		s.add(event.PeriodicInformDue{Due: s.now})
		if len(s.recs)%40 == 0 {
			s.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "x"}}})
		}
		s.ok()
	}
	return s.recs
}

// BenchmarkReplayDecodedEvents: decode + fold (+ invariants, as replay
// checks them), per record.
func BenchmarkReplayDecodedEvents(b *testing.B) {
	recs := benchRecords(20000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(journal.NewSliceReader(recs), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
