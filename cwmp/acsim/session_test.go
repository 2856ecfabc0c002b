package acsim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

func TestSessionInformGPVAndEnd(t *testing.T) {
	s := startServer(t, Config{})
	cpe := newCPE(t, s.URL())
	id, err := s.Enqueue(cpe.key(), &soap.GetParameterValues{ParameterNames: []string{"Device.DeviceInfo."}})
	if err != nil {
		t.Fatal(err)
	}

	ir := cpe.inform("1 BOOT", "M Reboot")
	if ir.Version != soap.V1_2 || ir.Header.HoldRequests {
		t.Fatalf("InformResponse version %v hold %v", ir.Version, ir.Header.HoldRequests)
	}
	status, req := cpe.empty()
	if status != http.StatusOK || req == nil {
		t.Fatalf("empty POST: status %d, no request", status)
	}
	gpv, ok := req.Body.(*soap.GetParameterValues)
	if !ok || req.Header.ID != id || gpv.ParameterNames[0] != "Device.DeviceInfo." {
		t.Fatalf("got %T ID %q, want the queued GetParameterValues with ID %q", req.Body, req.Header.ID, id)
	}
	status, end := cpe.respond(req, &soap.GetParameterValuesResponse{ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.DeviceInfo.SoftwareVersion", Value: "1.0"}}})
	if status != http.StatusNoContent || end != nil {
		t.Fatalf("after the last response: status %d %+v, want 204", status, end)
	}
	if err := s.WaitSessions(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}

	d, ok := s.Device(cpe.key())
	if !ok || d.Sessions != 1 || len(d.LastEvents) != 2 || d.LastEvents[1].EventCode != "M Reboot" {
		t.Fatalf("device record %+v", d)
	}
	ss := s.Sessions()
	if len(ss) != 1 || ss[0].State != StateCompleted || len(ss[0].Answered) != 1 ||
		ss[0].Answered[0] != id+" GetParameterValues -> GetParameterValuesResponse" {
		t.Fatalf("sessions %+v", ss)
	}
	var methods []string
	for _, e := range s.Transcript() {
		if len(e.Errors) > 0 {
			t.Errorf("unexpected error in transcript: %+v", e)
		}
		methods = append(methods, e.Direction+" "+e.Method)
	}
	want := "cpe->acs Inform|acs->cpe InformResponse|cpe->acs |acs->cpe GetParameterValues|cpe->acs GetParameterValuesResponse|acs->cpe "
	if got := strings.Join(methods, "|"); got != want {
		t.Fatalf("transcript\n got %s\nwant %s", got, want)
	}
}

func TestSessionTransferCompleteAndDefaultQueue(t *testing.T) {
	s := startServer(t, Config{})
	cpe := newCPE(t, s.URL())
	// Session 1 requests the download the TransferComplete reports.
	if _, err := s.Enqueue(cpe.key(), &soap.Download{CommandKey: "dl-1", FileType: "1 Firmware Upgrade Image", URL: "http://files.example/fw.bin"}); err != nil {
		t.Fatal(err)
	}
	cpe.inform("1 BOOT")
	_, dl := cpe.empty()
	if _, ok := dl.Body.(*soap.Download); !ok {
		t.Fatalf("want the Download, got %+v", dl.Body)
	}
	if status, _ := cpe.respond(dl, &soap.DownloadResponse{Status: 1, StartTime: soap.UnknownTime, CompleteTime: soap.UnknownTime}); status != http.StatusNoContent {
		t.Fatalf("status %d: %v", status, lastErrors(s))
	}
	// The default queue serves any device.
	if _, err := s.Enqueue("", &soap.Reboot{CommandKey: "rb-1"}); err != nil {
		t.Fatal(err)
	}
	cpe.inform("7 TRANSFER COMPLETE", "M Download")
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	status, env := cpe.send(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "tc-1"}, Body: &soap.TransferComplete{
		CommandKey: "dl-1", FaultStruct: soap.FaultStruct{FaultCode: 9010, FaultString: "checksum"}, StartTime: start, CompleteTime: start.Add(time.Minute)}})
	if _, ok := env.Body.(*soap.TransferCompleteResponse); status != http.StatusOK || !ok || env.Header.ID != "tc-1" {
		t.Fatalf("TransferComplete answered %d %+v", status, env)
	}
	_, req := cpe.empty()
	if rb, ok := req.Body.(*soap.Reboot); !ok || rb.CommandKey != "rb-1" {
		t.Fatalf("want the default-queue Reboot, got %+v", req.Body)
	}
	if status, _ := cpe.respond(req, &soap.RebootResponse{}); status != http.StatusNoContent {
		t.Fatalf("status %d", status)
	}
	d, _ := s.Device(cpe.key())
	if len(d.Transfers) != 1 || d.Transfers[0].CommandKey != "dl-1" || d.Transfers[0].FaultCode != 9010 || !d.Transfers[0].StartTime.Equal(start) {
		t.Fatalf("transfers %+v", d.Transfers)
	}
}

func TestSessionCPEFaultAnswersRequest(t *testing.T) {
	s := startServer(t, Config{})
	cpe := newCPE(t, s.URL())
	s.Enqueue(cpe.key(), &soap.SetParameterValues{ParameterList: []soap.ParameterValueStruct{{Name: "Device.X", Value: "1"}}, ParameterKey: "k"})
	s.Enqueue(cpe.key(), &soap.GetRPCMethods{})
	cpe.inform("2 PERIODIC")
	_, req := cpe.empty()
	f := soap.NewFault(soap.FaultInvalidArguments, "")
	f.Detail.SetParameterValuesFault = []soap.SetParameterValuesFault{{ParameterName: "Device.X", FaultCode: 9005, FaultString: "no"}}
	status, next := cpe.respond(req, f)
	if _, ok := next.Body.(*soap.GetRPCMethods); status != http.StatusOK || !ok {
		t.Fatalf("after a CPE fault the next request should follow, got %d %+v", status, next)
	}
	if status, _ := cpe.respond(next, &soap.GetRPCMethodsResponse{MethodList: []string{"GetRPCMethods"}}); status != http.StatusNoContent {
		t.Fatalf("status %d", status)
	}
	if a := s.Sessions()[0].Answered; len(a) != 2 || !strings.HasSuffix(a[0], "-> Fault 9003") {
		t.Fatalf("answered %v", a)
	}
}

func TestCookieRequiredAndOptional(t *testing.T) {
	t.Run("required", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		cpe.inform("2 PERIODIC")
		cpe.client.Jar = nil // same connection, cookie forgotten
		status, env := cpe.empty()
		wantFault(t, status, env, soap.FaultACSInvalidArguments)
		if !containsAny(lastErrors(s), "cookie") {
			t.Fatalf("errors %v", lastErrors(s))
		}
		if ss := s.Sessions(); ss[0].State != StateFailed {
			t.Fatalf("session %+v", ss[0])
		}
	})
	t.Run("optional", func(t *testing.T) {
		s := startServer(t, Config{CookieOptional: true})
		cpe := newCPE(t, s.URL())
		cpe.client.Jar = nil
		cpe.inform("2 PERIODIC")
		if status, _ := cpe.empty(); status != http.StatusNoContent {
			t.Fatalf("status %d, want 204 with the session found by connection", status)
		}
	})
	t.Run("new connection with cookie", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		cpe.inform("2 PERIODIC")
		cpe.tr.CloseIdleConnections() // the cookie alone must carry the session
		if status, _ := cpe.empty(); status != http.StatusNoContent {
			t.Fatalf("status %d", status)
		}
		tr := s.Transcript()
		if tr[0].Conn == tr[len(tr)-1].Conn {
			t.Fatalf("test did not use a second connection")
		}
	})
}

func TestHoldRequests(t *testing.T) {
	s := startServer(t, Config{Faults: FaultPlan{HoldRequests: true}})
	cpe := newCPE(t, s.URL())
	if ir := cpe.inform("7 TRANSFER COMPLETE", "M Download"); !ir.Header.HoldRequests {
		t.Fatal("InformResponse lacks HoldRequests=true")
	}
	status, env := cpe.send(&soap.Envelope{Version: soap.V1_2, Body: &soap.TransferComplete{CommandKey: "x"}})
	wantFault(t, status, env, soap.FaultACSInvalidArguments)
	if !containsAny(lastErrors(s), "HoldRequests") {
		t.Fatalf("errors %v", lastErrors(s))
	}

	// The well-behaved CPE sends an empty POST instead, and may send its
	// request once an envelope without HoldRequests arrives.
	s.Enqueue(cpe.key(), &soap.GetRPCMethods{})
	cpe2 := newCPE(t, s.URL())
	cpe2.retry = 1 // the same device retries the session acsim failed
	cpe2.inform("7 TRANSFER COMPLETE", "M Download")
	_, req := cpe2.empty()
	if req.Header.HoldRequests {
		t.Fatal("request after InformResponse still holds")
	}
	if status, _ := cpe2.respond(req, &soap.GetRPCMethodsResponse{MethodList: []string{"Inform"}}); status != http.StatusNoContent {
		t.Fatalf("status %d: %v", status, lastErrors(s))
	}
}

func TestVersionNegotiation(t *testing.T) {
	s := startServer(t, Config{UseCWMPVersion: "1.4"})
	cpe := newCPE(t, s.URL())
	body := encode(t, &soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "inform-1", SessionTimeout: 30,
		SupportedCWMPVersions: "1.0,1.1,1.2,1.3,1.4"}, Body: cpe.informMsg("1 BOOT")})
	status, env := cpe.sendRaw(body)
	if status != http.StatusOK || env.Header.UseCWMPVersion != "1.4" || env.Version != soap.V1_2 {
		t.Fatalf("status %d header %+v version %v", status, env.Header, env.Version)
	}
	// A 1.0 CPE is answered in the 1.0 namespace.
	old := newCPE(t, s.URL())
	old.id.SerialNumber = "OLD"
	status, env = old.send(&soap.Envelope{Version: soap.V1_0, Header: soap.Header{ID: "inform-1"}, Body: old.informMsg("1 BOOT")})
	if status != http.StatusOK || env.Version != soap.V1_0 || env.Header.UseCWMPVersion != "" {
		t.Fatalf("1.0 CPE: status %d version %v header %+v", status, env.Version, env.Header)
	}
}

func TestFaultPlans(t *testing.T) {
	s := startServer(t, Config{})
	s.PushFaults(FaultPlan{InformFault: 8005}, FaultPlan{HTTPStatus: 503}, FaultPlan{DropAt: 2},
		FaultPlan{Redirect: "/moved", Delay: Duration(150 * time.Millisecond), DelayAt: 1})
	cpe := newCPE(t, s.URL())

	status, env := cpe.sendRaw(cpe.informEnv("1 BOOT"))
	wantFault(t, status, env, soap.FaultACSRetryRequest)

	if resp, _ := cpe.do(cpe.informEnv("1 BOOT"), soapHeaders); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("want injected 503, got %d", resp.StatusCode)
	}

	cpe.inform("1 BOOT")
	req, _ := http.NewRequest(http.MethodPost, s.URL(), nil)
	if _, err := cpe.client.Do(req); err == nil {
		t.Fatal("want the connection dropped at the second post")
	}

	resp, _ := cpe.do(cpe.informEnv("1 BOOT"), soapHeaders)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasSuffix(loc, "/moved") {
		t.Fatalf("want 307 to /moved, got %d %q", resp.StatusCode, loc)
	}
	cpe.url = loc
	t0 := time.Now()
	cpe.inform("1 BOOT")
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Fatalf("redirected Inform answered after %v, the plan's delay was lost", d)
	}
	if status, _ := cpe.empty(); status != http.StatusNoContent {
		t.Fatalf("status %d", status)
	}

	var states []string
	for _, ss := range s.Sessions() {
		states = append(states, ss.State)
	}
	if got := strings.Join(states, ","); got != "failed,failed,failed,redirected,completed" {
		t.Fatalf("session states %s", got)
	}
	if d, _ := s.Device(cpe.key()); d.Sessions != 1 || d.Informs != 3 {
		t.Fatalf("device %+v: want 1 completed session out of 3 Informs seen", d)
	}
}

// TestSchemaFollowsVersion: Notification 4 (passive lightweight) is
// allowed from cwmp-1-2.xsd on, cwmp-1-0.xsd allows 0..2. The codec takes
// 0..6, so only the schema picked by the session's version can tell.
func TestSchemaFollowsVersion(t *testing.T) {
	s := startServer(t, Config{UseCWMPVersion: "1.2"})
	if !s.SchemaValidation() {
		t.Skip("xmllint or the BBF schemas are missing")
	}
	gpa := &soap.GetParameterAttributesResponse{ParameterList: []soap.ParameterAttributeStruct{
		{Name: "Device.DeviceInfo.SoftwareVersion", Notification: 4, AccessList: []string{"Subscriber"}}}}
	for _, tc := range []struct {
		name    string
		version soap.Version
		ok      bool
	}{{"1.2", soap.V1_2, true}, {"1.0", soap.V1_0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cpe := newCPE(t, s.URL())
			cpe.id.SerialNumber = "V" + tc.name
			if _, err := s.Enqueue(cpe.key(), &soap.GetParameterAttributes{ParameterNames: []string{"Device.DeviceInfo.SoftwareVersion"}}); err != nil {
				t.Fatal(err)
			}
			// SessionTimeout is a 1.3 header: the Inform is checked against
			// the CPE's version, not the 1.2 the ACS then asks for.
			h := soap.Header{ID: "inform-1"}
			if tc.version == soap.V1_2 {
				h.SessionTimeout = 30
			}
			status, _ := cpe.send(&soap.Envelope{Version: tc.version, Header: h, Body: cpe.informMsg("2 PERIODIC")})
			if status != http.StatusOK {
				t.Fatalf("Inform: %d %v", status, lastErrors(s))
			}
			_, req := cpe.empty()
			status, env := cpe.respond(req, gpa)
			if tc.ok {
				if status != http.StatusNoContent {
					t.Fatalf("1.2 session refused Notification 4: %d %v", status, lastErrors(s))
				}
				return
			}
			wantFault(t, status, env, soap.FaultACSInvalidArguments)
			if !containsAny(lastErrors(s), "schema cwmp-1-0.xsd") {
				t.Fatalf("errors %v", lastErrors(s))
			}
		})
	}
}

// A request the CPE never answered — it crashed or lost the connection and
// came back with a new session — is dropped by default (at most once) and,
// with RetryUnanswered, sent again with its ID in the next session.
func TestUnansweredRequestInAnAbandonedSession(t *testing.T) {
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("RetryUnanswered=%v", retry), func(t *testing.T) {
			s := startServer(t, Config{RetryUnanswered: retry})
			first := newCPE(t, s.URL())
			id, err := s.Enqueue(first.key(), &soap.Reboot{CommandKey: "rb"})
			if err != nil {
				t.Fatal(err)
			}
			first.inform("1 BOOT")
			if _, req := first.empty(); req == nil || req.Header.ID != id {
				t.Fatalf("first session: want the Reboot with ID %q, got %+v", id, req)
			}
			// The CPE dies here and starts over on a new connection.
			again := newCPE(t, s.URL())
			again.inform("1 BOOT")
			status, req := again.empty()
			if !retry {
				if status != http.StatusNoContent || req != nil {
					t.Fatalf("at most once: the Reboot came again (status %d, %+v)", status, req)
				}
				return
			}
			if req == nil || req.Header.ID != id {
				t.Fatalf("second session: want the Reboot again with ID %q, got %+v", id, req)
			}
			if _, ok := req.Body.(*soap.Reboot); !ok {
				t.Fatalf("second session got %T", req.Body)
			}
			if status, end := again.respond(req, &soap.RebootResponse{}); status != http.StatusNoContent || end != nil {
				t.Fatalf("after the RebootResponse: status %d %+v", status, end)
			}
			ss := s.Sessions()
			if len(ss) != 2 || ss[0].State != StateFailed || !strings.Contains(strings.Join(ss[0].Errors, "; "), "got no answer: queued again") ||
				ss[1].State != StateCompleted || len(ss[1].Answered) != 1 {
				t.Fatalf("sessions %+v", ss)
			}
		})
	}
}
