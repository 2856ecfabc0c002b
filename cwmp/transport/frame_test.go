package transport

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWriteRequestMatchesRequestWrite: the hand-framed POST is byte for
// byte what net/http's Request.Write sends for the same request, which is
// what the transport sent before (and what ACSes have seen from us).
func TestWriteRequestMatchesRequestWrite(t *testing.T) {
	cases := []struct {
		name, url, ua, auth, cookies string
		kind                         Message
		body                         string
	}{
		{name: "inform", url: "http://acs.example:7547/cwmp", ua: "cwmpd", kind: Request, body: "<soap-env:Envelope/>"},
		{name: "digest", url: "http://acs.example/cwmp", ua: "cwmpd", kind: Request, body: "<x/>",
			auth: `Digest username="u", realm="r", nonce="n", uri="/cwmp", response="0123", qop=auth, nc=00000001, cnonce="c"`},
		{name: "empty post", url: "http://10.0.0.1:80/", ua: "cwmpd", kind: Empty, auth: "Basic dTpw"},
		{name: "query and cookies", url: "https://acs.example/cwmp?cpe=1&x=%20y", ua: "router/1.0", kind: Response,
			body: "<r/>", cookies: "session=abc; route=\"a b\""},
		{name: "ipv6", url: "http://[2001:db8::1]:7547/acs", ua: "cwmpd", kind: Request, body: "b"},
		{name: "ipv6 zone", url: "http://[fe80::1%25eth0]:7547/acs", ua: "cwmpd", kind: Request, body: "b"},
		{name: "newline in user agent", url: "http://acs/", ua: "evil\r\nX-Injected: 1", kind: Request, body: "b"},
		{name: "trailing newline and spaces", url: "http://acs/", ua: " \tcwmpd/1 \r\n", kind: Request, body: "b",
			auth: "Basic dTpw\n"},
		{name: "empty port", url: "http://acs:/cwmp", ua: "cwmpd", kind: Request, body: "b"},
		{name: "ipv6 empty port", url: "http://[::1]:/cwmp", ua: "cwmpd", kind: Request, body: "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			w := bufio.NewWriter(&got)
			writeRequest(w, post{url: u, kind: tc.kind, auth: tc.auth, body: []byte(tc.body)}, tc.ua, tc.cookies)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}

			req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind == Empty {
				req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
			} else {
				req.Header["SOAPAction"] = []string{""}
				req.Header.Set("Content-Type", ContentType)
			}
			req.Header.Set("User-Agent", tc.ua)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.cookies != "" {
				req.Header.Set("Cookie", tc.cookies)
			}
			var want bytes.Buffer
			if err := req.Write(&want); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("framed differently from Request.Write\n got: %q\nwant: %q", got.String(), want.String())
			}
		})
	}
}

func TestCookieHeaderMatchesAddCookie(t *testing.T) {
	cks := []*http.Cookie{{Name: "a", Value: "1"}, {Name: "b", Value: "x y", Quoted: true}, {Name: "c", Value: ""}}
	req, _ := http.NewRequest(http.MethodPost, "http://acs/", nil)
	for _, ck := range cks {
		req.AddCookie(ck)
	}
	if got, want := cookieHeader(cks), req.Header.Get("Cookie"); got != want {
		t.Errorf("cookieHeader = %q, AddCookie gives %q", got, want)
	}
}

func TestNewRefusesAHostThatCannotBeSent(t *testing.T) {
	for _, raw := range []string{"http://bücher.example/cwmp", `http://a"b/`, "http://a<b>/",
		"http://acs/cwmp?a b", "http://acs/cwmp?a=ü"} {
		_, err := New(Config{URL: raw})
		var te *Error
		if err == nil || !errorsAs(err, &te) || te.Kind != KindConfig {
			t.Errorf("New(%q) = %v, want a KindConfig error", raw, err)
		}
	}
	if _, err := New(Config{URL: "http://xn--bcher-kva.example/cwmp"}); err != nil {
		t.Errorf("punycode host refused: %v", err)
	}
}

func TestRedirectToAHostThatCannotBeSentRefused(t *testing.T) {
	for _, loc := range []string{"http://bücher.example/cwmp", "/cwmp?a b"} {
		srv := newACS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusFound)
		}), nil)
		c := newClient(t, Config{URL: srv.URL})
		_, _, err := c.Post(context.Background(), []byte("x"), Request)
		wantError(t, err, KindRedirect, "ACS redirect to an unusable URL")
	}
}
