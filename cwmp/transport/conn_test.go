package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An ACS (or a proxy in front of it) may close the connection after any
// answer, typically a 401: the next POST of the session dials again.
func TestConnectionCloseFromTheACSRedials(t *testing.T) {
	n := 0
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n++
		if n == 1 {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusNoContent)
	}), nil)
	c := newClient(t, Config{URL: srv.URL})
	for i := range 3 {
		if status, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil || status != 204 {
			t.Fatalf("POST %d = %d, %v", i, status, err)
		}
	}
	if got := srv.conns.Load(); got != 2 {
		t.Fatalf("%d connections, want 2: one closed by the ACS after the first answer, one kept for the rest", got)
	}
}

// scriptedACS answers every request read on an accepted connection with the bytes
// reply returns, written as is; it serves one connection at a time.
func scriptedACS(t *testing.T, reply func(conn net.Conn) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if reply(conn) != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/acs"
}

func TestInterimResponsesAreSkipped(t *testing.T) {
	url := scriptedACS(t, func(conn net.Conn) error {
		_, err := io.WriteString(conn, "HTTP/1.1 100 Continue\r\n\r\n"+
			"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"+
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
		return err
	})
	c := newClient(t, Config{URL: url})
	for i := range 2 { // the second POST shows the connection is still framed right
		status, body, err := c.Post(context.Background(), []byte("x"), Request)
		if err != nil || status != 200 || string(body) != "hello" {
			t.Fatalf("POST %d = %d %q %v", i, status, body, err)
		}
	}
}

func TestOversizedResponseHeadersRefused(t *testing.T) {
	url := scriptedACS(t, func(conn net.Conn) error {
		_, err := fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nX-Junk: %s\r\nContent-Length: 0\r\n\r\n", strings.Repeat("j", 100<<10))
		return err
	})
	c := newClient(t, Config{URL: url})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindNetwork, "ACS response headers larger than 64 KiB")
}

// A response body over the limit drops the connection rather than reading
// the rest: an ACS streaming without end must not hold the session until
// the exchange timeout.
func TestOversizedBodyDropsTheConnection(t *testing.T) {
	closed := make(chan error, 1)
	url := scriptedACS(t, func(conn net.Conn) error {
		if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"); err != nil {
			return err
		}
		chunk := "400\r\n" + strings.Repeat("x", 0x400) + "\r\n"
		for {
			if _, err := io.WriteString(conn, chunk); err != nil {
				closed <- err
				return err
			}
		}
	})
	c := newClient(t, Config{URL: url, MaxBodyBytes: 4096, ExchangeTimeout: time.Hour})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindBody, "ACS response larger than 4096 bytes")
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the ACS could still write 20 s after the client gave up: the connection was not closed")
	}
}

// An ACS or a proxy with a short keep-alive timeout closes the connection
// while the CPE works on its answer, without saying so in the response. The
// next POST must not be written into that dead connection.
func TestIdleConnectionClosedByTheACSIsNotReused(t *testing.T) {
	var conns atomic.Int32
	url := scriptedACS(t, func(conn net.Conn) error {
		conns.Add(1)
		if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
			return err
		}
		return io.EOF // the caller closes the connection
	})
	c := newClient(t, Config{URL: url})
	for i := range 3 {
		if i > 0 {
			// Let the FIN arrive, as it does while the CPE works.
			time.Sleep(50 * time.Millisecond)
		}
		status, body, err := c.Post(context.Background(), []byte("x"), Request)
		if err != nil || status != 200 || string(body) != "ok" {
			t.Fatalf("POST %d = %d %q %v", i, status, body, err)
		}
	}
	if got := conns.Load(); got != 3 {
		t.Fatalf("%d answers, want 3", got)
	}
}

// heldConn holds what is written to it while hold is set and sends it in
// one write on flush, so that several TLS records reach the client in one
// segment and crypto/tls reads them off the socket together.
type heldConn struct {
	net.Conn
	hold bool
	buf  []byte
}

func (h *heldConn) Write(p []byte) (int, error) {
	if h.hold {
		h.buf = append(h.buf, p...)
		return len(p), nil
	}
	return h.Conn.Write(p)
}

// SetWriteDeadline is ignored: tls.Conn.CloseWrite sets a deadline of now
// after queueing its alert, which would fail the flush.
func (h *heldConn) SetWriteDeadline(time.Time) error { return nil }

func (h *heldConn) flush() error {
	h.hold = false
	_, err := h.Conn.Write(h.buf)
	h.buf = nil
	return err
}

// tlsTailACS answers each request over TLS with a 200 whose body is "ok",
// followed in the same segment by the TLS records tail writes; then it
// reads the next request on that connection, if one comes.
func tlsTailACS(t *testing.T, ca *testCA, tail func(*tls.Conn)) (url string, conns *atomic.Int32) {
	t.Helper()
	certPEM, keyPEM := ca.Issue(t, false, localhost)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = new(atomic.Int32)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer raw.Close()
				hc := &heldConn{Conn: raw}
				tc := tls.Server(hc, conf)
				br := bufio.NewReader(tc)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					hc.hold = true
					io.WriteString(tc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					tail(tc)
					if hc.flush() != nil {
						return
					}
				}
			}()
		}
	}()
	return "https://" + ln.Addr().String() + "/acs", conns
}

// Over TLS, what follows a response may already sit in crypto/tls's buffer
// rather than in the socket: a close_notify sent with the response, or the
// surplus of an ACS whose Content-Length is short. Neither connection may
// be reused.
func TestTLSLeftoversAfterAResponseAreNotReused(t *testing.T) {
	for name, tail := range map[string]func(*tls.Conn){
		"close_notify":                    func(tc *tls.Conn) { tc.CloseWrite() },
		"body longer than Content-Length": func(tc *tls.Conn) { io.WriteString(tc, "TAIL") },
	} {
		t.Run(name, func(t *testing.T) {
			ca := newCA(t, "ca")
			url, conns := tlsTailACS(t, ca, tail)
			c := newClient(t, Config{URL: url, CACertPEM: ca.PEM})
			for i := range 3 {
				status, body, err := c.Post(context.Background(), []byte("x"), Request)
				if err != nil || status != 200 || string(body) != "ok" {
					t.Fatalf("POST %d = %d %q %v", i, status, body, err)
				}
			}
			if got := conns.Load(); got != 3 {
				t.Fatalf("%d connections for 3 POSTs, want 3", got)
			}
		})
	}
}

func TestEndlessInterimResponsesRefused(t *testing.T) {
	url := scriptedACS(t, func(conn net.Conn) error {
		_, err := io.WriteString(conn, strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 6)+"HTTP/1.1 204 No Content\r\n\r\n")
		return err
	})
	c := newClient(t, Config{URL: url})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindNetwork, "ACS sent more than 5 interim (1xx) responses")
}
