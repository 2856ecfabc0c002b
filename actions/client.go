package actions

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/cwmpd/cwmpd/cwmp/digest"
	"github.com/cwmpd/cwmpd/projections/event"
)

// Defaults of a FileClient.
const (
	DefaultMaxSize       = 256 << 20 // largest file accepted
	DefaultReserve       = 1 << 20   // free space left on the download filesystem
	DefaultProgressEvery = 64 << 10  // bytes between progress reports (at least 10 % of the size)
	// receiveBuffer bounds the socket's receive buffer: bytes in flight are
	// bytes a crash throws away (only what was journaled is resumed), and
	// kernel autotuning would let them grow to megabytes on a fast link.
	receiveBuffer      = 128 << 10
	DefaultMaxRetries  = 5
	DefaultIdleTimeout = 60 * time.Second
)

// FileClient moves files over HTTP(S) for transfers: resumable verified
// downloads (Fetch) and uploads (Upload). The zero value works with the
// defaults above and the system roots; set TLS for a private CA.
type FileClient struct {
	// TLS configures HTTPS (RootCAs for a private CA). Nil: system roots.
	TLS *tls.Config
	// MaxSize bounds any one file (default DefaultMaxSize).
	MaxSize int64
	// Reserve is free space the download must leave on its filesystem.
	Reserve int64
	// FreeSpace reports the bytes available to us in dir (statfs); tests
	// inject it. A negative answer means unknown: the check is skipped.
	FreeSpace func(dir string) (int64, error)
	// ProgressEvery is the minimum number of bytes between two progress
	// reports (default DefaultProgressEvery); a report is also never closer
	// than a tenth of the file's size.
	ProgressEvery int64
	// MaxRetries bounds the attempts after the first one, for dropped
	// connections, connect failures and 5xx answers (default 5).
	MaxRetries int
	// NewBackOff paces the retries (default: exponential 0.5 s … 10 s).
	NewBackOff func() backoff.BackOff
	// IdleTimeout aborts an attempt that receives less than 1 KiB in this
	// long (nothing at all, or a trickle).
	IdleTimeout time.Duration
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper

	once   sync.Once
	client *http.Client
}

func (c *FileClient) maxSize() int64 {
	if c.MaxSize > 0 {
		return c.MaxSize
	}
	return DefaultMaxSize
}

func (c *FileClient) reserve() int64 {
	if c.Reserve > 0 {
		return c.Reserve
	}
	return DefaultReserve
}

func (c *FileClient) progressEvery(size int64) int64 {
	every := c.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	if size/10 > every {
		every = size / 10
	}
	return every
}

func (c *FileClient) maxRetries() uint64 {
	if c.MaxRetries > 0 {
		return uint64(c.MaxRetries)
	}
	return DefaultMaxRetries
}

func (c *FileClient) idleTimeout() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (c *FileClient) backOff(ctx context.Context) backoff.BackOff {
	var b backoff.BackOff
	if c.NewBackOff != nil {
		b = c.NewBackOff()
	} else {
		e := backoff.NewExponentialBackOff()
		e.InitialInterval, e.MaxInterval, e.MaxElapsedTime = 500*time.Millisecond, 10*time.Second, 0
		b = e
	}
	return backoff.WithContext(backoff.WithMaxRetries(b, c.maxRetries()), ctx)
}

func (c *FileClient) http() *http.Client {
	c.once.Do(func() {
		rt := c.Transport
		if rt == nil {
			var tc *tls.Config
			if c.TLS != nil {
				tc = c.TLS.Clone()
			}
			rt = &http.Transport{
				Proxy: nil,
				DialContext: (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
					Control: func(_, _ string, rc syscall.RawConn) error {
						return rc.Control(func(fd uintptr) {
							syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, receiveBuffer)
						})
					}}).DialContext,
				TLSClientConfig:       tc,
				TLSHandshakeTimeout:   30 * time.Second,
				ResponseHeaderTimeout: 60 * time.Second,
				MaxIdleConns:          2,
				IdleConnTimeout:       30 * time.Second,
				// Range requests and byte counts need the body as sent.
				DisableCompression: true,
			}
		}
		c.client = &http.Client{Transport: rt, CheckRedirect: checkRedirect}
	})
	return c.client
}

// maxRedirects bounds the redirects one request follows (net/http's own
// default, which a CheckRedirect replaces).
const maxRedirects = 10

// checkRedirect vets each redirect before net/http follows it. A refusal
// is a *Fault that ends the transfer at once: retrying would meet the same
// redirect. A redirect is followed only when it repeats the request as it
// was: same method, same body. The fault is 9016 for a download (the file cannot be accessed
// where the server sends us) and 9011 for an upload.
func checkRedirect(req *http.Request, via []*http.Request) error {
	to := shownURL(req.URL)
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		// Not a dropped connection: the transport would only refuse the
		// scheme, on every retry.
		return redirectFault(via, "file server redirected to %s, which is not an http(s) URL", to)
	}
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
		// net/http would copy our Authorization header (Basic: the
		// password) to the same host name over plain http; the ACS
		// transport refuses this downgrade for the same reason.
		return redirectFault(via, "file server redirected from https to %s; refused", to)
	}
	if req.Method != via[0].Method || via[0].ContentLength != 0 && req.ContentLength != via[0].ContentLength {
		// 301/302/303 turn net/http's PUT into a GET without the body,
		// whose 2xx would pass for a stored upload. Only 307/308 repeat
		// the request faithfully (Upload sets GetBody for them).
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		return redirectFault(via, "file server answered the %s with HTTP %d to %s, which would not resend the file; not followed",
			via[0].Method, status, to)
	}
	if len(via) >= maxRedirects {
		return redirectFault(via, "file server redirected more than %d times (last to %s)", maxRedirects, to)
	}
	return nil
}

func redirectFault(via []*http.Request, format string, args ...any) *Fault {
	code := FaultAccess
	if via[0].Method != http.MethodGet {
		code = FaultUpload
	}
	return faultf(code, nil, format, args...)
}

// refusedRedirect returns the *Fault of a redirect checkRedirect refused
// (Client.Do wraps it in a *url.Error), or nil.
func refusedRedirect(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	return nil
}

// checkURL accepts http and https URLs only (the Download/Upload RPC
// already refused other schemes with 9013, which TransferComplete may not
// carry).
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, permanentf(FaultAccess, err, "unusable file URL %q", redactURL(raw))
	}
	return u, nil
}

// redactURL shows a URL as exports do (projections/event.RedactURL): no
// password in its user info and no query, where signed URLs carry tokens.
// Fault strings go to the journal and the ACS, logs to the operator.
func redactURL(raw string) string { return event.RedactURL(raw) }

// shownURL is redactURL for a parsed URL.
func shownURL(u *url.URL) string { return event.RedactURL(u.String()) }

// auth answers a file server's 401 with the transfer's credentials: Digest
// when offered (via cwmp/digest), else Basic. Once answered, later
// requests of the same transfer send the answer up front (Digest with the
// next nonce count).
type auth struct {
	username, password string
	digest             *digest.ClientAuth
	basic              bool
	tried              bool // a challenge was answered and a request sent with it
}

func (a *auth) has() bool { return a.username != "" || a.password != "" }

// apply sets the Authorization header when an answer is known.
func (a *auth) apply(req *http.Request) error {
	switch {
	case a.digest != nil:
		h, err := a.digest.Authorize(req.Method, req.URL.RequestURI())
		if err != nil {
			return faultf(FaultServerAuth, err, "digest authorization: %v", err)
		}
		req.Header.Set("Authorization", h)
	case a.basic:
		req.Header.Set("Authorization", digest.BasicAuthorization(a.username, a.password))
	}
	return nil
}

// challenged prepares an answer to resp's challenge; false means no
// (further) answer is possible: the credentials are missing or refused.
func (a *auth) challenged(resp *http.Response) bool {
	if !a.has() {
		return false
	}
	stale := false
	cs, _ := digest.ParseChallenges(strings.Join(resp.Header.Values("WWW-Authenticate"), ", "))
	if ch, ok := digest.SelectDigest(cs); ok {
		stale = ch.Stale()
		if a.tried && !stale {
			return false
		}
		ca, err := digest.NewClientAuth(ch, a.username, a.password, nil)
		if err != nil {
			return false
		}
		a.digest, a.basic = ca, false
		a.tried = true
		return true
	}
	if a.tried {
		return false
	}
	for _, ch := range cs {
		if ch.Scheme == "Basic" {
			a.basic, a.tried = true, true
			return true
		}
	}
	return false
}

// connectFault maps an error from Client.Do (no response) to a fault:
// 9015, the server could not be reached (DNS, refused, TLS handshake or
// certificate, timeout).
func connectFault(u *url.URL, err error) *Fault {
	var tlsErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &tlsErr):
		return faultf(FaultContact, err, "file server %s: certificate not trusted", u.Host)
	default:
		return faultf(FaultContact, err, "file server %s unreachable: %s", u.Host, shortNetErr(err))
	}
}

// isConnectError tells a failure to reach the server (DNS, dial, TLS
// handshake) from one after the connection was made.
func isConnectError(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	var cert *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" ||
		errors.As(err, &cert) || errors.As(err, &rec) || errors.As(err, &alert)
}

// shortNetErr strips the URL (and so any user info) from an error of
// net/http, keeping the cause.
func shortNetErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// statusFault maps an unwanted HTTP status to a fault.
func statusFault(u *url.URL, status int, credentials bool, upload bool) *Fault {
	where := shownURL(u)
	switch {
	case status == http.StatusUnauthorized:
		if credentials {
			return faultf(FaultServerAuth, nil, "file server refused the credentials (HTTP 401) for %s", where)
		}
		return faultf(FaultServerAuth, nil, "file server requires credentials (HTTP 401) for %s", where)
	case status == http.StatusForbidden && credentials:
		return faultf(FaultServerAuth, nil, "file server refused the credentials (HTTP 403) for %s", where)
	case upload:
		return faultf(FaultUpload, nil, "upload refused: HTTP %d %s for %s", status, http.StatusText(status), where)
	case status >= 400 && status < 500:
		return faultf(FaultAccess, nil, "HTTP %d %s for %s", status, http.StatusText(status), where)
	}
	return faultf(FaultTransfer, nil, "HTTP %d %s for %s", status, http.StatusText(status), where)
}

// drain reads a little of a body we do not want so the connection can be
// reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	body.Close()
}
