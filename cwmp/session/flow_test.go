package session

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// countingHandler serves like handler and counts what it was asked.
type countingHandler struct {
	mu  sync.Mutex
	got []string
}

func (h *countingHandler) Handle(ctx context.Context, req soap.Message) soap.Message {
	h.mu.Lock()
	h.got = append(h.got, req.MethodName())
	h.mu.Unlock()
	return handler{}.Handle(ctx, req)
}

// An envelope carries one RPC (D§2.1: one envelope per HTTP message, one
// method per envelope). An ACS that puts two in one Body must not have the
// first carried out and the second silently dropped: the CPE answers the
// envelope with fault 9003, echoing its cwmp:ID, and serves neither.
func TestTwoRPCsInOneEnvelopeAreFaultedNotHalfServed(t *testing.T) {
	f := newFixture(t)
	two := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2">` +
		`<soap:Header><cwmp:ID soap:mustUnderstand="1">two-1</cwmp:ID></soap:Header>` +
		`<soap:Body><cwmp:GetRPCMethods/><cwmp:Reboot><CommandKey>rb</CommandKey></cwmp:Reboot></soap:Body></soap:Envelope>`
	h := &countingHandler{}
	a, out := f.scripted(t, h, informResponse(soap.Header{}),
		func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, two) },
		noContent)
	if out.Failure != nil {
		t.Fatal(out.Failure)
	}
	if len(h.got) != 0 {
		t.Fatalf("handler served %v from an envelope with two RPCs", h.got)
	}
	fl, ok := a.got[2].Body.(*soap.Fault)
	if !ok || fl.Detail == nil || fl.Detail.FaultCode != soap.FaultInvalidArguments {
		t.Fatalf("two RPCs in one envelope answered with:\n%s", a.raw[2])
	}
	if a.got[2].Header.ID != "two-1" {
		t.Fatalf("fault cwmp:ID %q, want two-1", a.got[2].Header.ID)
	}
	if !strings.Contains(fl.Detail.FaultString, "Reboot") {
		t.Fatalf("fault string %q does not name the extra RPC", fl.Detail.FaultString)
	}
}

// A redirect is followed for the Inform only (doc.go, D§2.6): once the
// InformResponse came, the session lives on this ACS. An ACS that answers a
// later POST with a 307 to another URL fails the session (the events the
// InformResponse acknowledged stay delivered); the POST is not carried to
// a server that holds no session for it.
func TestRedirectAfterTheInformFailsTheSession(t *testing.T) {
	f := newFixture(t)
	var otherHits sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Store(r.URL.Path, true)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer other.Close()
	a, out := f.scripted(t, nil, informResponse(soap.Header{}),
		func(w http.ResponseWriter, _ *soap.Envelope) {
			w.Header().Set("Location", other.URL+"/elsewhere")
			w.WriteHeader(http.StatusTemporaryRedirect)
		})
	if out.Failure == nil {
		t.Fatal("session redirected after its InformResponse succeeded")
	}
	if !strings.Contains(out.Failure.Message, "redirect") {
		t.Fatalf("last-session-error %q does not say redirect", out.Failure.Message)
	}
	if !out.Failure.Delivered {
		t.Fatal("failure does not keep the InformResponse's delivery")
	}
	otherHits.Range(func(k, _ any) bool {
		t.Errorf("POST carried to the other ACS at %v", k)
		return true
	})
	if len(a.raw) != 2 {
		t.Fatalf("ACS saw %d POSTs, want 2", len(a.raw))
	}
}
