package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/digest"
)

func TestCookiesKeptForTheSessionOnly(t *testing.T) {
	var sessions atomic.Int32
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) == "inform" {
			id := sessions.Add(1)
			if _, err := r.Cookie("session"); err == nil {
				http.Error(w, "cookie from an earlier session", http.StatusConflict)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "session", Value: fmt.Sprint(id), Path: "/"})
			io.WriteString(w, "informresponse")
			return
		}
		ck, err := r.Cookie("session")
		if err != nil || ck.Value != fmt.Sprint(sessions.Load()) {
			http.Error(w, "no session cookie", http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}), nil)

	for range 2 { // two sessions: the second must not inherit the cookie
		c := newClient(t, Config{URL: srv.URL + "/acs"})
		if _, body, err := c.Post(context.Background(), []byte("inform"), Request); err != nil || string(body) != "informresponse" {
			t.Fatalf("inform: %q %v", body, err)
		}
		for i := range 3 {
			if status, _, err := c.Post(context.Background(), nil, Empty); err != nil || status != 204 {
				t.Fatalf("POST %d after inform: %d %v", i, status, err)
			}
		}
		c.Close()
	}
}

func TestRedirectFollowedForTheSession(t *testing.T) {
	for _, code := range []int{301, 302, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var finalHits atomic.Int32
			final := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost {
					http.Error(w, "want POST", http.StatusMethodNotAllowed)
					return
				}
				finalHits.Add(1)
				fmt.Fprintf(w, "final got %s", body)
			}), nil)
			var firstHits atomic.Int32
			first := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				firstHits.Add(1)
				io.Copy(io.Discard, r.Body)
				http.Redirect(w, r, final.URL+"/acs2", code)
			}), nil)

			c := newClient(t, Config{URL: first.URL + "/acs"})
			status, body, err := c.Post(context.Background(), []byte("<Inform/>"), Request)
			if err != nil || status != 200 || string(body) != "final got <Inform/>" {
				t.Fatalf("Post = %d %q %v", status, body, err)
			}
			if c.URL() != final.URL+"/acs2" || c.Redirects() != 1 {
				t.Errorf("URL() = %q after %d redirects, want %q", c.URL(), c.Redirects(), final.URL+"/acs2")
			}
			// The rest of the session goes straight to the new location.
			if _, _, err := c.Post(context.Background(), nil, Empty); err != nil {
				t.Fatal(err)
			}
			if firstHits.Load() != 1 || finalHits.Load() != 2 {
				t.Errorf("first ACS saw %d, final %d; want 1 and 2", firstHits.Load(), finalHits.Load())
			}
		})
	}
}

func TestTooManyRedirects(t *testing.T) {
	var hits atomic.Int32
	srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		http.Redirect(w, r, fmt.Sprintf("/hop%d", n), http.StatusTemporaryRedirect)
	}), nil)
	c := newClient(t, Config{URL: srv.URL})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindRedirect, "too many redirects (6)")
	if n := hits.Load(); n != 6 {
		t.Errorf("%d requests, want 6 (the first and 5 redirects)", n)
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1: redirect bodies must be drained", n)
	}
}

func TestRedirectFromHTTPSToHTTPRefused(t *testing.T) {
	plain := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the session followed a downgrade to plain HTTP")
	}), nil)
	ca := newCA(t, "ca")
	srv := tlsACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL, http.StatusFound)
	}), ca)
	c := newClient(t, Config{URL: srv.URL, CACertPEM: ca.PEM})
	_, _, err := c.Post(context.Background(), []byte("x"), Request)
	wantError(t, err, KindRedirect, "ACS redirect from https to http refused")
}

func TestRedirectDoesNotCarryCredentialsToAnotherOrigin(t *testing.T) {
	ca := newCA(t, "ca")
	other := tlsACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("credentials carried to another origin: %q", strings.Fields(a)[0])
		}
		w.WriteHeader(http.StatusNoContent)
	}), ca)
	var redirected atomic.Bool
	var challenges atomic.Int32
	h := basicHandler("u", "p", &challenges)
	srv := tlsACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); ok && redirected.CompareAndSwap(false, true) {
			http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
			return
		}
		h(w, r)
	}), ca)
	c := newClient(t, Config{URL: srv.URL, Username: "u", Password: "p", CACertPEM: ca.PEM})
	if _, _, err := c.Post(context.Background(), []byte("x"), Request); err != nil {
		t.Fatal(err)
	}
}

// TestWholeSessionShape runs the D§2.1 sequence against a TLS ACS that wants
// Digest (MD5-sess) and a session cookie, and checks it all rides one
// connection with one challenge.
func TestWholeSessionShape(t *testing.T) {
	v, err := digest.NewVerifier(digest.VerifierConfig{Realm: "acs", Algorithm: digest.MD5Sess})
	if err != nil {
		t.Fatal(err)
	}
	var challenges atomic.Int32
	var step atomic.Int32
	script := []struct{ in, out string }{
		{"<Inform/>", "<InformResponse/>"},
		{"", "<GetParameterValues/>"},
		{"<GetParameterValuesResponse/>", ""},
	}
	ca := newCA(t, "ca")
	srv := tlsACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := v.Verify(r.Method, r.RequestURI, r.Header.Get("Authorization"), "cpe", "pw"); err != nil {
			challenges.Add(1)
			w.Header().Set("WWW-Authenticate", v.Challenge(false))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		i := int(step.Add(1)) - 1
		if i == 0 {
			http.SetCookie(w, &http.Cookie{Name: "acs-session", Value: "42"})
		} else if ck, err := r.Cookie("acs-session"); err != nil || ck.Value != "42" {
			http.Error(w, "lost session", http.StatusForbidden)
			return
		}
		if i >= len(script) || string(body) != script[i].in {
			http.Error(w, fmt.Sprintf("step %d: unexpected %q", i, body), http.StatusBadRequest)
			return
		}
		if script[i].out == "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, script[i].out)
	}), ca)

	c := newClient(t, Config{URL: srv.URL + "/cwmp", Username: "cpe", Password: "pw", CACertPEM: ca.PEM})
	ctx := context.Background()
	for i, m := range []Message{Request, Empty, Response} {
		status, body, err := c.Post(ctx, []byte(script[i].in), m)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if string(body) != script[i].out || (script[i].out == "") != (status == http.StatusNoContent) {
			t.Fatalf("step %d: %d %q, want %q", i, status, body, script[i].out)
		}
	}
	if challenges.Load() != 1 || srv.conns.Load() != 1 {
		t.Errorf("%d challenges over %d connections, want 1 and 1", challenges.Load(), srv.conns.Load())
	}
}
