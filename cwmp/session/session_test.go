package session

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/retry"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/cwmp/transport"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

var now = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// acs is a scripted ACS: reply i answers the CPE's POST i. It records what
// the CPE sent, decoded.
type acs struct {
	t       *testing.T
	mu      sync.Mutex
	replies []func(w http.ResponseWriter, got *soap.Envelope)
	got     []*soap.Envelope
	raw     [][]byte
}

func (a *acs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	i := len(a.raw)
	a.raw = append(a.raw, body)
	var env *soap.Envelope
	if len(body) > 0 {
		var err error
		env, err = soap.Decode(bytes.NewReader(body), 0)
		if err != nil {
			a.t.Errorf("ACS: CPE sent an undecodable envelope: %v\n%s", err, body)
		}
	}
	a.got = append(a.got, env)
	a.mu.Unlock()
	if i >= len(a.replies) {
		a.t.Errorf("ACS: unexpected POST %d", i)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	a.replies[i](w, env)
}

func soapReply(env *soap.Envelope) func(http.ResponseWriter, *soap.Envelope) {
	return func(w http.ResponseWriter, _ *soap.Envelope) {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		soap.Encode(w, env)
	}
}

func informResponse(h soap.Header) func(http.ResponseWriter, *soap.Envelope) {
	return soapReply(&soap.Envelope{Version: soap.V1_2, Header: h, Body: &soap.InformResponse{MaxEnvelopes: 1}})
}

func noContent(w http.ResponseWriter, _ *soap.Envelope) { w.WriteHeader(http.StatusNoContent) }

// handler serves GetRPCMethods and journals nothing; everything else 9000.
type handler struct{}

func (handler) Handle(_ context.Context, req soap.Message) soap.Message {
	if _, ok := req.(*soap.GetRPCMethods); ok {
		return &soap.GetRPCMethodsResponse{MethodList: []string{"GetRPCMethods", "Inform"}}
	}
	return soap.NewFault(soap.FaultMethodNotSupported, "")
}

type fixture struct {
	store *live.Store
	j     *journal.Journal
}

func newFixture(t testing.TB) *fixture {
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), BootID: "b1", Logger: zerolog.Nop(), Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.Append(ctx, event.Booted{Reason: event.BootPowerOn},
		event.SettingsChanged{Source: event.SourceDefaults, Changes: []event.Setting{{Name: "acs-url", Value: "http://x/"}}})
	return &fixture{store: s, j: j}
}

// forcedParameters are the forced Inform parameters of a Device:2 root
// (digest §7), which a strict ACS requires in every Inform.
var forcedParameters = []soap.ParameterValueStruct{
	{Name: "Device.RootDataModelVersion", Value: "2.11", Type: soap.TypeString},
	{Name: "Device.DeviceInfo.HardwareVersion", Value: "hw1", Type: soap.TypeString},
	{Name: "Device.DeviceInfo.SoftwareVersion", Value: "1.0.0", Type: soap.TypeString},
	{Name: "Device.DeviceInfo.ProvisioningCode", Value: "", Type: soap.TypeString},
	{Name: "Device.ManagementServer.ParameterKey", Value: "", Type: soap.TypeString},
	{Name: "Device.ManagementServer.ConnectionRequestURL", Value: "http://192.0.2.1:7547/cr", Type: soap.TypeString},
	{Name: "Device.ManagementServer.AliasBasedAddressing", Value: "false", Type: soap.TypeBoolean},
}

func (f *fixture) input(t testing.TB) Input {
	var in Input
	f.store.View(func(st *projections.State) {
		in = Input{
			DeviceID:    soap.DeviceIdStruct{Manufacturer: "cwmpd", OUI: "00AB1F", ProductClass: "sim", SerialNumber: "0001"},
			Events:      st.Pending.InformEvents(),
			RetryCount:  st.Retry.Failures,
			CurrentTime: now,
			Parameters:  forcedParameters,
		}
		for _, tr := range st.Transfers.Owed() {
			in.Transfers = append(in.Transfers, OwedTransfer{ID: tr.ID, Message: soap.TransferComplete{
				CommandKey: tr.Request.CommandKey, FaultStruct: soap.FaultStruct{FaultCode: soap.FaultCode(tr.FaultCode), FaultString: tr.FaultString},
				StartTime: tr.StartTime, CompleteTime: tr.CompleteTime}, Upload: tr.Request.Kind == event.KindUpload})
		}
	})
	return in
}

func (f *fixture) run(t *testing.T, url string, timeout time.Duration) Outcome {
	t.Helper()
	return f.runWith(t, url, timeout, handler{}, f.input(t))
}

// scripted runs one session against an ACS that answers each POST with
// the next of replies, h serving the ACS's requests (nil: the test
// handler). It returns the ACS, which kept what the CPE sent.
func (f *fixture) scripted(t *testing.T, h Handler, replies ...func(http.ResponseWriter, *soap.Envelope)) (*acs, Outcome) {
	t.Helper()
	return f.scriptedWith(t, h, 5*time.Second, replies...)
}

// scriptedTimeout is scripted with the test handler and an exchange
// timeout of its own.
func (f *fixture) scriptedTimeout(t *testing.T, timeout time.Duration, replies ...func(http.ResponseWriter, *soap.Envelope)) (*acs, Outcome) {
	t.Helper()
	return f.scriptedWith(t, nil, timeout, replies...)
}

func (f *fixture) scriptedWith(t *testing.T, h Handler, timeout time.Duration, replies ...func(http.ResponseWriter, *soap.Envelope)) (*acs, Outcome) {
	t.Helper()
	a := &acs{t: t, replies: replies}
	srv := httptest.NewServer(a)
	defer srv.Close()
	if h == nil {
		h = handler{}
	}
	return a, f.runWith(t, srv.URL, timeout, h, f.input(t))
}

// runWith runs one session from in against the ACS at url, h serving its
// requests.
func (f *fixture) runWith(t *testing.T, url string, timeout time.Duration, h Handler, in Input) Outcome {
	t.Helper()
	c, err := transport.New(transport.Config{URL: url, ExchangeTimeout: timeout, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var failures int
	f.store.View(func(st *projections.State) { failures = st.Retry.Failures })
	d := &Driver{Journal: f.store, Handler: h, Log: zerolog.Nop(), Clock: func() time.Time { return now },
		Rand: rand.New(rand.NewSource(1)), Failures: failures}
	out, err := d.Run(context.Background(), NewCore(in), c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantJournal checks the commits made since the count before and the
// journal's record types, in order.
func (f *fixture) wantJournal(t *testing.T, before uint64, commits int, types string) {
	t.Helper()
	if got := f.j.Commits() - before; got != uint64(commits) {
		t.Fatalf("%d durable commits, want %d", got, commits)
	}
	if got := strings.Join(f.types(t), " "); got != types {
		t.Fatalf("journal: %s\nwant:    %s", got, types)
	}
}

func (f *fixture) state() *projections.State {
	var s *projections.State
	f.store.View(func(st *projections.State) { b, _ := st.Snapshot(); s, _ = projections.Restore(b) })
	return s
}

func (f *fixture) types(t *testing.T) []string {
	var out []string
	r := f.j.NewReader(1)
	defer r.Close()
	for r.Next() {
		out = append(out, event.Type(r.Record().Type).String())
	}
	return out
}

func TestHappySessionServesRequestsThenEnds(t *testing.T) {
	f := newFixture(t)
	a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){
		informResponse(soap.Header{ID: "cwmpd-0"}),
		soapReply(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "req-1"}, Body: &soap.GetRPCMethods{}}),
		soapReply(&soap.Envelope{Version: soap.V1_0, Header: soap.Header{ID: "req-2"}, Body: &soap.FactoryReset{}}),
		noContent,
	}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	out := f.run(t, srv.URL, 5*time.Second)
	if out.Failure != nil || out.Served != 2 {
		t.Fatalf("outcome %+v", out)
	}
	inform := a.got[0].Body.(*soap.Inform)
	if len(inform.Event) != 2 || inform.Event[0].EventCode != "0 BOOTSTRAP" || inform.MaxEnvelopes != 1 {
		t.Fatalf("inform events %+v", inform.Event)
	}
	if a.got[0].Header.SupportedCWMPVersions == "" {
		t.Fatal("1.4 Inform without SupportedCWMPVersions")
	}
	if a.raw[1] == nil || len(a.raw[1]) != 0 {
		t.Fatalf("second POST not empty: %q", a.raw[1])
	}
	resp := a.got[2]
	if resp.Header.ID != "req-1" || resp.Body.MethodName() != "GetRPCMethodsResponse" {
		t.Fatalf("response %+v", resp)
	}
	fault := a.got[3]
	if fault.Header.ID != "req-2" || fault.Version != soap.V1_0 {
		t.Fatalf("fault not echoed in the request's version/ID: %+v", fault)
	}
	if f, ok := fault.Body.(*soap.Fault); !ok || f.Detail.FaultCode != soap.FaultMethodNotSupported {
		t.Fatalf("unsupported method answered with %v", fault.Body)
	}
	want := "Booted SettingsChanged SessionStarted InformAccepted SessionSucceeded"
	if got := strings.Join(f.types(t), " "); got != want {
		t.Fatalf("journal: %s", got)
	}
	st := f.state()
	if len(st.Pending.Events) != 0 || !st.Boot.BootstrapDelivered {
		t.Fatalf("pending after success: %+v", st.Pending)
	}
}

func TestFaultToInformFailsWithJournaledRetryAndKeepsEvents(t *testing.T) {
	f := newFixture(t)
	fault := soap.NewFault(soap.FaultACSRetryRequest, "busy")
	a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){
		soapReply(&soap.Envelope{Version: soap.V1_2, Body: fault}),
		soapReply(&soap.Envelope{Version: soap.V1_2, Body: fault}),
	}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	for n := 1; n <= 2; n++ {
		out := f.run(t, srv.URL, 5*time.Second)
		if out.Failure == nil || !strings.Contains(out.Failure.Message, "8005") {
			t.Fatalf("outcome %+v", out)
		}
		lo, hi := retry.Range(n, retry.DefaultMinWait, retry.DefaultMultiplier)
		if out.Failed.RetryCount != n || out.Failed.Delay < lo || out.Failed.Delay > hi || !out.Failed.NextAttempt.Equal(now.Add(out.Failed.Delay)) {
			t.Fatalf("retry %d: %+v not in [%v,%v]", n, out.Failed, lo, hi)
		}
	}
	if ri := a.got[1].Body.(*soap.Inform).RetryCount; ri != 1 {
		t.Fatalf("second Inform RetryCount %d", ri)
	}
	st := f.state()
	if len(st.Pending.Events) != 2 || st.Status().RetryCount != 2 || !strings.Contains(st.Status().LastSessionError, "8005") {
		t.Fatalf("state %+v %+v", st.Pending, st.Status())
	}
}

func TestHoldRequestsDelaysTransferCompleteUntilTheACSIsDone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	recs, _ := f.store.Append(ctx, event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw"})
	f.store.Append(ctx, event.TransferFinished{Transfer: recs[0].Seq, FaultCode: 9010, FaultString: "HTTP 404", StartTime: now, CompleteTime: now})
	a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){
		informResponse(soap.Header{HoldRequests: true}),
		soapReply(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "g", HoldRequests: true}, Body: &soap.GetRPCMethods{}}),
		noContent, // the ACS is done: now the TransferComplete
		soapReply(&soap.Envelope{Version: soap.V1_2, Body: &soap.TransferCompleteResponse{}}),
		noContent,
	}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	out := f.run(t, srv.URL, 5*time.Second)
	if out.Failure != nil {
		t.Fatal(out.Failure)
	}
	if a.raw[1] == nil || len(a.raw[1]) != 0 {
		t.Fatal("CPE sent a request while HoldRequests was true")
	}
	tc, ok := a.got[3].Body.(*soap.TransferComplete)
	if !ok || tc.CommandKey != "fw" || tc.FaultStruct.FaultCode != 9010 {
		t.Fatalf("POST 3: %+v", a.got[3])
	}
	st := f.state()
	if len(st.Transfers.Owed()) != 0 || st.Pending.Has(projections.EventTransferComplete, "") {
		t.Fatal("TransferComplete acknowledged but still owed")
	}
}

func TestTransferCompleteSentRightAfterInformResponse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	recs, _ := f.store.Append(ctx, event.TransferQueued{Kind: event.KindUpload, CommandKey: "up"})
	f.store.Append(ctx, event.TransferFinished{Transfer: recs[0].Seq, StartTime: now, CompleteTime: now})
	a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){
		informResponse(soap.Header{}),
		func(w http.ResponseWriter, _ *soap.Envelope) { // TCP reset before the TransferCompleteResponse
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		},
		informResponse(soap.Header{}),
		soapReply(&soap.Envelope{Version: soap.V1_2, Body: &soap.TransferCompleteResponse{}}),
		noContent,
	}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	out := f.run(t, srv.URL, 5*time.Second)
	if out.Failure == nil || !out.Failure.Delivered {
		t.Fatalf("want a failure after InformResponse: %+v", out)
	}
	// The retry offers the TransferComplete again (and its events), not the
	// delivered BOOTSTRAP/BOOT.
	out = f.run(t, srv.URL, 5*time.Second)
	if out.Failure != nil {
		t.Fatal(out.Failure)
	}
	inform := a.got[2].Body.(*soap.Inform)
	var codes []string
	for _, e := range inform.Event {
		codes = append(codes, e.EventCode)
	}
	if strings.Join(codes, ",") != "7 TRANSFER COMPLETE,M Upload" {
		t.Fatalf("retry events %v", codes)
	}
	if _, ok := a.got[3].Body.(*soap.TransferComplete); !ok {
		t.Fatal("TransferComplete not resent")
	}
}

func TestFailuresHaveOperatorMessages(t *testing.T) {
	cases := map[string]struct {
		reply   func(http.ResponseWriter, *soap.Envelope)
		timeout time.Duration
		want    string
	}{
		"503":       {func(w http.ResponseWriter, _ *soap.Envelope) { w.WriteHeader(503) }, 5 * time.Second, "ACS returned HTTP 503"},
		"500":       {func(w http.ResponseWriter, _ *soap.Envelope) { w.WriteHeader(500) }, 5 * time.Second, "HTTP 500"},
		"timeout":   {func(w http.ResponseWriter, _ *soap.Envelope) { time.Sleep(400 * time.Millisecond) }, 100 * time.Millisecond, "timeout waiting for InformResponse"},
		"malformed": {func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, "<soap:Envelope><unclosed>") }, 5 * time.Second, "invalid InformResponse"},
		"empty":     {noContent, 5 * time.Second, "no InformResponse"},
		"wrong body": {soapReply(&soap.Envelope{Version: soap.V1_2, Body: &soap.GetRPCMethods{}}), 5 * time.Second,
			"answered the Inform with GetRPCMethods"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			srv := httptest.NewServer(&acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){c.reply}})
			defer srv.Close()
			out := f.run(t, srv.URL, c.timeout)
			if out.Failure == nil || !strings.Contains(out.Failure.Message, c.want) {
				t.Fatalf("got %+v, want %q", out.Failure, c.want)
			}
			if st := f.state(); st.Status().LastSessionError != out.Failure.Message {
				t.Fatalf("last-session-error %q", st.Status().LastSessionError)
			}
		})
	}
}

func TestMalformedACSRequestEndsSessionAndBadArgumentsGetAFault(t *testing.T) {
	f := newFixture(t)
	badArgs := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap:Header><cwmp:ID soap:mustUnderstand="1">x1</cwmp:ID></soap:Header><soap:Body><cwmp:ScheduleInform><DelaySeconds>soon</DelaySeconds><CommandKey>k</CommandKey></cwmp:ScheduleInform></soap:Body></soap:Envelope>`
	unknown := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap:Header><cwmp:ID soap:mustUnderstand="1">x2</cwmp:ID></soap:Header><soap:Body><cwmp:X_FrobnicateDevice/></soap:Body></soap:Envelope>`
	a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){
		informResponse(soap.Header{}),
		func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, badArgs) },
		func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, unknown) },
		func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, "<<<not xml") },
	}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	out := f.run(t, srv.URL, 5*time.Second)
	f1, ok1 := a.got[2].Body.(*soap.Fault)
	f2, ok2 := a.got[3].Body.(*soap.Fault)
	if !ok1 || f1.Detail.FaultCode != soap.FaultInvalidArguments || a.got[2].Header.ID != "x1" {
		t.Fatalf("bad arguments answered with %+v", a.got[2])
	}
	if !ok2 || f2.Detail.FaultCode != soap.FaultMethodNotSupported || !strings.Contains(f2.Detail.FaultString, "X_FrobnicateDevice") {
		t.Fatalf("unknown method answered with %+v", a.got[3])
	}
	if out.Failure == nil || !strings.Contains(out.Failure.Message, "malformed XML") {
		t.Fatalf("malformed XML: %+v", out.Failure)
	}
}

// The CPE's fault for a request with a bad header goes in place of the
// response and echoes the request's ID (D§3), also when the bad header
// comes before the ID (SOAP does not order header entries).
func TestFaultForBadHeaderEchoesIDWhateverTheOrder(t *testing.T) {
	const id = `<cwmp:ID soap:mustUnderstand="1">req-7</cwmp:ID>`
	cases := []struct {
		name, header string
		code         string         // SOAP faultcode
		cwmp         soap.FaultCode // 0: a SOAP-level fault without detail
	}{
		{"bad HoldRequests before ID", `<cwmp:HoldRequests soap:mustUnderstand="1">yes</cwmp:HoldRequests>` + id,
			soap.SOAPClient, soap.FaultInvalidArguments},
		{"bad HoldRequests after ID", id + `<cwmp:HoldRequests soap:mustUnderstand="1">yes</cwmp:HoldRequests>`,
			soap.SOAPClient, soap.FaultInvalidArguments},
		{"unknown mustUnderstand header before ID", `<x:Foo xmlns:x="urn:x" soap:mustUnderstand="1">1</x:Foo>` + id,
			soap.SOAPMustUnderstand, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			req := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2">` +
				`<soap:Header>` + c.header + `</soap:Header><soap:Body><cwmp:GetRPCMethods/></soap:Body></soap:Envelope>`
			a, out := f.scripted(t, nil, informResponse(soap.Header{}),
				func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, req) },
				noContent)
			if out.Failure != nil {
				t.Fatal(out.Failure)
			}
			fl, ok := a.got[2].Body.(*soap.Fault)
			if !ok || fl.Code != c.code {
				t.Fatalf("request answered with %s", a.raw[2])
			}
			if c.cwmp != 0 && (fl.Detail == nil || fl.Detail.FaultCode != c.cwmp) {
				t.Fatalf("fault %+v, want CWMP %d", fl.Detail, c.cwmp)
			}
			if a.got[2].Header.ID != "req-7" {
				t.Fatalf("fault sent with cwmp:ID %q, want the request's req-7:\n%s", a.got[2].Header.ID, a.raw[2])
			}
		})
	}
}

// A session started on a trigger journals it with SessionStarted in one
// durable append (one commit), SessionStarted last and the session's ID;
// the Inform carries what the trigger raised.
func TestTriggerJournaledWithSessionStarted(t *testing.T) {
	f := newFixture(t)
	a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){informResponse(soap.Header{}), noContent}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	trigger := []event.Event{event.PeriodicInformDue{Due: now}}
	in := f.input(t)
	f.store.View(func(st *projections.State) { in.Events = st.InformEventsAfter(trigger) })
	in.Triggers = trigger
	commits := f.j.Commits()
	out := f.runWith(t, srv.URL, 5*time.Second, handler{}, in)
	if out.Failure != nil {
		t.Fatalf("%+v", out)
	}
	// trigger+SessionStarted, then InformAccepted+SessionSucceeded
	f.wantJournal(t, commits, 2, "Booted SettingsChanged PeriodicInformDue SessionStarted InformAccepted SessionSucceeded")
	if out.ID != 4 {
		t.Fatalf("session ID %d, want 4 (the SessionStarted record)", out.ID)
	}
	var codes []string
	for _, e := range a.got[0].Body.(*soap.Inform).Event {
		codes = append(codes, e.EventCode)
	}
	if strings.Join(codes, ",") != "0 BOOTSTRAP,1 BOOT,2 PERIODIC" {
		t.Fatalf("Inform events %v", codes)
	}
	if st := f.state(); len(st.Pending.Events) != 0 {
		t.Fatalf("pending after the session: %+v", st.Pending.Events)
	}
}

// journalSpy is a handler that reads the journal when an ACS request
// arrives: what it sees is what a crash at that instant would leave.
type journalSpy struct {
	f    *fixture
	t    *testing.T
	seen []string
}

func (h *journalSpy) Handle(ctx context.Context, req soap.Message) soap.Message {
	h.seen = h.f.types(h.t)
	return handler{}.Handle(ctx, req)
}

// What the ACS acknowledged (InformAccepted) rides with the session's next
// durable append: with the end of a periodic session (one commit for both),
// before an ACS request is served (the handler's own intents come after
// it), and with SessionFailed when the session fails after InformResponse.
func TestAcknowledgementRidesWithTheNextDurableAppend(t *testing.T) {
	t.Run("request", func(t *testing.T) {
		f := newFixture(t)
		a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){
			informResponse(soap.Header{}),
			soapReply(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "r1"}, Body: &soap.GetRPCMethods{}}),
			noContent,
		}}
		srv := httptest.NewServer(a)
		defer srv.Close()
		spy := &journalSpy{f: f, t: t}
		commits := f.j.Commits()
		if out := f.runWith(t, srv.URL, 5*time.Second, spy, f.input(t)); out.Failure != nil {
			t.Fatalf("%+v", out)
		}
		if got := strings.Join(spy.seen, " "); got != "Booted SettingsChanged SessionStarted InformAccepted" {
			t.Fatalf("journal when the request was served: %s", got)
		}
		if got := f.j.Commits() - commits; got != 3 {
			t.Fatalf("%d commits; want 3 (SessionStarted, InformAccepted before the request, SessionSucceeded)", got)
		}
	})
	t.Run("failure after InformResponse", func(t *testing.T) {
		f := newFixture(t)
		a := &acs{t: t, replies: []func(http.ResponseWriter, *soap.Envelope){
			informResponse(soap.Header{}),
			func(w http.ResponseWriter, _ *soap.Envelope) { w.WriteHeader(http.StatusServiceUnavailable) },
		}}
		srv := httptest.NewServer(a)
		defer srv.Close()
		commits := f.j.Commits()
		out := f.run(t, srv.URL, 5*time.Second)
		if out.Failure == nil || !out.Failure.Delivered {
			t.Fatalf("want a failure after InformResponse: %+v", out)
		}
		// SessionStarted, then InformAccepted+SessionFailed
		f.wantJournal(t, commits, 2, "Booted SettingsChanged SessionStarted InformAccepted SessionFailed")
		if st := f.state(); len(st.Pending.Events) != 0 {
			t.Fatalf("delivered events pending again after the failure: %+v", st.Pending.Events)
		}
	})
}

// An ACS's fault string becomes part of last-session-error, which is
// journaled with every failed session and shown by cwmpd print: a long one,
// over several lines, is kept to one line of at most 400 bytes, cut at a
// character boundary (found by FuzzSessionAgainstHostileACS: the whole
// fault string was journaled, newlines and all).
func TestACSFaultStringIsOneShortLineInLastSessionError(t *testing.T) {
	f := newFixture(t)
	fault := soap.NewFault(soap.FaultCode(8002), strings.Repeat("é\nline ", 700))
	_, out := f.scripted(t, nil, soapReply(&soap.Envelope{Version: soap.V1_2, Body: fault}))
	if out.Failure == nil {
		t.Fatal("a fault to the Inform did not fail the session")
	}
	msg := f.state().Status().LastSessionError
	if msg != out.Failure.Message || !strings.HasPrefix(msg, "ACS answered the Inform with fault 8002 (é line é") ||
		len(msg) > 400 || strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) {
		t.Fatalf("last-session-error (%d bytes): %q", len(msg), msg)
	}
}

// A value change journaled after the Inform was composed but before its
// SessionStarted (the watcher polls on its own goroutine while the session
// reads its certificates and dials) is not in that Inform: its
// InformResponse must not take it for delivered (digest §7: every change
// since the last successful Inform is reported).
func TestChangeJournaledWhileTheInformIsComposedStaysOwed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.store.Append(ctx, event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	in := f.input(t)
	f.store.View(func(st *projections.State) { in.Composed = st.Seq })
	// The Inform carries Device.A as it is now, and "4 VALUE CHANGE".
	in.Parameters = append(append([]soap.ParameterValueStruct{}, forcedParameters...), soap.ParameterValueStruct{Name: "Device.A", Value: "1", Type: soap.TypeString})
	// Then, before the session is journaled, the device changes A again
	// and B for the first time.
	if _, err := f.store.Append(ctx, event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.A", Value: "2"}, {Name: "Device.B", Value: "x"}}}); err != nil {
		t.Fatal(err)
	}
	a, out := f.scriptedInput(t, in, informResponse(soap.Header{}), noContent)
	if out.Failure != nil {
		t.Fatalf("%+v", out)
	}
	if got := a.got[0].Body.(*soap.Inform).ParameterList; len(got) != len(forcedParameters)+1 {
		t.Fatalf("Inform parameters %+v", got)
	}
	st := f.state()
	if got := st.Pending.Changed["Device.A"].Value; got != "2" {
		t.Fatalf("Device.A changed to 2 after the Inform was composed: owed %q, want 2 (pending %+v)", got, st.Pending)
	}
	if _, ok := st.Pending.Changed["Device.B"]; !ok || !st.Pending.Has(projections.EventValueChange, "") {
		t.Fatalf("Device.B's change, never sent, is not owed any more: %+v", st.Pending)
	}
}

// scriptedInput is scripted with the Inform's input given.
func (f *fixture) scriptedInput(t *testing.T, in Input, replies ...func(http.ResponseWriter, *soap.Envelope)) (*acs, Outcome) {
	t.Helper()
	a := &acs{t: t, replies: replies}
	srv := httptest.NewServer(a)
	defer srv.Close()
	return a, f.runWith(t, srv.URL, 5*time.Second, handler{}, in)
}
