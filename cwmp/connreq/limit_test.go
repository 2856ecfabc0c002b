package connreq

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBucket(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	b := newBucket(4, 2*time.Second, clk.now)
	for i := range 4 {
		if !b.take() {
			t.Fatalf("token %d of the burst refused", i+1)
		}
	}
	if b.take() {
		t.Fatal("fifth token granted without refill")
	}
	clk.advance(1999 * time.Millisecond)
	if b.take() {
		t.Fatal("token granted before the interval")
	}
	clk.advance(time.Millisecond)
	if !b.take() || b.take() {
		t.Fatal("want exactly one token after one interval")
	}
	clk.advance(time.Hour)
	n := 0
	for b.take() {
		n++
	}
	if n != 4 {
		t.Errorf("after an hour %d tokens, want the burst of 4", n)
	}
}

func TestRateLimitAnswers503(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	for _, retryAfter := range []bool{false, true} {
		s, rec, _ := start(t, Config{Burst: 4, Interval: 2 * time.Second, Now: clk.now, RetryAfter: retryAfter})
		url := s.URL("127.0.0.1")
		// Two full handshakes use the burst of four tokens.
		for i := range 2 {
			if resp := handshake(t, http.DefaultClient, url, "acs", "cr-secret"); resp.StatusCode != 200 {
				t.Fatalf("handshake %d: %d", i, resp.StatusCode)
			}
		}
		resp := get(t, http.DefaultClient, url, "")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("past the burst: %d, want 503", resp.StatusCode)
		}
		if ra := resp.Header.Get("Retry-After"); retryAfter && ra != "2" || !retryAfter && ra != "" {
			t.Errorf("RetryAfter=%v: Retry-After %q", retryAfter, ra)
		}
		clk.advance(4 * time.Second)
		if resp := handshake(t, http.DefaultClient, url, "acs", "cr-secret"); resp.StatusCode != 200 {
			t.Errorf("after refill: %d", resp.StatusCode)
		}
		got := rec.waitFor(t, 7)
		if n := count(got, ReasonRateLimited); n != 1 {
			t.Errorf("%d rate-limited attempts reported, want 1", n)
		}
		if n := count(got, ReasonAccepted); n != 3 {
			t.Errorf("%d accepted attempts reported, want 3", n)
		}
	}
}

func count(as []Attempt, reason string) int {
	n := 0
	for _, a := range as {
		if a.Reason == reason {
			n++
		}
	}
	return n
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestFlood sends 1000 authenticated requests from 32 clients at once, with
// the default limit of burst 4 and one token per 2 s. The first requests win
// tokens and are accepted, the flood gets 503, and the server's memory stays
// flat.
func TestFlood(t *testing.T) {
	s, rec, _ := start(t, Config{Burst: DefaultBurst, Interval: DefaultInterval})
	url := s.URL("127.0.0.1")
	resp := get(t, http.DefaultClient, url, "")
	auth := clientAuth(t, resp, "acs", "cr-secret")

	before := heap()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()

	const total, workers = 1000, 32
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	var next atomic.Int32
	var statuses [600]atomic.Int32
	var failures atomic.Int32
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= total {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				h, _ := auth.Authorize(http.MethodGet, req.URL.RequestURI())
				req.Header.Set("Authorization", h)
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				resp.Body.Close()
				statuses[resp.StatusCode].Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	client.CloseIdleConnections()
	after := heap()

	got := rec.waitFor(t, total+1)
	accepted := count(got, ReasonAccepted)
	// The challenge took one token of the burst; the flood may have earned
	// one more per 2 s it lasted.
	limit := DefaultBurst - 1 + int(elapsed/DefaultInterval) + 1
	t.Logf("%d requests in %v: 200×%d 401×%d 503×%d, %d failed; accepted callbacks %d (limit %d); heap %d → %d KiB, peak %d KiB",
		total, elapsed, statuses[200].Load(), statuses[401].Load(), statuses[503].Load(), failures.Load(),
		accepted, limit, before>>10, after>>10, peak.Load()>>10)
	if failures.Load() != 0 {
		t.Errorf("%d requests failed at the TCP/HTTP level", failures.Load())
	}
	if accepted < 1 || accepted > limit {
		t.Errorf("%d accepted, want 1…%d", accepted, limit)
	}
	if int(statuses[200].Load()) != accepted {
		t.Errorf("%d answered 200 but %d reported accepted", statuses[200].Load(), accepted)
	}
	if n := statuses[503].Load(); int(n) < total-limit || count(got, ReasonRateLimited) != int(n) {
		t.Errorf("%d answered 503 (%d reported); want at least %d", n, count(got, ReasonRateLimited), total-limit)
	}
	for _, a := range got {
		if a.Accepted && a.Reason != ReasonAccepted {
			t.Errorf("accepted attempt with reason %q", a.Reason)
		}
	}
	// Generous bounds: the client side of the test shares the heap. What
	// they catch is per-request state that is kept (1000 × anything).
	const bound = 8 << 20
	if after > before && after-before > bound {
		t.Errorf("heap grew by %d KiB over the flood, want < %d KiB", (after-before)>>10, bound>>10)
	}
	if p := peak.Load(); p > before && p-before > 4*bound {
		t.Errorf("heap peaked %d KiB above the start, want < %d KiB", (p-before)>>10, 4*bound>>10)
	}
}
