package acsim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// sendInformMsg posts inf as the session's Inform.
func (c *testCPE) sendInformMsg(inf *soap.Inform) (int, *soap.Envelope) {
	c.t.Helper()
	return c.send(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "inform-1"}, Body: inf})
}

// wantViolation checks an answer is fault 8003 and the transcript names sub.
func wantViolation(t *testing.T, s *Server, status int, env *soap.Envelope, sub string) {
	t.Helper()
	wantFault(t, status, env, soap.FaultACSInvalidArguments)
	if errs := lastErrors(s); !containsAny(errs, sub) {
		t.Fatalf("transcript errors %q lack %q", errs, sub)
	}
}

func wantInformOK(t *testing.T, s *Server, status int, env *soap.Envelope) {
	t.Helper()
	if status != http.StatusOK || env == nil {
		t.Fatalf("Inform refused: %d %+v; errors %q", status, env, lastErrors(s))
	}
	if _, ok := env.Body.(*soap.InformResponse); !ok {
		t.Fatalf("Inform answered %+v; errors %q", env.Body, lastErrors(s))
	}
}

// D§7 item 1: the Device:2 forced Inform parameters are always present.
func TestInformForcedParameters(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		inf := cpe.informMsg("1 BOOT")
		inf.ParameterList = nil
		status, env := cpe.sendInformMsg(inf)
		wantViolation(t, s, status, env, "forced Inform parameter Device.RootDataModelVersion")
		for _, n := range forcedInformDevice2 {
			if !containsAny(lastErrors(s), n) {
				t.Errorf("no error names %s: %q", n, lastErrors(s))
			}
		}
	})
	for i, n := range forcedInformDevice2 {
		t.Run("without "+n, func(t *testing.T) {
			s := startServer(t, Config{})
			cpe := newCPE(t, s.URL())
			inf := cpe.informMsg("1 BOOT")
			inf.ParameterList = append(inf.ParameterList[:i:i], inf.ParameterList[i+1:]...)
			status, env := cpe.sendInformMsg(inf)
			wantViolation(t, s, status, env, "forced Inform parameter "+n)
		})
	}
	t.Run("InternetGatewayDevice root is noted, not judged", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		inf := cpe.informMsg("1 BOOT")
		inf.ParameterList = []soap.ParameterValueStruct{{Name: "InternetGatewayDevice.DeviceInfo.SoftwareVersion", Value: "1"}}
		status, env := cpe.sendInformMsg(inf)
		wantInformOK(t, s, status, env)
		tr := s.Transcript()
		if notes := tr[len(tr)-2].Notes; !containsAny(notes, "InternetGatewayDevice root") {
			t.Fatalf("Inform entry notes %q", notes)
		}
	})
}

// D§8.1: event codes that are only sent together with another.
func TestInformEventPairs(t *testing.T) {
	for _, c := range []struct {
		events []string
		want   string // "" = accepted
	}{
		{[]string{"3 SCHEDULED"}, `"3 SCHEDULED" sent without "M ScheduleInform"`},
		{[]string{"M ScheduleInform"}, `"M ScheduleInform" sent without "3 SCHEDULED"`},
		{[]string{"2 PERIODIC", "M Reboot"}, `"M Reboot" sent without "1 BOOT"`},
		{[]string{"7 TRANSFER COMPLETE"}, `"7 TRANSFER COMPLETE" sent without "M Download" or "M ScheduleDownload" or "M Upload"`},
		{[]string{"1 BOOT", "M Download"}, `"M Download" sent without "7 TRANSFER COMPLETE"`},
		{[]string{"M Upload"}, `"M Upload" sent without "7 TRANSFER COMPLETE"`},
		{[]string{"11 DU STATE CHANGE COMPLETE"}, `"11 DU STATE CHANGE COMPLETE" sent without "M ChangeDUState"`},
		{[]string{"M ChangeDUState"}, `"M ChangeDUState" sent without "11 DU STATE CHANGE COMPLETE"`},
		{[]string{"6 CONNECTION REQUEST", "6 CONNECTION REQUEST"}, `"6 CONNECTION REQUEST" sent 2 times`},
		{[]string{"3 SCHEDULED", "M ScheduleInform", "M ScheduleInform"}, ""},
		{[]string{"1 BOOT", "M Reboot"}, ""},
		{[]string{"7 TRANSFER COMPLETE", "M ScheduleDownload"}, ""},
		{[]string{"7 TRANSFER COMPLETE", "M Download", "M Upload", "1 BOOT"}, ""},
		{[]string{"11 DU STATE CHANGE COMPLETE", "M ChangeDUState"}, ""},
		{[]string{"6 CONNECTION REQUEST", "4 VALUE CHANGE"}, ""},
	} {
		t.Run(strings.Join(c.events, "+"), func(t *testing.T) {
			s := startServer(t, Config{})
			cpe := newCPE(t, s.URL())
			status, env := cpe.sendRaw(cpe.informEnv(c.events...))
			if c.want == "" {
				wantInformOK(t, s, status, env)
				return
			}
			wantViolation(t, s, status, env, c.want)
		})
	}
}

// D§7/D§9: after an attempt acsim failed, the next Inform counts it.
func TestInformRetryCount(t *testing.T) {
	// failOnce runs one attempt that acsim fails with plan.
	failOnce := func(t *testing.T, s *Server, cpe *testCPE, plan FaultPlan) {
		t.Helper()
		s.PushFaults(plan)
		req, err := http.NewRequest(http.MethodPost, cpe.url, strings.NewReader(string(cpe.informEnv("2 PERIODIC"))))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = http.Header{"Content-Type": {`text/xml; charset="utf-8"`}, "Soapaction": {""}}
		if resp, err := cpe.client.Do(req); err == nil {
			resp.Body.Close()
		}
		if ss := s.Sessions(); ss[len(ss)-1].State != StateFailed {
			t.Fatalf("attempt not failed: %+v", ss[len(ss)-1])
		}
	}
	for _, plan := range []FaultPlan{{InformFault: 8005}, {HTTPStatus: 503}, {DropAt: 1}} {
		t.Run("after "+planName(plan), func(t *testing.T) {
			s := startServer(t, Config{})
			cpe := newCPE(t, s.URL())
			failOnce(t, s, cpe, plan)
			status, env := cpe.sendRaw(cpe.informEnv("2 PERIODIC"))
			wantViolation(t, s, status, env, "Inform RetryCount is 0, but the previous attempt s1 (RetryCount 0) failed")
			// That refusal failed attempt 2 (RetryCount 0): the next needs 1.
			cpe.retry = 1
			cpe.inform("2 PERIODIC")
		})
	}
	t.Run("counts up", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		cpe.retry = 2
		failOnce(t, s, cpe, FaultPlan{InformFault: 8005})
		status, env := cpe.sendRaw(cpe.informEnv("2 PERIODIC")) // still 2
		wantViolation(t, s, status, env, "want >= 3")
		cpe.retry = 3
		cpe.inform("2 PERIODIC")
	})
	t.Run("after an abandoned session", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		cpe.inform("2 PERIODIC")
		// The CPE gives up without the final empty POST and starts again
		// on a new connection with a new cookie jar.
		again := newCPE(t, s.URL())
		status, env := again.sendRaw(again.informEnv("2 PERIODIC"))
		wantViolation(t, s, status, env, "Inform RetryCount is 0")
	})
	t.Run("reboot may reset it", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		failOnce(t, s, cpe, FaultPlan{InformFault: 8005})
		cpe.inform("1 BOOT")
	})
	t.Run("not judged after a completed session", func(t *testing.T) {
		// The CPE may have lost the 204, or failed attempts acsim never saw.
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		cpe.inform("2 PERIODIC")
		if status, _ := cpe.empty(); status != http.StatusNoContent {
			t.Fatalf("status %d", status)
		}
		cpe.retry = 4
		cpe.inform("2 PERIODIC")
	})
	t.Run("not judged after an injected challenge", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		failOnce(t, s, cpe, FaultPlan{HTTPStatus: http.StatusUnauthorized})
		cpe.inform("2 PERIODIC")
	})
}

func planName(p FaultPlan) string {
	switch {
	case p.InformFault != 0:
		return "Inform fault"
	case p.HTTPStatus != 0:
		return "HTTP status"
	}
	return "dropped connection"
}

// D§2.2: the schema fixes mustUnderstand on the cwmp headers; xmllint does
// not enforce fixed on a referenced attribute.
func TestHeaderMustUnderstandFixed(t *testing.T) {
	t.Run("ID on a response", func(t *testing.T) {
		for _, schema := range []SchemaMode{SchemaOff, StrictWhenPossible()} {
			s := startServer(t, Config{Schema: schema})
			cpe := newCPE(t, s.URL())
			cpe.inform("2 PERIODIC")
			s.Enqueue(cpe.key(), &soap.GetRPCMethods{})
			_, req := cpe.empty()
			body := string(encode(t, &soap.Envelope{Version: req.Version, Header: soap.Header{ID: req.Header.ID}, Body: &soap.GetRPCMethodsResponse{MethodList: []string{"Inform"}}}))
			body = mustReplace(t, body, `mustUnderstand="1"`, `mustUnderstand="0"`)
			status, env := cpe.sendRaw([]byte(body))
			wantViolation(t, s, status, env, `cwmp:ID header has mustUnderstand="0", the schema fixes "1"`)
		}
	})
	for _, c := range []struct{ name, from, to, want string }{
		{"ID on the Inform", `<cwmp:ID SOAP-ENV:mustUnderstand="1">`, `<cwmp:ID SOAP-ENV:mustUnderstand="0">`, "cwmp:ID header"},
		{"SessionTimeout", `<SOAP-ENV:Header>`, `<SOAP-ENV:Header><cwmp:SessionTimeout SOAP-ENV:mustUnderstand="1">30</cwmp:SessionTimeout>`, `cwmp:SessionTimeout header has mustUnderstand="1"`},
		{"SupportedCWMPVersions", `<SOAP-ENV:Header>`, `<SOAP-ENV:Header><cwmp:SupportedCWMPVersions SOAP-ENV:mustUnderstand="1">1.2,1.4</cwmp:SupportedCWMPVersions>`, `cwmp:SupportedCWMPVersions header has mustUnderstand="1"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startServer(t, Config{})
			cpe := newCPE(t, s.URL())
			body := mustReplace(t, string(cpe.informEnv("1 BOOT")), c.from, c.to)
			status, env := cpe.sendRaw([]byte(body))
			wantViolation(t, s, status, env, c.want)
		})
	}
	t.Run("SessionTimeout 0 and absent accepted", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		body := mustReplace(t, string(cpe.informEnv("1 BOOT")), `<SOAP-ENV:Header>`,
			`<SOAP-ENV:Header><cwmp:SessionTimeout SOAP-ENV:mustUnderstand="0">30</cwmp:SessionTimeout><cwmp:SupportedCWMPVersions>1.2,1.3,1.4</cwmp:SupportedCWMPVersions>`)
		status, env := cpe.sendRaw([]byte(body))
		wantInformOK(t, s, status, env)
	})
}

func mustReplace(t *testing.T, s, from, to string) string {
	t.Helper()
	out := strings.Replace(s, from, to, 1)
	if out == s {
		t.Fatalf("%q not in\n%s", from, s)
	}
	return out
}

// D§3, D§3.1, D§12.2: the form of a CPE fault.
func TestCPEFaultForm(t *testing.T) {
	spv := &soap.SetParameterValues{ParameterList: []soap.ParameterValueStruct{{Name: "Device.X", Value: "1"}}, ParameterKey: "k"}
	gpv := &soap.GetParameterValues{ParameterNames: []string{"Device."}}
	withSPV := func(code soap.FaultCode, entries ...soap.FaultCode) *soap.Fault {
		f := soap.NewFault(code, "")
		for _, e := range entries {
			f.Detail.SetParameterValuesFault = append(f.Detail.SetParameterValuesFault, soap.SetParameterValuesFault{ParameterName: "Device.X", FaultCode: e})
		}
		return f
	}
	for _, c := range []struct {
		name    string
		req     soap.Message
		f       *soap.Fault
		rewrite [2]string // raw replacement in the encoded fault
		want    string    // "" = accepted
	}{
		{"ACS fault code", gpv, soap.NewFault(soap.FaultACSInvalidArguments, "x"), [2]string{}, "not a CPE code 9000–9899"},
		{"faultstring", gpv, &soap.Fault{Code: soap.SOAPServer, String: "oops", Detail: &soap.CWMPFault{FaultCode: 9002}}, [2]string{}, `faultstring is "oops"`},
		{"faultcode VersionMismatch", gpv, &soap.Fault{Code: soap.SOAPVersionMismatch, String: soap.CWMPFaultString, Detail: &soap.CWMPFault{FaultCode: 9002}}, [2]string{}, "neither Client nor Server"},
		{"faultcode in the cwmp namespace", gpv, soap.NewFault(9002, ""), [2]string{"SOAP-ENV:Server", "cwmp:Server"}, "prefix not bound to the SOAP envelope namespace"},
		{"faultcode with an unbound prefix", gpv, soap.NewFault(9002, ""), [2]string{"SOAP-ENV:Server", "x:Server"}, "prefix not bound"},
		{"SPV entry 9004", spv, withSPV(9003, 9004), [2]string{}, "carries FaultCode 9004"},
		{"SPV entry 9003", spv, withSPV(9003, 9005, 9003), [2]string{}, "carries FaultCode 9003"},
		{"SPV entries answering GPV", gpv, withSPV(9003, 9005), [2]string{}, "SetParameterValuesFault entries in a fault answering GetParameterValues"},
		{"faultcode unqualified", gpv, soap.NewFault(9005, ""), [2]string{"SOAP-ENV:Client", "Client"}, ""},
		{"vendor fault", gpv, soap.NewFault(9850, "vendor"), [2]string{}, ""},
		{"SPV entries 9005-9008 and vendor", spv, withSPV(9003, 9005, 9006, 9007, 9008, 9899), [2]string{}, ""},
	} {
		// Refusals are checked without xmllint, which catches some of them
		// (an unbound prefix) by itself; acceptances with it too.
		modes := []SchemaMode{SchemaOff}
		if c.want == "" {
			modes = append(modes, SchemaAuto)
		}
		for _, mode := range modes {
			t.Run(c.name+"/"+string(mode), func(t *testing.T) {
				faultCase(t, mode, c.req, c.f, c.rewrite, c.want)
			})
		}
	}
}

func faultCase(t *testing.T, mode SchemaMode, msg soap.Message, f *soap.Fault, rewrite [2]string, want string) {
	s := startServer(t, Config{Schema: mode})
	cpe := newCPE(t, s.URL())
	cpe.inform("2 PERIODIC")
	s.Enqueue(cpe.key(), msg)
	_, req := cpe.empty()
	body := string(encode(t, &soap.Envelope{Version: req.Version, Header: soap.Header{ID: req.Header.ID}, Body: f}))
	if rewrite[0] != "" {
		body = mustReplace(t, body, rewrite[0], rewrite[1])
	}
	status, env := cpe.sendRaw([]byte(body))
	if want == "" {
		if status != http.StatusNoContent {
			t.Fatalf("fault refused: %d %+v; errors %q", status, env, lastErrors(s))
		}
		return
	}
	wantViolation(t, s, status, env, want)
}

// D§8.1, D§11.3-11.4: a TransferComplete reports a transfer acsim
// requested, in a session whose Inform carries 7 TRANSFER COMPLETE.
func TestTransferCompleteSolicited(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	tc := func(key string) *soap.Envelope {
		return &soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "tc"}, Body: &soap.TransferComplete{CommandKey: key, StartTime: now, CompleteTime: now}}
	}
	// requested runs a session in which acsim sends msg and gets answered.
	requested := func(t *testing.T, s *Server, cpe *testCPE, msg, resp soap.Message) {
		t.Helper()
		s.Enqueue(cpe.key(), msg)
		cpe.inform("1 BOOT")
		_, req := cpe.empty()
		if status, _ := cpe.respond(req, resp); status != http.StatusNoContent {
			t.Fatalf("status %d: %q", status, lastErrors(s))
		}
	}
	dl := &soap.Download{CommandKey: "dl-1", FileType: "1 Firmware Upgrade Image", URL: "http://files.example/fw"}
	dlResp := &soap.DownloadResponse{Status: 1}
	t.Run("never requested", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		cpe.inform("7 TRANSFER COMPLETE", "M Download")
		status, env := cpe.send(tc("never-requested"))
		wantViolation(t, s, status, env, `TransferComplete for CommandKey "never-requested", but acsim sent this device no Download`)
	})
	t.Run("requested from another device", func(t *testing.T) {
		s := startServer(t, Config{})
		other := newCPE(t, s.URL())
		other.id.SerialNumber = "OTHER"
		requested(t, s, other, dl, dlResp)
		cpe := newCPE(t, s.URL())
		cpe.inform("7 TRANSFER COMPLETE", "M Download")
		status, env := cpe.send(tc("dl-1"))
		wantViolation(t, s, status, env, `CommandKey "dl-1"`)
	})
	t.Run("Inform without 7 TRANSFER COMPLETE", func(t *testing.T) {
		s := startServer(t, Config{})
		cpe := newCPE(t, s.URL())
		requested(t, s, cpe, dl, dlResp)
		cpe.inform("2 PERIODIC")
		status, env := cpe.send(tc("dl-1"))
		wantViolation(t, s, status, env, `Inform lacks "7 TRANSFER COMPLETE"`)
	})
	for _, c := range []struct {
		name      string
		msg, resp soap.Message
		event     string
	}{
		{"Download", dl, dlResp, "M Download"},
		{"Upload", &soap.Upload{CommandKey: "dl-1", FileType: "1 Vendor Configuration File", URL: "http://files.example/up"}, &soap.UploadResponse{Status: 1}, "M Upload"},
		{"ScheduleDownload", &soap.ScheduleDownload{CommandKey: "dl-1", FileType: "1 Firmware Upgrade Image", URL: "http://files.example/fw",
			TimeWindowList: []soap.TimeWindowStruct{{WindowStart: 0, WindowEnd: 60, WindowMode: "1 At Any Time", MaxRetries: -1}}}, &soap.ScheduleDownloadResponse{}, "M ScheduleDownload"},
	} {
		t.Run("after "+c.name, func(t *testing.T) {
			s := startServer(t, Config{})
			cpe := newCPE(t, s.URL())
			requested(t, s, cpe, c.msg, c.resp)
			cpe.inform("7 TRANSFER COMPLETE", c.event)
			if status, env := cpe.send(tc("dl-1")); status != http.StatusOK {
				t.Fatalf("TransferComplete refused: %d %+v; %q", status, env, lastErrors(s))
			}
		})
	}
}

// D§2.1: every SOAPAction field of a response or fault must be empty.
func TestResponseSecondSOAPAction(t *testing.T) {
	s := startServer(t, Config{})
	cpe := newCPE(t, s.URL())
	cpe.inform("2 PERIODIC")
	s.Enqueue(cpe.key(), &soap.GetRPCMethods{})
	_, req := cpe.empty()
	body := encode(t, &soap.Envelope{Version: req.Version, Header: soap.Header{ID: req.Header.ID}, Body: &soap.GetRPCMethodsResponse{MethodList: []string{"Inform"}}})
	resp, b := cpe.do(body, map[string][]string{"Content-Type": {`text/xml; charset="utf-8"`}, "SOAPAction": {"", `"urn:x#GetRPCMethodsResponse"`}})
	wantViolation(t, s, resp.StatusCode, cpe.decode(b), `got "\"urn:x#GetRPCMethodsResponse\"" among 2 SOAPAction header(s)`)
}
