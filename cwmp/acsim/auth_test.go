package acsim

import (
	"net/http"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/digest"
)

// digestAuthorizer answers the challenge of a 401 the way a CPE would.
func digestAuthorizer(t *testing.T, resp *http.Response, user, pass string) func(method, uri string) string {
	t.Helper()
	chs, err := digest.ParseChallenges(resp.Header.Get("WWW-Authenticate"))
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := digest.SelectDigest(chs)
	if !ok {
		t.Fatalf("no usable Digest challenge in %q", resp.Header.Get("WWW-Authenticate"))
	}
	if q := ch.QOP(); len(q) != 1 || q[0] != "auth" {
		t.Fatalf("challenge qop %v, want auth", q)
	}
	ca, err := digest.NewClientAuth(ch, user, pass, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(method, uri string) string {
		h, err := ca.Authorize(method, uri)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}

func TestDigestAuth(t *testing.T) {
	s := startServer(t, Config{Auth: Auth{Mode: AuthDigest, Username: "cpe", Password: "s3cret"}})
	cpe := newCPE(t, s.URL())
	resp, _ := cpe.do(cpe.informEnv("1 BOOT"), soapHeaders)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated Inform: %d, want 401", resp.StatusCode)
	}

	cpe.authorize = digestAuthorizer(t, resp, "cpe", "wrong")
	if resp, _ := cpe.do(cpe.informEnv("1 BOOT"), soapHeaders); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", resp.StatusCode)
	}
	if !containsAny(lastErrors(s), "authentication failed") {
		t.Fatalf("wrong credentials not recorded: %v", lastErrors(s))
	}

	cpe.authorize = digestAuthorizer(t, resp, "cpe", "s3cret")
	cpe.inform("1 BOOT")
	// The nonce is reused with a rising nonce count for the rest of the session.
	if status, _ := cpe.empty(); status != http.StatusNoContent {
		t.Fatalf("empty POST with reused nonce: %d", status)
	}
	if len(s.Sessions()) != 1 {
		t.Fatalf("401s must not open sessions: %+v", s.Sessions())
	}
}

func TestBasicAuth(t *testing.T) {
	s := startServer(t, Config{Auth: Auth{Mode: AuthBasic, Username: "cpe", Password: "s3cret"}})
	cpe := newCPE(t, s.URL())
	resp, _ := cpe.do(cpe.informEnv("1 BOOT"), soapHeaders)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="acsim"` {
		t.Fatalf("unauthenticated: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	cpe.authorize = func(string, string) string { return digest.BasicAuthorization("cpe", "nope") }
	if resp, _ := cpe.do(cpe.informEnv("1 BOOT"), soapHeaders); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	cpe.authorize = func(string, string) string { return digest.BasicAuthorization("cpe", "s3cret") }
	cpe.inform("1 BOOT")
	for _, e := range s.Transcript() {
		if containsAny([]string{e.Raw}, "s3cret") || containsAny(e.Errors, "s3cret") || containsAny(e.Errors, "nope") {
			t.Fatalf("password in transcript: %+v", e)
		}
	}
}

func TestAuthConfigNeedsCredentials(t *testing.T) {
	if _, err := New(Config{Auth: Auth{Mode: AuthDigest}}); err == nil {
		t.Fatal("digest without credentials accepted")
	}
	if _, err := New(Config{Auth: Auth{Mode: "ntlm", Username: "a", Password: "b"}}); err == nil {
		t.Fatal("unknown auth mode accepted")
	}
}
