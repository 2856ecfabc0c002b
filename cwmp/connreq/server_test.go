package connreq

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/digest"
	"github.com/rs/zerolog"
)

// recorder collects the attempts reported by the server.
type recorder struct {
	mu       sync.Mutex
	attempts []Attempt
	accepted chan Attempt
}

func newRecorder() *recorder { return &recorder{accepted: make(chan Attempt, 4096)} }

func (r *recorder) on(a Attempt) {
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
	if a.Accepted {
		r.accepted <- a
	}
}

func (r *recorder) all() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.attempts...)
}

// waitFor waits until n attempts were reported (the callback runs after the
// answer is flushed, so it may trail the client by a moment).
func (r *recorder) waitFor(t *testing.T, n int) []Attempt {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if a := r.all(); len(a) >= n || time.Now().After(deadline) {
			return a
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type creds struct {
	mu         sync.Mutex
	user, pass string
}

func (c *creds) get() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user, c.pass
}

func (c *creds) set(u, p string) {
	c.mu.Lock()
	c.user, c.pass = u, p
	c.mu.Unlock()
}

func start(t *testing.T, cfg Config) (*Server, *recorder, *creds) {
	t.Helper()
	rec := newRecorder()
	cr := &creds{user: "acs", pass: "cr-secret"}
	if cfg.Path == "" {
		p, err := NewPath(nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Path = p
	}
	cfg.Addr = "127.0.0.1:0"
	cfg.Credentials = cr.get
	cfg.OnRequest = rec.on
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t))
	if cfg.Burst == 0 {
		cfg.Burst, cfg.Interval = 1000, time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, rec, cr
}

func get(t *testing.T, c *http.Client, url, authz string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// handshake does what an ACS does: GET, take the challenge, GET again with
// Digest credentials. It returns the second answer.
func handshake(t *testing.T, c *http.Client, url, user, pass string) *http.Response {
	t.Helper()
	resp := get(t, c, url, "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated GET: %d, want 401", resp.StatusCode)
	}
	a := clientAuth(t, resp, user, pass)
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	h, err := a.Authorize(http.MethodGet, req.URL.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	return get(t, c, url, h)
}

func clientAuth(t *testing.T, resp *http.Response, user, pass string) *digest.ClientAuth {
	t.Helper()
	cs, err := digest.ParseChallenges(resp.Header.Get("WWW-Authenticate"))
	if err != nil {
		t.Fatalf("challenge %q: %v", resp.Header.Get("WWW-Authenticate"), err)
	}
	ch, ok := digest.SelectDigest(cs)
	if !ok {
		t.Fatalf("no usable digest challenge in %q", resp.Header.Get("WWW-Authenticate"))
	}
	a, err := digest.NewClientAuth(ch, user, pass, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAcceptedWithDigest(t *testing.T) {
	s, rec, _ := start(t, Config{})
	url := s.URL("127.0.0.1")
	resp := handshake(t, http.DefaultClient, url+"?ignored=1", "acs", "cr-secret")
	if resp.StatusCode != http.StatusOK || resp.ContentLength != 0 {
		t.Fatalf("authenticated GET: %d (length %d), want 200 with an empty body", resp.StatusCode, resp.ContentLength)
	}
	select {
	case a := <-rec.accepted:
		if a.Reason != ReasonAccepted || !strings.HasPrefix(a.Remote, "127.0.0.1:") || a.Status != 200 {
			t.Errorf("accepted attempt %+v", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnRequest not called for an accepted request")
	}
	if got := reasons(rec.waitFor(t, 2)); strings.Join(got, "|") != ReasonAccepted+"|"+ReasonChallenge {
		t.Errorf("reported %q; want a challenge and an acceptance", got)
	}
}

func TestRefusals(t *testing.T) {
	s, rec, _ := start(t, Config{})
	url := s.URL("127.0.0.1")
	c := &http.Client{}

	// No credentials, then wrong ones: 401 with a fresh challenge each time.
	resp := get(t, c, url, "")
	first := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || !strings.HasPrefix(first, "Digest ") {
		t.Fatalf("no credentials: %d %q", resp.StatusCode, first)
	}
	resp = handshake(t, c, url, "acs", "wrong")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" || resp.Header.Get("WWW-Authenticate") == first {
		t.Errorf("wrong password: %d, challenge %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp = handshake(t, c, url, "eve", "cr-secret")
	if resp.StatusCode != 401 {
		t.Errorf("wrong user: %d", resp.StatusCode)
	}
	// Basic with the right password is still refused.
	resp = get(t, c, url, digest.BasicAuthorization("acs", "cr-secret"))
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Digest ") {
		t.Errorf("basic: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// POST, even well authenticated, is refused.
	resp = get(t, c, url, "")
	a := clientAuth(t, resp, "acs", "cr-secret")
	h, _ := a.Authorize(http.MethodPost, s.cfg.Path)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("Device.X=1"))
	req.Header.Set("Authorization", h)
	presp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != http.StatusMethodNotAllowed || presp.Header.Get("Allow") != "GET" {
		t.Errorf("POST: %d Allow %q", presp.StatusCode, presp.Header.Get("Allow"))
	}
	// Wrong path.
	if resp := get(t, c, "http://"+s.Addr().String()+"/0123456789abcdef0123", ""); resp.StatusCode != 404 {
		t.Errorf("wrong path: %d", resp.StatusCode)
	}
	if resp := get(t, c, "http://"+s.Addr().String()+"/", ""); resp.StatusCode != 404 {
		t.Errorf("root: %d", resp.StatusCode)
	}

	// Callbacks run after each answer is flushed, so their order across
	// connections is not the order of the requests.
	got := rec.waitFor(t, 10)
	want := sorted(ReasonChallenge, ReasonChallenge, ReasonWrongCreds, ReasonChallenge, ReasonWrongCreds,
		ReasonNotDigest, ReasonChallenge, ReasonMethod, ReasonUnknownPath, ReasonUnknownPath)
	if r := reasons(got); strings.Join(r, "|") != strings.Join(want, "|") {
		t.Errorf("reasons %q, want %q", r, want)
	}
	for _, a := range got {
		if a.Accepted || !strings.HasPrefix(a.Remote, "127.0.0.1:") {
			t.Errorf("attempt %+v, want rejected, from 127.0.0.1", a)
		}
	}
}

func TestReplayedAuthorizationRefused(t *testing.T) {
	s, rec, _ := start(t, Config{})
	url := s.URL("127.0.0.1")
	resp := get(t, http.DefaultClient, url, "")
	h, _ := clientAuth(t, resp, "acs", "cr-secret").Authorize(http.MethodGet, s.cfg.Path)
	if resp := get(t, http.DefaultClient, url, h); resp.StatusCode != 200 {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	if resp := get(t, http.DefaultClient, url, h); resp.StatusCode != 401 {
		t.Fatalf("replay: %d, want 401", resp.StatusCode)
	}
	if got := reasons(rec.waitFor(t, 3)); strings.Join(got, "|") != strings.Join(sorted(ReasonAccepted, ReasonChallenge, ReasonReplay), "|") {
		t.Errorf("reported %q", got)
	}
}

func TestCredentialsChangeAtRuntime(t *testing.T) {
	s, _, cr := start(t, Config{})
	url := s.URL("127.0.0.1")
	cr.set("acs", "new-pass")
	if resp := handshake(t, http.DefaultClient, url, "acs", "cr-secret"); resp.StatusCode != 401 {
		t.Errorf("old password: %d, want 401", resp.StatusCode)
	}
	if resp := handshake(t, http.DefaultClient, url, "acs", "new-pass"); resp.StatusCode != 200 {
		t.Errorf("new password: %d, want 200", resp.StatusCode)
	}
	cr.set("", "")
	if resp := handshake(t, http.DefaultClient, url, "", ""); resp.StatusCode != 401 {
		t.Errorf("no credentials configured, empty answer: %d, want 401", resp.StatusCode)
	}
	cr.set("acs", "")
	if resp := handshake(t, http.DefaultClient, url, "acs", ""); resp.StatusCode != 401 {
		t.Errorf("empty password configured: %d, want 401", resp.StatusCode)
	}
}

func TestBodyIsNotRead(t *testing.T) {
	s, _, _ := start(t, Config{})
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A GET that claims a large body it never sends: the server must answer
	// without waiting for it.
	io.WriteString(conn, "GET "+s.cfg.Path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil || !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 401")) {
		t.Fatalf("answer %q, %v; want a 401 without reading the body", buf[:n], err)
	}
}

func TestPathAndURL(t *testing.T) {
	p, err := NewPath(bytes.NewReader(bytes.Repeat([]byte{0xa5}, 16)))
	if err != nil || p != "/"+strings.Repeat("a5", 16) {
		t.Fatalf("NewPath = %q, %v", p, err)
	}
	if err := ValidPath(p); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "/", "/abc", "/0123456789abcdeg", "0123456789abcdef0", "/0123456789abcdef/x"} {
		if ValidPath(bad) == nil {
			t.Errorf("ValidPath(%q) accepted", bad)
		}
		if _, err := New(Config{Path: bad, Credentials: func() (string, string) { return "a", "b" }}); err == nil {
			t.Errorf("New accepted path %q", bad)
		}
	}
	if _, err := NewPath(bytes.NewReader(nil)); err == nil {
		t.Error("NewPath with an exhausted source succeeded")
	}
	s, err := New(Config{Path: p, Credentials: func() (string, string) { return "a", "b" }})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.URL("192.0.2.7"); got != "http://192.0.2.7:7547"+p {
		t.Errorf("URL = %q", got)
	}
	if got := s.URL("2001:db8::1"); got != "http://[2001:db8::1]:7547"+p {
		t.Errorf("URL = %q", got)
	}
	started, _, _ := start(t, Config{Path: p})
	_, port, _ := net.SplitHostPort(started.Addr().String())
	if got := started.URL("127.0.0.1"); got != "http://127.0.0.1:"+port+p {
		t.Errorf("URL after Start = %q", got)
	}
}

// When Close returns the port is free again, so that a restart can bind it
// (Serve runs in a goroutine that may not have taken the listener yet).
func TestCloseStopsListening(t *testing.T) {
	for i := 0; i < 20; i++ {
		s, _, _ := start(t, Config{})
		addr := s.Addr().String()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("round %d: port still bound after Close: %v", i, err)
		}
		l.Close()
	}
}

func reasons(as []Attempt) []string {
	var r []string
	for _, a := range as {
		r = append(r, a.Reason)
	}
	return sorted(r...)
}

func sorted(s ...string) []string {
	s = append([]string(nil), s...)
	slices.Sort(s)
	return s
}

// A callback that blocks must not hold back the 200 (D§13.1: answer first,
// then start the session).
func TestAnswerDoesNotWaitForCallback(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p, _ := NewPath(nil)
	s, err := New(Config{
		Addr: "127.0.0.1:0", Path: p, Burst: 100, Interval: time.Millisecond,
		Credentials: func() (string, string) { return "acs", "pw" },
		OnRequest: func(a Attempt) {
			if a.Accepted {
				<-release
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client := &http.Client{Timeout: 3 * time.Second}
	if resp := handshake(t, client, s.URL("127.0.0.1"), "acs", "pw"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 while the callback is still blocked", resp.StatusCode)
	}
}

// "OPTIONS *" must reach ServeHTTP like any other request: net/http's
// built-in answer keeps the connection open and reports nothing, so a few
// such clients would hold every connection slot while the ACS waits.
func TestOptionsStarIsRefusedAndClosed(t *testing.T) {
	s, rec, _ := start(t, Config{MaxConns: 1})
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("OPTIONS *: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !resp.Close {
		t.Fatalf("OPTIONS * answered %d, Connection: close %v; want 404 and close", resp.StatusCode, resp.Close)
	}
	// The server must really hang up, not just say so.
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the answer read %d bytes, %v; want EOF", n, err)
	}
	// The only slot is free again: the ACS gets through while the OPTIONS
	// client still holds its end open.
	c := &http.Client{Timeout: 3 * time.Second}
	if resp := handshake(t, c, s.URL("127.0.0.1"), "acs", "cr-secret"); resp.StatusCode != 200 {
		t.Errorf("connection request after OPTIONS *: %d", resp.StatusCode)
	}
	if got := reasons(rec.waitFor(t, 3)); strings.Join(got, "|") != strings.Join(sorted(ReasonAccepted, ReasonChallenge, ReasonUnknownPath), "|") {
		t.Errorf("reported %q; want OPTIONS * reported as an unknown path", got)
	}
}

// A changed connection-request port moves the listener: the new address
// answers, the old one is closed and free, and a port that cannot be bound
// leaves the server where it was.
func TestRebindMovesTheListener(t *testing.T) {
	s, rec, _ := start(t, Config{})
	c := &http.Client{}
	old := s.Addr().String()
	if r := handshake(t, c, s.URL("127.0.0.1"), "acs", "cr-secret"); r.StatusCode != http.StatusOK {
		t.Fatalf("before the move: %d", r.StatusCode)
	}
	c.CloseIdleConnections()

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if err := s.Rebind(taken.Addr().String()); err == nil {
		t.Fatal("Rebind to a port in use succeeded")
	}
	if got := s.Addr().String(); got != old {
		t.Fatalf("failed Rebind moved the server to %s", got)
	}
	if r := handshake(t, c, s.URL("127.0.0.1"), "acs", "cr-secret"); r.StatusCode != http.StatusOK {
		t.Fatalf("after a failed move: %d", r.StatusCode)
	}
	c.CloseIdleConnections()

	if err := s.Rebind("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	moved := s.Addr().String()
	if moved == old || !strings.Contains(s.URL("127.0.0.1"), moved) {
		t.Fatalf("moved to %s (URL %s), was %s", moved, s.URL("127.0.0.1"), old)
	}
	if r := handshake(t, c, s.URL("127.0.0.1"), "acs", "cr-secret"); r.StatusCode != http.StatusOK {
		t.Fatalf("after the move: %d", r.StatusCode)
	}
	l, err := net.Listen("tcp", old)
	if err != nil {
		t.Fatalf("old port still bound after the move: %v", err)
	}
	l.Close()
	if got := len(rec.waitFor(t, 6)); got != 6 {
		t.Fatalf("%d attempts reported, want 6 (3 handshakes)", got)
	}
	// Start after a Rebind keeps the moved listener.
	if err := s.Start(); err != nil || s.Addr().String() != moved {
		t.Fatalf("Start after Rebind: %v, at %s", err, s.Addr())
	}
	// Unbind closes the port (connection requests off); Start opens it again.
	s.Unbind()
	if s.Addr() != nil {
		t.Fatalf("listening at %s after Unbind", s.Addr())
	}
	if c, err := net.Dial("tcp", moved); err == nil {
		c.Close()
		t.Fatal("port still accepts connections after Unbind")
	}
	if err := s.Start(); err != nil || s.Addr() == nil {
		t.Fatalf("Start after Unbind: %v, at %v", err, s.Addr())
	}
	if r := handshake(t, c, s.URL("127.0.0.1"), "acs", "cr-secret"); r.StatusCode != http.StatusOK {
		t.Fatalf("after Unbind and Start: %d", r.StatusCode)
	}
}
