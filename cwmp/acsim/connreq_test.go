package acsim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/digest"
)

// crServer is a CPE's connection-request listener that checks Digest with
// cwmp/digest's verifier.
func crServer(t *testing.T, user, pass string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	v, err := digest.NewVerifier(digest.VerifierConfig{Realm: "cpe"})
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if err := v.Verify(r.Method, r.RequestURI, r.Header.Get("Authorization"), user, pass); err != nil {
			w.Header().Set("WWW-Authenticate", v.Challenge(false))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		accepted.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &accepted
}

func TestConnectionRequest(t *testing.T) {
	cr, accepted := crServer(t, "acs", "crpass")
	s := startServer(t, Config{ConnReqUsername: "acs", ConnReqPassword: "crpass"})
	cpe := newCPE(t, s.URL())
	cpe.crURL = cr.URL + "/cr/8f2a"
	cpe.inform("1 BOOT")

	res, err := s.ConnectionRequest(context.Background(), cpe.key(), "")
	if err != nil || res.Status != http.StatusOK || !res.Challenged || res.URL != cpe.crURL {
		t.Fatalf("connection request: %+v %v", res, err)
	}
	if accepted.Load() != 1 {
		t.Fatalf("CPE accepted %d requests", accepted.Load())
	}

	// Over the admin API, with the wrong password configured.
	bad := startServer(t, Config{ConnReqUsername: "acs", ConnReqPassword: "wrong"})
	st, b := adminDo(t, "POST", bad.AdminURL()+"/connreq?url="+cr.URL+"/cr/8f2a", "")
	if st != http.StatusOK || !containsAny([]string{string(b)}, `"status": 401`) {
		t.Fatalf("admin connreq with a wrong password: %d %s", st, b)
	}
	if accepted.Load() != 1 {
		t.Fatal("wrong password accepted")
	}
	if _, err := s.ConnectionRequest(context.Background(), "no-such-device", ""); err == nil {
		t.Fatal("unknown device accepted")
	}
	tr := s.Transcript()
	if last := tr[len(tr)-1]; last.Kind != "connreq" && tr[len(tr)-2].Kind != "connreq" {
		t.Fatalf("connection request not in transcript")
	}
}
