package main

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestE2EConnectionRequestFlood: 200 authenticated connection requests at
// once against the default rate limit (burst 4, one per 2 s; the limit is
// applied before authentication, so a flood may starve every request): at
// most a burst is accepted, the rest get 503, at most one session follows,
// and once the flood is over a connection request works again.
func TestE2EConnectionRequestFlood(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv), "--connreq-burst", "4", "--connreq-interval", "2s")
	waitSessions(t, srv, 1, a)
	key := onlyDevice(t, srv).Key
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := srv.ConnectionRequest(context.Background(), key, "")
			mu.Lock()
			codes[res.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] > 4 || codes[503] < 190 {
		t.Fatalf("answers %v: want at most a burst accepted and the rest refused with 503", codes)
	}
	time.Sleep(2 * time.Second)
	if n := srv.Counts("").Sessions; n > 2 {
		t.Fatalf("%d sessions after the flood (%d accepted requests): want at most one", n-1, codes[200])
	}
	before := srv.Counts("").Sessions
	time.Sleep(3 * time.Second) // the bucket refills
	connReq(t, srv)
	waitSessions(t, srv, before+1, a)
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	r := runBin(t, "replay", state)
	if r.code != 0 {
		t.Fatalf("replay: %d", r.code)
	}
}
