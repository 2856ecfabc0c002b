package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/digest"
	"github.com/rs/zerolog"
)

// Message says what a POST carries; it decides the headers (D§2.1).
type Message int

const (
	// Request is a CPE request: Inform, TransferComplete, GetRPCMethods…
	Request Message = iota + 1
	// Response is a response or a SOAP fault to an ACS request.
	Response
	// Empty is the empty POST: no body, no SOAPAction, no Content-Type.
	Empty
)

func (m Message) String() string {
	switch m {
	case Request:
		return "request"
	case Response:
		return "response"
	case Empty:
		return "empty"
	}
	return fmt.Sprintf("Message(%d)", int(m))
}

// Defaults for zero Config fields.
const (
	DefaultConnectTimeout  = 30 * time.Second
	DefaultExchangeTimeout = 60 * time.Second
	DefaultMaxBodyBytes    = 4 << 20
	// MaxRedirects per session (D§2.6, recalled limit).
	MaxRedirects = 5

	// drainLimit bounds what is read from a 401 or 3xx body to keep the
	// connection reusable; beyond it the connection is dropped instead.
	drainLimit = 64 << 10
	// ContentType of SOAP bodies.
	ContentType = `text/xml; charset="utf-8"`
)

// Config configures one session's Client.
type Config struct {
	// URL of the ACS (ManagementServer.URL): http:// or https://, no
	// user-info (credentials go in Username/Password).
	URL      string
	Username string
	Password string

	// CACertPEM, when set, replaces the system roots for verifying the ACS.
	CACertPEM []byte
	// ClientCertPEM (and ClientKeyPEM) is the CPE certificate presented when
	// the ACS asks for one. The key may also sit in ClientCertPEM.
	ClientCertPEM []byte
	ClientKeyPEM  []byte

	ConnectTimeout  time.Duration // TCP connect and TLS handshake
	ExchangeTimeout time.Duration // one request and its whole response
	MaxBodyBytes    int64         // largest response body accepted

	// AllowBasicOverHTTP lets a plain-http session answer a Basic-only
	// challenge, sending the password in clear text. Off by default.
	AllowBasicOverHTTP bool

	UserAgent string // default "cwmpd"
	Logger    zerolog.Logger

	// Rand is the source of Digest client nonces (crypto/rand if nil).
	Rand io.Reader
	// DialContext replaces the TCP dialer; for tests that need to count or
	// break connections. ConnectTimeout still applies through the context.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is the transport of one CWMP session. Post calls are serialised.
type Client struct {
	cfg            Config
	log            zerolog.Logger
	tlsConf        *tls.Config
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	jar            *cookiejar.Jar // this session's cookies only (D§2.4); nil once over the limit
	haveCookies    bool           // the jar was given one: look it up before each POST
	cookies        cookieBook     // what jar may hold, against the session's limit
	cookiesOver    bool           // the ACS set too many: the session has failed
	insecure       bool
	haveClientCert bool

	mu        sync.Mutex
	closed    bool
	url       *url.URL
	redirects int
	// settled: a POST of this session got its 200 or 204. A redirect is
	// followed only before (D§2.6: in answer to the Inform); after, the
	// session lives on this ACS, and a POST carried elsewhere would reach
	// a server that holds no session for it.
	settled bool
	basic   bool               // answer with Basic from now on
	digest  *digest.ClientAuth // answer with this Digest state from now on
	// digestConn is the seq of the connection c.digest was first sent on,
	// 0 until it is sent: the state belongs to that connection (D§2.3).
	digestConn uint64
	conn       *sessionConn // nil until the first exchange, or after a close
	connSeq    uint64       // connections dialled so far; numbers them
}

// CheckURL reports whether raw is an ACS URL a session can use: http:// or
// https://, a host, no user-info, and a host and request URI that can be
// sent as they are. New applies the same checks; the operator's settings
// and the data model use it so that a URL is refused when it is set, not
// at the next session. The error never quotes a password.
func CheckURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, newError(KindConfig, parseError(raw, err), "invalid ACS URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, newError(KindConfig, nil, "ACS URL must start with http:// or https://")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, newError(KindConfig, nil, "ACS URL has no host")
	}
	if u.User != nil {
		return nil, newError(KindConfig, nil, "ACS URL must not carry credentials")
	}
	if !validHost(u.Host) {
		return nil, newError(KindConfig, nil, "ACS URL host %q cannot be sent in a Host header: write an internationalised name in its xn-- form", u.Host)
	}
	// url.Parse keeps a raw space or non-ASCII byte of the path and
	// percent-encodes it on the wire, so the session would go to a URL
	// other than the one written: a URI holds neither (RFC 3986).
	if !validRequestURI(u) || strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
		return nil, newError(KindConfig, nil, "ACS URL path or query holds a space, a control character or a non-ASCII byte: percent-encode it")
	}
	return u, nil
}

// New checks cfg and prepares a Client. No connection is made yet.
func New(cfg Config) (*Client, error) {
	u, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	u.Fragment, u.RawFragment = "", ""
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ExchangeTimeout <= 0 {
		cfg.ExchangeTimeout = DefaultExchangeTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "cwmpd"
	}

	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(cfg.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, newError(KindConfig, nil, "CA certificate: no PEM certificate found")
		}
		tlsConf.RootCAs = pool
	}
	c := &Client{cfg: cfg, log: cfg.Logger, url: u, insecure: u.Scheme == "http"}
	if len(cfg.ClientCertPEM) > 0 {
		key := cfg.ClientKeyPEM
		if len(key) == 0 {
			key = cfg.ClientCertPEM
		}
		cert, err := tls.X509KeyPair(cfg.ClientCertPEM, key)
		if err != nil {
			return nil, newError(KindConfig, err, "client certificate")
		}
		tlsConf.Certificates = []tls.Certificate{cert}
		c.haveClientCert = true
	}

	c.dial = cfg.DialContext
	if c.dial == nil {
		// No TCP keep-alive: every exchange has its own deadline
		// (ExchangeTimeout), which finds a silent peer long before probes
		// would, and sessions do not outlive their exchanges; it saves
		// four setsockopt calls per session.
		c.dial = (&net.Dialer{KeepAlive: -1}).DialContext
	}
	c.tlsConf = tlsConf
	// The session's cookies: kept from the ACS's answers, sent on its later
	// POSTs, gone with the Client (D§2.4).
	if c.jar, err = cookiejar.New(nil); err != nil {
		return nil, fmt.Errorf("transport: cookie jar: %w", err)
	}
	return c, nil
}

// errUserinfoWithheld stands for a parse error in the part of a URL that may
// hold credentials.
var errUserinfoWithheld = errors.New("malformed URL before its last '@' (user-info, not shown)")

// parseError is url.Parse's error on raw without what may be user-info:
// url.Error quotes the whole raw URL, password included, and the package
// promises that errors never carry the password. Everything before the
// last '@' counts as user-info, even where url.Parse saw a host: an
// unescaped '/' in a password ends the authority early, and its first half
// then comes back quoted as an "invalid port". What follows the '@' is
// parsed again on its own, so a mistake there is still reported in detail.
func parseError(raw string, err error) error {
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return err
	}
	rest := raw[at+1:]
	if i := strings.Index(raw[:at], "://"); i >= 0 {
		rest = raw[:i+len("://")] + rest
	}
	if _, rerr := url.Parse(rest); rerr != nil {
		return rerr
	}
	return errUserinfoWithheld
}

// Insecure reports whether the session runs over plain http://, for the
// caller to log at every session start.
func (c *Client) Insecure() bool { return c.insecure }

// URL is where the next POST goes: the configured URL, or where the ACS
// redirected this session.
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url.String()
}

// Redirects reports how many redirects this session followed.
func (c *Client) Redirects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.redirects
}

// Close ends the session: the connection is closed and the cookies and
// authentication state are forgotten with the Client.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.digest = nil
	c.dropConn()
	c.mu.Unlock()
	return nil
}

// Post sends one message and returns the ACS's answer. A nil error means
// status 200 or 204. For other statuses the body is returned with a
// KindHTTPStatus error, since an HTTP 500 may carry a SOAP fault the
// session wants to read.
func (c *Client) Post(ctx context.Context, body []byte, kind Message) (int, []byte, error) {
	switch kind {
	case Request, Response:
	case Empty:
		if len(body) != 0 {
			return 0, nil, newError(KindConfig, nil, "empty POST with a body")
		}
	default:
		return 0, nil, newError(KindConfig, nil, "unknown message kind %d", int(kind))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, nil, newError(KindConfig, nil, "session already closed")
	}

	// answered: credentials built from a challenge received during this
	// Post were sent; a further 401 means they are wrong.
	answered, staleRetried := false, false
	for {
		status, respBody, resp, err := c.exchange(ctx, body, kind)
		if err != nil {
			return status, respBody, err
		}
		switch {
		case status == http.StatusOK || status == http.StatusNoContent:
			c.settled = true
			return status, respBody, nil

		case status == http.StatusUnauthorized:
			sentAuth := c.digest != nil || c.basic
			stale := false
			cs := challenges(resp.Header)
			if d, ok := digest.SelectDigest(cs); ok {
				stale = d.Stale()
			}
			if sentAuth && answered && (!stale || c.digest == nil || staleRetried) {
				scheme := "digest"
				if c.digest == nil {
					scheme = "basic"
				}
				e := newError(KindAuth, nil, "ACS returned 401 after %s auth", scheme)
				e.Status = status
				return status, nil, e
			}
			if stale && answered {
				staleRetried = true
			}
			if err := c.chooseAuth(cs); err != nil {
				err.Status = status
				return status, nil, err
			}
			answered = true

		case status == http.StatusMovedPermanently || status == http.StatusFound ||
			status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect:
			if err := c.redirect(resp); err != nil {
				return status, nil, err
			}
			answered, staleRetried = false, false

		default:
			e := newError(KindHTTPStatus, nil, "ACS returned HTTP %d", status)
			e.Status = status
			return status, respBody, e
		}
	}
}

// exchange runs one HTTP request/response under the exchange timeout. The
// body of a 401 or a redirect is drained and resp is returned for its
// headers only.
func (c *Client) exchange(ctx context.Context, body []byte, kind Message) (int, []byte, *http.Response, error) {
	ectx, cancel := context.WithTimeout(ctx, c.cfg.ExchangeTimeout)
	defer cancel()
	if c.cookiesOver {
		// The jar is gone; going on without its cookies would drop them
		// silently.
		return 0, nil, nil, classify(errCookieLimit, ctx, ectx, c.haveClientCert)
	}
	start := time.Now()
	// Connected first: whether the Digest state may be reused depends on
	// which connection the request goes on (see authorization).
	sc, err := c.connect(ectx, c.url)
	if err != nil {
		return 0, nil, nil, classify(contextCause(ectx, err), ctx, ectx, c.haveClientCert)
	}
	p := post{url: c.url, kind: kind, body: body}
	var aerr *Error
	if p.auth, aerr = c.authorization(sc); aerr != nil {
		return 0, nil, nil, aerr
	}
	resp, err := c.roundTrip(ectx, sc, p)
	if err != nil {
		return 0, nil, nil, classify(err, ctx, ectx, c.haveClientCert)
	}
	defer resp.Body.Close()

	var respBody []byte
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusMovedPermanently, http.StatusFound,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// Only the headers matter; drain so the connection is reused.
		if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit)); err != nil {
			return resp.StatusCode, nil, nil, classify(err, ctx, ectx, c.haveClientCert)
		}
	default:
		respBody, err = io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
		if err != nil {
			return resp.StatusCode, nil, nil, classify(err, ctx, ectx, c.haveClientCert)
		}
		if int64(len(respBody)) > c.cfg.MaxBodyBytes {
			e := newError(KindBody, nil, "ACS response larger than %d bytes", c.cfg.MaxBodyBytes)
			e.Status = resp.StatusCode
			return resp.StatusCode, nil, nil, e
		}
	}
	// Checked first: the URL would be rendered for nothing on every
	// exchange of every session when debug is off.
	if e := c.log.Debug(); e.Enabled() {
		e.Str("url", c.url.Redacted()).Stringer("kind", kind).Int("sent", len(body)).
			Int("status", resp.StatusCode).Int("received", len(respBody)).Dur("took", time.Since(start)).
			Msg("acs exchange")
	}
	return resp.StatusCode, respBody, resp, nil
}

// authorization is the Authorization header for the next request, which
// goes on sc, or "" for none.
//
// Digest state is reused pre-emptively only on the connection it was first
// sent on. D§2.3 wants a fresh cnonce from the CPE, and a fresh nonce from
// the ACS, on every new TCP connection. On a new connection the state is
// dropped and the request goes without credentials, so the ACS challenges
// afresh and the answer carries its new nonce and a new cnonce. Keeping the
// nonce with a new cnonce and nc restarting at 00000001 was rejected: an
// ACS that counts nc per nonce (RFC 7616 §3.4; digest.Verifier does) sees
// a replay, and an ACS that issues a nonce per connection refuses the old
// nonce, so either way it costs the same extra 401 and relies on that 401
// being answered. Dropping the state costs that 401 only when the ACS did
// not keep the connection alive, which D§2.1 asks it to.
//
// State made from a challenge and not sent yet goes on whatever connection
// comes next: an ACS that closes the connection after its 401 gets its
// answer on the new one, and dropping it there would challenge again
// without end.
func (c *Client) authorization(sc *sessionConn) (string, *Error) {
	if c.digest != nil && c.digestConn != 0 && c.digestConn != sc.seq {
		c.log.Debug().Msg("new connection to the acs; digest state dropped for a fresh challenge")
		c.digest, c.digestConn = nil, 0
	}
	switch {
	case c.digest != nil:
		h, err := c.digest.Authorize(http.MethodPost, c.url.RequestURI())
		if err != nil {
			return "", newError(KindAuth, err, "cannot compute digest response")
		}
		c.digestConn = sc.seq
		return h, nil
	case c.basic:
		return digest.BasicAuthorization(c.cfg.Username, c.cfg.Password), nil
	}
	return "", nil
}

func challenges(h http.Header) []digest.Challenge {
	var out []digest.Challenge
	for _, v := range h.Values("WWW-Authenticate") {
		// A malformed header is skipped rather than fatal: another one may
		// still carry a usable challenge.
		cs, err := digest.ParseChallenges(v)
		if err == nil {
			out = append(out, cs...)
		}
	}
	return out
}

// chooseAuth sets the session's answer to a 401 from its challenges.
func (c *Client) chooseAuth(cs []digest.Challenge) *Error {
	if c.cfg.Username == "" {
		return newError(KindAuth, nil, "ACS requires authentication but no username is configured")
	}
	if d, ok := digest.SelectDigest(cs); ok {
		a, err := digest.NewClientAuth(d, c.cfg.Username, c.cfg.Password, c.cfg.Rand)
		if err != nil {
			return newError(KindAuth, err, "cannot answer the ACS digest challenge")
		}
		c.digest, c.digestConn, c.basic = a, 0, false
		c.log.Debug().Str("algorithm", string(a.Algorithm())).Msg("acs asked for digest authentication")
		return nil
	}
	offered := make([]string, 0, len(cs))
	for _, ch := range cs {
		if ch.Scheme == "Basic" {
			if c.url.Scheme != "https" && !c.cfg.AllowBasicOverHTTP {
				return newError(KindAuth, nil, "ACS offers only Basic auth over plain HTTP; refusing to send the password unencrypted")
			}
			c.digest, c.basic = nil, true
			c.log.Debug().Bool("tls", c.url.Scheme == "https").Msg("acs asked for basic authentication")
			return nil
		}
		offered = append(offered, ch.Scheme)
	}
	if len(offered) == 0 {
		return newError(KindAuth, nil, "ACS returned 401 without a usable challenge")
	}
	return newError(KindAuth, nil, "ACS asks for unsupported authentication (%s)", strings.Join(offered, ", "))
}

// redirect moves the session to the response's Location.
func (c *Client) redirect(resp *http.Response) *Error {
	if c.settled {
		return newError(KindRedirect, nil, "ACS redirect after the Inform was answered refused")
	}
	c.redirects++
	if c.redirects > MaxRedirects {
		return newError(KindRedirect, nil, "too many redirects (%d)", c.redirects)
	}
	loc, err := resp.Location()
	if err != nil {
		if errors.Is(err, http.ErrNoLocation) {
			return newError(KindRedirect, nil, "ACS redirect without Location")
		}
		return newError(KindRedirect, err, "ACS redirect to an invalid Location")
	}
	if loc.Scheme != "http" && loc.Scheme != "https" || loc.Hostname() == "" || !validHost(loc.Host) || !validRequestURI(loc) {
		return newError(KindRedirect, nil, "ACS redirect to an unusable URL")
	}
	if c.url.Scheme == "https" && loc.Scheme != "https" {
		return newError(KindRedirect, nil, "ACS redirect from https to http refused")
	}
	loc.User = nil
	loc.Fragment, loc.RawFragment = "", ""
	if loc.Scheme != c.url.Scheme || loc.Host != c.url.Host {
		// Credentials answer a challenge from the origin that sent it.
		c.digest, c.basic = nil, false
	}
	c.log.Info().Str("from", c.url.Redacted()).Str("to", loc.Redacted()).Int("status", resp.StatusCode).
		Msg("acs redirected the session")
	c.url = loc
	return nil
}
