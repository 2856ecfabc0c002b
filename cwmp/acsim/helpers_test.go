package acsim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// startServer runs a Server for one test and closes it afterwards.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testCPE plays the CPE side with net/http and cwmp/soap, one kept-alive
// connection and a cookie jar, following the D§2.1 header rules unless a
// test overrides them.
type testCPE struct {
	t      *testing.T
	url    string
	client *http.Client
	tr     *http.Transport
	id     soap.DeviceIdStruct
	// authorize, when set, returns an Authorization header for a request.
	authorize func(method, uri string) string
	crURL     string
	// retry is the RetryCount informMsg sends.
	retry uint32
}

func newCPE(t *testing.T, url string) *testCPE {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	return &testCPE{
		t: t, url: url, tr: tr,
		client: &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		id: soap.DeviceIdStruct{Manufacturer: "Acme", OUI: "00AB1F", ProductClass: "Router", SerialNumber: "SN0001"},
	}
}

func (c *testCPE) key() string { return DeviceKey(c.id) }

// do sends one POST. hdr values of "" are sent as empty headers; a key
// mapped to nil is not sent at all.
func (c *testCPE) do(body []byte, hdr map[string][]string) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, c.url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		if v != nil {
			req.Header[k] = v
		}
	}
	if c.authorize != nil {
		req.Header.Set("Authorization", c.authorize(http.MethodPost, req.URL.RequestURI()))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", c.url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading answer: %v", err)
	}
	return resp, b
}

var soapHeaders = map[string][]string{"Content-Type": {`text/xml; charset="utf-8"`}, "SOAPAction": {""}}

func encode(t *testing.T, env *soap.Envelope) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := soap.Encode(&buf, env); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sendRaw posts a SOAP body with the standard headers and decodes the
// answer (nil envelope for an empty answer).
func (c *testCPE) sendRaw(body []byte) (int, *soap.Envelope) {
	c.t.Helper()
	resp, b := c.do(body, soapHeaders)
	return resp.StatusCode, c.decode(b)
}

func (c *testCPE) decode(b []byte) *soap.Envelope {
	c.t.Helper()
	if len(b) == 0 {
		return nil
	}
	env, err := soap.Decode(bytes.NewReader(b), 0)
	if err != nil {
		c.t.Fatalf("acsim sent an envelope cwmp/soap cannot decode: %v\n%s", err, b)
	}
	return env
}

func (c *testCPE) send(env *soap.Envelope) (int, *soap.Envelope) {
	c.t.Helper()
	return c.sendRaw(encode(c.t, env))
}

// empty sends the empty POST: no body, no Content-Type, no SOAPAction.
func (c *testCPE) empty() (int, *soap.Envelope) {
	c.t.Helper()
	resp, b := c.do(nil, nil)
	return resp.StatusCode, c.decode(b)
}

func (c *testCPE) informMsg(events ...string) *soap.Inform {
	inf := &soap.Inform{DeviceId: c.id, MaxEnvelopes: 1, CurrentTime: time.Now().UTC().Truncate(time.Second), RetryCount: c.retry}
	for _, e := range events {
		inf.Event = append(inf.Event, soap.EventStruct{EventCode: e})
	}
	// The Device:2 forced Inform parameters (D§7 item 1).
	inf.ParameterList = []soap.ParameterValueStruct{
		{Name: "Device.RootDataModelVersion", Value: "2.17"},
		{Name: "Device.DeviceInfo.HardwareVersion", Value: "hw1"},
		{Name: "Device.DeviceInfo.SoftwareVersion", Value: "1.0"},
		{Name: "Device.DeviceInfo.ProvisioningCode", Value: ""},
		{Name: "Device.ManagementServer.ParameterKey", Value: ""},
		{Name: "Device.ManagementServer.ConnectionRequestURL", Value: c.crURL},
		{Name: "Device.ManagementServer.AliasBasedAddressing", Value: "false", Type: "xsd:boolean"},
	}
	return inf
}

func (c *testCPE) informEnv(events ...string) []byte {
	return encode(c.t, &soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "inform-1"}, Body: c.informMsg(events...)})
}

// inform opens a session and insists on a well-formed InformResponse.
func (c *testCPE) inform(events ...string) *soap.Envelope {
	c.t.Helper()
	status, env := c.sendRaw(c.informEnv(events...))
	if status != http.StatusOK || env == nil {
		c.t.Fatalf("Inform: status %d, envelope %+v", status, env)
	}
	ir, ok := env.Body.(*soap.InformResponse)
	if !ok {
		c.t.Fatalf("Inform answered with %T %+v", env.Body, env.Body)
	}
	if ir.MaxEnvelopes != 1 || env.Header.ID != "inform-1" {
		c.t.Fatalf("InformResponse MaxEnvelopes=%d ID=%q, want 1 and the Inform's ID", ir.MaxEnvelopes, env.Header.ID)
	}
	return env
}

// respond answers an ACS request with msg under the request's ID.
func (c *testCPE) respond(req *soap.Envelope, msg soap.Message) (int, *soap.Envelope) {
	c.t.Helper()
	return c.send(&soap.Envelope{Version: req.Version, Header: soap.Header{ID: req.Header.ID}, Body: msg})
}

// wantFault checks an answer is a CWMP fault with code, in HTTP 500.
func wantFault(t *testing.T, status int, env *soap.Envelope, code soap.FaultCode) {
	t.Helper()
	if status != http.StatusInternalServerError || env == nil {
		t.Fatalf("want fault %d in HTTP 500, got status %d envelope %+v", code, status, env)
	}
	f, ok := env.Body.(*soap.Fault)
	if !ok || f.Detail == nil || f.Detail.FaultCode != code {
		t.Fatalf("want fault %d, got %T %+v", code, env.Body, env.Body)
	}
}

// lastErrors returns the errors of the last cpe->acs entry that has any.
func lastErrors(s *Server) []string {
	tr := s.Transcript()
	for i := len(tr) - 1; i >= 0; i-- {
		if tr[i].Direction == dirIn && len(tr[i].Errors) > 0 {
			return tr[i].Errors
		}
	}
	return nil
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
