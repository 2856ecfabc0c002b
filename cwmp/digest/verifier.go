package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Verification outcomes, told apart with errors.Is. ErrStale means the
// credentials were right but the nonce is no longer usable: answer with a
// fresh challenge carrying stale=true.
var (
	ErrNoCredentials  = errors.New("no credentials")
	ErrNotDigest      = errors.New("authentication scheme is not Digest")
	ErrBadCredentials = errors.New("wrong credentials")
	ErrStale          = errors.New("stale nonce")
	ErrReplay         = errors.New("nonce count replayed")
)

// VerifierConfig configures a Verifier; zero fields take the defaults.
type VerifierConfig struct {
	Realm string // default "cwmpd"
	// Algorithm offered and required; default MD5, the one every ACS
	// implements (Amd 6 §3.4.5).
	Algorithm Algorithm
	Lifetime  time.Duration // nonce lifetime, default 5 minutes
	// MaxNonces bounds the table of used nonces (default 64). Only nonces
	// that authenticated successfully enter it, so a flood of unauthenticated
	// requests cannot churn it.
	MaxNonces int
	Rand      io.Reader        // source of the HMAC secret; crypto/rand if nil
	Now       func() time.Time // clock; time.Now if nil
}

// Verifier issues Digest challenges and checks Authorization headers.
//
// Nonces are stateless: issue counter, issue time and an HMAC over both with
// a secret drawn at construction, so a nonce from another process or a
// forged one fails the MAC, and an old one fails the lifetime check. The
// issue counter orders nonces so that evicting the oldest used nonce can
// raise a floor below which nonces count as stale; a nonce dropped from the
// bounded table can therefore never be replayed.
type Verifier struct {
	realm    string
	alg      Algorithm
	lifetime time.Duration
	max      int
	now      func() time.Time
	secret   [32]byte

	mu     sync.Mutex
	issued uint64
	floor  uint64            // nonces with counter ≤ floor are stale
	used   map[uint64]uint32 // counter → highest nonce count accepted
}

const nonceLen = 8 + 8 + 16

// NewVerifier returns a Verifier with a fresh secret.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	v := &Verifier{
		realm: cfg.Realm, alg: cfg.Algorithm, lifetime: cfg.Lifetime,
		max: cfg.MaxNonces, now: cfg.Now, used: map[uint64]uint32{},
	}
	if v.realm == "" {
		v.realm = "cwmpd"
	}
	if v.alg == "" {
		v.alg = MD5
	}
	if _, err := ParseAlgorithm(string(v.alg)); err != nil {
		return nil, err
	}
	if v.lifetime <= 0 {
		v.lifetime = 5 * time.Minute
	}
	if v.max <= 0 {
		v.max = 64
	}
	if v.now == nil {
		v.now = time.Now
	}
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, v.secret[:]); err != nil {
		return nil, fmt.Errorf("digest: verifier secret: %w", err)
	}
	return v, nil
}

// Realm reports the realm of the challenges.
func (v *Verifier) Realm() string { return v.realm }

func (v *Verifier) mac(b []byte) []byte {
	m := hmac.New(sha256.New, v.secret[:])
	m.Write(b)
	return m.Sum(nil)[:16]
}

// Challenge returns a WWW-Authenticate header value with a new nonce.
func (v *Verifier) Challenge(stale bool) string {
	v.mu.Lock()
	v.issued++
	n := v.issued
	v.mu.Unlock()
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[0:8], n)
	binary.BigEndian.PutUint64(b[8:16], uint64(v.now().UnixNano()))
	copy(b[16:], v.mac(b[:16]))
	s := "Digest realm=" + quote(v.realm) + ", qop=\"auth\", algorithm=" + string(v.alg) +
		", nonce=\"" + base64.RawURLEncoding.EncodeToString(b[:]) + "\""
	if stale {
		s += ", stale=true"
	}
	return s
}

// openNonce checks a nonce's MAC and returns its issue counter and time.
func (v *Verifier) openNonce(s string) (uint64, time.Time, bool) {
	if base64.RawURLEncoding.DecodedLen(len(s)) != nonceLen {
		return 0, time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != nonceLen || !hmac.Equal(b[16:], v.mac(b[:16])) {
		return 0, time.Time{}, false
	}
	return binary.BigEndian.Uint64(b[0:8]), time.Unix(0, int64(binary.BigEndian.Uint64(b[8:16]))), true
}

// Verify checks an Authorization header for a request with the given method
// and request-target against the expected username and password. nil means
// authenticated; otherwise the error wraps one of ErrNoCredentials,
// ErrNotDigest, ErrMalformed, ErrUnsupported, ErrBadCredentials, ErrStale or
// ErrReplay. An empty expected username or password refuses everything.
func (v *Verifier) Verify(method, requestURI, header, username, password string) error {
	if header == "" {
		return fmt.Errorf("digest: %w", ErrNoCredentials)
	}
	a, err := ParseAuthorization(header)
	if err != nil {
		return err
	}
	if a.Scheme != "Digest" {
		return fmt.Errorf("digest: %w: %q", ErrNotDigest, a.Scheme)
	}
	for _, name := range []string{"username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"} {
		if _, ok := a.Params[name]; !ok {
			return fmt.Errorf("digest: %w: missing %s", ErrMalformed, name)
		}
	}
	if a.Param("qop") != "auth" {
		return fmt.Errorf("digest: %w: qop %q", ErrUnsupported, a.Param("qop"))
	}
	alg, err := ParseAlgorithm(a.Param("algorithm"))
	if err != nil {
		return err
	}
	if alg != v.alg {
		return fmt.Errorf("digest: %w: algorithm %s, offered %s", ErrUnsupported, alg, v.alg)
	}
	nc, ok := a.NC()
	if !ok {
		return fmt.Errorf("digest: %w: nc %q", ErrMalformed, a.Param("nc"))
	}
	if a.Param("realm") != v.realm {
		return fmt.Errorf("digest: %w: realm", ErrBadCredentials)
	}
	if a.Param("uri") != requestURI {
		return fmt.Errorf("digest: %w: uri does not match the request", ErrBadCredentials)
	}
	if username == "" || password == "" {
		return fmt.Errorf("digest: %w: no credentials configured", ErrBadCredentials)
	}
	want, err := Response(Params{
		Algorithm: alg, Username: username, Realm: v.realm, Password: password,
		Method: method, URI: requestURI, Nonce: a.Param("nonce"), CNonce: a.Param("cnonce"),
		NC: nc, QOP: "auth",
	})
	if err != nil {
		return err
	}
	userOK := subtle.ConstantTimeCompare([]byte(a.Param("username")), []byte(username))
	respOK := subtle.ConstantTimeCompare([]byte(a.Param("response")), []byte(want))
	if userOK&respOK != 1 {
		return fmt.Errorf("digest: %w", ErrBadCredentials)
	}
	// The credentials are right; what remains is whether this nonce and
	// count may still be used.
	counter, issuedAt, ok := v.openNonce(a.Param("nonce"))
	if !ok {
		return fmt.Errorf("digest: %w: nonce not issued by this process", ErrStale)
	}
	now := v.now()
	if now.Sub(issuedAt) > v.lifetime || issuedAt.After(now.Add(time.Minute)) {
		return fmt.Errorf("digest: %w: nonce expired", ErrStale)
	}
	return v.useNonce(counter, nc, now)
}

func (v *Verifier) useNonce(counter uint64, nc uint32, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if counter <= v.floor {
		return fmt.Errorf("digest: %w: nonce evicted", ErrStale)
	}
	if last, seen := v.used[counter]; seen {
		if nc <= last {
			return fmt.Errorf("digest: %w: nc %s after %s", ErrReplay, FormatNC(nc), FormatNC(last))
		}
		v.used[counter] = nc
		return nil
	}
	if len(v.used) >= v.max {
		// Evict the oldest used nonce and everything issued before it.
		oldest := uint64(0)
		for c := range v.used {
			if oldest == 0 || c < oldest {
				oldest = c
			}
		}
		delete(v.used, oldest)
		v.floor = max(v.floor, oldest)
		if counter <= v.floor {
			return fmt.Errorf("digest: %w: nonce evicted", ErrStale)
		}
	}
	v.used[counter] = nc
	return nil
}
