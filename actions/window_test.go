package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// testClock is an injected clock the tests move.
type testClock struct{ ns atomic.Int64 }

func newTestClock(at time.Time) *testClock { c := &testClock{}; c.set(at); return c }
func (c *testClock) set(at time.Time)      { c.ns.Store(at.UnixNano()) }
func (c *testClock) now() time.Time        { return time.Unix(0, c.ns.Load()).UTC() }

// A ScheduleDownload whose Runner is called between its windows (the agent
// was down through window 1) neither fetches nor installs nor journals
// anything: Run says ErrOutsideWindow. After a restart, in window 2, it
// runs.
func TestRunnerScheduleDownloadWaitsForItsNextWindow(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("fw.bin", []byte("img"))
	f := newFix(t)
	id := f.queue(event.TransferQueued{Kind: event.KindScheduleDownload, FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/fw.bin",
		NotBefore: t0, Windows: []event.TimeWindow{
			{Start: t0, End: t0.Add(30 * time.Second), Mode: "1 At Any Time"},
			{Start: t0.Add(10 * time.Minute), End: t0.Add(20 * time.Minute), Mode: "1 At Any Time"}}})
	out, err := f.runner().Run(context.Background(), f.transfer(id)) // clock: t0+1m
	if !errors.Is(err, ErrOutsideWindow) || out.Finished.Transfer != 0 {
		t.Errorf("between windows: outcome %+v err %v, want ErrOutsideWindow", out, err)
	}
	if st := stats(acs, "fw.bin"); st.Requests != 0 || len(f.sim.Installs()) != 0 {
		t.Fatalf("between windows: fetched %d times, installed %v", st.Requests, f.sim.Installs())
	}
	if got := f.transfer(id); got.State != projections.TransferQueuedState {
		t.Errorf("between windows the transfer became %s", got.State)
	}
	f.restart()
	r := f.runner()
	r.Now = func() time.Time { return t0.Add(11 * time.Minute) }
	out, err = r.Run(context.Background(), f.transfer(id))
	if err != nil || out.Finished.FaultCode != 0 || len(f.sim.Installs()) != 1 {
		t.Fatalf("in window 2: outcome %+v err %v installs %v", out, err, f.sim.Installs())
	}
}

// slowFirmware serves a firmware image; the first GET sends part of it,
// moves the clock to after, then stalls until the client goes away (or
// gives up after 5 s and sends the rest, as a server would that is only
// slow). Later GETs are served whole, with Range.
type slowFirmware struct {
	data  []byte
	clock *testClock
	after time.Time
	stall bool // false: after moving the clock, send the rest at once

	mu     sync.Mutex
	gets   int
	cut    chan struct{} // closed when the first GET's client went away
	ranges []string
}

func newSlowFirmware(t *testing.T, size int, clock *testClock, after time.Time, stall bool) *slowFirmware {
	return &slowFirmware{data: randomBytes(t, size), clock: clock, after: after, stall: stall, cut: make(chan struct{})}
}

// windowedRun is a ScheduleDownload of a firmware served by a
// slowFirmware, run once by a runner on the test clock.
type windowedRun struct {
	clock *testClock
	srv   *slowFirmware
	f     *fix
	id    uint64
	out   Outcome
	err   error
}

// runWindowed starts the clock a minute after t0, serves size bytes that
// move the clock to after mid-body (stall: and wait to be cut), queues the
// transfer with windows and runs it.
func runWindowed(t *testing.T, size int, after time.Time, stall bool, windows ...event.TimeWindow) *windowedRun {
	w := &windowedRun{clock: newTestClock(t0.Add(time.Minute))}
	w.srv = newSlowFirmware(t, size, w.clock, after, stall)
	hs := httptest.NewServer(w.srv)
	t.Cleanup(hs.Close)
	w.f = newFix(t)
	w.id = w.f.queue(event.TransferQueued{Kind: event.KindScheduleDownload, FileType: FileTypeFirmware, URL: hs.URL + "/fw.bin",
		NotBefore: t0, Windows: windows})
	r := w.f.runner()
	r.Now = w.clock.now
	w.out, w.err = r.Run(context.Background(), w.f.transfer(w.id))
	return w
}

// wasCut reports whether the client cut the first GET short (waiting a
// moment for the server to notice).
func (s *slowFirmware) wasCut() bool {
	select {
	case <-s.cut:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func (s *slowFirmware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.gets++
	first := s.gets == 1
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	if !first {
		http.ServeContent(w, r, "fw.bin", time.Time{}, bytes.NewReader(s.data))
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(s.data)))
	part := len(s.data) * 3 / 8
	w.Write(s.data[:part])
	w.(http.Flusher).Flush()
	s.clock.set(s.after)
	if s.stall {
		select {
		case <-r.Context().Done():
			close(s.cut)
			return
		case <-time.After(5 * time.Second):
		}
	}
	w.Write(s.data[part:])
}

// A download still fetching when its window closes is stopped there (the
// injected clock says the window ended), keeps its progress, installs
// nothing and is not reported; in the next window it resumes and installs.
func TestRunnerScheduleDownloadStoppedWhenItsWindowCloses(t *testing.T) {
	w := runWindowed(t, 1<<20, t0.Add(5*time.Minute), true,
		event.TimeWindow{Start: t0, End: t0.Add(2 * time.Minute), Mode: "1 At Any Time"},
		event.TimeWindow{Start: t0.Add(10 * time.Minute), End: t0.Add(20 * time.Minute), Mode: "2 Immediately"})
	clock, srv, f, id, out, err := w.clock, w.srv, w.f, w.id, w.out, w.err
	cut := srv.wasCut()
	if !errors.Is(err, ErrOutsideWindow) || out.Finished.Transfer != 0 || !cut || len(f.sim.Installs()) != 0 {
		t.Fatalf("window 1 closed mid-fetch: outcome %+v err %v, fetch cut %v, installs %v; want ErrOutsideWindow, cut, nothing installed",
			out, err, cut, f.sim.Installs())
	}
	tr := f.transfer(id)
	if tr.State != projections.TransferInProgressState {
		t.Fatalf("after the stop the transfer is %s, want in progress", tr.State)
	}
	f.restart()
	clock.set(t0.Add(11 * time.Minute))
	r := f.runner()
	r.Now = clock.now
	out, err = r.Run(context.Background(), f.transfer(id))
	if err != nil || out.Finished.FaultCode != 0 || len(f.sim.Installs()) != 1 {
		t.Fatalf("in window 2: outcome %+v err %v installs %v", out, err, f.sim.Installs())
	}
	t.Logf("journaled offset %d; window 2 asked for %q", tr.Files[0].Offset, srv.ranges[1:])
	if off := tr.Files[0].Offset; off > 0 && srv.ranges[1] != fmt.Sprintf("bytes=%d-", off) {
		t.Errorf("window 2 asked for %q after %d bytes were journaled", srv.ranges[1], off)
	}
}

// When the last window closes mid-fetch, the fetch is stopped and the
// transfer is reported with 9020, nothing installed.
func TestRunnerScheduleDownloadLastWindowClosesMidFetch(t *testing.T) {
	w := runWindowed(t, 1<<20, t0.Add(3*time.Minute), true,
		event.TimeWindow{Start: t0, End: t0.Add(2 * time.Minute), Mode: "1 At Any Time"})
	srv, f, id, out, err := w.srv, w.f, w.id, w.out, w.err
	cut := srv.wasCut()
	if err != nil || out.Finished.FaultCode != FaultWindow || !cut || len(f.sim.Installs()) != 0 {
		t.Fatalf("last window closed mid-fetch: outcome %+v err %v, fetch cut %v, installs %v; want 9020, cut, nothing installed",
			out.Finished, err, cut, f.sim.Installs())
	}
	if got := f.transfer(id); got.State != projections.TransferFinishedState || got.FaultCode != FaultWindow {
		t.Errorf("journal says %s fault %d", got.State, got.FaultCode)
	}
	noDownloads(t, f)
}

// A fetch that completes only after the window's end by the clock (before
// the guard looked) is not applied: applying is committed inside a window.
func TestRunnerScheduleDownloadFetchedAfterWindowIsNotApplied(t *testing.T) {
	w := runWindowed(t, 64<<10, t0.Add(3*time.Minute), false,
		event.TimeWindow{Start: t0, End: t0.Add(2 * time.Minute), Mode: "1 At Any Time"})
	f, out, err := w.f, w.out, w.err
	if err != nil || out.Finished.FaultCode != FaultWindow || len(f.sim.Installs()) != 0 {
		t.Fatalf("fetched after the window: outcome %+v err %v installs %v; want 9020, nothing installed", out.Finished, err, f.sim.Installs())
	}
	if c := f.countTypes(); c[event.TypeTransferApplying] != 0 {
		t.Errorf("TransferApplying journaled after the window: %v", c)
	}
}
