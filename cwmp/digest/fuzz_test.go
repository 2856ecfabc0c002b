package digest

import (
	"maps"
	"testing"
)

// FuzzParseChallenge checks that no input panics and that whatever parses
// survives a round trip through Challenge.String, so the parser's view of a
// header is the header's own meaning rather than an accident of position.
func FuzzParseChallenge(f *testing.F) {
	f.Add(`Digest realm="acs", nonce="abc", qop="auth", algorithm=MD5`)
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := ParseChallenges(in)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("empty scheme from %q", in)
			}
			again, err := ParseChallenges(c.String())
			if err != nil || len(again) != 1 || again[0].Scheme != c.Scheme ||
				again[0].Token68 != c.Token68 || !maps.Equal(again[0].Params, c.Params) {
				t.Fatalf("%q: challenge %q re-parsed to %v, %v", in, c.String(), again, err)
			}
			_ = c.QOP()
			_ = c.Stale()
		}
		if c, ok := SelectDigest(cs); ok {
			a, err := NewClientAuth(c, "u", "p", nil)
			if err != nil {
				t.Fatalf("%q: selected challenge refused: %v", in, err)
			}
			h, err := a.Authorize("POST", "/")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseAuthorization(h); err != nil {
				t.Fatalf("%q: own Authorization %q does not parse: %v", in, h, err)
			}
		}
	})
}

// FuzzParseAuthorization checks the server-facing parser and the verifier
// path behind it on arbitrary input: no panic, a round trip for what parses,
// and nothing but a correctly computed answer is ever accepted.
func FuzzParseAuthorization(f *testing.F) {
	f.Add(`Digest username="acs", realm="cwmpd", nonce="x", uri="/p", qop=auth, nc=00000001, cnonce="c", response="0"`)
	v, err := NewVerifier(VerifierConfig{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAuthorization(in)
		if err == nil {
			again, err := ParseChallenges(Challenge(a).String())
			if err != nil || len(again) != 1 || again[0].Scheme != a.Scheme || !maps.Equal(again[0].Params, a.Params) {
				t.Fatalf("%q re-parsed to %v, %v", in, again, err)
			}
			_, _ = a.NC()
			_, _, _ = a.Basic()
		}
		if err := v.Verify("GET", "/p", in, "acs", "pw"); err == nil {
			t.Fatalf("fuzzed header %q was accepted", in)
		}
	})
}
