package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// e2eCA issues the certificates of one test and writes them as PEM files.
type e2eCA struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newE2ECA(t *testing.T) *e2eCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &e2eCA{dir: t.TempDir(), cert: cert, key: key}
	ca.write(t, "ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *e2eCA) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue writes name.pem and name.key: a server certificate for 127.0.0.1
// or a client one.
func (ca *e2eCA) issue(t *testing.T, name string, serial int64, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return ca.write(t, name+".pem", "CERTIFICATE", der), ca.write(t, name+".key", "EC PRIVATE KEY", kder)
}

// The daemon against the strict ACS over HTTPS that requires a client
// certificate, as operators deploy it: the session's one connection carries
// the challenge, the Inform and an ACS request, verified against the
// configured CA with the configured client certificate.
func TestE2ETLSWithClientCertificate(t *testing.T) {
	ca := newE2ECA(t)
	srvCert, srvKey := ca.issue(t, "acs", 2, true)
	cliCert, cliKey := ca.issue(t, "cpe", 3, false)
	caFile := filepath.Join(ca.dir, "ca.pem")
	tlsCfg, err := acsim.TLSConfig(srvCert, srvKey, caFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := acs(t, func(c *acsim.Config) { c.TLS = tlsCfg })
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("ACS URL %s is not https", srv.URL())
	}
	enqueue(t, srv, &soap.GetParameterValues{ParameterNames: []string{"Device.DeviceInfo.ManufacturerOUI"}})

	// The client certificate and its key in one file, as the setting allows.
	both, err := os.ReadFile(cliCert)
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	clientFile := filepath.Join(ca.dir, "cpe-with-key.pem")
	if err := os.WriteFile(clientFile, append(both, k...), 0o600); err != nil {
		t.Fatal(err)
	}
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
