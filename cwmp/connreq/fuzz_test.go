package connreq

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/digest"
)

// logBuffer is a zerolog sink the server's goroutines may write to.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const fuzzSecret = "cr-pw<3d81>"

// FuzzConnectionRequestServer writes any bytes to the real server on a
// 127.0.0.1 port, as anyone on the network can, half-closes, and reads
// every answer until the server closes. In the input, $P stands for the
// secret path, $A for an Authorization header value a real ACS would
// compute for "GET $P" from a fresh challenge of the server (each $A with
// the next nonce count), and $R for the last $A again (a replay).
//
// Whatever arrives: the server answers with well-formed HTTP and closes
// the connection (no hang, no slot held); its own answers are exactly the
// attempts it reports, in order, each with an empty body, a Digest
// challenge on every 401 and "Connection: close" on every other; a 200
// needs a fresh $A (a replay, a wrong path or method, a guess: never);
// 503 only once the burst of 4 is spent within one input; and neither
// an answer nor the log carries the password.
func FuzzConnectionRequestServer(f *testing.F) {
	for _, s := range []string{
		"GET $P HTTP/1.1\r\nHost: cpe\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\n\r\nGET $P HTTP/1.1\r\nHost: cpe\r\nAuthorization: $A\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\nAuthorization: $A\r\n\r\n$CGET $P HTTP/1.1\r\nHost: cpe\r\nAuthorization: $R\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\nAuthorization: $A\r\n\r\n$CGET $P HTTP/1.1\r\nHost: cpe\r\nAuthorization: $A\r\n\r\n$CGET $P HTTP/1.1\r\n\r\n$CGET $P HTTP/1.1\r\n\r\n$CGET $P HTTP/1.1\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\nAuthorization: Basic YWNzOmNyLXB3PDNkODE+\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\nAuthorization: Digest username=\"acs\", realm=\"cwmpd\", nonce=\"x\", uri=\"$P\", response=\"0\", qop=auth, nc=00000001, cnonce=\"c\"\r\n\r\n",
		"POST $P HTTP/1.1\r\nHost: cpe\r\nContent-Length: 5\r\n\r\nhello",
		"GET $P?x=1 HTTP/1.1\r\nHost: cpe\r\nAuthorization: $A\r\n\r\n",
		"GET /0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: cpe\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: cpe\r\n\r\n",
		"GET $P HTTP/1.0\r\n\r\nGET $P HTTP/1.0\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\n\r\nGET $P HTTP/1.1\r\nHost: cpe\r\n\r\nGET $P HTTP/1.1\r\nHost: cpe\r\n\r\nGET $P HTTP/1.1\r\nHost: cpe\r\n\r\nGET $P HTTP/1.1\r\nHost: cpe\r\n\r\n",
		"GET $P HTTP/1.1\r\nHost: cpe\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n",
		"GET http://cpe$P HTTP/1.1\r\nHost: cpe\r\nAuthorization: $A\r\n\r\n",
		"\x16\x03\x01\x00\x05hello",
		"GET $P HTTP/1.1\r\nHost: cpe\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	logs := &logBuffer{}
	rec := newRecorder()
	path, err := NewPath(nil)
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Addr: "127.0.0.1:0", Path: path, Credentials: func() (string, string) { return "acs", fuzzSecret },
		OnRequest: rec.on, Logger: zerolog.New(logs).Level(zerolog.DebugLevel), Now: clk.now})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	addr := s.Addr().String()

	f.Fuzz(func(t *testing.T, in []byte) {
		// A full bucket (4 tokens) for every input.
		clk.advance(time.Minute)
		rec.mu.Lock()
		rec.attempts = nil
		rec.mu.Unlock()
		logs.mu.Lock()
		logs.b.Reset()
		logs.mu.Unlock()

		// Fill in the placeholders; $C starts the next connection.
		fresh := 0
		var auth *digest.ClientAuth
		last := ""
		conns := []*bytes.Buffer{{}}
		for rest := in; len(rest) > 0; {
			req := conns[len(conns)-1]
			i := bytes.IndexByte(rest, '$')
			if i < 0 || i == len(rest)-1 {
				req.Write(rest)
				break
			}
			req.Write(rest[:i])
			switch rest[i+1] {
			case 'P':
				req.WriteString(path)
			case 'A':
				if auth == nil {
					cs, err := digest.ParseChallenges(s.v.Challenge(false))
					ch, ok := digest.SelectDigest(cs)
					if err != nil || !ok {
						t.Fatalf("the server's own challenge: %v", err)
					}
					if auth, err = digest.NewClientAuth(ch, "acs", fuzzSecret, nil); err != nil {
						t.Fatal(err)
					}
				}
				last, _ = auth.Authorize(http.MethodGet, path)
				req.WriteString(last)
				fresh++
			case 'R':
				req.WriteString(last)
			case 'C':
				conns = append(conns, &bytes.Buffer{})
			default:
				req.Write(rest[i : i+2])
			}
			rest = rest[i+2:]
		}
		if len(conns) > 8 {
			conns = conns[:8]
		}
		var all []Attempt
		for _, req := range conns {
			attempts, raw := exchangeRaw(t, addr, req.Bytes(), rec)
			checkAnswers(t, attempts, raw)
			all = append(all, attempts...)
		}
		accepted := 0
		for _, a := range all {
			if a.Accepted {
				accepted++
			}
		}
		if accepted > fresh {
			t.Fatalf("%d accepted with %d fresh Authorizations:\n%q", accepted, fresh, in)
		}
		for i, a := range all {
			if a.Status == http.StatusServiceUnavailable {
				spent := 0
				for _, b := range all[:i] {
					if b.Reason != ReasonUnknownPath && b.Reason != ReasonMethod {
						spent++
					}
				}
				if spent < DefaultBurst {
					t.Fatalf("attempt %d rate limited after %d tokens of %d", i+1, spent, DefaultBurst)
				}
			}
		}
		if strings.Contains(logs.String(), fuzzSecret) {
			t.Fatalf("the log carries the password:\n%s", logs.String())
		}
	})
}

// exchangeRaw writes req on a new connection, half-closes it and reads
// until the server closes; it returns the answers and the attempts the
// server reported for them.
func exchangeRaw(t *testing.T, addr string, req []byte, rec *recorder) ([]Attempt, []byte) {
	t.Helper()
	before := len(rec.all())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// The server may close before reading everything: a write error is
	// the server's right, not a failure.
	c.Write(req)
	c.(*net.TCPConn).CloseWrite()
	raw, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server neither answered nor closed within 10s; got %q", raw)
	}
	if bytes.Contains(raw, []byte(fuzzSecret)) {
		t.Fatalf("an answer carries the password:\n%q", raw)
	}
	// The server reports an attempt after its answer is flushed, and
	// closes the connection only after that.
	return rec.all()[before:], raw
}

// checkAnswers checks one connection's answers against the attempts the
// server reported for it.
func checkAnswers(t *testing.T, attempts []Attempt, raw []byte) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(raw))
	var resps []*http.Response
	var bodies [][]byte
	for {
		if _, err := br.Peek(1); err != nil {
			break
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if len(resps) < len(attempts) {
				t.Fatalf("answer %d does not parse: %v\n%q", len(resps)+1, err, raw)
			}
			break // a reset may cut net/http's own last answer short
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusContinue {
			continue
		}
		resps, bodies = append(resps, resp), append(bodies, body)
	}
	if len(resps) < len(attempts) {
		t.Fatalf("%d attempts reported, %d answers read:\n%q", len(attempts), len(resps), raw)
	}
	for i, a := range attempts {
		resp := resps[i]
		if resp.StatusCode != a.Status {
			t.Fatalf("attempt %d reported %d (%s), answered %d", i+1, a.Status, a.Reason, resp.StatusCode)
		}
		if a.Accepted != (a.Status == http.StatusOK) {
			t.Fatalf("attempt %d: accepted=%v with status %d", i+1, a.Accepted, a.Status)
		}
		if len(bodies[i]) != 0 || resp.ContentLength != 0 {
			t.Fatalf("answer %d has a body: %q", i+1, bodies[i])
		}
		switch a.Status {
		case http.StatusOK, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusServiceUnavailable:
		case http.StatusUnauthorized:
			cs, err := digest.ParseChallenges(resp.Header.Get("WWW-Authenticate"))
			if _, ok := digest.SelectDigest(cs); err != nil || !ok {
				t.Fatalf("401 without a usable Digest challenge: %q", resp.Header.Get("WWW-Authenticate"))
			}
		default:
			t.Fatalf("attempt %d: status %d", i+1, a.Status)
		}
		if a.Status != http.StatusUnauthorized && !resp.Close {
			t.Fatalf("answer %d (%d) keeps the connection open", i+1, a.Status)
		}
		if resp.Close && i+1 < len(resps) {
			t.Fatalf("answers after answer %d, which closed the connection:\n%q", i+1, raw)
		}
	}
	for i, resp := range resps[len(attempts):] {
		// net/http's own refusal of what is no request ends the connection.
		if resp.StatusCode < 400 || !resp.Close || len(attempts)+i+1 != len(resps) {
			t.Fatalf("an answer the handler did not give: %d (close %v)\n%q", resp.StatusCode, resp.Close, raw)
		}
	}
}
