package digest

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Authorization is a parsed Authorization header.
type Authorization struct {
	Scheme  string            // "Digest", "Basic" or as sent
	Token68 string            // the credentials of a token68 scheme (Basic)
	Params  map[string]string // lower-cased names, unquoted values
}

// ParseAuthorization parses an Authorization header value: exactly one
// scheme with its parameters or token68.
func ParseAuthorization(header string) (Authorization, error) {
	p := parser{s: header}
	p.skipOWS()
	c, err := p.authItem()
	if err != nil {
		return Authorization{}, err
	}
	p.skipListSeparators()
	if !p.eof() {
		return Authorization{}, p.errorf("trailing data after credentials")
	}
	return Authorization(c), nil
}

// Param returns the parameter named name (case-insensitively).
func (a Authorization) Param(name string) string { return a.Params[strings.ToLower(name)] }

// NC returns the Digest nonce count, which is 8 hex digits on the wire.
func (a Authorization) NC() (uint32, bool) {
	s := a.Param("nc")
	if len(s) != 8 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 16, 32)
	return uint32(n), err == nil
}

// Basic decodes Basic credentials. It reports ok=false for any other scheme
// or undecodable credentials.
func (a Authorization) Basic() (username, password string, ok bool) {
	if a.Scheme != "Basic" || a.Token68 == "" {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(a.Token68)
	if err != nil {
		return "", "", false
	}
	username, password, ok = strings.Cut(string(raw), ":")
	return username, password, ok
}
