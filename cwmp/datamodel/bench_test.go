package datamodel

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/event"
)

func fillUsers(f *fix, rows int) {
	ctx := context.Background()
	var evs []event.Event
	for i := 1; i <= rows; i++ {
		evs = append(evs, event.ObjectAdded{Object: "Device.Users.User.", Instance: uint32(i), Source: event.SourceACS},
			event.ParametersSet{Source: event.SourceACS, Values: []event.ParamValue{
				{Name: fmt.Sprintf("Device.Users.User.%d.Username", i), Value: fmt.Sprintf("user-%d", i)},
				{Name: fmt.Sprintf("Device.Users.User.%d.Enable", i), Value: "true"}}})
		if len(evs) >= 200 {
			f.store.Append(ctx, evs...)
			evs = nil
		}
	}
	if len(evs) > 0 {
		f.store.Append(ctx, evs...)
	}
}

// BenchmarkGPVDevice10k is GetParameterValues of "Device." on a tree of
// 10,000+ parameters, through the handler and the streaming encoder.
// Goal (issue 4): ≤ 25 ms and ≤ 8 MB allocated per operation.
func BenchmarkGPVDevice10k(b *testing.B) {
	f := &fix{dir: b.TempDir(), host: testHost()}
	benchOpen(b, f)
	fillUsers(f, 2000) // 2000 rows × 5 parameters
	req := &soap.GetParameterValues{ParameterNames: []string{"Device."}}
	resp := f.h.Handle(context.Background(), req).(*soap.GetParameterValuesResponse)
	if len(resp.ParameterList) < 10000 {
		b.Fatalf("only %d parameters", len(resp.ParameterList))
	}
	b.ReportMetric(float64(len(resp.ParameterList)), "params")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp := f.h.Handle(context.Background(), req)
		if err := soap.Encode(io.Discard, &soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "1"}, Body: resp}); err != nil {
			b.Fatal(err)
		}
	}
}
