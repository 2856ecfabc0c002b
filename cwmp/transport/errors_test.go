package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHTTPStatusErrors(t *testing.T) {
	for _, code := range []int{500, 503, 404} {
		srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			io.WriteString(w, "<Fault/>")
		}), nil)
		c := newClient(t, Config{URL: srv.URL})
		status, body, err := c.Post(context.Background(), []byte("x"), Request)
		e := wantError(t, err, KindHTTPStatus, fmt.Sprintf("ACS returned HTTP %d", code))
		if status != code || e.Status != code || string(body) != "<Fault/>" {
			t.Errorf("%d: status %d/%d body %q; want the body handed back for a SOAP fault", code, status, e.Status, body)
		}
	}
}

func TestExchangeTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), nil)
	defer close(release)
	c := newClient(t, Config{URL: srv.URL, ExchangeTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindTimeout, "timeout waiting for ACS response")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timed out after %v, want about 200ms", d)
	}
}

func TestCallerCancellation(t *testing.T) {
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a closed connection only once the body is read.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}), nil)
	c := newClient(t, Config{URL: srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err := c.Post(ctx, []byte("x"), Request)
	wantError(t, err, KindCanceled, "session cancelled")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
}

func TestConnectionResetMidSession(t *testing.T) {
	var n int
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++ // one connection, so handlers run one after another
		if n == 1 {
			io.WriteString(w, "informresponse")
			return
		}
		io.Copy(io.Discard, r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.(*net.TCPConn).SetLinger(0) // close with RST
		conn.Close()
	}), nil)
	c := newClient(t, Config{URL: srv.URL})
	if _, _, err := c.Post(context.Background(), []byte("inform"), Request); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Post(context.Background(), nil, Empty)
	wantError(t, err, KindNetwork, "connection reset by ACS")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("err = %v, want it to wrap ECONNRESET", err)
	}
}

func TestConnectionClosedWithoutAnswer(t *testing.T) {
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}), nil)
	c := newClient(t, Config{URL: srv.URL})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindNetwork, "connection closed by ACS")
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, Config{URL: "http://" + addr + "/acs"})
	_, _, err = c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindNetwork, "cannot connect to ACS: connection refused")
}

func TestConnectTimeout(t *testing.T) {
	// A dialer that never completes stands in for a black-holed ACS.
	c := newClient(t, Config{
		URL:            "http://192.0.2.1/acs",
		ConnectTimeout: 150 * time.Millisecond,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			<-ctx.Done()
			return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
		},
	})
	start := time.Now()
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindTimeout, "timeout connecting to ACS")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestResponseBodyLimit(t *testing.T) {
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 2048))
	}), nil)
	c := newClient(t, Config{URL: srv.URL, MaxBodyBytes: 1024})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindBody, "ACS response larger than 1024 bytes")

	c = newClient(t, Config{URL: srv.URL, MaxBodyBytes: 2048})
	if _, body, err := c.Post(context.Background(), []byte("x"), Request); err != nil || len(body) != 2048 {
		t.Fatalf("body at the limit: %d bytes, %v", len(body), err)
	}
}

func TestPostAfterClose(t *testing.T) {
	c := newClient(t, Config{URL: "http://127.0.0.1:1/"})
	c.Close()
	if _, _, err := c.Post(context.Background(), []byte("x"), Request); err == nil {
		t.Error("Post after Close succeeded")
	}
}
