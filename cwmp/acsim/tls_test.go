package acsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCA issues certificates for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "acsim test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key; server certificates name 127.0.0.1.
func (ca *testCA) issue(t *testing.T, serial int64, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "acsim test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestTLSWithClientCertificates(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sc, sk := ca.issue(t, 2, true)
	tlsCfg, err := TLSConfig(write("srv.pem", sc), write("srv.key", sk), write("ca.pem", ca.pem))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{TLS: tlsCfg})
	s.AddFile("f", []byte("over tls"))

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	cc, ck := ca.issue(t, 3, false)
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
