package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// scriptACS answers each request it reads, on whatever connection, with
// the next of a list of raw responses, written as they are: it is the
// hostile or broken ACS, on a real 127.0.0.1 listener.
type scriptACS struct {
	ln net.Listener

	mu      sync.Mutex
	answers [][]byte // what is left to send
	served  [][]byte // the answer sent to each request, in order
	reqs    []*http.Request
}

func newScriptACS(tb testing.TB) *scriptACS {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	a := &scriptACS{ln: ln}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go a.serve(c)
		}
	}()
	return a
}

func (a *scriptACS) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		a.mu.Lock()
		a.reqs = append(a.reqs, req)
		if len(a.answers) == 0 {
			a.mu.Unlock()
			return // nothing left to say: the connection just closes
		}
		ans := a.answers[0]
		a.answers = a.answers[1:]
		a.served = append(a.served, ans)
		a.mu.Unlock()
		raw, closeAfter := bytes.CutSuffix(ans, []byte("$X"))
		if resp, _, complete := parseAnswer(raw); !complete || resp.Close {
			// A truncated answer, or more than one, ends the connection
			// rather than leave the client waiting for the rest, and so
			// does one that says so or whose body runs to the close.
			closeAfter = true
		}
		if _, err := c.Write(raw); err != nil || closeAfter {
			return
		}
	}
}

func (a *scriptACS) set(answers [][]byte) {
	a.mu.Lock()
	a.answers, a.served, a.reqs = answers, nil, nil
	a.mu.Unlock()
}

func (a *scriptACS) log() ([][]byte, []*http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.served, a.reqs
}

// parseAnswer reads raw as the response to a POST, skipping interim 1xx
// answers as the client does: the final response with its body read, and
// whether raw was exactly one complete answer.
func parseAnswer(raw []byte) (*http.Response, []byte, bool) {
	r := bytes.NewReader(raw)
	br := bufio.NewReader(r)
	req := &http.Request{Method: http.MethodPost}
	for interim := 0; interim <= maxInterim; interim++ {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, nil, false
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return resp, nil, false
		}
		return resp, body, br.Buffered() == 0 && r.Len() == 0
	}
	return nil, nil, false
}

const fuzzPassword = "acs-pw<5b7e>"

// FuzzClientAgainstHostileACS makes the session's POSTs (up to four, on one
// Client, as a session does) to an ACS that answers each request with the
// next of the input's raw responses, separated by "$N". In a response, $U
// stands for this ACS's own URL (for a Location that the client can
// follow) and a trailing $X closes the connection after it. Anything goes
// in them: status lines, interim answers, WWW-Authenticate challenges,
// Set-Cookie, chunked or short bodies, garbage.
//
// Whatever comes back: Post returns within its deadline; nil error with
// 200 or 204 and a *Error of a known kind otherwise; the body it returns is
// the one the answer carried, and never more than MaxBodyBytes; a Post
// makes a bounded number of requests; no request carries a Cookie header
// over the session's limit, the password in clear, or Basic credentials
// over plain http; and neither an error nor the log quotes the password.
func FuzzClientAgainstHostileACS(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"acs\", nonce=\"n1\", qop=\"auth\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n$NHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok$NHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"acs\"\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"acs\", nonce=\"n1\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n$NHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"acs\", nonce=\"n2\", qop=\"auth\", stale=true\r\nContent-Length: 0\r\n\r\n$NHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: $U/other\r\nContent-Length: 0\r\n\r\n$NHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 307 Temporary Redirect\r\nLocation: /relative\r\nContent-Length: 0\r\n\r\n$NHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 301 Moved\r\nLocation: ftp://x/\r\n\r\n",
		"HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Path=/\r\nSet-Cookie: t=\"q\"; Max-Age=0\r\nContent-Length: 0\r\n\r\n$NHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end$X",
		"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/xml\r\nContent-Length: 7\r\n\r\n<fault>",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n$X$NHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody to EOF",
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n" + strings.Repeat("x", 5000),
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
	} {
		f.Add([]byte(s))
	}
	acs := newScriptACS(f)
	url := "http://" + acs.ln.Addr().String()
	f.Fuzz(func(t *testing.T, in []byte) {
		var answers [][]byte
		for _, a := range bytes.Split(in, []byte("$N")) {
			answers = append(answers, bytes.ReplaceAll(a, []byte("$U"), []byte(url)))
		}
		acs.set(answers)
		var logs bytes.Buffer
		const maxBody = 4 << 10
		c, err := New(Config{URL: url + "/acs", Username: "cpe", Password: fuzzPassword, ExchangeTimeout: 3 * time.Second,
			MaxBodyBytes: maxBody, Logger: zerolog.New(&logs).Level(zerolog.DebugLevel)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		made := 0
		for post := 0; post < 4; post++ {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			start := time.Now()
			kind := []Message{Request, Empty, Response, Empty}[post]
			var body []byte
			if kind != Empty {
				body = []byte("<soap/>")
			}
			status, got, err := c.Post(ctx, body, kind)
			cancel()
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("Post %d took %v", post+1, d)
			}
			served, reqs := acs.log()
			if n := len(reqs) - made; n > 3*(MaxRedirects+2) {
				t.Fatalf("Post %d made %d requests", post+1, n)
			}
			made = len(reqs)
			if len(got) > maxBody {
				t.Fatalf("Post %d returned a %d-byte body, limit %d", post+1, len(got), maxBody)
			}
			var te *Error
			switch {
			case err == nil:
				if status != http.StatusOK && status != http.StatusNoContent {
					t.Fatalf("Post %d: status %d without an error", post+1, status)
				}
			case !errors.As(err, &te):
				t.Fatalf("Post %d: error %T is not a *transport.Error: %v", post+1, err, err)
			case te.Kind < KindConfig || te.Kind > KindCanceled || te.UserMessage() == "":
				t.Fatalf("Post %d: error of kind %v, message %q", post+1, te.Kind, te.UserMessage())
			case te.Kind == KindHTTPStatus && (status != te.Status || status == http.StatusOK || status == http.StatusNoContent):
				t.Fatalf("Post %d: http-status error for status %d (%d)", post+1, te.Status, status)
			}
			if err != nil && strings.Contains(err.Error(), fuzzPassword) {
				t.Fatalf("Post %d: the error quotes the password: %v", post+1, err)
			}
			if (err == nil || te.Kind == KindHTTPStatus) && len(served) > 0 {
				// What Post returns is what the last answer carried.
				if resp, want, complete := parseAnswer(bytes.TrimSuffix(served[len(served)-1], []byte("$X"))); complete && resp.StatusCode == status && !bytes.Equal(got, want) {
					t.Fatalf("Post %d: returned body %q, the answer carried %q", post+1, got, want)
				}
			}
			if err != nil {
				break // a failed exchange fails the session
			}
		}
		_, reqs := acs.log()
		for i, r := range reqs {
			authz := r.Header.Get("Authorization")
			if strings.HasPrefix(authz, "Basic ") {
				t.Fatalf("request %d: Basic credentials over plain http", i+1)
			}
			if strings.Contains(authz, fuzzPassword) || strings.Contains(authz, base64.StdEncoding.EncodeToString([]byte("cpe:"+fuzzPassword))) {
				t.Fatalf("request %d: the password in the clear: %q", i+1, authz)
			}
			if n := len(r.Header.Get("Cookie")); n > maxCookieBytes {
				t.Fatalf("request %d: a Cookie header of %d bytes", i+1, n)
			}
		}
		if bytes.Contains(logs.Bytes(), []byte(fuzzPassword)) {
			t.Fatalf("the log quotes the password:\n%s", logs.String())
		}
	})
}
