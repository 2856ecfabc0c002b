package transport

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/testpki"
	"github.com/rs/zerolog"
)

// testCA is a certificate authority made for one test.
type testCA = testpki.CA

func newCA(t *testing.T, name string) *testCA { return testpki.NewCA(t, name) }

var localhost = testpki.Localhost

// acs is an httptest server that counts the TCP connections it accepts.
type acs struct {
	*httptest.Server
	conns atomic.Int32
}

func newACS(t *testing.T, h http.Handler, tlsConf *tls.Config) *acs {
	t.Helper()
	a := &acs{Server: httptest.NewUnstartedServer(h)}
	a.Config.ErrorLog = log.New(io.Discard, "", 0)
	a.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			a.conns.Add(1)
		}
	}
	if tlsConf != nil {
		a.TLS = tlsConf
		a.StartTLS()
	} else {
		a.Start()
	}
	t.Cleanup(a.Close)
	return a
}

// tlsACS starts a TLS ACS whose certificate is issued by ca for 127.0.0.1
// (or for the DNS names given instead).
func tlsACS(t *testing.T, h http.Handler, ca *testCA, dns ...string) *acs {
	t.Helper()
	ips := localhost
	if len(dns) > 0 {
		ips = nil
	}
	certPEM, keyPEM := ca.Issue(t, false, ips, dns...)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return newACS(t, h, &tls.Config{Certificates: []tls.Certificate{cert}})
}

// syncBuffer collects log output from the client under test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.Logger = testLogger(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantError checks that err is an *Error of the kind with the user message.
func wantError(t *testing.T, err error, kind ErrorKind, msg string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *transport.Error %v %q", err, err, kind, msg)
	}
	if e.Kind != kind || e.UserMessage() != msg {
		t.Fatalf("err = %v: kind %v, message %q; want %v, %q", err, e.Kind, e.UserMessage(), kind, msg)
	}
	return e
}

func errorsAs(err error, target **Error) bool { return errors.As(err, target) }
