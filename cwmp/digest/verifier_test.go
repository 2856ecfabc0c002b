package digest

import (
	"errors"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func answer(t *testing.T, v *Verifier, user, pass, uri string) *ClientAuth {
	t.Helper()
	cs, err := ParseChallenges(v.Challenge(false))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := SelectDigest(cs)
	if !ok {
		t.Fatalf("verifier's challenge %v is not answerable", cs)
	}
	a, err := NewClientAuth(c, user, pass, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func authz(t *testing.T, a *ClientAuth, uri string) string {
	t.Helper()
	h, err := a.Authorize("GET", uri)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerifierAcceptsAndRefusesReplay(t *testing.T) {
	for _, alg := range []Algorithm{MD5, MD5Sess, SHA256} {
		v, err := NewVerifier(VerifierConfig{Realm: "cpe", Algorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		a := answer(t, v, "acs", "secret", "/abc")
		h1 := authz(t, a, "/abc")
		if err := v.Verify("GET", "/abc", h1, "acs", "secret"); err != nil {
			t.Fatalf("%s: first use: %v", alg, err)
		}
		if err := v.Verify("GET", "/abc", h1, "acs", "secret"); !errors.Is(err, ErrReplay) {
			t.Errorf("%s: replayed header: err = %v, want ErrReplay", alg, err)
		}
		if err := v.Verify("GET", "/abc", authz(t, a, "/abc"), "acs", "secret"); err != nil {
			t.Errorf("%s: next nonce count: %v", alg, err)
		}
	}
}

func TestVerifierRefusals(t *testing.T) {
	clk := &clock{time.Unix(1_800_000_000, 0)}
	v, err := NewVerifier(VerifierConfig{Lifetime: time.Minute, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewVerifier(VerifierConfig{Now: clk.now})

	cases := []struct {
		name   string
		header func() string
		uri    string
		user   string
		pass   string
		want   error
	}{
		{"no header", func() string { return "" }, "/p", "acs", "pw", ErrNoCredentials},
		{"basic", func() string { return BasicAuthorization("acs", "pw") }, "/p", "acs", "pw", ErrNotDigest},
		{"garbage", func() string { return `Digest username="acs` }, "/p", "acs", "pw", ErrMalformed},
		{"missing cnonce", func() string {
			return `Digest username="acs", realm="cwmpd", nonce="x", uri="/p", response="0", qop=auth, nc=00000001`
		}, "/p", "acs", "pw", ErrMalformed},
		{"wrong password", func() string { return authz(t, answer(t, v, "acs", "nope", "/p"), "/p") }, "/p", "acs", "pw", ErrBadCredentials},
		{"wrong user", func() string { return authz(t, answer(t, v, "eve", "pw", "/p"), "/p") }, "/p", "acs", "pw", ErrBadCredentials},
		{"other uri", func() string { return authz(t, answer(t, v, "acs", "pw", "/p"), "/q") }, "/p", "acs", "pw", ErrBadCredentials},
		{"nothing configured", func() string { return authz(t, answer(t, v, "", "", "/p"), "/p") }, "/p", "", "", ErrBadCredentials},
		{"foreign nonce", func() string { return authz(t, answer(t, other, "acs", "pw", "/p"), "/p") }, "/p", "acs", "pw", ErrStale},
	}
	for _, c := range cases {
		if err := v.Verify("GET", c.uri, c.header(), c.user, c.pass); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}

	a := answer(t, v, "acs", "pw", "/p")
	clk.t = clk.t.Add(61 * time.Second)
	if err := v.Verify("GET", "/p", authz(t, a, "/p"), "acs", "pw"); !errors.Is(err, ErrStale) {
		t.Errorf("expired nonce: err = %v, want ErrStale", err)
	}
}

func TestVerifierTableIsBoundedAndEvictedNoncesStayDead(t *testing.T) {
	v, err := NewVerifier(VerifierConfig{MaxNonces: 2})
	if err != nil {
		t.Fatal(err)
	}
	var auths []*ClientAuth
	for range 3 {
		auths = append(auths, answer(t, v, "acs", "pw", "/p"))
	}
	for i, a := range auths {
		if err := v.Verify("GET", "/p", authz(t, a, "/p"), "acs", "pw"); err != nil {
			t.Fatalf("nonce %d: %v", i, err)
		}
	}
	if len(v.used) != 2 {
		t.Errorf("used table holds %d nonces, want 2", len(v.used))
	}
	// The first nonce was evicted: a later count must not be taken as new.
	if err := v.Verify("GET", "/p", authz(t, auths[0], "/p"), "acs", "pw"); !errors.Is(err, ErrStale) {
		t.Errorf("evicted nonce: err = %v, want ErrStale", err)
	}
	if err := v.Verify("GET", "/p", authz(t, auths[2], "/p"), "acs", "pw"); err != nil {
		t.Errorf("newest nonce: %v", err)
	}
}

func TestVerifierChallengeStaleFlag(t *testing.T) {
	v, _ := NewVerifier(VerifierConfig{})
	for _, stale := range []bool{false, true} {
		cs, err := ParseChallenges(v.Challenge(stale))
		if err != nil || len(cs) != 1 || cs[0].Stale() != stale || cs[0].Realm() != "cwmpd" {
			t.Errorf("Challenge(%v) parsed to %v, %v", stale, cs, err)
		}
	}
}
