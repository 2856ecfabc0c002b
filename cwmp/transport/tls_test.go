package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func okHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}
}

func TestTLSWithConfiguredCA(t *testing.T) {
	ca := newCA(t, "operator-ca")
	srv := tlsACS(t, okHandler(), ca)
	c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM})
	if status, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil || status != 204 {
		t.Fatalf("Post = %d, %v", status, err)
	}
}

func TestTLSUnknownAuthority(t *testing.T) {
	srv := tlsACS(t, okHandler(), newCA(t, "acs-ca"))
	// Neither the system roots nor an unrelated configured CA know it.
	for _, caPEM := range [][]byte{nil, newCA(t, "other-ca").PEM} {
		c := newClient(t, Config{URL: srv.URL, CACertPEM: caPEM})
		_, _, err := c.Post(context.Background(), []byte("x"), Request)
		wantError(t, err, KindTLS, "TLS: certificate signed by unknown authority")
	}
}

func TestTLSHostNameMismatch(t *testing.T) {
	ca := newCA(t, "ca")
	srv := tlsACS(t, okHandler(), ca, "acs.example.net") // no IP SAN for 127.0.0.1
	c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindTLS, "TLS: certificate is not valid for host 127.0.0.1")
}

func TestTLSClientCertificate(t *testing.T) {
	ca := newCA(t, "ca")
	clientCA := newCA(t, "cpe-ca")
	certPEM, keyPEM := ca.Issue(t, false, localhost)
	serverCert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.Cert)
	srv := newACS(t, okHandler(), &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	})
	cpeCert, cpeKey := clientCA.Issue(t, true, nil)

	t.Run("separate key", func(t *testing.T) {
		c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM, ClientCertPEM: cpeCert, ClientKeyPEM: cpeKey})
		if _, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("key in the certificate PEM", func(t *testing.T) {
		both := append(append([]byte{}, cpeCert...), cpeKey...)
		c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM, ClientCertPEM: both})
		if _, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("none", func(t *testing.T) {
		c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM})
		_, _, err := c.Post(context.Background(), []byte("x"), Request)
		wantError(t, err, KindTLS, "TLS: ACS requires a client certificate")
	})
	t.Run("untrusted", func(t *testing.T) {
		other, otherKey := newCA(t, "stranger").Issue(t, true, nil)
		c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM, ClientCertPEM: other, ClientKeyPEM: otherKey})
		_, _, err := c.Post(context.Background(), []byte("x"), Request)
		wantError(t, err, KindTLS, "TLS: ACS rejected the client certificate (tls: certificate required)")
	})
}

func TestTLSBelow12Refused(t *testing.T) {
	ca := newCA(t, "ca")
	certPEM, keyPEM := ca.Issue(t, false, localhost)
	cert, _ := tls.X509KeyPair(certPEM, keyPEM)
	srv := newACS(t, okHandler(), &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS11})
	c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	var e *Error
	if !errorsAs(err, &e) || e.Kind != KindTLS {
		t.Fatalf("err = %v, want a KindTLS error", err)
	}
	t.Logf("user message: %s", e.UserMessage())
}

func TestTLSAgainstPlainHTTPServer(t *testing.T) {
	srv := newACS(t, okHandler(), nil)
	c := newClient(t, Config{URL: "https://" + srv.Listener.Addr().String()})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindTLS, "TLS: ACS did not answer with TLS")
}

// An ACS that offers HTTP/2 by ALPN still gets HTTP/1.1 from us: CWMP is
// specified over HTTP/1.1, the transport writes HTTP/1.1 itself and offers
// no ALPN, and the shipped binary is built without net/http's HTTP/2
// (Makefile TAGS). This test runs with HTTP/2 linked in, so it shows the tag
// changes nothing on the wire.
func TestTLSStaysOnHTTP11WhenTheACSOffersH2(t *testing.T) {
	ca := newCA(t, "ca")
	certPEM, keyPEM := ca.Issue(t, false, localhost)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	protos := make(chan string, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos <- r.Proto
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if !slices.Contains(srv.TLS.NextProtos, "h2") {
		t.Fatalf("test ACS does not offer h2: NextProtos %q", srv.TLS.NextProtos)
	}
	// A stock Go client does negotiate h2 with this server, so the check
	// below could fail.
	stock := srv.Client()
	resp, err := stock.Post(srv.URL, "text/xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p := <-protos; p != "HTTP/2.0" {
		t.Fatalf("stock client spoke %s, want HTTP/2.0 (the server must offer h2)", p)
	}

	c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM})
	if status, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil || status != 204 {
		t.Fatalf("Post = %d, %v", status, err)
	}
	if p := <-protos; p != "HTTP/1.1" {
		t.Fatalf("cwmpd's transport spoke %s to an ACS offering h2, want HTTP/1.1", p)
	}
}
