package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxResponseHeaderBytes bounds the status line and headers of one response.
const maxResponseHeaderBytes = 64 << 10

// errHandshakeTimeout is the TLS handshake outliving ConnectTimeout.
var errHandshakeTimeout = errors.New("TLS handshake timeout")

// errHeaderTooLarge is a response whose headers exceed maxResponseHeaderBytes.
var errHeaderTooLarge = errors.New("response headers larger than 64 KiB")

// maxInterim bounds the 1xx answers skipped before a response, as
// http.Transport does.
const maxInterim = 5

var errTooManyInterim = errors.New("more than 5 interim (1xx) responses")

// Limits on the cookies a session keeps. RFC 6265 §6.1 asks a user agent
// to store at least 50 cookies per domain (and 4096 bytes per cookie); a
// CWMP session talks to one ACS, which needs one or two. 16 KiB bounds
// the Cookie header, which many servers refuse well before that (8 KiB
// per header line is a common default), and so the jar's memory.
const (
	maxCookies     = 50
	maxCookieBytes = 16 << 10
)

var errCookieLimit = errors.New("cookie limit exceeded")

// cookieKey names a cookie as the jar does: by domain, path and name, so
// that a cookie set again replaces the one it replaces in the jar.
type cookieKey struct{ domain, path, name string }

// cookieBook counts the cookies the session's jar may hold: cookiejar
// cannot list them, and some are never sent to the session's URL (another
// path, another host after a redirect) yet take memory all the same. It
// errs on the high side: the path is taken as set, not normalised, cookies
// the jar refuses are counted, and one that merely expires keeps its
// count; only one deleted by Max-Age or a past Expires frees it.
type cookieBook struct {
	sizes map[cookieKey]int
	bytes int
}

func (b *cookieBook) count() int { return len(b.sizes) }

// add records cks set by an answer from u and reports whether the session
// stays within maxCookies and maxCookieBytes. A cookie's size is what it
// adds to a Cookie header: "name=value", quotes cookieHeader may put
// around the value, and the "; " that separates it.
func (b *cookieBook) add(u *url.URL, cks []*http.Cookie, now time.Time) bool {
	if b.sizes == nil {
		b.sizes = map[cookieKey]int{}
	}
	for _, ck := range cks {
		domain := strings.ToLower(strings.TrimPrefix(ck.Domain, "."))
		if domain == "" {
			domain = strings.ToLower(u.Hostname())
		}
		k := cookieKey{domain, ck.Path, ck.Name}
		b.bytes -= b.sizes[k]
		delete(b.sizes, k)
		// As the jar does: Max-Age wins over Expires.
		if ck.MaxAge < 0 || ck.MaxAge == 0 && !ck.Expires.IsZero() && !ck.Expires.After(now) {
			continue
		}
		n := len(ck.Name) + len("=") + len(ck.Value) + len(`""`) + len("; ")
		b.sizes[k] = n
		b.bytes += n
	}
	return len(b.sizes) <= maxCookies && b.bytes <= maxCookieBytes
}

// sessionConn is the session's one connection. CWMP exchanges are strictly
// one at a time (no pipelining, Post calls serialised), so the Client writes
// a request and reads its response itself, on the caller's goroutine.
// net/http's Transport would add a connection pool and a reader and a
// writer goroutine per connection, with channel hand-offs for every
// request: measured, 0.17–0.20 ms more CPU per periodic session
// (docs/benchmarks.md). Framing stays net/http's: Request.Write and
// ReadResponse.
type sessionConn struct {
	seq    uint64   // 1 for the session's first connection, 2 for the next…
	key    string   // scheme://host:port it was dialled for
	raw    net.Conn // the TCP connection under TLS, if any
	nc     net.Conn
	budget *budgetReader
	br     *bufio.Reader
	bw     *bufio.Writer
}

// budgetReader fails once more than n bytes are read, so that a response's
// headers cannot grow without bound (ReadResponse has no limit of its own).
type budgetReader struct {
	r io.Reader
	n int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

func connKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)
}

// idle reports whether the connection has nothing to read, as a kept-alive
// connection between a response and the next request must: bytes there
// (data past a short Content-Length, a TLS close_notify, a FIN, a reset)
// mean it is not reused. Over TLS, records crypto/tls already took off the
// socket are only seen by reading: a read with a past deadline returns at
// once, without a system call, and a timeout leaves a tls.Conn usable. The
// socket itself is checked with a non-blocking MSG_PEEK (peek_unix.go); a
// connection from a custom Config.DialContext without a file descriptor,
// or a platform without MSG_DONTWAIT, gets only the first two checks.
func (sc *sessionConn) idle() bool {
	if sc.br.Buffered() > 0 {
		return false
	}
	if sc.nc != sc.raw {
		sc.nc.SetReadDeadline(time.Unix(1, 0))
		_, err := sc.br.Peek(1)
		sc.nc.SetReadDeadline(time.Time{})
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
	}
	return !peerSpoke(sc.raw)
}

// dropConn closes the session's connection; the next exchange dials anew.
func (c *Client) dropConn() {
	if c.conn != nil {
		c.conn.nc.Close()
		c.conn = nil
	}
}

// connect returns the connection for u, dialling (and for https, shaking
// hands) when there is none or it leads elsewhere (after a redirect).
func (c *Client) connect(ctx context.Context, u *url.URL) (*sessionConn, error) {
	key := connKey(u)
	if c.conn != nil && c.conn.key == key {
		// The ACS, or a proxy with a short keep-alive timeout, may have
		// closed the connection while the CPE worked on its answer without
		// announcing it; http.Transport's reader goroutine would have seen
		// that, so look before writing.
		if c.conn.idle() {
			return c.conn, nil
		}
		c.log.Debug().Msg("acs connection closed while idle; dialling again")
	}
	c.dropConn()
	// Dialled directly: a router talks to its ACS itself, and proxy
	// variables in the daemon's environment are not configuration.
	addr := key[len(u.Scheme)+len("://"):]
	dctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	nc, err := c.dial(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	raw := nc
	if u.Scheme == "https" {
		conf := c.tlsConf.Clone()
		conf.ServerName = u.Hostname()
		tc := tls.Client(nc, conf)
		if err := tc.HandshakeContext(dctx); err != nil {
			nc.Close()
			if dctx.Err() != nil && ctx.Err() == nil {
				return nil, fmt.Errorf("%w: %w", errHandshakeTimeout, err)
			}
			return nil, err
		}
		nc = tc
	}
	budget := &budgetReader{r: nc, n: math.MaxInt64}
	c.connSeq++
	c.conn = &sessionConn{seq: c.connSeq, key: key, raw: raw, nc: nc, budget: budget,
		br: bufio.NewReaderSize(budget, 4<<10), bw: bufio.NewWriterSize(nc, 4<<10)}
	return c.conn, nil
}

// post is one request of the session: always a POST of SOAP (or nothing)
// to url.
type post struct {
	url  *url.URL
	kind Message
	auth string // the Authorization header, if any
	body []byte
}

// roundTrip sends p on sc, the session's connection from connect, and
// reads the response headers. ctx's deadline bounds the whole exchange and
// its cancellation interrupts it; the caller reads the body and closes it,
// which keeps the connection only if the body was read to its end and
// neither side asked to close.
func (c *Client) roundTrip(ctx context.Context, sc *sessionConn, p post) (*http.Response, error) {
	resp, err := c.roundTripOn(ctx, sc, p)
	return resp, contextCause(ctx, err)
}

// contextCause puts ctx's error in front of err once ctx has ended: what
// the socket reports (a past deadline, "operation was canceled") hides why.
func contextCause(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

func (c *Client) roundTripOn(ctx context.Context, sc *sessionConn, p post) (*http.Response, error) {
	deadline, _ := ctx.Deadline()
	sc.nc.SetDeadline(deadline)
	// A cancelled session must not wait for the deadline: a past deadline
	// makes the blocked read or write return at once.
	stop := context.AfterFunc(ctx, func() { sc.nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		c.dropConn()
		return nil, err
	}
	var cookies string
	if c.haveCookies {
		cookies = cookieHeader(c.jar.Cookies(p.url))
	}
	writeRequest(sc.bw, p, c.cfg.UserAgent, cookies)
	if err := sc.bw.Flush(); err != nil {
		return fail(err)
	}
	// ReadResponse takes the request for its method (a HEAD has no body)
	// and for resp.Request, which resolves a relative Location.
	req := &http.Request{Method: http.MethodPost, URL: p.url}
	// Interim 1xx answers (100 Continue, 103 Early Hints) precede the real
	// one; at most maxInterim of them, all within one header budget.
	var (
		resp *http.Response
		err  error
	)
	sc.budget.n = maxResponseHeaderBytes
	for interim := 0; ; interim++ {
		resp, err = http.ReadResponse(sc.br, req)
		if err != nil {
			sc.budget.n = math.MaxInt64
			return fail(err)
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if interim == maxInterim {
			sc.budget.n = math.MaxInt64
			return fail(errTooManyInterim)
		}
	}
	sc.budget.n = math.MaxInt64
	if c.jar != nil && len(resp.Header["Set-Cookie"]) > 0 {
		if cks := resp.Cookies(); len(cks) > 0 {
			if !c.cookies.add(p.url, cks, time.Now()) {
				// Failed rather than trimmed: a session that silently
				// loses a cookie fails later and obscurely at the ACS.
				// The jar goes at once, so memory stays bounded even if
				// the caller keeps the Client, and every later exchange
				// fails the same way (see exchange).
				err := fmt.Errorf("%w: %d cookies, %d bytes", errCookieLimit, c.cookies.count(), c.cookies.bytes)
				c.jar, c.cookies, c.haveCookies, c.cookiesOver = nil, cookieBook{}, false, true
				return fail(err)
			}
			c.jar.SetCookies(p.url, cks)
			c.haveCookies = true
		}
	}
	// A 101 hands the connection to another protocol: never reused.
	keep := !resp.Close && resp.StatusCode >= 200
	resp.Body = &connBody{ReadCloser: resp.Body, c: c, sc: sc, stop: stop, keep: keep}
	return resp, nil
}

// writeRequest frames p as net/http's Request.Write does for the same
// request (same header order and spelling, newlines in values turned into
// spaces), without building an http.Request, parsing its URL again and
// sorting its headers for every POST: a periodic session makes three.
// Errors stay in w and surface at Flush.
func writeRequest(w *bufio.Writer, p post, userAgent, cookies string) {
	w.WriteString("POST ")
	w.WriteString(p.url.RequestURI())
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(hostHeader(p.url.Host))
	headerLine(w, "User-Agent", userAgent)
	w.WriteString("\r\nContent-Length: ")
	var n [20]byte
	w.Write(strconv.AppendInt(n[:0], int64(len(p.body)), 10))
	// The rest in Header.Write's order: sorted by name.
	if p.auth != "" {
		headerLine(w, "Authorization", p.auth)
	}
	if p.kind != Empty {
		headerLine(w, "Content-Type", ContentType)
	}
	if cookies != "" {
		headerLine(w, "Cookie", cookies)
	}
	if p.kind != Empty {
		// Spelled as the specification spells it: Header.Set would
		// canonicalise it to "Soapaction", and some ACS implementations
		// match the name literally.
		w.WriteString("\r\nSOAPAction: ")
	}
	w.WriteString("\r\n\r\n")
	w.Write(p.body)
}

// headerLine writes "\r\nname: value", a newline in value becoming a space
// and the ends trimmed as Header.Write does, so a value cannot start a
// header of its own.
func headerLine(w *bufio.Writer, name, value string) {
	w.WriteString("\r\n")
	w.WriteString(name)
	w.WriteString(": ")
	if !strings.ContainsAny(value, "\r\n") && strings.Trim(value, " \t") == value {
		w.WriteString(value)
		return
	}
	// As Header.Write: newlines become spaces, then the ends are trimmed.
	b := []byte(value)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	w.Write(bytes.Trim(b, " \t"))
}

// cookieHeader is the Cookie header Request.AddCookie would build.
func cookieHeader(cks []*http.Cookie) string {
	// The jar's cookies carry only a name and a value (quoted or not), so
	// String gives "name=value", sanitised and quoted as AddCookie does.
	parts := make([]string, len(cks))
	for i, ck := range cks {
		parts[i] = ck.String()
	}
	return strings.Join(parts, "; ")
}

// hostHeader is host without an IPv6 zone ("[fe80::1%eth0]:80" as url.URL
// holds it), which only means something to this machine.
func hostHeader(host string) string {
	// An empty port ("acs:") is dropped, as net/http does: some servers
	// split host and port strictly.
	if strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
		host = strings.TrimSuffix(host, ":")
	}
	if !strings.HasPrefix(host, "[") {
		return host
	}
	i := strings.LastIndex(host, "]")
	if z := strings.IndexByte(host, '%'); z > 0 && z < i {
		return host[:z] + host[i:]
	}
	return host
}

// validRequestURI reports whether u's path and query can go in a request
// line: url.Parse keeps a raw space or a non-ASCII byte in the query, which
// would split the line or be refused by a strict server.
func validRequestURI(u *url.URL) bool {
	uri := u.RequestURI()
	for i := 0; i < len(uri); i++ {
		if uri[i] <= ' ' || uri[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether host can go in a Host header (once a zone is
// removed): ASCII printable characters a host (or an IP literal with a
// port) may hold. An internationalised name must be given in its xn-- form.
func validHost(host string) bool {
	host = hostHeader(host)
	for i := 0; i < len(host); i++ {
		b := host[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte("\"<>\\^`{|}", b) >= 0 {
			return false
		}
	}
	return host != ""
}

// connBody gives the connection back when the body is closed: kept after a
// complete read, closed otherwise (closing it first also stops net/http's
// body from draining an unread remainder of any length).
type connBody struct {
	io.ReadCloser
	c    *Client
	sc   *sessionConn
	stop func() bool
	keep bool
	eof  bool
}

func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *connBody) Close() error {
	// stop reports false when the cancellation already fired and may have
	// set a past deadline: that connection is not reused either.
	if !b.stop() {
		b.keep = false
	}
	if !b.eof || !b.keep {
		if b.c.conn == b.sc {
			b.c.dropConn()
		} else {
			b.sc.nc.Close()
		}
	}
	err := b.ReadCloser.Close()
	if b.c.conn == b.sc {
		b.sc.nc.SetDeadline(time.Time{})
	}
	return err
}
