package session

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/datamodel"
	"github.com/cwmpd/cwmpd/cwmp/requests"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/cwmp/transport"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// playbackACS answers the CPE's POST i with reply i ("status body"), and
// with 204 once the replies run out. It keeps what the CPE sent.
type playbackACS struct {
	mu      sync.Mutex
	replies []reply
	got     [][]byte
}

type reply struct {
	status int
	body   []byte
}

func (a *playbackACS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.got = append(a.got, body)
	rp := reply{status: http.StatusNoContent}
	if len(a.replies) > 0 {
		rp, a.replies = a.replies[0], a.replies[1:]
	}
	a.mu.Unlock()
	if len(rp.body) > 0 {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	}
	w.WriteHeader(rp.status)
	w.Write(rp.body)
}

func encodeEnv(tb testing.TB, env *soap.Envelope) string {
	var b bytes.Buffer
	if err := soap.Encode(&b, env); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// FuzzSessionAgainstHostileACS runs whole sessions of the real Driver and
// Core, with the daemon's request handlers (data model, then device and
// transfer RPCs) over a real journal, through the real transport, against
// an ACS that answers each POST with the next of the input's replies
// ("$N" separates them; a reply may start with a three-digit status and a
// space). Shorthands help the fuzzer into the session's later phases: $R
// is an InformResponse, $H one with HoldRequests, $T a
// TransferCompleteResponse, $G a GetParameterValues of the whole
// ManagementServer (passwords included), $F a CWMP fault.
//
// Whatever the ACS sends: the session ends, within one POST per reply
// (plus the one 204 the ACS gives when it has nothing more), with one
// SessionSucceeded or SessionFailed journaled; every envelope the CPE
// posts decodes, answers the request it answers under that request's ID,
// and a fault the CPE sends is a CWMP fault 9000-9032; no post carries a
// password the device keeps; InformAccepted is journaled once an
// InformResponse came, and TransferCompleteAcked only for a
// TransferComplete the ACS answered; and last-session-error is one line
// of valid UTF-8, short enough for `cwmpd print`.
func FuzzSessionAgainstHostileACS(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	const acsSecret, crSecret = "acs-pw<41c7>", "cr-pw<8e02>"
	if _, err := fx.store.Append(ctx, event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{
		{Name: "password", Value: acsSecret}, {Name: "connection-request-password", Value: crSecret}}}); err != nil {
		f.Fatal(err)
	}
	model := &datamodel.Model{Schema: datamodel.DefaultSchema(),
		Identity: func() datamodel.Identity {
			return datamodel.Identity{Manufacturer: "cwmpd", OUI: "00AB1F", ProductClass: "sim", SerialNumber: "0001", SoftwareVersion: "1.0.0"}
		},
		Runtime: func() datamodel.Runtime { return datamodel.Runtime{ConnectionRequestURL: "http://192.0.2.1:7547/cr"} }}
	dev := &requests.Handler{Store: fx.store, Now: func() time.Time { return now }, OUI: "00AB1F", Log: zerolog.Nop(),
		MaxTransfers: 1 << 20, MaxSchedules: 1 << 20}
	h := &datamodel.Handler{Model: model, Store: fx.store, Methods: requests.Methods(), Log: zerolog.Nop(), Next: dev}

	v12 := soap.V1_2
	macros := strings.NewReplacer(
		"$R", encodeEnv(f, &soap.Envelope{Version: v12, Header: soap.Header{ID: "1"}, Body: &soap.InformResponse{MaxEnvelopes: 1}}),
		"$H", encodeEnv(f, &soap.Envelope{Version: v12, Header: soap.Header{ID: "1", HoldRequests: true}, Body: &soap.InformResponse{MaxEnvelopes: 1}}),
		"$T", encodeEnv(f, &soap.Envelope{Version: v12, Header: soap.Header{ID: "2"}, Body: &soap.TransferCompleteResponse{}}),
		"$G", encodeEnv(f, &soap.Envelope{Version: v12, Header: soap.Header{ID: "g1"},
			Body: &soap.GetParameterValues{ParameterNames: []string{"Device.ManagementServer."}}}),
		"$F", encodeEnv(f, &soap.Envelope{Version: v12, Header: soap.Header{ID: "f1"}, Body: soap.NewFault(soap.FaultCode(8005), "retry")}),
	)
	for _, s := range []string{
		"$R",
		"$R$N$G",
		"$R$N$G$N$G",
		"$H$N$G$N$T",
		"$R$N$T",
		"$F",
		"500 $F",
		"$R$N$F",
		"401 ",
		"200 <not xml",
		"$R$N<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\"><soap:Header><cwmp:ID soap:mustUnderstand=\"1\">x9</cwmp:ID></soap:Header><soap:Body><cwmp:SetParameterValues><ParameterList><ParameterValueStruct><Name>Device.ManagementServer.Username</Name><Value>u</Value></ParameterValueStruct></ParameterList><ParameterKey>k</ParameterKey></cwmp:SetParameterValues></soap:Body></soap:Envelope>",
		"$R$N<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\"><soap:Header><cwmp:ID soap:mustUnderstand=\"1\">x2</cwmp:ID></soap:Header><soap:Body><cwmp:X_Frob/></soap:Body></soap:Envelope>",
		"<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"><soap:Body><soap:Fault><faultcode>Server</faultcode><faultstring>" + strings.Repeat("long\nline ", 300) + "</faultstring><detail><cwmp:Fault><FaultCode>8002</FaultCode><FaultString>" + strings.Repeat("é", 300) + "</FaultString></cwmp:Fault></detail></soap:Fault></soap:Body></soap:Envelope>",
	} {
		f.Add([]byte(s), true)
	}
	acs := &playbackACS{}
	srv := httptest.NewServer(acs)
	f.Cleanup(srv.Close)

	f.Fuzz(func(t *testing.T, in []byte, owe bool) {
		var replies []reply
		for _, part := range bytes.Split(in, []byte("$N")) {
			rp := reply{status: http.StatusOK}
			if len(part) >= 4 && part[3] == ' ' {
				if n, err := strconv.Atoi(string(part[:3])); err == nil && n >= 200 && n <= 599 {
					rp.status, part = n, part[4:]
				}
			}
			rp.body = []byte(macros.Replace(string(part)))
			replies = append(replies, rp)
		}
		acs.mu.Lock()
		acs.replies, acs.got = replies, nil
		acs.mu.Unlock()

		var owed int
		fx.store.View(func(st *projections.State) { owed = len(st.Transfers.Owed()) })
		if owe && owed == 0 {
			recs, err := fx.store.Append(ctx, event.TransferQueued{Kind: event.KindDownload, CommandKey: "dl", FileType: "1 Firmware Upgrade Image"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fx.store.Append(ctx, event.TransferFinished{Transfer: recs[0].Seq, StartTime: now, CompleteTime: now,
				FaultCode: 9016, FaultString: "download failed"}); err != nil {
				t.Fatal(err)
			}
		}
		input := fx.input(t)
		before := fx.j.LastSeq()

		c, err := transport.New(transport.Config{URL: srv.URL, ExchangeTimeout: 5 * time.Second, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		d := &Driver{Journal: fx.store, Handler: h, Log: zerolog.Nop(), Clock: func() time.Time { return now },
			Rand: rand.New(rand.NewSource(1)), Failures: input.RetryCount}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := d.Run(rctx, NewCore(input), c)
		if err != nil {
			t.Fatalf("the session's journal failed: %v", err)
		}
		if rctx.Err() != nil {
			t.Fatal("the session outlived 30 s")
		}

		acs.mu.Lock()
		got := acs.got
		acs.mu.Unlock()
		// Once the replies run out the ACS answers 204: the CPE may then
		// still send each TransferComplete it owes once.
		if len(got) > len(replies)+1+len(input.Transfers) {
			t.Fatalf("%d POSTs for %d replies and %d TransferCompletes owed", len(got), len(replies), len(input.Transfers))
		}

		// What the session journaled.
		var started, succeeded, failed, accepted, acked int
		var lastError string
		r := fx.j.NewReader(before + 1)
		for r.Next() {
			rec := r.Record()
			ev, err := event.Decode(rec.Type, rec.Payload)
			if err != nil {
				t.Fatalf("record %d: %v", rec.Seq, err)
			}
			switch e := ev.(type) {
			case event.SessionStarted:
				started++
			case event.SessionSucceeded:
				succeeded++
			case event.SessionFailed:
				failed++
				lastError = e.Error
			case event.InformAccepted:
				accepted++
			case event.TransferCompleteAcked:
				acked++
			}
		}
		r.Close()
		if started != 1 || succeeded+failed != 1 || (succeeded == 1) != (out.Failure == nil) {
			t.Fatalf("journaled %d starts, %d successes, %d failures for outcome %+v", started, succeeded, failed, out.Failure)
		}
		informResponded := out.Failure == nil || out.Failure.Delivered
		if (accepted == 1) != informResponded || accepted > 1 {
			t.Fatalf("%d InformAccepted, delivered=%v", accepted, informResponded)
		}

		// What the CPE posted.
		tcs := 0
		var lastReq *soap.Envelope
		for i, body := range got {
			for _, s := range []string{acsSecret, crSecret} {
				if bytes.Contains(body, []byte(s)) {
					t.Fatalf("POST %d carries a password:\n%s", i+1, body)
				}
			}
			if len(bytes.TrimSpace(body)) == 0 {
				lastReq = nil
				continue
			}
			env, err := soap.Decode(bytes.NewReader(body), 0)
			if err != nil {
				t.Fatalf("POST %d does not decode: %v\n%s", i+1, err, body)
			}
			if _, ok := env.Body.(*soap.TransferComplete); ok {
				tcs++
			}
			if i > 0 && lastReq != nil && len(replies) >= i && replies[i-1].status == http.StatusOK {
				// The reply to the previous POST was a request: this answers it.
				if env.Header.ID != lastReq.Header.ID {
					t.Fatalf("POST %d answers ID %q with ID %q", i+1, lastReq.Header.ID, env.Header.ID)
				}
			}
			if fl, ok := env.Body.(*soap.Fault); ok && fl.Detail != nil && (fl.Detail.FaultCode < 9000 || fl.Detail.FaultCode > 9032) {
				t.Fatalf("POST %d: the CPE sends fault %d", i+1, fl.Detail.FaultCode)
			}
			lastReq = nil
			if i < len(replies) {
				// Was the ACS's answer to this POST a request of its own?
				if e, err := soap.Decode(bytes.NewReader(replies[i].body), 0); err == nil && e.Body != nil {
					if _, isResp := e.Body.(*soap.InformResponse); !isResp {
						if _, isTC := e.Body.(*soap.TransferCompleteResponse); !isTC {
							if _, isFault := e.Body.(*soap.Fault); !isFault {
								lastReq = e
							}
						}
					}
				}
			}
		}
		if acked > tcs {
			t.Fatalf("%d TransferCompleteAcked for %d TransferCompletes sent", acked, tcs)
		}

		if out.Failure != nil {
			msg := out.Failure.Message
			if msg != lastError {
				t.Fatalf("failure %q journaled as %q", msg, lastError)
			}
			if !utf8.ValidString(msg) || len(msg) > 512 || strings.IndexFunc(msg, func(r rune) bool { return unicode.IsControl(r) }) >= 0 {
				t.Fatalf("last-session-error is not one short line of text: %q", msg)
			}
		}
	})
}
