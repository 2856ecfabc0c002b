package actions

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/replay"
)

// flakyServer serves one firmware image on 127.0.0.1, answering 503 to
// its first failures GETs (all of them when failures < 0).
type flakyServer struct {
	data     []byte
	failures int

	mu   sync.Mutex
	gets []time.Time // by the test clock
	now  func() time.Time
}

func (s *flakyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.gets = append(s.gets, s.now())
	n := len(s.gets)
	s.mu.Unlock()
	if s.failures < 0 || n <= s.failures {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	http.ServeContent(w, r, "fw.bin", time.Time{}, bytes.NewReader(s.data))
}

func (s *flakyServer) requests() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.gets...)
}

// reported is one TransferComplete the emulated ACS received.
type reported struct {
	CommandKey  string
	FaultCode   int
	FaultString string
}

// conductorRig emulates the daemon's conductor on the test clock: it asks
// projections.Decide what to do, runs sessions (which deliver what is
// pending and acknowledge every owed TransferComplete, as an ACS would),
// carries due transfers forward with the Runner, reboots after a firmware
// install, and moves the clock to the decision's wake-up when there is
// nothing to do now.
type conductorRig struct {
	t     *testing.T
	f     *fix
	clock *testClock
	tcs   []reported
	// newRunner, when set, makes the Runner (default: the fix's, on the
	// test clock).
	newRunner func() *Runner
}

func newConductorRig(t *testing.T, f *fix, clock *testClock) *conductorRig {
	f.append(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{
		{Name: projections.SettingEnabled, Value: "true"},
		{Name: projections.SettingACSURL, Value: "https://acs.example/"},
		{Name: projections.SettingPeriodicInformEnabled, Value: "false"}}})
	return &conductorRig{t: t, f: f, clock: clock}
}

func (c *conductorRig) runner() *Runner {
	if c.newRunner != nil {
		return c.newRunner()
	}
	r := c.f.runner()
	r.Now = c.clock.now
	return r
}

func (c *conductorRig) session() {
	st := c.f.state()
	evs := st.Pending.InformEvents()
	id := c.f.append(event.SessionStarted{Events: evs, RetryCount: st.Retry.Failures})[0].Seq
	c.f.append(event.InformAccepted{Session: id, Events: evs})
	for _, tr := range c.f.state().Transfers.Owed() {
		c.tcs = append(c.tcs, reported{tr.Request.CommandKey, tr.FaultCode, tr.FaultString})
		c.f.append(event.TransferCompleteAcked{Transfer: tr.ID})
	}
	c.f.append(event.SessionSucceeded{Session: id})
}

// runUntil drives the agent until nothing is left to do or the clock
// reaches until (a wake-up later than until is not taken).
func (c *conductorRig) runUntil(until time.Time) {
	c.t.Helper()
	for step := 0; step < 200; step++ {
		now := c.clock.now()
		st := c.f.state()
		if st.Boot.RestartPending {
			// The daemon restarts the device after a firmware install.
			c.f.append(event.Booted{Reason: event.BootFirmware})
			continue
		}
		d := projections.Decide(st, now)
		switch {
		case len(d.Raise) > 0 && !d.Start:
			c.f.append(d.Raise...)
		case d.Start:
			if len(d.Raise) > 0 {
				c.f.append(d.Raise...)
			}
			c.session()
		case d.Transfer != 0:
			tr := c.f.transfer(d.Transfer)
			if tr.State == projections.TransferQueuedState {
				c.f.append(event.TransferStarted{Transfer: tr.ID, StartTime: now})
				tr = c.f.transfer(d.Transfer)
			}
			before := c.f.state().Seq
			_, err := c.runner().Run(context.Background(), tr)
			if err != nil {
				c.t.Logf("at %s: Run: %v", now.Format(time.TimeOnly), err)
			}
			if c.f.state().Seq == before && c.clock.now().Equal(now) {
				c.t.Fatalf("at %s: transfer #%d due but Run changed nothing (%v)", now.Format(time.TimeOnly), tr.ID, err)
			}
		case !d.Wake.IsZero() && !d.Wake.After(until):
			c.clock.set(d.Wake)
		default:
			return
		}
	}
	c.t.Fatal("the agent never settled")
}

// scheduleDownload queues a ScheduleDownload of srv's firmware.
func scheduleDownload(f *fix, url string, windows ...event.TimeWindow) uint64 {
	return f.queue(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: FileTypeFirmware,
		URL: url, NotBefore: windows[0].Start, Windows: windows})
}

// rigWithServer is a device on the test clock (at t0) with a flaky file
// server in front of it; every Runner attempt makes two GETs (one
// in-attempt retry of the 503).
func rigWithServer(t *testing.T, failures int) (*conductorRig, *flakyServer, string) {
	clock := newTestClock(t0)
	srv := &flakyServer{data: randomBytes(t, 64<<10), failures: failures, now: clock.now}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f := newFix(t)
	f.files.MaxRetries = 1
	return newConductorRig(t, f, clock), srv, hs.URL + "/fw.bin"
}

// A ScheduleDownload whose first two attempts fail (the server answers
// 503 through the file client's own retry) is tried again in its window
// (MaxRetries 2) and installed: the ACS gets one TransferComplete, with
// no fault.
func TestScheduleDownloadSucceedsWithinItsRetries(t *testing.T) {
	rig, srv, url := rigWithServer(t, 4)
	f := rig.f
	scheduleDownload(f, url, event.TimeWindow{Start: t0, End: t0.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 2})
	rig.runUntil(t0.Add(24 * time.Hour))

	if len(rig.tcs) != 1 || rig.tcs[0].FaultCode != 0 {
		t.Fatalf("TransferCompletes %+v, want one with no fault", rig.tcs)
	}
	if n := len(f.sim.Installs()); n != 1 {
		t.Errorf("%d installs, want 1", n)
	}
	gets := srv.requests()
	if len(gets) != 5 {
		t.Fatalf("%d GETs, want 5 (two failed attempts of two, then one)", len(gets))
	}
	for _, g := range gets {
		if g.Before(t0) || !g.Before(t0.Add(time.Hour)) {
			t.Errorf("a GET at %s, outside the window", g.Format(time.TimeOnly))
		}
	}
	// The attempts are spaced by the journaled back-off, not run back to
	// back.
	if !gets[2].After(gets[1]) || !gets[4].After(gets[3]) {
		t.Errorf("attempts not spaced: %v", gets)
	}
	if c := f.countTypes(); c[event.TypeTransferAttemptFailed] != 2 || c[event.TypeTransferFinished] != 1 {
		t.Errorf("journal counts %v, want 2 failed attempts and one outcome", c)
	}
	noDownloads(t, f)
}

// A ScheduleDownload that keeps failing uses the retries of each window
// (1 in the first, 0 in the second), waits for the second window in
// between, and is then reported with the last attempt's fault (9010, the
// server's 503), once. An agent restart and a device reboot in the middle
// keep the count: no attempt more than the budget allows.
func TestScheduleDownloadBudgetExhaustedReportsTheFault(t *testing.T) {
	rig, srv, url := rigWithServer(t, -1)
	f := rig.f
	w2 := t0.Add(2 * time.Hour)
	id := scheduleDownload(f, url,
		event.TimeWindow{Start: t0, End: t0.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 1},
		event.TimeWindow{Start: w2, End: w2.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 0})

	// The first attempt, then a stop: the agent restarts mid-budget.
	rig.runUntil(t0)
	if len(rig.tcs) != 0 || len(srv.requests()) != 2 {
		t.Fatalf("after the first attempt: TransferCompletes %+v, %d GETs; want none reported, 2 GETs", rig.tcs, len(srv.requests()))
	}
	tr := f.transfer(id)
	if tr.FailedAttempts != 1 || tr.LastFaultCode != FaultTransfer || !tr.NextAttempt.After(t0) || !tr.NextAttempt.Before(t0.Add(time.Hour)) {
		t.Errorf("after the first attempt: %d failed attempts, last fault %d, next attempt %s", tr.FailedAttempts, tr.LastFaultCode, tr.NextAttempt)
	}
	f.restart()
	f.append(event.AgentRestarted{DeviceBoot: "d"})
	if got := f.transfer(id); got.FailedAttempts != 1 || !got.NextAttempt.Equal(tr.NextAttempt) {
		t.Errorf("after a restart: %d failed attempts, next %s; want 1, %s", got.FailedAttempts, got.NextAttempt, tr.NextAttempt)
	}
	rig.runUntil(t0.Add(90 * time.Minute))
	if len(rig.tcs) != 0 || len(srv.requests()) != 4 {
		t.Fatalf("after window 1: TransferCompletes %+v, %d GETs; want none reported, 4 GETs (two attempts)", rig.tcs, len(srv.requests()))
	}
	if tr := f.transfer(id); tr.FailedAttempts != 2 || tr.WindowFailures != 2 || !tr.NextAttempt.Equal(w2) {
		t.Errorf("window 1 spent: %d failed attempts (%d in window %d), next %s; want 2 in window 0, next %s",
			tr.FailedAttempts, tr.WindowFailures, tr.RetryWindow, tr.NextAttempt, w2)
	}
	// A reboot between the windows.
	f.restart()
	f.append(event.Booted{Reason: event.BootPowerOn})
	rig.runUntil(t0.Add(24 * time.Hour))

	if len(rig.tcs) != 1 || rig.tcs[0].FaultCode != FaultTransfer {
		t.Fatalf("TransferCompletes %+v, want one with 9010", rig.tcs)
	}
	gets := srv.requests()
	if len(gets) != 6 {
		t.Fatalf("%d GETs, want 6 (two attempts in window 1, one in window 2)", len(gets))
	}
	if g := gets[4]; g.Before(w2) || !g.Before(w2.Add(time.Hour)) {
		t.Errorf("the third attempt at %s, not in window 2", g.Format(time.TimeOnly))
	}
	if n := len(f.sim.Installs()); n != 0 {
		t.Errorf("%d installs, want none", n)
	}
	if c := f.countTypes(); c[event.TypeTransferAttemptFailed] != 2 || c[event.TypeTransferFinished] != 1 {
		t.Errorf("journal counts %v, want 2 failed attempts and one outcome", c)
	}
	noDownloads(t, f)
}

// When every window closes while a failed attempt waits for its retry
// (the agent was down until after the window), the transfer is reported
// with that attempt's fault, not 9020: nothing else ran.
func TestScheduleDownloadWindowsEndWhileWaitingToRetry(t *testing.T) {
	rig, srv, url := rigWithServer(t, -1)
	f := rig.f
	scheduleDownload(f, url, event.TimeWindow{Start: t0, End: t0.Add(10 * time.Minute), Mode: "1 At Any Time", MaxRetry: 5})
	rig.runUntil(t0)
	f.restart()
	rig.clock.set(t0.Add(time.Hour))
	f.append(event.Booted{Reason: event.BootPowerOn})
	rig.runUntil(t0.Add(24 * time.Hour))
	if len(rig.tcs) != 1 || rig.tcs[0].FaultCode != FaultTransfer || !strings.Contains(rig.tcs[0].FaultString, "503") ||
		!strings.Contains(rig.tcs[0].FaultString, "no time window left") {
		t.Fatalf("TransferCompletes %+v, want one with the 503's 9010", rig.tcs)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("%d GETs, want 2 (one attempt)", n)
	}
}

// A back-off drawn past the end of the last window leaves no attempt: the
// transfer is reported at once with the fault, not at the window's end.
func TestScheduleDownloadBackOffPastTheLastWindow(t *testing.T) {
	rig, srv, url := rigWithServer(t, -1)
	f := rig.f
	scheduleDownload(f, url, event.TimeWindow{Start: t0, End: t0.Add(10 * time.Minute), Mode: "1 At Any Time", MaxRetry: -1})
	r := rig.runner()
	r.RetryDelay = func(n int) time.Duration { return time.Duration(n) * 4 * time.Minute }
	rig.newRunner = func() *Runner { return r }
	rig.runUntil(t0.Add(24 * time.Hour))
	// Attempts at t0 and t0+4m; the next would be at t0+12m.
	if len(rig.tcs) != 1 || rig.tcs[0].FaultCode != FaultTransfer {
		t.Fatalf("TransferCompletes %+v, want one with 9010", rig.tcs)
	}
	gets := srv.requests()
	if len(gets) != 4 || !gets[2].Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("GETs at %v, want two attempts, at t0 and t0+4m", gets)
	}
	if tr := f.state().Transfers.ByID; len(tr) != 0 {
		t.Errorf("transfers left: %v", tr)
	}
}

// Faults a retry cannot change are reported at once, MaxRetries or not:
// a refused login (9012), an unsupported file type, and a failure of the
// apply step (here a configuration that deletes an instance that does not
// exist, 9010), which ran after the download succeeded.
func TestScheduleDownloadFaultsThatAreNotRetried(t *testing.T) {
	for _, c := range []struct {
		name, fileType, path string
		status               int
		body                 string
		want                 int
	}{
		{"refused login", FileTypeFirmware, "/fw.bin", http.StatusUnauthorized, "", FaultServerAuth},
		{"unsupported file type", "2 Web Content", "/web.tgz", 0, "x", FaultTransfer},
		{"apply fails", FileTypeConfigDownload, "/cfg.alter", 0, "del Device.Users.User.7.\n", FaultTransfer},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := newTestClock(t0)
			var gets atomic.Int32
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gets.Add(1)
				if c.status != 0 {
					w.Header().Set("WWW-Authenticate", `Basic realm="files"`)
					http.Error(w, "no", c.status)
					return
				}
				io.WriteString(w, c.body)
			}))
			t.Cleanup(hs.Close)
			f := newFix(t)
			rig := newConductorRig(t, f, clock)
			f.queue(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: c.fileType, URL: hs.URL + c.path,
				NotBefore: t0, Windows: []event.TimeWindow{{Start: t0, End: t0.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 3}}})
			rig.runUntil(t0.Add(24 * time.Hour))
			if len(rig.tcs) != 1 || rig.tcs[0].FaultCode != c.want {
				t.Fatalf("TransferCompletes %+v, want one with %d", rig.tcs, c.want)
			}
			cnt := f.countTypes()
			if cnt[event.TypeTransferAttemptFailed] != 0 {
				t.Errorf("%d failed attempts journaled, want none", cnt[event.TypeTransferAttemptFailed])
			}
			if applied := c.fileType == FileTypeConfigDownload; (cnt[event.TypeTransferApplying] == 1) != applied {
				t.Errorf("%d TransferApplying (%q), want the fault from the apply step: %v", cnt[event.TypeTransferApplying], rig.tcs[0].FaultString, applied)
			}
			if !clock.now().Equal(t0) {
				t.Errorf("reported at %s, want at once", clock.now())
			}
		})
	}
}

// The journal of a run with retries replays (from a JSONL export) to the
// very state the agent folded live, at every step.
func TestScheduleDownloadRetriesReplay(t *testing.T) {
	rig, _, url := rigWithServer(t, 4)
	f := rig.f
	scheduleDownload(f, url, event.TimeWindow{Start: t0, End: t0.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: -1})
	check := func(when string) {
		t.Helper()
		var buf bytes.Buffer
		r := f.j.NewReader(1)
		_, err := journal.ExportJSONL(&buf, r, journal.ExportOptions{Name: event.Name})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		res, err := replay.Run(journal.NewJSONLReader(&buf), replay.Options{})
		if err != nil || len(res.Violations) > 0 {
			t.Fatalf("%s: replay: %v %v", when, err, res.Violations)
		}
		got, _ := res.State.Snapshot()
		want, _ := f.state().Snapshot()
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: replayed state differs from the live one:\n%s\n%s", when, got, want)
		}
	}
	rig.runUntil(t0)
	check("after the first failed attempt")
	rig.runUntil(t0.Add(24 * time.Hour))
	check("at the end")
	if len(rig.tcs) != 1 || rig.tcs[0].FaultCode != 0 {
		t.Fatalf("TransferCompletes %+v, want one with no fault", rig.tcs)
	}
}

// The note that no window was left survives the FaultString's 256-byte
// cut, however long the last attempt's own fault was.
func TestLastAttemptFaultKeepsItsNoteWhenCut(t *testing.T) {
	tr := projections.Transfer{FailedAttempts: 3, LastFaultCode: FaultTransfer, LastFaultString: strings.Repeat("server said no; ", 30)}
	code, msg := FaultOf(lastAttemptFault(tr), FaultInternal)
	if code != FaultTransfer || len(msg) > 256 || !strings.HasPrefix(msg, "no time window left after 3 failed attempts") {
		t.Fatalf("fault %d %q (%d bytes)", code, msg, len(msg))
	}
}
