package digest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestResponseKnownVectors(t *testing.T) {
	rfc2617 := Params{
		Username: "Mufasa", Realm: "testrealm@host.com", Password: "Circle Of Life",
		Method: "GET", URI: "/dir/index.html", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		CNonce: "0a4f113b", NC: 1, QOP: "auth",
	}
	rfc7616 := Params{
		Username: "Mufasa", Realm: "http-auth@example.org", Password: "Circle of Life",
		Method: "GET", URI: "/dir/index.html", Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", NC: 1, QOP: "auth",
	}
	with := func(p Params, f func(*Params)) Params { f(&p); return p }
	cases := []struct {
		name string
		p    Params
		want string
	}{
		// RFC 2617 §3.5.
		{"rfc2617 md5", rfc2617, "6629fae49393a05397450978507c4ef1"},
		// RFC 7616 §3.9.1, both algorithms.
		{"rfc7616 md5", with(rfc7616, func(p *Params) { p.Algorithm = MD5 }), "8ca523f5e9506fed4657c9700eebdbec"},
		{"rfc7616 sha256", with(rfc7616, func(p *Params) { p.Algorithm = SHA256 }), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		// Computed independently (Python hashlib) from the RFC 2617 inputs.
		{"md5-sess", with(rfc2617, func(p *Params) { p.Algorithm = MD5Sess }), "8e3825c57e897f5a0dec6c2d4e5059d0"},
		{"rfc2069 no qop", with(rfc2617, func(p *Params) { p.QOP = ""; p.CNonce = ""; p.NC = 0 }), "670fd8c2df070c60b045671b8b24ff02"},
	}
	for _, c := range cases {
		got, err := Response(c.p)
		if err != nil || got != c.want {
			t.Errorf("%s: Response = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestResponseRefusesUnsupported(t *testing.T) {
	if _, err := Response(Params{QOP: "auth-int"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("auth-int: err = %v, want ErrUnsupported", err)
	}
	if _, err := Response(Params{Algorithm: "SHA-512-256", QOP: "auth"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SHA-512-256: err = %v, want ErrUnsupported", err)
	}
}

func TestClientAuthCountsAndQuotes(t *testing.T) {
	cs, err := ParseChallenges(`Digest realm="acs \"main\"", nonce="n1", qop="auth,auth-int", algorithm=MD5-sess, opaque="op"`)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := SelectDigest(cs)
	if !ok {
		t.Fatal("SelectDigest found nothing")
	}
	a, err := NewClientAuth(c, `us"er`, "pw", bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	for i, wantNC := range []string{"00000001", "00000002", "00000003"} {
		h, err := a.Authorize("POST", "/acs?x=1")
		if err != nil {
			t.Fatal(err)
		}
		az, err := ParseAuthorization(h)
		if err != nil {
			t.Fatalf("own header %q does not parse: %v", h, err)
		}
		nc, _ := az.NC()
		want, _ := Response(Params{
			Algorithm: MD5Sess, Username: `us"er`, Realm: `acs "main"`, Password: "pw",
			Method: "POST", URI: "/acs?x=1", Nonce: "n1", CNonce: strings.Repeat("ab", 16), NC: uint32(i + 1), QOP: "auth",
		})
		if az.Param("nc") != wantNC || nc != uint32(i+1) || az.Param("response") != want ||
			az.Param("username") != `us"er` || az.Param("realm") != `acs "main"` || az.Param("opaque") != "op" ||
			az.Param("algorithm") != "MD5-sess" || az.Param("qop") != "auth" {
			t.Errorf("request %d: header %q parsed to %v", i+1, h, az.Params)
		}
		exact := `Digest username="us\"er", realm="acs \"main\"", nonce="n1", uri="/acs?x=1", algorithm=MD5-sess, response="` +
			want + `", opaque="op", qop=auth, nc=` + wantNC + `, cnonce="` + strings.Repeat("ab", 16) + `"`
		if h != exact {
			t.Errorf("request %d: header\n %s\nwant\n %s", i+1, h, exact)
		}
		if strings.Contains(h, "pw") {
			t.Errorf("header carries the password: %q", h)
		}
	}
}

func TestSelectDigestPrefersServerOrderAndSkipsUnsupported(t *testing.T) {
	cs, err := ParseChallenges(`Digest realm="r", nonce="a", algorithm=SHA-512-256, qop="auth", ` +
		`Digest realm="r", nonce="b", algorithm=MD5, qop="auth-int", ` +
		`Basic realm="r", Digest realm="r", nonce="c", algorithm=SHA-256, qop="auth", Digest realm="r", nonce="d"`)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := SelectDigest(cs)
	if !ok || c.Nonce() != "c" {
		t.Errorf("SelectDigest = %v, %v; want the SHA-256 challenge with nonce c", c, ok)
	}
	if _, ok := SelectDigest(cs[:3]); ok {
		t.Error("SelectDigest picked a challenge among unsupported ones")
	}
}

func TestNewClientAuthRefusesSessWithoutQOP(t *testing.T) {
	c := Challenge{Scheme: "Digest", Params: map[string]string{"nonce": "n", "algorithm": "MD5-sess"}}
	if _, err := NewClientAuth(c, "u", "p", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("err = %v, want ErrUnsupported", err)
	}
}

func TestBasicAuthorizationRoundTrip(t *testing.T) {
	a, err := ParseAuthorization(BasicAuthorization("Aladdin", "open:sesame"))
	if err != nil {
		t.Fatal(err)
	}
	u, p, ok := a.Basic()
	if !ok || u != "Aladdin" || p != "open:sesame" {
		t.Errorf("Basic() = %q, %q, %v", u, p, ok)
	}
}

func TestFormatNCIsEightLowerHexDigits(t *testing.T) {
	for _, nc := range []uint32{0, 1, 0xa, 0xff, 0x1234abcd, 0xffffffff} {
		if got, want := FormatNC(nc), fmt.Sprintf("%08x", nc); got != want {
			t.Errorf("FormatNC(%#x) = %q, want %q", nc, got, want)
		}
	}
}

// Every POST of a session carries one of these headers.
func BenchmarkAuthorize(b *testing.B) {
	cs, err := ParseChallenges(`Digest realm="cwmp", nonce="0123456789abcdef0123456789abcdef", qop="auth", algorithm=MD5`)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := SelectDigest(cs)
	a, err := NewClientAuth(c, "02C0DE-cwmpd-sim-6B514A9D4C60", "secret", bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize("POST", "/cwmp"); err != nil {
			b.Fatal(err)
		}
	}
}
