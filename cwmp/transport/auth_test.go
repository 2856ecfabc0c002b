package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/digest"
	"github.com/rs/zerolog"
)

// digestACS answers with 401 + challenge until a request carries valid
// Digest credentials, then echoes the body. It counts challenges sent.
type digestACS struct {
	t          *testing.T
	v          *digest.Verifier
	user, pass string
	challenges atomic.Int32
	ok         atomic.Int32
	// staleOnce makes the first authenticated request fail as stale.
	staleOnce atomic.Bool
	// forgetAfter makes the server drop the session's nonce (a fresh,
	// non-stale challenge) once that many requests have succeeded.
	forgetAfter atomic.Int32
}

func (d *digestACS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := d.v.Verify(r.Method, r.RequestURI, r.Header.Get("Authorization"), d.user, d.pass)
	if err == nil && d.staleOnce.CompareAndSwap(true, false) {
		err = digest.ErrStale
	}
	if err == nil && d.forgetAfter.Load() > 0 && d.ok.Load() == d.forgetAfter.Load() {
		d.forgetAfter.Store(0)
		err = digest.ErrBadCredentials
	}
	if err != nil {
		d.challenges.Add(1)
		w.Header().Add("WWW-Authenticate", `Basic realm="acs"`)
		w.Header().Add("WWW-Authenticate", d.v.Challenge(errors.Is(err, digest.ErrStale)))
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "<html>unauthorized</html>")
		return
	}
	d.ok.Add(1)
	w.Write(body)
}

func TestDigestSessionReusesStateOnOneConnection(t *testing.T) {
	for _, alg := range []digest.Algorithm{digest.MD5, digest.MD5Sess, digest.SHA256} {
		t.Run(string(alg), func(t *testing.T) {
			v, err := digest.NewVerifier(digest.VerifierConfig{Realm: "acs", Algorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			d := &digestACS{t: t, v: v, user: "cpe-0001", pass: "s3cret"}
			srv := newACS(t, d, nil)
			c := newClient(t, Config{URL: srv.URL + "/acs", Username: "cpe-0001", Password: "s3cret"})
			for i := range 5 {
				kind := Request
				if i%2 == 1 {
					kind = Response
				}
				status, body, err := c.Post(context.Background(), []byte("msg"), kind)
				if err != nil || status != 200 || string(body) != "msg" {
					t.Fatalf("POST %d: %d %q %v", i, status, body, err)
				}
			}
			// One challenge for the whole session: later POSTs answer with
			// the next nonce count, which the verifier would refuse if reused.
			if n := d.challenges.Load(); n != 1 {
				t.Errorf("%d challenges for one session, want 1", n)
			}
			if n := srv.conns.Load(); n != 1 {
				t.Errorf("%d TCP connections for one session, want 1", n)
			}
		})
	}
}

func TestDigestStaleNonceIsRetriedOnce(t *testing.T) {
	v, _ := digest.NewVerifier(digest.VerifierConfig{})
	d := &digestACS{t: t, v: v, user: "u", pass: "p"}
	d.staleOnce.Store(true)
	srv := newACS(t, d, nil)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p"})
	if _, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil {
		t.Fatalf("Post after a stale nonce: %v", err)
	}
	if n := d.challenges.Load(); n != 2 {
		t.Errorf("%d challenges, want 2 (initial + stale)", n)
	}
}

func TestDigestWrongPasswordFailsAfterOneRetry(t *testing.T) {
	v, _ := digest.NewVerifier(digest.VerifierConfig{})
	d := &digestACS{t: t, v: v, user: "u", pass: "right"}
	srv := newACS(t, d, nil)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "wrong"})
	status, _, err := c.Post(context.Background(), []byte("x"), Request)
	e := wantError(t, err, KindAuth, "ACS returned 401 after digest auth")
	if status != 401 || e.Status != 401 {
		t.Errorf("status %d / %d, want 401", status, e.Status)
	}
	if n := d.challenges.Load(); n != 2 {
		t.Errorf("server saw %d unauthorised requests, want 2 (bare + one authenticated retry)", n)
	}
}

// An ACS that always answers 401, even to correct credentials.
func TestAlways401IsNotALoop(t *testing.T) {
	var hits atomic.Int32
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("WWW-Authenticate", `Digest realm="acs", qop="auth", nonce="n`+strings.Repeat("x", int(hits.Load()))+`"`)
		w.WriteHeader(http.StatusUnauthorized)
	}), nil)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p"})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindAuth, "ACS returned 401 after digest auth")
	if n := hits.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func basicHandler(user, pass string, challenges *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			challenges.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="acs"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.Copy(w, r.Body)
	}
}

func TestBasicOverTLS(t *testing.T) {
	ca := newCA(t, "acs-ca")
	var challenges atomic.Int32
	srv := tlsACS(t, basicHandler("u", "p", &challenges), ca)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p", CACertPEM: ca.PEM})
	for i := range 3 {
		if status, body, err := c.Post(context.Background(), []byte("hi"), Request); err != nil || status != 200 || string(body) != "hi" {
			t.Fatalf("POST %d: %d %q %v", i, status, body, err)
		}
	}
	if n := challenges.Load(); n != 1 {
		t.Errorf("%d challenges, want 1 (Basic reused for the session)", n)
	}
	if srv.conns.Load() != 1 {
		t.Errorf("%d connections, want 1", srv.conns.Load())
	}

	c2 := newClient(t, Config{URL: srv.URL, Username: "u", Password: "bad", CACertPEM: ca.PEM})
	_, _, err := c2.Post(context.Background(), []byte("hi"), Request)
	wantError(t, err, KindAuth, "ACS returned 401 after basic auth")
}

func TestBasicOverPlainHTTPIsRefusedUnlessAllowed(t *testing.T) {
	var challenges atomic.Int32
	var sawCredentials atomic.Bool
	h := basicHandler("u", "p", &challenges)
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawCredentials.Store(true)
		}
		h(w, r)
	}), nil)

	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p"})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindAuth, "ACS offers only Basic auth over plain HTTP; refusing to send the password unencrypted")
	if sawCredentials.Load() {
		t.Fatal("the password went over plain HTTP")
	}

	c = newClient(t, Config{URL: srv.URL, Username: "u", Password: "p", AllowBasicOverHTTP: true})
	if _, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil {
		t.Fatalf("with AllowBasicOverHTTP: %v", err)
	}
}

func TestDigestPreferredOverBasic(t *testing.T) {
	v, _ := digest.NewVerifier(digest.VerifierConfig{})
	d := &digestACS{t: t, v: v, user: "u", pass: "p"} // offers Basic first, then Digest
	ca := newCA(t, "ca")
	srv := tlsACS(t, d, ca)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p", CACertPEM: ca.PEM})
	if _, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil {
		t.Fatal(err)
	}
	if d.ok.Load() != 1 {
		t.Error("digest credentials were not what authenticated")
	}
}

func TestNoUsernameConfigured(t *testing.T) {
	var challenges atomic.Int32
	srv := newACS(t, basicHandler("u", "p", &challenges), nil)
	c := newClient(t, Config{URL: srv.URL})
	_, _, err := c.Post(context.Background(), nil, Empty)
	wantError(t, err, KindAuth, "ACS requires authentication but no username is configured")
}

func TestUnsupportedScheme(t *testing.T) {
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Negotiate, Digest realm="x", nonce="n", algorithm=SHA-512-256, qop="auth"`)
		w.WriteHeader(http.StatusUnauthorized)
	}), nil)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p"})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindAuth, "ACS asks for unsupported authentication (Negotiate, Digest)")
}

func TestPasswordNeverLoggedOrReturned(t *testing.T) {
	const pw = "Hunter2-very-secret"
	var logs syncBuffer
	logger := zerolog.New(&logs).Level(zerolog.TraceLevel)
	v, _ := digest.NewVerifier(digest.VerifierConfig{})
	d := &digestACS{t: t, v: v, user: "u", pass: "other"}
	srv := newACS(t, d, nil)
	var basicHits atomic.Int32
	ca := newCA(t, "ca")
	bsrv := tlsACS(t, basicHandler("u", "other", &basicHits), ca)

	var errs []error
	for _, cfg := range []Config{
		{URL: srv.URL, Username: "u", Password: pw, Logger: logger},
		{URL: bsrv.URL, Username: "u", Password: pw, Logger: logger, CACertPEM: ca.PEM},
	} {
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Post(context.Background(), []byte("x"), Request)
		if err == nil {
			t.Fatal("wrong password accepted")
		}
		errs = append(errs, err)
		c.Close()
	}
	for _, err := range errs {
		var e *Error
		errors.As(err, &e)
		if strings.Contains(err.Error(), pw) || strings.Contains(e.UserMessage(), pw) {
			t.Errorf("error carries the password: %v", err)
		}
	}
	if logs.String() == "" {
		t.Fatal("nothing logged at trace level; the check below would be vacuous")
	}
	basic := strings.TrimPrefix(digest.BasicAuthorization("u", pw), "Basic ")
	if strings.Contains(logs.String(), pw) || strings.Contains(logs.String(), basic) ||
		bytes.Contains([]byte(logs.String()), []byte("Authorization")) {
		t.Errorf("log output carries credentials:\n%s", logs.String())
	}
}

// The ACS may drop the session's nonce between POSTs; the pre-emptive
// answer then draws a new challenge, which is answered once.
func TestDigestNewChallengeMidSession(t *testing.T) {
	v, _ := digest.NewVerifier(digest.VerifierConfig{})
	d := &digestACS{t: t, v: v, user: "u", pass: "p"}
	d.forgetAfter.Store(2)
	srv := newACS(t, d, nil)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p"})
	for i := range 4 {
		if _, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil {
			t.Fatalf("POST %d: %v", i, err)
		}
	}
	if n := d.challenges.Load(); n != 2 {
		t.Errorf("%d challenges, want 2", n)
	}
}

// perConnDigestACS verifies Digest and closes the TCP connection after every
// successful answer, as an ACS behind an HTTP/1.0 proxy does (D§2.1); a
// challenge keeps the connection open for the answer unless closeAll is
// set. With perConnNonce it also does what D§2.3 says an ACS should: a
// nonce is good only on the connection it was issued on, and a nonce from
// another one is refused with a plain (not stale) challenge. It records the cnonce of every
// Authorization it is sent, accepted or not, by connection.
type perConnDigestACS struct {
	v            *digest.Verifier
	perConnNonce bool
	closeAll     bool

	mu      sync.Mutex
	issued  map[string]string   // nonce → connection it was issued on
	cnonces map[string][]string // connection → cnonces sent on it
	ok      int
}

func (d *perConnDigestACS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	d.mu.Lock()
	defer d.mu.Unlock()
	h := r.Header.Get("Authorization")
	err := d.v.Verify(r.Method, r.RequestURI, h, "u", "pw")
	if a, perr := digest.ParseAuthorization(h); perr == nil && a.Scheme == "Digest" {
		d.cnonces[r.RemoteAddr] = append(d.cnonces[r.RemoteAddr], a.Param("cnonce"))
		if err == nil && d.perConnNonce && d.issued[a.Param("nonce")] != r.RemoteAddr {
			err = errors.New("nonce issued on another connection")
		}
	}
	if err != nil {
		ch := d.v.Challenge(false)
		cs, _ := digest.ParseChallenges(ch)
		d.issued[cs[0].Nonce()] = r.RemoteAddr
		w.Header().Set("WWW-Authenticate", ch)
		if d.closeAll {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	d.ok++
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusNoContent)
}

// D§2.3: a fresh cnonce on every new TCP connection of the session, and a
// session that still succeeds when the ACS wants a fresh nonce per
// connection too. An ACS that also closes after its 401 gets the answer on
// the next connection (no endless challenges) and, its nonce being good
// anywhere, accepts it.
func TestDigestFreshCnoncePerConnection(t *testing.T) {
	const posts = 4
	for _, tc := range []struct {
		name                   string
		perConnNonce, closeAll bool
		conns                  int32
	}{
		{"nonce good on any connection", false, false, posts},
		{"nonce per connection", true, false, posts},
		{"connection closed after 401 too", false, true, 2 * posts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := digest.NewVerifier(digest.VerifierConfig{Realm: "acs"})
			d := &perConnDigestACS{v: v, perConnNonce: tc.perConnNonce, closeAll: tc.closeAll,
				issued: map[string]string{}, cnonces: map[string][]string{}}
			srv := newACS(t, d, nil)
			c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "pw"})
			for i := range posts {
				if status, _, err := c.Post(context.Background(), nil, Empty); err != nil || status != 204 {
					t.Fatalf("POST %d: %d %v", i, status, err)
				}
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			if n := srv.conns.Load(); n != tc.conns || len(d.cnonces) != posts || d.ok != posts {
				t.Fatalf("%d connections, %d with credentials, %d accepted; want %d, %d, %d",
					n, len(d.cnonces), d.ok, tc.conns, posts, posts)
			}
			seen := map[string]string{}
			for conn, cns := range d.cnonces {
				for _, cn := range cns {
					if prev, ok := seen[cn]; ok && prev != conn {
						t.Errorf("cnonce %s sent on two connections, %s and %s", cn, prev, conn)
					}
					seen[cn] = conn
				}
			}
		})
	}
}
