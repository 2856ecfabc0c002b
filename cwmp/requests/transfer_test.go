package requests

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

const factoryType = "X 02C0DE Factory Configuration File"

// checkQueued checks the one TransferQueued journaled after before and its
// projection: queued, with the request as journaled.
func (f *fix) checkQueued(name string, before uint64, want event.TransferQueued) {
	f.t.Helper()
	evs := f.since(before)
	if len(evs) != 1 {
		f.t.Errorf("%s: journaled %d events, want 1", name, len(evs))
		return
	}
	got, ok := evs[0].(event.TransferQueued)
	if !ok {
		f.t.Errorf("%s: journaled %#v", name, evs[0])
		return
	}
	if !got.NotBefore.Equal(want.NotBefore) {
		f.t.Errorf("%s: NotBefore %v, want %v", name, got.NotBefore, want.NotBefore)
	}
	for i := range want.Windows {
		if i < len(got.Windows) && (!got.Windows[i].Start.Equal(want.Windows[i].Start) || !got.Windows[i].End.Equal(want.Windows[i].End)) {
			f.t.Errorf("%s: window %d is %v–%v, want %v–%v", name, i, got.Windows[i].Start, got.Windows[i].End, want.Windows[i].Start, want.Windows[i].End)
		}
	}
	// Times compared above; the rest must match exactly.
	norm := func(e event.TransferQueued) event.TransferQueued {
		e.NotBefore = time.Time{}
		ws := make([]event.TimeWindow, len(e.Windows))
		for i, w := range e.Windows {
			w.Start, w.End = time.Time{}, time.Time{}
			ws[i] = w
		}
		e.Windows = ws
		return e
	}
	if !reflect.DeepEqual(norm(got), norm(want)) {
		f.t.Errorf("%s: journaled\n %#v\nwant\n %#v", name, got, want)
	}
	tr := f.state().Transfers.ByID[before+1]
	if tr == nil || tr.State != projections.TransferQueuedState || !tr.Request.NotBefore.Equal(want.NotBefore) ||
		tr.Request.CommandKey != want.CommandKey || tr.Request.Kind != want.Kind {
		f.t.Errorf("%s: projection has %+v", name, tr)
	}
}

func checkPendingResponse(t *testing.T, name string, resp soap.Message) {
	t.Helper()
	switch r := resp.(type) {
	case *soap.DownloadResponse:
		if r.Status != soap.StatusPending || !r.StartTime.IsZero() || !r.CompleteTime.IsZero() {
			t.Errorf("%s: response %+v, want Status 1 and Unknown Times", name, r)
		}
	case *soap.UploadResponse:
		if r.Status != soap.StatusPending || !r.StartTime.IsZero() || !r.CompleteTime.IsZero() {
			t.Errorf("%s: response %+v, want Status 1 and Unknown Times", name, r)
		}
	case *soap.ScheduleDownloadResponse:
	default:
		t.Errorf("%s: got %#v", name, resp)
	}
}

func TestDownloadAccepted(t *testing.T) {
	f := newFix(t)
	tests := []struct {
		name string
		req  *soap.Download
	}{
		{"firmware over https, delayed", &soap.Download{CommandKey: "fw", FileType: FileTypeFirmware, URL: "https://fw.example/upgrade.xml",
			Username: "u", Password: "p", FileSize: 1234, TargetFileName: "upgrade.xml", DelaySeconds: 30}},
		{"config over http, now", &soap.Download{CommandKey: "cfg", FileType: FileTypeConfigDownload, URL: "http://cfg.example:8080/a.alter"}},
		{"vendor factory config", &soap.Download{FileType: factoryType, URL: "https://cfg.example/default.rsc"}},
		{"upper-case scheme", &soap.Download{CommandKey: "uc", FileType: FileTypeFirmware, URL: "HTTPS://fw.example/x"}},
		{"credentials in URL", &soap.Download{CommandKey: "cred", FileType: FileTypeFirmware, URL: "https://user:pw@fw.example/x"}},
		{"IPv6 literal host", &soap.Download{CommandKey: "v6", FileType: FileTypeFirmware, URL: "http://[2001:db8::1]:8080/x"}},
	}
	for _, tc := range tests {
		before := f.seq()
		resp := f.do(tc.req)
		checkPendingResponse(t, tc.name, resp)
		f.checkQueued(tc.name, before, event.TransferQueued{
			Kind: event.KindDownload, CommandKey: tc.req.CommandKey, FileType: tc.req.FileType, URL: tc.req.URL,
			Username: tc.req.Username, Password: tc.req.Password, FileSize: uint64(tc.req.FileSize),
			TargetFileName: tc.req.TargetFileName, DelaySeconds: tc.req.DelaySeconds,
			NotBefore: t0.Add(time.Duration(tc.req.DelaySeconds) * time.Second),
		})
	}
	if n := len(f.state().Transfers.ByID); n != len(tests) {
		t.Fatalf("%d transfers queued, want %d", n, len(tests))
	}
}

func TestUploadAccepted(t *testing.T) {
	f := newFix(t)
	for _, ft := range []string{FileTypeConfigUpload, FileTypeLogUpload, factoryType, "X 02C0DE Journal"} {
		req := &soap.Upload{CommandKey: "ul", FileType: ft, URL: "https://acs.example/put", Username: "u", Password: "p", DelaySeconds: 7}
		before := f.seq()
		checkPendingResponse(t, ft, f.do(req))
		f.checkQueued(ft, before, event.TransferQueued{
			Kind: event.KindUpload, CommandKey: "ul", FileType: ft, URL: req.URL, Username: "u", Password: "p",
			DelaySeconds: 7, NotBefore: t0.Add(7 * time.Second),
		})
	}
}

func TestScheduleDownloadAccepted(t *testing.T) {
	f := newFix(t)
	tests := []struct {
		name    string
		windows []soap.TimeWindowStruct
	}{
		{"one window", []soap.TimeWindowStruct{{WindowStart: 60, WindowEnd: 3600, WindowMode: WindowAtAnyTime, UserMessage: "hi", MaxRetries: 3}}},
		{"from now, immediately", []soap.TimeWindowStruct{window(0, 10, WindowImmediately)}},
		{"two windows", []soap.TimeWindowStruct{window(10, 20, WindowWhenIdle), window(100, 200, WindowAtAnyTime)}},
		{"touching windows", []soap.TimeWindowStruct{window(10, 20, WindowAtAnyTime), window(20, 30, WindowImmediately)}},
	}
	for _, tc := range tests {
		req := &soap.ScheduleDownload{CommandKey: "sd", FileType: FileTypeFirmware, URL: "https://fw.example/x",
			Username: "u", Password: "p", FileSize: 10, TargetFileName: "x.bin", TimeWindowList: tc.windows}
		var ws []event.TimeWindow
		for _, w := range tc.windows {
			ws = append(ws, event.TimeWindow{
				Start: t0.Add(time.Duration(w.WindowStart) * time.Second), End: t0.Add(time.Duration(w.WindowEnd) * time.Second),
				Mode: w.WindowMode, UserMsg: w.UserMessage, MaxRetry: int(w.MaxRetries),
			})
		}
		before := f.seq()
		checkPendingResponse(t, tc.name, f.do(req))
		f.checkQueued(tc.name, before, event.TransferQueued{
			Kind: event.KindScheduleDownload, CommandKey: "sd", FileType: FileTypeFirmware, URL: req.URL,
			Username: "u", Password: "p", FileSize: 10, TargetFileName: "x.bin",
			NotBefore: ws[0].Start, Windows: ws,
		})
		if tr := f.state().Transfers.ByID[before+1]; tr != nil && len(tr.Request.Windows) != len(ws) {
			t.Errorf("%s: projection has %d windows", tc.name, len(tr.Request.Windows))
		}
	}
}

func TestTransferFaults(t *testing.T) {
	f := newFix(t)
	w := []soap.TimeWindowStruct{window(0, 60, WindowAtAnyTime)}
	tests := []struct {
		name string
		req  soap.Message
		code soap.FaultCode
	}{
		// URL: scheme first, synchronously 9013.
		{"download file://", download("file:///etc/passwd", FileTypeFirmware), soap.FaultUnsupportedProtocol},
		{"download ftp://", download("ftp://fw.example/x", FileTypeFirmware), soap.FaultUnsupportedProtocol},
		{"download tftp://", download("tftp://fw.example/x", FileTypeFirmware), soap.FaultUnsupportedProtocol},
		{"download ftp with bad type", download("ftp://fw.example/x", "2 Web Content"), soap.FaultUnsupportedProtocol},
		{"upload ftp://", upload("ftp://acs.example/x", FileTypeLogUpload), soap.FaultUnsupportedProtocol},
		{"upload file://", upload("file:///tmp/x", FileTypeLogUpload), soap.FaultUnsupportedProtocol},
		{"schedule ftp://", scheduleDownload("ftp://fw.example/x", FileTypeFirmware, w...), soap.FaultUnsupportedProtocol},
		{"download empty URL", download("", FileTypeFirmware), soap.FaultInvalidArguments},
		{"download unparsable URL", download("http://[::1", FileTypeFirmware), soap.FaultInvalidArguments},
		{"download control character", download("http://fw.example/\x7f", FileTypeFirmware), soap.FaultInvalidArguments},
		{"download relative URL", download("/fw/x.bin", FileTypeFirmware), soap.FaultInvalidArguments},
		{"download no host", download("http:///x", FileTypeFirmware), soap.FaultInvalidArguments},
		{"download opaque", download("http:fw.example", FileTypeFirmware), soap.FaultInvalidArguments},
		{"download port only", download("http://:80/x", FileTypeFirmware), soap.FaultInvalidArguments},
		{"upload no host", upload("https://", FileTypeLogUpload), soap.FaultInvalidArguments},
		{"schedule no host", scheduleDownload("https:///x", FileTypeFirmware, w...), soap.FaultInvalidArguments},
		// File types.
		{"download web content", download("https://x.example/a", "2 Web Content"), soap.FaultInvalidArguments},
		{"download tone file", download("https://x.example/a", "4 Tone File"), soap.FaultInvalidArguments},
		{"download stored firmware", download("https://x.example/a", "6 Stored Firmware Image"), soap.FaultInvalidArguments},
		{"download upload-only type", download("https://x.example/a", FileTypeConfigUpload), soap.FaultInvalidArguments},
		{"download journal (upload only)", download("https://x.example/a", "X 02C0DE Journal"), soap.FaultInvalidArguments},
		{"download other OUI", download("https://x.example/a", "X 00D09E Factory Configuration File"), soap.FaultInvalidArguments},
		{"download seed's vendor token", download("https://x.example/a", "X MIKROTIK Factory Configuration File"), soap.FaultInvalidArguments},
		{"download lower-case type", download("https://x.example/a", "1 firmware upgrade image"), soap.FaultInvalidArguments},
		{"download trailing space", download("https://x.example/a", FileTypeFirmware+" "), soap.FaultInvalidArguments},
		{"download empty type", download("https://x.example/a", ""), soap.FaultInvalidArguments},
		{"upload firmware", upload("https://x.example/a", FileTypeFirmware), soap.FaultInvalidArguments},
		{"upload download-only config type", upload("https://x.example/a", FileTypeConfigDownload), soap.FaultInvalidArguments},
		{"upload per-instance config", upload("https://x.example/a", "3 Vendor Configuration File 1"), soap.FaultInvalidArguments},
		{"upload per-instance log", upload("https://x.example/a", "4 Vendor Log File 2"), soap.FaultInvalidArguments},
		{"upload other OUI journal", upload("https://x.example/a", "X 00D09E Journal"), soap.FaultInvalidArguments},
		{"schedule upload type", scheduleDownload("https://x.example/a", FileTypeLogUpload, w...), soap.FaultInvalidArguments},
		// TargetFileName.
		{"download target path", &soap.Download{FileType: FileTypeFirmware, URL: "https://x.example/a", TargetFileName: "../../etc/passwd"}, soap.FaultInvalidArguments},
		{"download target dir", &soap.Download{FileType: FileTypeFirmware, URL: "https://x.example/a", TargetFileName: "a/b"}, soap.FaultInvalidArguments},
		{"download target backslash", &soap.Download{FileType: FileTypeFirmware, URL: "https://x.example/a", TargetFileName: `a\b`}, soap.FaultInvalidArguments},
		{"download target dot-dot", &soap.Download{FileType: FileTypeFirmware, URL: "https://x.example/a", TargetFileName: ".."}, soap.FaultInvalidArguments},
		{"schedule target path", &soap.ScheduleDownload{FileType: FileTypeFirmware, URL: "https://x.example/a", TargetFileName: "/tmp/x", TimeWindowList: w}, soap.FaultInvalidArguments},
		// Time windows.
		{"no window", scheduleDownload("https://x.example/a", FileTypeFirmware), soap.FaultInvalidArguments},
		{"three windows", scheduleDownload("https://x.example/a", FileTypeFirmware,
			window(0, 1, WindowAtAnyTime), window(2, 3, WindowAtAnyTime), window(4, 5, WindowAtAnyTime)), soap.FaultInvalidArguments},
		{"empty window", scheduleDownload("https://x.example/a", FileTypeFirmware, window(10, 10, WindowAtAnyTime)), soap.FaultInvalidArguments},
		{"reversed window", scheduleDownload("https://x.example/a", FileTypeFirmware, window(20, 10, WindowAtAnyTime)), soap.FaultInvalidArguments},
		{"overlapping windows", scheduleDownload("https://x.example/a", FileTypeFirmware,
			window(0, 100, WindowAtAnyTime), window(50, 200, WindowAtAnyTime)), soap.FaultInvalidArguments},
		{"windows out of order", scheduleDownload("https://x.example/a", FileTypeFirmware,
			window(100, 200, WindowAtAnyTime), window(0, 50, WindowAtAnyTime)), soap.FaultInvalidArguments},
		{"second window empty", scheduleDownload("https://x.example/a", FileTypeFirmware,
			window(0, 10, WindowAtAnyTime), window(20, 20, WindowAtAnyTime)), soap.FaultInvalidArguments},
		{"confirmation needed", scheduleDownload("https://x.example/a", FileTypeFirmware, window(0, 10, WindowConfirmation)), soap.FaultInvalidArguments},
		{"confirmation in second window", scheduleDownload("https://x.example/a", FileTypeFirmware,
			window(0, 10, WindowAtAnyTime), window(20, 30, WindowConfirmation)), soap.FaultInvalidArguments},
		{"vendor window mode", scheduleDownload("https://x.example/a", FileTypeFirmware, window(0, 10, "X 02C0DE Night")), soap.FaultInvalidArguments},
		{"unknown window mode", scheduleDownload("https://x.example/a", FileTypeFirmware, window(0, 10, "5 Later")), soap.FaultInvalidArguments},
		{"empty window mode", scheduleDownload("https://x.example/a", FileTypeFirmware, window(0, 10, "")), soap.FaultInvalidArguments},
		{"MaxRetries -2", scheduleDownload("https://x.example/a", FileTypeFirmware,
			soap.TimeWindowStruct{WindowStart: 0, WindowEnd: 10, WindowMode: WindowAtAnyTime, MaxRetries: -2}), soap.FaultInvalidArguments},
	}
	for _, tc := range tests {
		before := f.seq()
		f.expectFault(tc.name, before, f.do(tc.req), tc.code)
	}
	if n := len(f.state().Transfers.ByID); n != 0 {
		t.Fatalf("%d transfers queued by refused requests", n)
	}
}

// The queue bound counts every transfer not yet acknowledged: queued,
// started, applying, and finished with TransferComplete owed.
func TestTransferQueueFull(t *testing.T) {
	f := newFix(t)
	ids := f.queued(DefaultMaxTransfers-1, "old")
	if _, ok := f.do(download("https://x.example/a", FileTypeFirmware)).(*soap.DownloadResponse); !ok {
		t.Fatal("16th transfer refused")
	}
	f.append(event.TransferStarted{Transfer: ids[0], StartTime: t0},
		event.TransferStarted{Transfer: ids[1], StartTime: t0}, event.TransferApplying{Transfer: ids[1]},
		event.TransferStarted{Transfer: ids[2], StartTime: t0}, event.TransferFinished{Transfer: ids[2], StartTime: t0, CompleteTime: t0})
	w := window(0, 60, WindowAtAnyTime)
	for _, req := range []soap.Message{
		download("https://x.example/a", FileTypeFirmware),
		upload("https://x.example/a", FileTypeLogUpload),
		scheduleDownload("https://x.example/a", FileTypeFirmware, w),
	} {
		before := f.seq()
		f.expectFault(req.MethodName()+" on a full queue", before, f.do(req), soap.FaultResourcesExceeded)
	}
	// A finished transfer still counts until its TransferComplete is acked.
	f.append(event.TransferCompleteAcked{Transfer: ids[2]})
	if _, ok := f.do(upload("https://x.example/a", FileTypeLogUpload)).(*soap.UploadResponse); !ok {
		t.Fatal("refused after an acknowledgement made room")
	}
	// The request is checked before the queue: its own fault even when full.
	f.queued(1, "fill")
	for _, tc := range []struct {
		name string
		req  soap.Message
		code soap.FaultCode
	}{
		{"ftp on a full queue", download("ftp://x.example/a", FileTypeFirmware), soap.FaultUnsupportedProtocol},
		{"bad file type on a full queue", upload("https://x.example/a", "2 Web Content"), soap.FaultInvalidArguments},
		{"bad target on a full queue", &soap.Download{FileType: FileTypeFirmware, URL: "https://x.example/a", TargetFileName: "a/b"}, soap.FaultInvalidArguments},
		{"bad window on a full queue", scheduleDownload("https://x.example/a", FileTypeFirmware, window(5, 1, WindowAtAnyTime)), soap.FaultInvalidArguments},
		{"good request on a full queue", download("https://x.example/a", FileTypeFirmware), soap.FaultResourcesExceeded},
	} {
		f.expectFault(tc.name, f.seq(), f.do(tc.req), tc.code)
	}
}

func TestConfiguredBoundAndOUI(t *testing.T) {
	f := newFix(t)
	f.h.MaxTransfers = 2
	f.h.OUI = "00D09E"
	ours := "X 00D09E Factory Configuration File"
	if _, ok := f.do(download("https://x.example/a", ours)).(*soap.DownloadResponse); !ok {
		t.Fatal("configured OUI's factory config refused")
	}
	if _, ok := f.do(upload("https://x.example/a", "X 00D09E Journal")).(*soap.UploadResponse); !ok {
		t.Fatal("configured OUI's journal upload refused")
	}
	before := f.seq()
	f.expectFault("third transfer with MaxTransfers 2", before, f.do(download("https://x.example/b", FileTypeFirmware)), soap.FaultResourcesExceeded)
	f.h.MaxTransfers = 0 // back to the default
	f.expectFault("default OUI under another OUI", before, f.do(download("https://x.example/a", factoryType)), soap.FaultInvalidArguments)
	f.expectFault("default OUI journal under another OUI", before, f.do(upload("https://x.example/a", "X 02C0DE Journal")), soap.FaultInvalidArguments)
}

// Credentials (the Password field, URL userinfo) and URL paths and queries
// never reach the log, on success or on failure.
func TestTransferSecretsNeverLogged(t *testing.T) {
	f := newFix(t)
	url := "https://urluser:urlsecret@fw.example/path-secret?token=querysecret"
	reqs := []soap.Message{
		&soap.Download{CommandKey: "a", FileType: FileTypeFirmware, URL: url, Username: "user", Password: "fieldsecret"},
		&soap.Upload{CommandKey: "b", FileType: FileTypeLogUpload, URL: url, Username: "user", Password: "fieldsecret"},
		&soap.ScheduleDownload{CommandKey: "c", FileType: FileTypeFirmware, URL: url, Username: "user", Password: "fieldsecret",
			TimeWindowList: []soap.TimeWindowStruct{window(0, 60, WindowAtAnyTime)}},
	}
	for _, r := range reqs {
		if _, ok := f.do(r).(*soap.Fault); ok {
			t.Fatalf("%s refused", r.MethodName())
		}
	}
	f.j.Close() // every request now fails in the journal and logs the error
	for _, r := range reqs {
		f.expectFault(r.MethodName()+" on a closed journal", f.seq(), f.do(r), soap.FaultInternalError)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "transfer queued") || !strings.Contains(logs, "fw.example") || !strings.Contains(logs, "journal append failed") {
		t.Fatalf("expected log lines missing:\n%s", logs)
	}
	for _, secret := range []string{"fieldsecret", "urlsecret", "urluser", "querysecret", "path-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("%q logged:\n%s", secret, logs)
		}
	}
}

// A queued transfer is durable: it is still queued, with its absolute
// NotBefore, after a restart.
func TestQueuedDownloadSurvivesRestart(t *testing.T) {
	f := newFix(t)
	before := f.seq()
	f.do(&soap.Download{CommandKey: "keep", FileType: FileTypeFirmware, URL: "https://fw.example/x", DelaySeconds: 600})
	f.restart()
	tr := f.state().Transfers.ByID[before+1]
	if tr == nil || tr.State != projections.TransferQueuedState || tr.Request.CommandKey != "keep" ||
		!tr.Request.NotBefore.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("after restart: %+v", tr)
	}
}

// Concurrent requests cannot together overrun the queue bound.
func TestConcurrentDownloadsRespectTheBound(t *testing.T) {
	f := newFix(t)
	const n = 2 * DefaultMaxTransfers
	results := make(chan soap.Message, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				results <- f.do(download("https://x.example/a", FileTypeFirmware))
			} else {
				results <- f.do(upload("https://x.example/a", FileTypeLogUpload))
			}
		}()
	}
	wg.Wait()
	close(results)
	accepted, full := 0, 0
	for r := range results {
		switch r := r.(type) {
		case *soap.DownloadResponse, *soap.UploadResponse:
			accepted++
		case *soap.Fault:
			if r.Detail.FaultCode == soap.FaultResourcesExceeded {
				full++
			}
		}
	}
	if accepted != DefaultMaxTransfers || full != n-DefaultMaxTransfers {
		t.Fatalf("accepted %d, refused as full %d", accepted, full)
	}
	if got := len(f.state().Transfers.ByID); got != DefaultMaxTransfers {
		t.Fatalf("%d transfers in the projection", got)
	}
}
