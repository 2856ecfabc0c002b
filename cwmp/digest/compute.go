package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Algorithm is a Digest algorithm token as it appears on the wire.
type Algorithm string

// The algorithms this package computes. MD5 and MD5-sess are mandatory for
// CWMP (Amd 6 §3.4.5); SHA-256 costs nothing extra and is RFC 7616's
// preference.
const (
	MD5           Algorithm = "MD5"
	MD5Sess       Algorithm = "MD5-sess"
	SHA256        Algorithm = "SHA-256"
	SHA256Sess    Algorithm = "SHA-256-sess"
	defaultDigest           = MD5
)

// ErrUnsupported is returned for an algorithm or qop this package does not
// implement.
var ErrUnsupported = errors.New("unsupported digest parameters")

// ParseAlgorithm maps a wire token (case-insensitive; empty means MD5 per
// RFC 2617) to an Algorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	for _, a := range []Algorithm{MD5, MD5Sess, SHA256, SHA256Sess} {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	if s == "" {
		return defaultDigest, nil
	}
	return "", fmt.Errorf("digest: %w: algorithm %q", ErrUnsupported, s)
}

func (a Algorithm) sess() bool { return a == MD5Sess || a == SHA256Sess }

func (a Algorithm) h(parts ...string) string {
	// Joined in one buffer (on the stack for the usual lengths) and hashed
	// in one call: every POST of every session computes three of these.
	var scratch [256]byte
	buf := scratch[:0]
	for i, p := range parts {
		if i > 0 {
			buf = append(buf, ':')
		}
		buf = append(buf, p...)
	}
	if a == SHA256 || a == SHA256Sess {
		sum := sha256.Sum256(buf)
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum(buf)
	return hex.EncodeToString(sum[:])
}

// Params are the inputs of a Digest response computation.
type Params struct {
	Algorithm Algorithm
	Username  string
	Realm     string
	Password  string
	Method    string
	URI       string
	Nonce     string
	CNonce    string
	NC        uint32
	// QOP is "auth" or empty for the RFC 2069 form (no cnonce, no nc).
	QOP string
}

// FormatNC renders a nonce count as the 8 hex digits the wire carries.
func FormatNC(nc uint32) string {
	const hex = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = hex[nc&0xf]
		nc >>= 4
	}
	return string(b[:])
}

// Response computes the request-digest of RFC 7616 §3.4.1. qop=auth-int is
// refused: CWMP asks for auth only and auth-int would need the body here.
func Response(p Params) (string, error) {
	alg := p.Algorithm
	if alg == "" {
		alg = defaultDigest
	}
	if _, err := ParseAlgorithm(string(alg)); err != nil {
		return "", err
	}
	if p.QOP != "" && p.QOP != "auth" {
		return "", fmt.Errorf("digest: %w: qop %q", ErrUnsupported, p.QOP)
	}
	ha1 := alg.h(p.Username, p.Realm, p.Password)
	if alg.sess() {
		ha1 = alg.h(ha1, p.Nonce, p.CNonce)
	}
	ha2 := alg.h(p.Method, p.URI)
	if p.QOP == "" {
		return alg.h(ha1, p.Nonce, ha2), nil
	}
	return alg.h(ha1, p.Nonce, FormatNC(p.NC), p.CNonce, p.QOP, ha2), nil
}

// quote renders s as a quoted-string, escaping '"' and '\'.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	quoteTo(&b, s)
	return b.String()
}

// quoteTo writes s to b as quote renders it.
func quoteTo(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}
