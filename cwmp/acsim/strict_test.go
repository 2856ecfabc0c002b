package acsim

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// TestStrictInform sends Informs the schema or D§2.1/D§7 forbid; each must
// be answered with fault 8003, recorded as an error and fail the session.
func TestStrictInform(t *testing.T) {
	s := startServer(t, Config{})
	base := newCPE(t, s.URL())
	good := string(base.informEnv("1 BOOT"))
	mustChange := func(out string) string {
		if out == good {
			t.Fatal("mutation changed nothing")
		}
		return out
	}
	// The encoder refuses 65 events, so the array is grown by hand.
	ev := regexp.MustCompile(`(?s)<EventStruct>.*?</EventStruct>`).FindString(good)
	many := strings.Replace(strings.Replace(good, ev, strings.Repeat(ev, 65), 1), "cwmp:EventStruct[1]", "cwmp:EventStruct[65]", 1)
	cases := []struct {
		name, body, wantErr string
		schema              bool // needs xmllint: the codec matches arguments by name
	}{
		{"wrong element order", mustChange(strings.Replace(strings.Replace(good, "<RetryCount>0</RetryCount>", "", 1),
			"<MaxEnvelopes>", "<RetryCount>0</RetryCount><MaxEnvelopes>", 1)), "schema cwmp-1-2.xsd", true},
		{"missing DeviceId", mustChange(regexp.MustCompile(`(?s)<DeviceId>.*</DeviceId>`).ReplaceAllString(good, "")), "DeviceId: invalid argument: missing", false},
		{"bad type", mustChange(strings.Replace(good, "<RetryCount>0</RetryCount>", "<RetryCount>often</RetryCount>", 1)), "RetryCount", false},
		{"lower-case OUI", mustChange(strings.Replace(good, "<OUI>00AB1F</OUI>", "<OUI>00ab1f</OUI>", 1)), "OUI", false},
		{"65 events", mustChange(many), "at most 64", false},
		{"MaxEnvelopes 2", mustChange(strings.Replace(good, "<MaxEnvelopes>1</MaxEnvelopes>", "<MaxEnvelopes>2</MaxEnvelopes>", 1)), "MaxEnvelopes is 2", false},
		{"not xml", "<SOAP-ENV:Envelope", "malformed xml", false},
		{"non-standard namespace", strings.ReplaceAll(good, "cwmp-1-2", "cwmp-1-4"), "non-standard cwmp namespace", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.schema && !s.SchemaValidation() {
				t.Skip("xmllint or the BBF schemas are missing: only the schema catches this")
			}
			before := len(s.Sessions())
			cpe := newCPE(t, s.URL())
			status, env := cpe.sendRaw([]byte(tc.body))
			wantFault(t, status, env, soap.FaultACSInvalidArguments)
			if errs := lastErrors(s); !containsAny(errs, tc.wantErr) {
				t.Fatalf("errors %q, want one containing %q", errs, tc.wantErr)
			}
			ss := s.Sessions()
			if len(ss) != before+1 || ss[before].State != StateFailed {
				t.Fatalf("session not failed: %+v", ss[len(ss)-1])
			}
		})
	}
	// The unmutated Inform passes, so the failures above are the mutations'.
	base.inform("1 BOOT")
}

// TestStrictSession covers violations after a good Inform.
func TestStrictSession(t *testing.T) {
	type step func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope)
	gpv := func(s *Server, cpe *testCPE) *soap.Envelope {
		s.Enqueue(cpe.key(), &soap.GetParameterValues{ParameterNames: []string{"Device."}})
		_, req := cpe.empty()
		if req == nil {
			panic("no request queued")
		}
		return req
	}
	cases := []struct {
		name    string
		run     step
		wantErr string
	}{
		{"second Inform", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			return cpe.sendRaw(cpe.informEnv("2 PERIODIC"))
		}, "second Inform"},
		{"response with wrong ID", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			req := gpv(s, cpe)
			return cpe.send(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "not-" + req.Header.ID},
				Body: &soap.GetParameterValuesResponse{}})
		}, "carries ID"},
		{"response to another method", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			req := gpv(s, cpe)
			return cpe.respond(req, &soap.SetParameterValuesResponse{})
		}, "SetParameterValuesResponse answers GetParameterValues"},
		{"response with nothing outstanding", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			return cpe.send(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "x"}, Body: &soap.RebootResponse{}})
		}, "no ACS request is outstanding"},
		{"empty POST while a request is outstanding", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			gpv(s, cpe)
			return cpe.empty()
		}, "awaits its response"},
		{"empty POST with Content-Type", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			resp, b := cpe.do(nil, map[string][]string{"Content-Type": {"text/xml"}})
			return resp.StatusCode, cpe.decode(b)
		}, "empty POST with a Content-Type"},
		{"empty POST with SOAPAction", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			resp, b := cpe.do(nil, map[string][]string{"SOAPAction": {""}})
			return resp.StatusCode, cpe.decode(b)
		}, "empty POST with a SOAPAction"},
		{"empty POST without Content-Length", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			// net/http always sends Content-Length: 0, so this one is typed by hand.
			u, _ := url.Parse(cpe.url)
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			c := cpe.client.Jar.Cookies(u)[0]
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\n\r\n", u.Path, u.Host, c.Name, c.Value)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, cpe.decode(b)
		}, "without Content-Length: 0"},
		{"response with a SOAPAction value", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			req := gpv(s, cpe)
			body := encode(t, &soap.Envelope{Version: req.Version, Header: soap.Header{ID: req.Header.ID}, Body: &soap.GetParameterValuesResponse{}})
			resp, b := cpe.do(body, map[string][]string{"Content-Type": {"text/xml"}, "SOAPAction": {`"GetParameterValuesResponse"`}})
			return resp.StatusCode, cpe.decode(b)
		}, "SOAPAction must be empty"},
		{"SOAP POST without SOAPAction", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			body := encode(t, &soap.Envelope{Version: soap.V1_2, Body: &soap.GetRPCMethods{}})
			resp, b := cpe.do(body, map[string][]string{"Content-Type": {"text/xml"}})
			return resp.StatusCode, cpe.decode(b)
		}, "SOAPAction header missing"},
		{"wrong Content-Type", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			body := encode(t, &soap.Envelope{Version: soap.V1_2, Body: &soap.GetRPCMethods{}})
			resp, b := cpe.do(body, map[string][]string{"Content-Type": {"application/soap+xml"}, "SOAPAction": {""}})
			return resp.StatusCode, cpe.decode(b)
		}, "is not text/xml"},
		{"envelope with empty Body", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			return cpe.send(&soap.Envelope{Version: soap.V1_2})
		}, "empty Body"},
		{"ACS message from the CPE", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			return cpe.send(&soap.Envelope{Version: soap.V1_2, Body: &soap.Reboot{}})
		}, "not a message a CPE sends"},
		{"namespace change", func(t *testing.T, s *Server, cpe *testCPE) (int, *soap.Envelope) {
			return cpe.send(&soap.Envelope{Version: soap.V1_0, Body: &soap.GetRPCMethods{}})
		}, "differs from the Inform"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Config{})
			cpe := newCPE(t, s.URL())
			cpe.inform("2 PERIODIC")
			status, env := tc.run(t, s, cpe)
			code := soap.FaultACSInvalidArguments
			if strings.Contains(tc.name, "ACS message") {
				code = soap.FaultACSMethodNotSupported
			}
			wantFault(t, status, env, code)
			if errs := lastErrors(s); !containsAny(errs, tc.wantErr) {
				t.Fatalf("errors %q, want one containing %q", errs, tc.wantErr)
			}
			if ss := s.Sessions(); ss[0].State != StateFailed || len(ss[0].Errors) == 0 {
				t.Fatalf("session %+v", ss[0])
			}
			// The session is over: the next POST is a new attempt that
			// must open with an Inform.
			status, env = cpe.empty()
			wantFault(t, status, env, soap.FaultACSInvalidArguments)
			if errs := lastErrors(s); !containsAny(errs, "must carry an Inform") {
				t.Fatalf("errors %q", errs)
			}
		})
	}
}

func TestFirstPostNotInform(t *testing.T) {
	s := startServer(t, Config{})
	cpe := newCPE(t, s.URL())
	status, env := cpe.send(&soap.Envelope{Version: soap.V1_2, Body: &soap.TransferComplete{CommandKey: "k"}})
	wantFault(t, status, env, soap.FaultACSInvalidArguments)
	if !containsAny(lastErrors(s), "must carry an Inform, got TransferComplete") {
		t.Fatalf("errors %v", lastErrors(s))
	}
	resp, _ := cpe.do(nil, nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("empty first POST: %d", resp.StatusCode)
	}
}
