package connreq

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/digest"
	"github.com/rs/zerolog"
)

// Defaults for zero Config fields.
const (
	DefaultAddr     = ":7547"
	DefaultBurst    = 4
	DefaultInterval = 2 * time.Second
	DefaultMaxConns = 16
	// PathRandomBytes is how much randomness NewPath puts in a path.
	PathRandomBytes = 16
	minPathHex      = 16
)

// Reasons reported in Attempt.Reason.
const (
	ReasonAccepted       = "accepted"
	ReasonChallenge      = "challenge sent (no credentials in request)"
	ReasonWrongCreds     = "wrong credentials"
	ReasonStale          = "stale nonce"
	ReasonReplay         = "nonce count replayed"
	ReasonNotDigest      = "authentication scheme refused (digest only)"
	ReasonMalformed      = "malformed credentials"
	ReasonNotConfigured  = "connection request credentials not configured"
	ReasonRateLimited    = "rate limited"
	ReasonMethod         = "method not allowed"
	ReasonUnknownPath    = "unknown path"
	ReasonInternalFailed = "internal error"
)

// Attempt is one connection request and what became of it. Only Accepted
// attempts may lead to a session.
type Attempt struct {
	Remote   string // client address, host:port
	Accepted bool
	Reason   string
	Status   int // HTTP status answered
}

// Config configures a Server.
type Config struct {
	Addr string // listen address, default ":7547"
	// Path is the secret path, from NewPath, persisted by the caller.
	Path string
	// Credentials returns ConnectionRequestUsername and Password at the
	// time of the request. Required.
	Credentials func() (username, password string)
	// OnRequest receives every outcome. It must be fast.
	OnRequest func(Attempt)

	Burst    int           // token bucket size, default 4
	Interval time.Duration // one token per Interval, default 2 s
	// RetryAfter adds Retry-After to 503 answers (D§13.1 says not to).
	RetryAfter bool

	Realm         string        // digest realm, default "cwmpd"
	NonceLifetime time.Duration // default 5 minutes
	MaxNonces     int           // used-nonce table bound, default 64
	MaxConns      int           // connections served at once, default 16

	Logger zerolog.Logger
	Now    func() time.Time // clock for the limiter and nonces; tests
	Rand   io.Reader        // source of the nonce secret; crypto/rand if nil
}

// NewPath returns "/" and 2·PathRandomBytes hex digits drawn from rnd
// (crypto/rand if nil). The caller stores it so the URL survives restarts.
func NewPath(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [PathRandomBytes]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("connreq: path: %w", err)
	}
	return "/" + hex.EncodeToString(b[:]), nil
}

// ValidPath checks that p is "/" followed by at least 16 hex digits.
func ValidPath(p string) error {
	if len(p) < 1+minPathHex || p[0] != '/' {
		return fmt.Errorf("connreq: path %q: want '/' and at least %d hex digits", p, minPathHex)
	}
	for _, c := range p[1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("connreq: path %q: want '/' and at least %d hex digits", p, minPathHex)
		}
	}
	return nil
}

// Server is the connection-request listener.
type Server struct {
	cfg    Config
	log    zerolog.Logger
	v      *digest.Verifier
	bucket *bucket
	srv    *http.Server

	// sem bounds the connections open at once, across a Rebind too.
	sem chan struct{}

	// bindMu orders Start and Rebind; mu guards ln and cfg.Addr.
	bindMu sync.Mutex
	mu     sync.Mutex
	ln     *limitListener
}

// New checks cfg; nothing listens until Start.
func New(cfg Config) (*Server, error) {
	if err := ValidPath(cfg.Path); err != nil {
		return nil, err
	}
	if cfg.Credentials == nil {
		return nil, errors.New("connreq: config: Credentials callback missing")
	}
	if cfg.OnRequest == nil {
		cfg.OnRequest = func(Attempt) {}
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v, err := digest.NewVerifier(digest.VerifierConfig{
		Realm: cfg.Realm, Lifetime: cfg.NonceLifetime, MaxNonces: cfg.MaxNonces, Rand: cfg.Rand, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("connreq: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, v: v, bucket: newBucket(cfg.Burst, cfg.Interval, cfg.Now), sem: make(chan struct{}, cfg.MaxConns)}
	s.srv = &http.Server{
		Handler: s,
		// net/http answers "OPTIONS *" itself unless told not to: that
		// answer keeps the connection alive and skips ServeHTTP, so it
		// escapes the close-after-answer rule and OnRequest, and a few
		// such clients could hold every connection slot. Here it is just
		// another unknown path.
		DisableGeneralOptionsHandler: true,
		ReadHeaderTimeout:            5 * time.Second,
		ReadTimeout:                  10 * time.Second,
		WriteTimeout:                 10 * time.Second,
		IdleTimeout:                  15 * time.Second,
		MaxHeaderBytes:               4 << 10,
		ErrorLog:                     log.New(io.Discard, "", 0),
	}
	return s, nil
}

// Start binds the address and serves in the background. It does nothing
// when the server already listens (a Rebind came first).
func (s *Server) Start() error {
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	s.mu.Lock()
	listening, addr := s.ln != nil, s.cfg.Addr
	s.mu.Unlock()
	if listening {
		return nil
	}
	return s.bind(addr)
}

// Rebind moves the server to addr (the connection-request port was
// changed). addr is bound first, so on an error the server keeps listening
// where it was; on success the old address is closed, while connections
// already open on it finish their answer. The rate limit, the connection
// bound and the nonce table carry over. Before Start, it is Start on addr.
func (s *Server) Rebind(addr string) error {
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	return s.bind(addr)
}

// Unbind stops listening (connection requests turned off); connections
// already open finish their answer. Start or Rebind listens again.
func (s *Server) Unbind() {
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
		s.log.Info().Str("addr", ln.Addr().String()).Msg("connection request server stopped listening")
	}
}

func (s *Server) bind(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("connreq: listen: %w", err)
	}
	ln := newLimitListener(l, s.sem)
	s.mu.Lock()
	old := s.ln
	s.ln, s.cfg.Addr = ln, addr
	s.mu.Unlock()
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !ln.closed() {
			s.log.Error().Err(err).Msg("connection request server stopped")
		}
	}()
	if old != nil {
		old.Close()
		s.log.Info().Str("addr", l.Addr().String()).Str("was", old.Addr().String()).Msg("connection request server moved")
		return nil
	}
	s.log.Info().Str("addr", l.Addr().String()).Msg("connection request server listening")
	return nil
}

// Addr is the bound address, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is the ConnectionRequestURL for the CPE address hostIP (an IPv6
// literal is bracketed). The port is the bound one once started.
func (s *Server) URL(hostIP string) string {
	port := ""
	if a, ok := s.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
	} else {
		s.mu.Lock()
		addr := s.cfg.Addr
		s.mu.Unlock()
		if _, p, err := net.SplitHostPort(addr); err == nil {
			port = p
		}
	}
	return "http://" + net.JoinHostPort(hostIP, port) + s.cfg.Path
}

// Close stops listening and closes every connection.
func (s *Server) Close() error {
	err := s.srv.Close()
	// Serve runs in its own goroutine and may not have taken the listener
	// yet, in which case http.Server.Close does not know it: close it here
	// so that the port is free when Close returns (a restart rebinds it).
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln != nil {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = fmt.Errorf("connreq: close listener: %w", cerr)
		}
	}
	return err
}

// ServeHTTP answers one request; see the package comment for the policy.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := s.decide(w, r)
	a.Remote = r.RemoteAddr
	if a.Status != http.StatusUnauthorized {
		// Only a challenge expects the client back on this connection;
		// closing the rest frees a connection slot at once.
		w.Header().Set("Connection", "close")
	}
	if r.ContentLength != 0 {
		// The body is never read; closing beats draining it for the
		// next request.
		w.Header().Set("Connection", "close")
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(a.Status)
	_ = http.NewResponseController(w).Flush()
	ev := s.log.Debug()
	if a.Accepted {
		ev = s.log.Info()
	}
	ev.Str("remote", a.Remote).Bool("accepted", a.Accepted).Str("reason", a.Reason).Int("status", a.Status).
		Msg("connection request")
	s.cfg.OnRequest(a)
}

// decide picks the answer and sets its headers other than the framing.
func (s *Server) decide(w http.ResponseWriter, r *http.Request) Attempt {
	if subtle.ConstantTimeCompare([]byte(r.URL.Path), []byte(s.cfg.Path)) != 1 {
		return Attempt{Reason: ReasonUnknownPath, Status: http.StatusNotFound}
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return Attempt{Reason: ReasonMethod, Status: http.StatusMethodNotAllowed}
	}
	if !s.bucket.take() {
		if s.cfg.RetryAfter {
			secs := int(s.bucket.wait().Seconds() + 0.999)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		}
		return Attempt{Reason: ReasonRateLimited, Status: http.StatusServiceUnavailable}
	}
	user, pass := s.cfg.Credentials()
	challenge := func(reason string, stale bool) Attempt {
		w.Header().Set("WWW-Authenticate", s.v.Challenge(stale))
		return Attempt{Reason: reason, Status: http.StatusUnauthorized}
	}
	if user == "" || pass == "" {
		return challenge(ReasonNotConfigured, false)
	}
	err := s.v.Verify(r.Method, r.RequestURI, r.Header.Get("Authorization"), user, pass)
	switch {
	case err == nil:
		return Attempt{Accepted: true, Reason: ReasonAccepted, Status: http.StatusOK}
	case errors.Is(err, digest.ErrNoCredentials):
		return challenge(ReasonChallenge, false)
	case errors.Is(err, digest.ErrNotDigest):
		return challenge(ReasonNotDigest, false)
	case errors.Is(err, digest.ErrStale):
		return challenge(ReasonStale, true)
	case errors.Is(err, digest.ErrReplay):
		return challenge(ReasonReplay, false)
	case errors.Is(err, digest.ErrBadCredentials):
		return challenge(ReasonWrongCreds, false)
	case errors.Is(err, digest.ErrMalformed), errors.Is(err, digest.ErrUnsupported):
		return challenge(ReasonMalformed, false)
	}
	return challenge(ReasonInternalFailed, false)
}
