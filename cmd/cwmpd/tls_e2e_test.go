package main

import (
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/cwmp/testpki"
)

// The daemon against the strict ACS over HTTPS that requires a client
// certificate, as operators deploy it: the session's one connection carries
// the challenge, the Inform and an ACS request, verified against the
// configured CA with the configured client certificate.
func TestE2ETLSWithClientCertificate(t *testing.T) {
	ca := testpki.NewCA(t, "e2e CA")
	dir := t.TempDir()
	write := func(name string, b []byte) string { return testpki.Write(t, dir, name, b) }
	srvCert, srvKey := ca.Issue(t, false, testpki.Localhost)
	cliCert, cliKey := ca.Issue(t, true, nil)
	caFile := write("ca.pem", ca.PEM)
	tlsCfg, err := acsim.TLSConfig(write("acs.pem", srvCert), write("acs.key", srvKey), caFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := acs(t, func(c *acsim.Config) { c.TLS = tlsCfg })
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("ACS URL %s is not https", srv.URL())
	}
	enqueue(t, srv, &soap.GetParameterValues{ParameterNames: []string{"Device.DeviceInfo.ManufacturerOUI"}})
	// The client certificate and its key in one file, as the setting allows.
	clientFile := write("cpe-with-key.pem", append(cliCert, cliKey...))
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv, "ca-certificate="+caFile, "client-certificate="+clientFile))
	waitSessions(t, srv, 1, a)
	wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
	if v := gpvValues(t, responses(t, srv, "GetParameterValuesResponse")[0]); v["Device.DeviceInfo.ManufacturerOUI"] != "02C0DE" {
		t.Fatalf("GPV over TLS: %v", v)
	}
	if errs := transcriptErrors(srv); len(errs) > 0 {
		t.Fatalf("the strict ACS found errors: %v", errs)
	}
	conns := map[int64]bool{}
	posts := 0
	for _, e := range srv.Transcript() {
		if e.Kind == "cwmp" && e.Direction == "cpe->acs" {
			conns[e.Conn] = true
			posts++
		}
	}
	// The 401, the Inform, the empty POST, the GPV response, the last empty POST.
	if posts < 4 || len(conns) != 1 {
		t.Fatalf("%d POSTs over %d TLS connections, want at least 4 over one", posts, len(conns))
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, a.logs())
	}
}
