package session

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestOverloadedGenieACSRetryFollowsTheSchedule: an overloaded GenieACS
// (more than MAX_CONCURRENT_REQUESTS under way) answers a new session's
// Inform with 503, "Retry-after: 60" and Connection: close. The session
// fails and is retried on the CWMP schedule (§3.2.1.1: the first retry 5–10
// s with the defaults), not after the ACS's 60 s: the schedule is a MUST of
// the CPE, Retry-After is no part of CWMP, and the randomised, growing
// waits already spread a fleet's retries (see docs/decisions.md).
func TestOverloadedGenieACSRetryFollowsTheSchedule(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-after", "60")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("503 Service Unavailable"))
	}))
	defer srv.Close()
	f := newFixture(t)
	out := f.run(t, srv.URL, 5*time.Second)
	if out.Failure == nil || out.Failure.Message != "ACS returned HTTP 503" {
		t.Fatalf("outcome %+v", out.Failure)
	}
	if d := out.Failed.Delay; d < 5*time.Second || d > 10*time.Second {
		t.Fatalf("first retry in %v, want 5–10 s", d)
	}
}
