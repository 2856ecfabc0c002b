package session

import (
	"context"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/event"
)

// validateXSD checks doc against the BBF schema of version v, as the
// strict acsim does.
func validateXSD(t *testing.T, v soap.Version, doc []byte) {
	t.Helper()
	val, err := acsim.NewSchemaValidator()
	if err != nil {
		t.Fatal(err)
	}
	defer val.Close()
	if msgs, err := val.Validate(context.Background(), v, doc); err != nil || len(msgs) > 0 {
		t.Fatalf("does not validate against the %v schema: %v %v\n%s", v, err, msgs, doc)
	}
}

// A TransferComplete sent in a session negotiated down to an older version
// validates against that version's schema: the actions' 9015–9020, unknown
// to cwmp-1-0.xsd, go out as 9010 (download) or 9011 (upload) with the
// precise code in the FaultString, while versions that know the code get
// it unchanged. The journal keeps the precise code either way.
func TestTransferCompleteFaultFitsTheNegotiatedVersion(t *testing.T) {
	cases := []struct {
		name     string
		reply    soap.Envelope // the InformResponse
		kind     string
		code     int
		version  soap.Version // negotiated
		wantCode soap.FaultCode
		wantStr  string
	}{
		{"1.0 download", soap.Envelope{Version: soap.V1_0}, event.KindDownload, 9016, soap.V1_0, 9010, "9016: HTTP 404"},
		{"1.0 upload", soap.Envelope{Version: soap.V1_0}, event.KindUpload, 9015, soap.V1_0, 9011, "9015: HTTP 404"},
		{"1.0 schedule download", soap.Envelope{Version: soap.V1_0}, event.KindScheduleDownload, 9020, soap.V1_0, 9010, "9020: HTTP 404"},
		{"1.1 download", soap.Envelope{Version: soap.V1_1}, event.KindDownload, 9016, soap.V1_1, 9016, "HTTP 404"},
		{"1.2 download", soap.Envelope{Version: soap.V1_2}, event.KindDownload, 9016, soap.V1_2, 9016, "HTTP 404"},
		{"1.4 download", soap.Envelope{Version: soap.V1_2, Header: soap.Header{UseCWMPVersion: "1.4"}}, event.KindDownload, 9020, soap.V1_4, 9020, "HTTP 404"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			recs, _ := f.store.Append(ctx, event.TransferQueued{Kind: c.kind, CommandKey: "fw"})
			fin, _ := f.store.Append(ctx, event.TransferFinished{Transfer: recs[0].Seq, FaultCode: c.code, FaultString: "HTTP 404", StartTime: now, CompleteTime: now})
			ir := c.reply
			ir.Body = &soap.InformResponse{MaxEnvelopes: 1}
			a, out := f.scripted(t, nil, soapReply(&ir),
				soapReply(&soap.Envelope{Version: c.reply.Version, Body: &soap.TransferCompleteResponse{}}),
				noContent)
			if out.Failure != nil {
				t.Fatal(out.Failure)
			}
			tc, ok := a.got[1].Body.(*soap.TransferComplete)
			if !ok || a.got[1].Version != c.reply.Version {
				t.Fatalf("POST 1 in %v: %s", a.got[1].Version, a.raw[1])
			}
			if tc.FaultStruct.FaultCode != c.wantCode || tc.FaultStruct.FaultString != c.wantStr {
				t.Errorf("FaultStruct %+v, want %d %q", tc.FaultStruct, c.wantCode, c.wantStr)
			}
			validateXSD(t, c.version, a.raw[1])

			// Only the wire copy is mapped: the journal's TransferFinished
			// still says the precise code, and nothing else was journaled
			// about it.
			want := "Booted SettingsChanged TransferQueued TransferFinished SessionStarted InformAccepted TransferCompleteAcked SessionSucceeded"
			if got := strings.Join(f.types(t), " "); got != want {
				t.Fatalf("journal: %s\nwant:    %s", got, want)
			}
			r := f.j.NewReader(fin[0].Seq)
			defer r.Close()
			if !r.Next() {
				t.Fatal("TransferFinished not found")
			}
			e, err := event.Decode(r.Record().Type, r.Record().Payload)
			if got, ok := e.(event.TransferFinished); err != nil || !ok || got.FaultCode != c.code {
				t.Fatalf("journaled %+v (%v), want fault %d", e, err, c.code)
			}
		})
	}
}
