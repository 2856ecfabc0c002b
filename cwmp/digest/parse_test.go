package digest

import (
	"errors"
	"maps"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	type ch struct {
		scheme  string
		token68 string
		params  map[string]string
	}
	cases := []struct {
		in   string
		want []ch
	}{
		{`Digest realm="acs", nonce="abc", qop="auth"`,
			[]ch{{"Digest", "", map[string]string{"realm": "acs", "nonce": "abc", "qop": "auth"}}}},
		// Case-insensitive scheme and names, BWS around '=', token values.
		{`dIgEsT  REALM = "r" ,NONCE=n1,Algorithm=MD5-sess`,
			[]ch{{"Digest", "", map[string]string{"realm": "r", "nonce": "n1", "algorithm": "MD5-sess"}}}},
		// Escapes inside quoted strings; commas inside quotes are data.
		{`Digest realm="a \"quoted\" realm, with comma", nonce="x\\y"`,
			[]ch{{"Digest", "", map[string]string{"realm": `a "quoted" realm, with comma`, "nonce": `x\y`}}}},
		// Several challenges in one header, including a bare scheme.
		{`Basic realm="b", Digest realm="d", nonce="n", qop="auth,auth-int", Negotiate, Digest realm="e", nonce="m", algorithm=SHA-256`,
			[]ch{
				{"Basic", "", map[string]string{"realm": "b"}},
				{"Digest", "", map[string]string{"realm": "d", "nonce": "n", "qop": "auth,auth-int"}},
				{"Negotiate", "", map[string]string{}},
				{"Digest", "", map[string]string{"realm": "e", "nonce": "m", "algorithm": "SHA-256"}},
			}},
		// token68 and empty list elements.
		{` , Negotiate abc/d+ef==, , basic`,
			[]ch{{"Negotiate", "abc/d+ef==", map[string]string{}}, {"Basic", "", map[string]string{}}}},
		{`Digest realm=""`, []ch{{"Digest", "", map[string]string{"realm": ""}}}},
	}
	for _, c := range cases {
		got, err := ParseChallenges(c.in)
		if err != nil {
			t.Errorf("ParseChallenges(%q): %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("ParseChallenges(%q) = %d challenges %v, want %d", c.in, len(got), got, len(c.want))
			continue
		}
		for i, w := range c.want {
			if got[i].Scheme != w.scheme || got[i].Token68 != w.token68 || !maps.Equal(got[i].Params, w.params) {
				t.Errorf("ParseChallenges(%q)[%d] = %+v, want %+v", c.in, i, got[i], w)
			}
		}
	}
}

func TestParseChallengesRefusesMalformed(t *testing.T) {
	for _, in := range []string{
		``, `   `, `,`,
		`Digest realm="unterminated`,
		`Digest realm="x\`,
		`Digest realm="a", realm="b"`, // duplicate
		`Digest realm="a" nonce="b"`,  // missing comma
		`Digest realm=, nonce="x"`,    // "realm=" alone would be a token68
		"Digest realm=\"a\x01\"",
		`"Digest"`,
		`Digest=x`,
		`Digest realm="a", "junk"`,
		"Digest realm=\"a\x00\"",
	} {
		if cs, err := ParseChallenges(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseChallenges(%q) = %v, %v; want ErrMalformed", in, cs, err)
		}
	}
}

func TestChallengeAccessors(t *testing.T) {
	cs, err := ParseChallenges(`Digest Realm="r", Nonce="n", Opaque="o", Algorithm=md5, QOP=" Auth , auth-int ,", Stale=TRUE`)
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	if c.Realm() != "r" || c.Nonce() != "n" || c.Opaque() != "o" || c.Algorithm() != "md5" || !c.Stale() {
		t.Errorf("accessors of %+v", c)
	}
	if q := c.QOP(); len(q) != 2 || q[0] != "auth" || q[1] != "auth-int" {
		t.Errorf("QOP() = %q", q)
	}
	if a, err := ParseAlgorithm(c.Algorithm()); err != nil || a != MD5 {
		t.Errorf("ParseAlgorithm(md5) = %v, %v", a, err)
	}
}

func TestParseAuthorization(t *testing.T) {
	a, err := ParseAuthorization(`Digest username="Mufasa", realm="r", nonce="n", uri="/p?q=1", qop=auth, nc=0000000a, cnonce="c", response="abc"`)
	if err != nil {
		t.Fatal(err)
	}
	if nc, ok := a.NC(); a.Scheme != "Digest" || a.Param("uri") != "/p?q=1" || !ok || nc != 10 {
		t.Errorf("parsed %+v (nc %d, %v)", a, nc, ok)
	}
	for _, in := range []string{
		`Digest username="a", Basic realm="x"`, // two schemes
		`Digest username="a" junk`,
		``,
	} {
		if _, err := ParseAuthorization(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseAuthorization(%q) err = %v, want ErrMalformed", in, err)
		}
	}
	for _, nc := range []string{"1", "0000000g", "000000001", ""} {
		a := Authorization{Scheme: "Digest", Params: map[string]string{"nc": nc}}
		if _, ok := a.NC(); ok {
			t.Errorf("NC() accepted %q", nc)
		}
	}
	if _, _, ok := (Authorization{Scheme: "Basic", Token68: "!!!"}).Basic(); ok {
		t.Error("Basic() accepted undecodable credentials")
	}
}
