package session

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// An ACS that goes silent after the empty POST (past the exchange timeout,
// the SessionTimeout the CPE announced) fails the session; the failure is
// journaled with the delivered InformResponse, the retry number and a wait
// drawn from D§9's range. Three such sessions in a row count up RetryCount
// in the Inform and widen the range each time.
func TestSilentACSFailsTheSessionWithAJournaledWait(t *testing.T) {
	f := newFixture(t)
	ranges := [][2]time.Duration{{5 * time.Second, 10 * time.Second}, {10 * time.Second, 20 * time.Second}, {20 * time.Second, 40 * time.Second}}
	for n, want := range ranges {
		a, out := f.scriptedTimeout(t, 200*time.Millisecond, informResponse(soap.Header{}),
			func(w http.ResponseWriter, _ *soap.Envelope) { time.Sleep(400 * time.Millisecond) })
		if got := a.got[0].Body.(*soap.Inform).RetryCount; got != uint32(n) {
			t.Fatalf("session %d: Inform RetryCount %d, want %d", n, got, n)
		}
		if out.Failure == nil || !out.Failure.Delivered || !strings.Contains(out.Failure.Message, "timeout") {
			t.Fatalf("session %d: outcome %+v", n, out.Failure)
		}
		if out.Failed == nil || out.Failed.RetryCount != n+1 || out.Failed.Delay < want[0] || out.Failed.Delay > want[1] ||
			!out.Failed.NextAttempt.Equal(now.Add(out.Failed.Delay)) {
			t.Fatalf("session %d: journaled failure %+v, want retry %d waiting within %v", n, out.Failed, n+1, want)
		}
	}
	if got := f.state().Retry.Failures; got != 3 {
		t.Fatalf("retry state counts %d failures, want 3", got)
	}
}

// The ACS's turn ends with an empty HTTP response. Amd 6 §3.4.6 (D§2.1)
// has the ACS send 204, but an empty 200 and a 200 whose envelope has an
// empty Body (some ACSs send those) end it the same way: neither can carry
// a request, and failing on them would fail every session with such an ACS.
func TestEmpty200AndEmptyBodyEndTheACSTurnLike204(t *testing.T) {
	emptyBody := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap:Header/><soap:Body/></soap:Envelope>`
	ends := map[string]func(http.ResponseWriter, *soap.Envelope){
		"204":        noContent,
		"empty 200":  func(w http.ResponseWriter, _ *soap.Envelope) { w.WriteHeader(http.StatusOK) },
		"empty Body": func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, emptyBody) },
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			a, out := f.scripted(t, nil, informResponse(soap.Header{}),
				soapReply(&soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "g1"}, Body: &soap.GetRPCMethods{}}),
				end)
			if out.Failure != nil || out.Served != 1 || len(a.raw) != 3 {
				t.Fatalf("outcome %+v after %d POSTs", out.Failure, len(a.raw))
			}
			if !f.state().Boot.BootstrapDelivered {
				t.Fatal("session not journaled as a success")
			}
		})
	}
}

// The CPE sets no bound on the number of ACS requests in a session (a
// GenieACS provision of many steps is one session): each exchange is bound
// by its own deadline, and serving a request keeps nothing per request in
// the session, so a long session costs time, not memory.
func TestLongSessionIsNotCutShort(t *testing.T) {
	const n = 300
	f := newFixture(t)
	replies := []func(http.ResponseWriter, *soap.Envelope){informResponse(soap.Header{})}
	for i := range n {
		replies = append(replies, soapReply(&soap.Envelope{Version: soap.V1_2,
			Header: soap.Header{ID: "r" + strconv.Itoa(i)}, Body: &soap.GetRPCMethods{}}))
	}
	replies = append(replies, noContent)
	a, out := f.scripted(t, nil, replies...)
	if out.Failure != nil || out.Served != n {
		t.Fatalf("served %d of %d: %+v", out.Served, n, out.Failure)
	}
	for i := range n {
		if got := a.got[i+2].Header.ID; got != "r"+strconv.Itoa(i) {
			t.Fatalf("response %d has cwmp:ID %q", i, got)
		}
	}
}
