package digest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("malformed authentication header")

// Param limits keep a hostile header from costing more than a few KiB.
const (
	maxParams     = 32
	maxChallenges = 16
)

// Challenge is one challenge from a WWW-Authenticate header.
type Challenge struct {
	// Scheme is canonicalised: "Digest", "Basic", or the header's spelling
	// for other schemes.
	Scheme string
	// Token68 holds a token68 form (rare in challenges) verbatim.
	Token68 string
	// Params maps lower-cased parameter names to their unquoted values.
	Params map[string]string
}

// Param returns the parameter named name (case-insensitively).
func (c Challenge) Param(name string) string { return c.Params[strings.ToLower(name)] }

// Realm, Nonce, Opaque and Algorithm are the Digest parameters by name.
func (c Challenge) Realm() string     { return c.Param("realm") }
func (c Challenge) Nonce() string     { return c.Param("nonce") }
func (c Challenge) Opaque() string    { return c.Param("opaque") }
func (c Challenge) Algorithm() string { return c.Param("algorithm") }

// Stale reports the Digest stale flag: the credentials were right but the
// nonce had expired, so a retry with the new nonce is expected to work.
func (c Challenge) Stale() bool { return strings.EqualFold(c.Param("stale"), "true") }

// QOP returns the offered qop values, lower-cased.
func (c Challenge) QOP() []string {
	v := c.Param("qop")
	if v == "" {
		return nil
	}
	var out []string
	for q := range strings.SplitSeq(v, ",") {
		if q = strings.ToLower(strings.TrimSpace(q)); q != "" {
			out = append(out, q)
		}
	}
	return out
}

func canonicalScheme(s string) string {
	switch {
	case strings.EqualFold(s, "Digest"):
		return "Digest"
	case strings.EqualFold(s, "Basic"):
		return "Basic"
	}
	return s
}

// ParseChallenges parses one WWW-Authenticate header value, which may hold
// several comma-separated challenges. It returns an error wrapping
// ErrMalformed if any part is malformed: a half-understood challenge is not
// something to send a password against.
func ParseChallenges(header string) ([]Challenge, error) {
	p := parser{s: header}
	var out []Challenge
	for {
		p.skipListSeparators()
		if p.eof() {
			break
		}
		if len(out) == maxChallenges {
			return nil, p.errorf("more than %d challenges", maxChallenges)
		}
		c, err := p.authItem()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("digest: %w: empty challenge", ErrMalformed)
	}
	return out, nil
}

// parser is a cursor over a header value following RFC 7235's auth grammar.
type parser struct {
	s   string
	pos int
}

func (p *parser) eof() bool { return p.pos >= len(p.s) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("digest: %w: at byte %d: %s", ErrMalformed, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipOWS() {
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// skipListSeparators skips the empty list elements RFC 7230 §7 tells
// recipients to accept (", ,").
func (p *parser) skipListSeparators() {
	for {
		p.skipOWS()
		if p.peek() != ',' {
			return
		}
		p.pos++
	}
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

func (p *parser) token() string {
	start := p.pos
	for !p.eof() && isTchar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// quoted reads a quoted-string whose opening quote is at p.pos, resolving
// quoted-pairs.
func (p *parser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			if p.pos+1 >= len(p.s) {
				return "", p.errorf("backslash at end of quoted string")
			}
			e := p.s[p.pos+1]
			if e != '\t' && (e < 0x20 || e == 0x7f) {
				return "", p.errorf("control character escaped in quoted string")
			}
			b.WriteByte(e)
			p.pos += 2
		case c == '\t' || (c >= 0x20 && c != 0x7f):
			b.WriteByte(c)
			p.pos++
		default:
			return "", p.errorf("control character in quoted string")
		}
	}
	return "", p.errorf("unterminated quoted string")
}

// tryParam reads `name BWS "=" BWS (token / quoted-string)` or leaves the
// cursor untouched and reports ok=false when the input is not a parameter
// (it is then a token68 or the next challenge's scheme).
func (p *parser) tryParam() (name, value string, ok bool, err error) {
	start := p.pos
	name = p.token()
	if name == "" {
		p.pos = start
		return "", "", false, nil
	}
	p.skipOWS()
	if p.peek() != '=' {
		p.pos = start
		return "", "", false, nil
	}
	p.pos++
	p.skipOWS()
	switch c := p.peek(); {
	case c == '"':
		value, err = p.quoted()
		if err != nil {
			return "", "", false, err
		}
	case isTchar(c):
		value = p.token()
	default:
		// "abc==" is a token68, not a parameter with an empty value.
		p.pos = start
		return "", "", false, nil
	}
	return strings.ToLower(name), value, true, nil
}

// tryToken68 reads a token68 that stands alone up to a comma or the end.
func (p *parser) tryToken68() (string, bool) {
	start := p.pos
	for !p.eof() && isToken68char(p.s[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", false
	}
	for p.peek() == '=' {
		p.pos++
	}
	end := p.pos
	p.skipOWS()
	if !p.eof() && p.peek() != ',' {
		p.pos = start
		return "", false
	}
	return p.s[start:end], true
}

// authItem reads one `auth-scheme [ 1*SP ( token68 / #auth-param ) ]`,
// stopping before a following challenge's scheme.
func (p *parser) authItem() (Challenge, error) {
	scheme := p.token()
	if scheme == "" {
		return Challenge{}, p.errorf("expected an auth scheme")
	}
	c := Challenge{Scheme: canonicalScheme(scheme), Params: map[string]string{}}
	if p.eof() || p.peek() == ',' {
		return c, nil
	}
	if p.peek() != ' ' && p.peek() != '\t' {
		return Challenge{}, p.errorf("expected space after scheme %q", scheme)
	}
	p.skipOWS()
	if p.eof() {
		return c, nil
	}
	first := true
	for {
		name, value, ok, err := p.tryParam()
		if err != nil {
			return Challenge{}, err
		}
		if !ok {
			if first {
				if t, ok := p.tryToken68(); ok {
					c.Token68 = t
					return c, nil
				}
				if p.peek() == ',' {
					return c, nil
				}
				return Challenge{}, p.errorf("expected a parameter or token68 after %q", scheme)
			}
			// Not a parameter after a comma: the next challenge starts here.
			return c, nil
		}
		if _, dup := c.Params[name]; dup {
			return Challenge{}, p.errorf("parameter %q repeated", name)
		}
		if len(c.Params) == maxParams {
			return Challenge{}, p.errorf("more than %d parameters", maxParams)
		}
		c.Params[name] = value
		first = false
		p.skipOWS()
		if p.eof() {
			return c, nil
		}
		if p.peek() != ',' {
			return Challenge{}, p.errorf("expected ',' after parameter %q", name)
		}
		p.skipListSeparators()
		if p.eof() {
			return c, nil
		}
	}
}

// String renders the challenge in the header grammar (parameters sorted, all
// values quoted), so that ParseChallenges(c.String()) yields c again.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteString(" " + c.Token68)
		return b.String()
	}
	for i, k := range slices.Sorted(maps.Keys(c.Params)) {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + quote(c.Params[k]))
	}
	return b.String()
}
