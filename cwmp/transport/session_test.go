package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
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

// cookieACS sets, on every answer, the cookies set returns for the k-th
// request (from 1), and records the longest Cookie header it was sent.
type cookieACS struct {
	set func(k int) []*http.Cookie

	mu        sync.Mutex
	requests  int
	maxHeader int
}

func (a *cookieACS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	a.mu.Lock()
	a.requests++
	k := a.requests
	a.maxHeader = max(a.maxHeader, len(r.Header.Get("Cookie")))
	a.mu.Unlock()
	for _, ck := range a.set(k) {
		http.SetCookie(w, ck)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *cookieACS) stats() (requests, maxHeader int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests, a.maxHeader
}

const cookieLimitMessage = "ACS set more cookies than a session keeps (at most 50, 16 KiB together)"

// A hostile ACS must not grow the session's memory or its Cookie header
// without bound: past the limit the exchange and the session fail, and no
// cookie is dropped silently.
func TestCookieLimitEndsTheSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(k int) []*http.Cookie
		// failAt is the POST (from 1) whose answer crosses the limit.
		failAt int
	}{
		// 5 cookies of about 1 KiB per answer: 15 fit in 16 KiB, 20 do not.
		{"bytes", func(k int) []*http.Cookie {
			var cks []*http.Cookie
			for i := range 5 {
				cks = append(cks, &http.Cookie{Name: fmt.Sprintf("c%d_%d", k, i), Value: strings.Repeat("v", 1000), Path: "/"})
			}
			return cks
		}, 4},
		// 20 small cookies per answer: 40 fit, 60 do not.
		{"count", func(k int) []*http.Cookie {
			var cks []*http.Cookie
			for i := range 20 {
				cks = append(cks, &http.Cookie{Name: fmt.Sprintf("c%d_%d", k, i), Value: "v", Path: "/"})
			}
			return cks
		}, 3},
		// Cookies for a path the session never posts to are never sent,
		// but the jar would keep them all the same.
		{"never sent", func(k int) []*http.Cookie {
			return []*http.Cookie{{Name: fmt.Sprintf("c%d", k), Value: strings.Repeat("v", 4000), Path: "/elsewhere"}}
		}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &cookieACS{set: tc.set}
			srv := newACS(t, a, nil)
			c := newClient(t, Config{URL: srv.URL + "/acs"})
			for i := 1; i < tc.failAt; i++ {
				if _, _, err := c.Post(context.Background(), nil, Empty); err != nil {
					t.Fatalf("POST %d: %v", i, err)
				}
			}
			_, _, err := c.Post(context.Background(), nil, Empty)
			wantError(t, err, KindBody, cookieLimitMessage)
			// The session is over: its cookies are gone and later POSTs
			// fail the same way without reaching the ACS.
			if c.jar != nil {
				t.Error("the session still holds its cookie jar")
			}
			_, _, err = c.Post(context.Background(), nil, Empty)
			wantError(t, err, KindBody, cookieLimitMessage)
			requests, maxHeader := a.stats()
			if requests != tc.failAt {
				t.Errorf("ACS saw %d requests, want %d", requests, tc.failAt)
			}
			if maxHeader > 16<<10 {
				t.Errorf("CPE sent a %d-byte Cookie header", maxHeader)
			}
		})
	}
}

// An ACS that sets its session cookie again on every answer, and deletes
// another, stays within the limit however long the session.
func TestCookieSetAgainIsCountedOnce(t *testing.T) {
	a := &cookieACS{set: func(k int) []*http.Cookie {
		return []*http.Cookie{
			{Name: "session", Value: strings.Repeat("s", 1000) + fmt.Sprint(k), Path: "/"},
			{Name: fmt.Sprintf("step%d", k), Value: strings.Repeat("x", 1000), Path: "/"},
			{Name: fmt.Sprintf("step%d", k-1), Value: "", Path: "/", MaxAge: -1},
		}
	}}
	srv := newACS(t, a, nil)
	c := newClient(t, Config{URL: srv.URL + "/acs"})
	for i := range 100 {
		if _, _, err := c.Post(context.Background(), nil, Empty); err != nil {
			t.Fatalf("POST %d: %v", i, err)
		}
	}
	if _, maxHeader := a.stats(); maxHeader < 2000 {
		t.Errorf("longest Cookie header %d bytes: the cookies were not sent back", maxHeader)
	}
}
