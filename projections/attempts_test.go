package projections

import (
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/projections/event"
)

// The MaxRetries budget is per window (D§11.9, decided): a window allows
// its MaxRetries retries after its first failed attempt (-1: three), a
// back-off that would end after the window, or a spent budget, waits for
// the next window, whose budget starts afresh; touching windows keep their
// own budgets; with no window left the transfer finishes. The count is
// folded from the journal: a reboot in the middle keeps it, and Decide
// holds the transfer until the journaled next attempt.
func TestPlanRetryBudgetPerWindow(t *testing.T) {
	f := running(t, event.Setting{Name: SettingPeriodicInformEnabled, Value: "false"})
	f.session()
	w1, w2 := t0.Add(time.Hour), t0.Add(3*time.Hour)
	w3 := w2.Add(time.Hour) // touches window 2
	id := f.add(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: "1 Firmware Upgrade Image", URL: "https://f/x",
		NotBefore: w1, Windows: []event.TimeWindow{
			{Start: w1, End: w1.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 2},
			{Start: w2, End: w2.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 0},
			{Start: w3, End: w3.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: -1}}})
	f.add(event.TransferStarted{Transfer: id, StartTime: w1})

	// fail plans the failure of an attempt at now, checks the plan, and
	// journals it as the Runner does.
	fail := func(now time.Time, wantWindow int, want time.Time) {
		t.Helper()
		tr := f.s.Transfers.ByID[id]
		w := WindowIndex(tr.Request, now)
		next, ok := PlanRetry(tr, w, now, time.Minute)
		if w != wantWindow || !ok || !next.Equal(want) {
			t.Fatalf("failure at %s: window %d, next %s (retry %v); want window %d, next %s",
				now.Format(time.TimeOnly), w, next.Format(time.TimeOnly), ok, wantWindow, want.Format(time.TimeOnly))
		}
		f.add(event.TransferAttemptFailed{Transfer: id, FaultCode: 9015, FaultString: "unreachable", Window: w, NextAttempt: next})
	}
	decide := func(what string, now time.Time, transfer uint64, wake time.Time) {
		t.Helper()
		d := Decide(f.s, now)
		if d.Start || d.Transfer != transfer || !d.Wake.Equal(wake) {
			t.Errorf("%s (now %s): transfer %d wake %s start %v; want transfer %d wake %s",
				what, now.Format(time.TimeOnly), d.Transfer, d.Wake.Format(time.TimeOnly), d.Start, transfer, wake.Format(time.TimeOnly))
		}
	}
	counts := func(what string, all, inWindow, window int) {
		t.Helper()
		tr := f.s.Transfers.ByID[id]
		if tr.FailedAttempts != all || tr.WindowFailures != inWindow || tr.RetryWindow != window || tr.State != TransferInProgressState {
			t.Errorf("%s: %s, %d failed attempts, %d in window %d; want %d, %d in window %d",
				what, tr.State, tr.FailedAttempts, tr.WindowFailures, tr.RetryWindow, all, inWindow, window)
		}
	}

	// Window 1: the first attempt and its two retries fail.
	fail(w1.Add(time.Minute), 0, w1.Add(2*time.Minute))
	decide("retry wait in window 1", w1.Add(90*time.Second), 0, w1.Add(2*time.Minute))
	decide("retry due", w1.Add(2*time.Minute), id, time.Time{})
	fail(w1.Add(2*time.Minute), 0, w1.Add(3*time.Minute))
	// A reboot in the middle: the count is the journal's.
	f.add(event.Booted{Reason: event.BootPowerOn})
	f.session()
	counts("after a reboot", 2, 2, 0)
	fail(w1.Add(3*time.Minute), 0, w2) // budget spent: window 2
	counts("window 1 spent", 3, 3, 0)
	decide("window 1 spent, still open", w1.Add(10*time.Minute), 0, w2)
	decide("window 2 open", w2, id, time.Time{})

	// Window 2 allows no retry; window 3 touches it and starts afresh,
	// no sooner than the back-off.
	fail(w2.Add(10*time.Second), 1, w3)
	counts("window 2 spent", 4, 1, 1)
	decide("window 2 spent", w2.Add(time.Minute), 0, w3)
	decide("window 3 open", w3, id, time.Time{})
	fail(w3.Add(time.Minute), 2, w3.Add(2*time.Minute))
	counts("window 3", 5, 1, 2)

	// A back-off that would end after the last window leaves no attempt:
	// the transfer finishes with the fault. So does a spent window 3.
	tr := f.s.Transfers.ByID[id]
	if next, ok := PlanRetry(tr, 2, w3.Add(59*time.Minute+30*time.Second), time.Minute); ok {
		t.Errorf("a back-off past the last window: retry at %s, want none", next.Format(time.TimeOnly))
	}
	fail(w3.Add(2*time.Minute), 2, w3.Add(3*time.Minute))
	fail(w3.Add(3*time.Minute), 2, w3.Add(4*time.Minute))
	counts("window 3, three retries", 7, 3, 2)
	tr = f.s.Transfers.ByID[id]
	if next, ok := PlanRetry(tr, 2, w3.Add(4*time.Minute), time.Minute); ok {
		t.Errorf("window 3's default budget spent: retry at %s, want none", next.Format(time.TimeOnly))
	}
}

// Edge cases of PlanRetry, each on its own transfer.
func TestPlanRetryEdges(t *testing.T) {
	w1 := t0.Add(time.Hour)
	sd := func(failures, window int, ws ...event.TimeWindow) *Transfer {
		return &Transfer{Request: event.TransferQueued{Kind: event.KindScheduleDownload, Windows: ws},
			State: TransferInProgressState, FailedAttempts: failures, WindowFailures: failures, RetryWindow: window}
	}
	one := event.TimeWindow{Start: w1, End: w1.Add(time.Hour), MaxRetry: -1}
	later := event.TimeWindow{Start: w1.Add(3 * time.Hour), End: w1.Add(4 * time.Hour), MaxRetry: 5}
	for _, c := range []struct {
		name  string
		tr    *Transfer
		now   time.Time
		delay time.Duration
		want  time.Time // zero: no retry
	}{
		{"-1 gives the default budget", sd(DefaultWindowRetries-1, 0, one), w1, time.Minute, w1.Add(time.Minute)},
		{"-1 budget spent", sd(DefaultWindowRetries, 0, one), w1, time.Minute, time.Time{}},
		{"MaxRetries 0: no retry in the window", sd(0, 0, event.TimeWindow{Start: w1, End: w1.Add(time.Hour)}), w1, time.Minute, time.Time{}},
		{"budget spent, a later window", sd(DefaultWindowRetries, 0, one, later), w1, time.Minute, later.Start},
		{"back-off past the window, a later window", sd(0, 0, one, later), w1.Add(59 * time.Minute), 2 * time.Minute, later.Start},
		{"back-off past the later window's start", sd(3, 0, one, later), w1, 200 * time.Minute, w1.Add(200 * time.Minute)},
		{"back-off past every window", sd(3, 0, one, later), w1, 5 * time.Hour, time.Time{}},
		{"failures of another window do not count", sd(9, 1, one, later), w1, time.Minute, w1.Add(time.Minute)},
		{"not a ScheduleDownload", &Transfer{Request: event.TransferQueued{Kind: event.KindDownload}}, w1, time.Minute, time.Time{}},
	} {
		w := WindowIndex(c.tr.Request, c.now)
		next, ok := PlanRetry(c.tr, w, c.now, c.delay)
		if ok != !c.want.IsZero() || !next.Equal(c.want) {
			t.Errorf("%s: next %v (retry %v), want %v", c.name, next, ok, c.want)
		}
	}
	if got := WindowIndex(event.TransferQueued{Kind: event.KindScheduleDownload, Windows: []event.TimeWindow{one, later}}, t0); got != -1 {
		t.Errorf("before the first window: index %d, want -1", got)
	}
}

// A failed attempt ends with the transfer: TransferFinished clears the
// next attempt (the counts stay for the record); an attempt failure of a
// transfer that has not started, or of an unknown one, is a violation.
func TestTransferAttemptFailedFold(t *testing.T) {
	f := running(t, event.Setting{Name: SettingPeriodicInformEnabled, Value: "false"})
	w1 := t0.Add(time.Hour)
	id := f.add(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: "1 Firmware Upgrade Image", URL: "https://f/x",
		NotBefore: w1, Windows: []event.TimeWindow{{Start: w1, End: w1.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 1}}})
	f.violation(event.TransferAttemptFailed{Transfer: id, FaultCode: 9015, NextAttempt: w1})
	f.violation(event.TransferAttemptFailed{Transfer: id + 100, FaultCode: 9015, NextAttempt: w1})
	f = running(t, event.Setting{Name: SettingPeriodicInformEnabled, Value: "false"})
	id = f.add(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: "1 Firmware Upgrade Image", URL: "https://f/x",
		NotBefore: w1, Windows: []event.TimeWindow{{Start: w1, End: w1.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 1}}})
	f.session()
	f.add(event.TransferStarted{Transfer: id, StartTime: w1})
	f.add(event.TransferAttemptFailed{Transfer: id, FaultCode: 9016, FaultString: "HTTP 404", NextAttempt: w1.Add(time.Minute)})
	if d := Decide(f.s, w1); d.Start {
		t.Errorf("a failed attempt started a session: %+v", d)
	}
	f.add(event.TransferFinished{Transfer: id, FaultCode: 9016, FaultString: "HTTP 404", StartTime: w1, CompleteTime: w1.Add(time.Minute)})
	tr := f.s.Transfers.ByID[id]
	if !tr.NextAttempt.IsZero() || tr.FailedAttempts != 1 || tr.LastFaultCode != 9016 {
		t.Errorf("finished: next attempt %v, %d failed attempts, last fault %d", tr.NextAttempt, tr.FailedAttempts, tr.LastFaultCode)
	}
	f.wantEvents("7 TRANSFER COMPLETE", "M ScheduleDownload(sd)")
}
