package transport

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// rawRequest is one request as it crossed the wire, header names unaltered.
type rawRequest struct {
	line    string
	headers []string // "Name: value" as sent
	body    string
}

func (r rawRequest) header(name string) (string, bool) {
	for _, h := range r.headers {
		k, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// rawACS accepts connections and answers every request with 204, recording
// requests byte-faithfully; net/http's server would canonicalise names.
func rawACS(t *testing.T) (url string, reqs chan rawRequest, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	reqs = make(chan rawRequest, 16)
	conns = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				tp := textproto.NewReader(br)
				for {
					line, err := tp.ReadLine()
					if err != nil {
						return
					}
					r := rawRequest{line: line}
					n := 0
					for {
						h, err := tp.ReadLine()
						if err != nil {
							return
						}
						if h == "" {
							break
						}
						r.headers = append(r.headers, h)
						if k, v, _ := strings.Cut(h, ":"); strings.EqualFold(k, "Content-Length") {
							n, _ = strconv.Atoi(strings.TrimSpace(v))
						}
					}
					b := make([]byte, n)
					if _, err := io.ReadFull(br, b); err != nil {
						return
					}
					r.body = string(b)
					reqs <- r
					io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/acs", reqs, conns
}

func TestHeadersPerMessageKind(t *testing.T) {
	url, reqs, conns := rawACS(t)
	c := newClient(t, Config{URL: url})
	ctx := context.Background()

	for _, m := range []Message{Request, Empty, Response} {
		body := []byte("<soap/>")
		if m == Empty {
			body = nil
		}
		status, got, err := c.Post(ctx, body, m)
		if err != nil || status != http.StatusNoContent || len(got) != 0 {
			t.Fatalf("%v: Post = %d, %q, %v", m, status, got, err)
		}
		r := <-reqs
		if r.line != "POST /acs HTTP/1.1" {
			t.Errorf("%v: request line %q", m, r.line)
		}
		cl, _ := r.header("Content-Length")
		ct, hasCT := r.header("Content-Type")
		sa, hasSA := r.header("SOAPAction")
		switch m {
		case Empty:
			if cl != "0" || hasCT || hasSA || r.body != "" {
				t.Errorf("empty POST sent %q with body %q; want Content-Length: 0 and no Content-Type or SOAPAction", r.headers, r.body)
			}
		default:
			if cl != "7" || ct != `text/xml; charset="utf-8"` || !hasSA || sa != "" || r.body != "<soap/>" {
				t.Errorf("%v POST sent %q with body %q", m, r.headers, r.body)
			}
			if !contains(r.headers, "SOAPAction: ") && !contains(r.headers, "SOAPAction:") {
				t.Errorf("%v POST: SOAPAction not sent with that spelling and no value: %q", m, r.headers)
			}
		}
		if _, ok := r.header("Authorization"); ok {
			t.Errorf("%v: credentials sent without a challenge", m)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for one session, want 1", n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestConfigRefusals(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "ftp://acs/"},
		{URL: "http://"},
		{URL: "https://user:pw@acs.example/"},
		{URL: "://bad"},
		{URL: "https://acs.example/", CACertPEM: []byte("not pem")},
		{URL: "https://acs.example/", ClientCertPEM: []byte("not pem")},
	} {
		_, err := New(cfg)
		var e *Error
		if !errorsAs(err, &e) || e.Kind != KindConfig {
			t.Errorf("New(%q…) = %v, want a KindConfig error", cfg.URL, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
	c := newClient(t, Config{URL: "http://127.0.0.1:1/"})
	if _, _, err := c.Post(context.Background(), []byte("x"), Empty); err == nil {
		t.Error("empty POST with a body was sent")
	}
}

// url.Parse's error quotes the whole raw URL; New must not pass on the
// user-info in it, nor a piece of a password that an unescaped '/' made
// url.Parse take for a port.
func TestNewErrorCarriesNoUserinfo(t *testing.T) {
	for _, tc := range []struct{ url, detail string }{
		{"https://opsuser:Hunter2-very-secret@acs.example.com:80a/cwmp", `"https://acs.example.com:80a/cwmp": invalid port ":80a" after host`},
		{"https://opsuser:Hunter2/very-secret@acs.example.com/cwmp", "user-info"},
		{"https://opsuser:Hunter2%zzvery-secret@acs.example.com/cwmp", "user-info"},
	} {
		_, err := New(Config{URL: tc.url, Username: "opsuser", Password: "Hunter2-very-secret"})
		e := wantError(t, err, KindConfig, "invalid ACS URL")
		for _, secret := range []string{"opsuser", "Hunter2", "very-secret", "%zz"} {
			if strings.Contains(err.Error(), secret) || strings.Contains(e.UserMessage(), secret) {
				t.Errorf("New(%q): error carries user-info %q: %v", tc.url, secret, err)
			}
		}
		if !strings.Contains(err.Error(), tc.detail) {
			t.Errorf("New(%q) = %v; want it to say %s", tc.url, err, tc.detail)
		}
	}
}

func TestInsecure(t *testing.T) {
	if c := newClient(t, Config{URL: "http://acs.example/"}); !c.Insecure() {
		t.Error("http URL not reported insecure")
	}
	if c := newClient(t, Config{URL: "https://acs.example/"}); c.Insecure() {
		t.Error("https URL reported insecure")
	}
}
