package projections

import (
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/projections/event"
)

// A ScheduleDownload is started or resumed only while one of its time
// windows is open (D§11.9): not in the gap after a window the agent was
// down for, not after a restart between windows; between windows the
// conductor wakes at the next window's start. Once every window has
// closed it is due again, for the Runner to report 9020.
func TestDecideScheduleDownloadOnlyInsideItsWindows(t *testing.T) {
	f := running(t, event.Setting{Name: SettingPeriodicInformEnabled, Value: "false"})
	f.session()
	w1, w2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	id := f.add(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: "1 Firmware Upgrade Image", URL: "https://f/x",
		NotBefore: w1, Windows: []event.TimeWindow{
			{Start: w1, End: w1.Add(30 * time.Second), Mode: "1 At Any Time"},
			{Start: w2, End: w2.Add(10 * time.Minute), Mode: "3 When Idle"}}})
	check := func(what string, now time.Time, transfer uint64, wake time.Time) {
		t.Helper()
		d := Decide(f.s, now)
		if d.Start || d.Transfer != transfer || !d.Wake.Equal(wake) {
			t.Errorf("%s (now %s): got transfer %d wake %s start %v, want transfer %d wake %s",
				what, now.Format(time.TimeOnly), d.Transfer, d.Wake.Format(time.TimeOnly), d.Start, transfer, wake.Format(time.TimeOnly))
		}
	}
	check("queued, before window 1", w1.Add(-time.Minute), 0, w1)
	check("queued, window 1 open", w1.Add(10*time.Second), id, time.Time{})
	check("queued, window 1 just closed (half-open)", w1.Add(30*time.Second), 0, w2)
	check("queued, agent was down through window 1", w1.Add(10*time.Minute), 0, w2)
	check("queued, window 2 open", w2.Add(time.Minute), id, time.Time{})
	check("queued, every window closed", w2.Add(time.Hour), id, time.Time{})

	// Started in window 1 and stopped at its end (or a crash): in progress
	// between the windows, it waits for window 2 after a restart too.
	f.add(event.TransferStarted{Transfer: id, StartTime: w1.Add(10 * time.Second)})
	f.add(event.TransferProgress{Transfer: id, File: 0, URL: "https://f/x", Offset: 1 << 20})
	check("in progress, between windows", w1.Add(10*time.Minute), 0, w2)
	check("in progress, window 2 open", w2, id, time.Time{})
	check("in progress, every window closed", w2.Add(time.Hour), id, time.Time{})

	// Applying was committed inside a window: it goes on at once.
	f.add(event.TransferApplying{Transfer: id})
	check("applying, between windows", w1.Add(10*time.Minute), id, time.Time{})
}

// A transfer waiting between its windows does not hold back another that
// is due; and windows that touch are one stretch of time.
func TestDecideScheduleDownloadBetweenWindowsLetsOthersRun(t *testing.T) {
	f := running(t, event.Setting{Name: SettingPeriodicInformEnabled, Value: "false"})
	f.session()
	w1 := t0.Add(time.Hour)
	sd := f.add(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: "1 Firmware Upgrade Image", URL: "https://f/x",
		NotBefore: w1, Windows: []event.TimeWindow{
			{Start: w1, End: w1.Add(time.Minute), Mode: "1 At Any Time"},
			{Start: w1.Add(time.Minute), End: w1.Add(2 * time.Minute), Mode: "2 Immediately"},
			{Start: w1.Add(time.Hour), End: w1.Add(2 * time.Hour), Mode: "1 At Any Time"}}})
	f.add(event.TransferStarted{Transfer: sd, StartTime: w1})
	dl := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "dl", FileType: "3 Vendor Configuration File", URL: "https://f/c", NotBefore: t0})
	if d := Decide(f.s, w1.Add(90*time.Second)); d.Transfer != sd {
		t.Errorf("at the seam of two touching windows: %+v, want #%d", d, sd)
	}
	d := Decide(f.s, w1.Add(10*time.Minute))
	if d.Transfer != dl || !d.Wake.Equal(w1.Add(time.Hour)) {
		t.Errorf("between windows: %+v, want download #%d and a wake at %s", d, dl, w1.Add(time.Hour))
	}
}

// An install a crash (or the reboot sysupgrade starts by itself) cut short
// goes on before anything else, as dueTransfer's contract says: an older
// Download whose DelaySeconds ran out meanwhile waits until the applying
// one has been asked about and reported. Before, the list order won: the
// older Download was fetched and applied first while the install's outcome
// waited behind it.
func TestDecideApplyingTransferGoesFirst(t *testing.T) {
	f := running(t, event.Setting{Name: SettingPeriodicInformEnabled, Value: "false"})
	f.session()
	older := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "cfg", FileType: "3 Vendor Configuration File", URL: "https://f/c",
		DelaySeconds: 30, NotBefore: t0.Add(30 * time.Second)})
	fw := f.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw", FileType: "1 Firmware Upgrade Image", URL: "https://f/x", NotBefore: t0})
	f.add(event.TransferStarted{Transfer: fw, StartTime: t0})
	f.add(event.TransferFetched{Transfer: fw, File: 0, URL: "https://f/x", Path: "/s/downloads/x-0", Size: 1, SHA256: "00"})
	f.add(event.TransferApplying{Transfer: fw})
	if d := Decide(f.s, t0.Add(time.Minute)); d.Start || d.Transfer != fw {
		t.Errorf("got transfer %d start %v, want the applying one (%d) before the older queued one (%d)", d.Transfer, d.Start, fw, older)
	}
}
