package acsim

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/testpki"
)

func TestTLSWithClientCertificates(t *testing.T) {
	ca := testpki.NewCA(t, "acsim test CA")
	dir := t.TempDir()
	write := func(name string, b []byte) string { return testpki.Write(t, dir, name, b) }
	sc, sk := ca.Issue(t, false, testpki.Localhost)
	tlsCfg, err := TLSConfig(write("srv.pem", sc), write("srv.key", sk), write("ca.pem", ca.PEM))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{TLS: tlsCfg})
	s.AddFile("f", []byte("over tls"))

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	cc, ck := ca.Issue(t, true, nil)
	clientCert, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}

	cpe := newCPE(t, s.URL())
	cpe.tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	req, _ := http.NewRequest(http.MethodPost, s.URL(), nil)
	if _, err := cpe.client.Do(req); err == nil {
		t.Fatal("session without a client certificate was accepted")
	}
	cpe.tr.CloseIdleConnections()
	cpe.tr.TLSClientConfig = &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientCert}}
	cpe.inform("1 BOOT")
	if status, _ := cpe.empty(); status != http.StatusNoContent {
		t.Fatalf("status %d", status)
	}

	resp, err := cpe.client.Get(s.FilesURL() + "/files/f")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("file over https: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := TLSConfig(write("x.pem", sc), write("x.key", sk), write("bad.pem", []byte("no pem"))); err == nil {
		t.Fatal("client CA file without certificates accepted")
	}
}
