package digest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// ClientAuth answers one Digest challenge for as many requests as the server
// keeps accepting its nonce, counting nc up, as RFC 7616 §3.4 expects of a
// client that reuses a nonce. It is safe for concurrent use, though a CWMP
// session sends one request at a time.
type ClientAuth struct {
	alg      Algorithm
	qop      string
	realm    string
	nonce    string
	opaque   string
	cnonce   string
	username string
	password string

	mu sync.Mutex
	nc uint32
}

// SelectDigest returns the first Digest challenge, in the server's order of
// preference, whose algorithm and qop this package implements.
func SelectDigest(cs []Challenge) (Challenge, bool) {
	for _, c := range cs {
		if c.Scheme != "Digest" || c.Nonce() == "" {
			continue
		}
		alg, err := ParseAlgorithm(c.Algorithm())
		if err != nil {
			continue
		}
		q := c.QOP()
		if q != nil && !slices.Contains(q, "auth") || q == nil && alg.sess() {
			continue
		}
		return c, true
	}
	return Challenge{}, false
}

// NewClientAuth prepares answers to a Digest challenge. rnd supplies the
// client nonce (crypto/rand when nil).
func NewClientAuth(c Challenge, username, password string, rnd io.Reader) (*ClientAuth, error) {
	if c.Scheme != "Digest" {
		return nil, fmt.Errorf("digest: %w: scheme %q", ErrUnsupported, c.Scheme)
	}
	if c.Nonce() == "" {
		return nil, fmt.Errorf("digest: %w: challenge without nonce", ErrMalformed)
	}
	alg, err := ParseAlgorithm(c.Algorithm())
	if err != nil {
		return nil, err
	}
	qop := ""
	if q := c.QOP(); q != nil {
		if !slices.Contains(q, "auth") {
			return nil, fmt.Errorf("digest: %w: qop %q", ErrUnsupported, c.Param("qop"))
		}
		qop = "auth"
	} else if alg.sess() {
		// -sess needs a cnonce, which only exists with a qop.
		return nil, fmt.Errorf("digest: %w: %s without qop", ErrUnsupported, alg)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var cn [16]byte
	if _, err := io.ReadFull(rnd, cn[:]); err != nil {
		return nil, fmt.Errorf("digest: client nonce: %w", err)
	}
	return &ClientAuth{
		alg: alg, qop: qop, realm: c.Realm(), nonce: c.Nonce(), opaque: c.Opaque(),
		cnonce: hex.EncodeToString(cn[:]), username: username, password: password,
	}, nil
}

// Algorithm reports the algorithm in use.
func (a *ClientAuth) Algorithm() Algorithm { return a.alg }

// Nonce reports the server nonce being answered.
func (a *ClientAuth) Nonce() string { return a.nonce }

// Authorize returns the Authorization header value for the next request,
// taking the next nonce count.
func (a *ClientAuth) Authorize(method, uri string) (string, error) {
	a.mu.Lock()
	a.nc++
	nc := a.nc
	a.mu.Unlock()
	resp, err := Response(Params{
		Algorithm: a.alg, Username: a.username, Realm: a.realm, Password: a.password,
		Method: method, URI: uri, Nonce: a.nonce, CNonce: a.cnonce, NC: nc, QOP: a.qop,
	})
	if err != nil {
		return "", err
	}
	// One builder, sized once: this header goes with every POST.
	var b strings.Builder
	b.Grow(160 + len(a.username) + len(a.realm) + len(a.nonce) + len(uri) + len(resp) + len(a.opaque) + len(a.cnonce))
	param := func(sep, name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteByte('=')
		quoteTo(&b, value)
	}
	param("Digest ", "username", a.username)
	param(", ", "realm", a.realm)
	param(", ", "nonce", a.nonce)
	param(", ", "uri", uri)
	b.WriteString(", algorithm=")
	b.WriteString(string(a.alg))
	param(", ", "response", resp)
	if a.opaque != "" {
		param(", ", "opaque", a.opaque)
	}
	if a.qop != "" {
		b.WriteString(", qop=")
		b.WriteString(a.qop)
		b.WriteString(", nc=")
		b.WriteString(FormatNC(nc))
		param(", ", "cnonce", a.cnonce)
	}
	return b.String(), nil
}

// BasicAuthorization returns a Basic Authorization header value.
func BasicAuthorization(username, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
}
