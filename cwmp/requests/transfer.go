package requests

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// Standard file types this agent supports (digest §11.7).
const (
	FileTypeFirmware           = "1 Firmware Upgrade Image"    // Download
	FileTypeConfigDownload     = "3 Vendor Configuration File" // Download
	FileTypeConfigUpload       = "1 Vendor Configuration File" // Upload
	FileTypeLogUpload          = "2 Vendor Log File"           // Upload
	VendorFactoryConfiguration = "Factory Configuration File"  // Download and Upload, "X <OUI> …"
	VendorJournal              = "Journal"                     // Upload, "X <OUI> …": the journal export
)

// VendorFileType returns the vendor-specific file type "X <oui> <name>".
func VendorFileType(oui, name string) string { return "X " + oui + " " + name }

// Window modes of ScheduleDownload (digest §11.9).
const (
	WindowAtAnyTime    = "1 At Any Time"
	WindowImmediately  = "2 Immediately"
	WindowWhenIdle     = "3 When Idle"
	WindowConfirmation = "4 Confirmation Needed" // refused: no user to confirm
)

func (h *Handler) downloadType(ft string) bool {
	return ft == FileTypeFirmware || ft == FileTypeConfigDownload ||
		ft == VendorFileType(h.oui(), VendorFactoryConfiguration)
}

func (h *Handler) uploadType(ft string) bool {
	return ft == FileTypeConfigUpload || ft == FileTypeLogUpload ||
		ft == VendorFileType(h.oui(), VendorFactoryConfiguration) ||
		ft == VendorFileType(h.oui(), VendorJournal)
}

// checkURL validates a transfer URL and returns it parsed. Fault strings
// never quote the URL: it may carry credentials.
func checkURL(raw string) (*url.URL, *soap.Fault) {
	if raw == "" {
		return nil, fault(soap.FaultInvalidArguments, "empty URL")
	}
	u, err := url.Parse(raw) // the error text quotes the URL: not used
	if err != nil {
		return nil, fault(soap.FaultInvalidArguments, "URL does not parse")
	}
	switch u.Scheme { // url.Parse lowercases the scheme
	case "http", "https":
	case "":
		return nil, fault(soap.FaultInvalidArguments, "URL has no scheme")
	default:
		return nil, fault(soap.FaultUnsupportedProtocol, "unsupported protocol %q: only http and https", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fault(soap.FaultInvalidArguments, "URL has no host")
	}
	return u, nil
}

// checkTarget refuses a TargetFileName that names a path.
func checkTarget(name string) *soap.Fault {
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fault(soap.FaultInvalidArguments, "TargetFileName must be a file name, not a path")
	}
	return nil
}

// logTarget is the part of a transfer URL that logs may show.
func logTarget(u *url.URL) string { return u.Scheme + "://" + u.Host }

// roomFor reports a full transfer queue as 9004. Called with h.mu held.
func (h *Handler) roomFor() *soap.Fault {
	var n int
	h.view(func(st *projections.State) { n = len(st.Transfers.ByID) })
	if max := h.maxTransfers(); n >= max {
		return fault(soap.FaultResourcesExceeded, "%d transfers not yet acknowledged, the most allowed", max)
	}
	return nil
}

// queue checks for room and journals a transfer. Called with h.mu held.
func (h *Handler) queue(ctx context.Context, rpc string, u *url.URL, ev event.TransferQueued) *soap.Fault {
	if f := h.roomFor(); f != nil {
		return f
	}
	recs, f := h.journal(ctx, rpc, ev)
	if f != nil {
		return f
	}
	h.Log.Info().Uint64("transfer", recs[0].Seq).Str("rpc", rpc).Str("ck", ev.CommandKey).
		Str("file_type", ev.FileType).Str("server", logTarget(u)).Time("not_before", ev.NotBefore).
		Msg("transfer queued")
	return nil
}

// checkDownload applies the checks Download and ScheduleDownload share, in
// the documented order: URL, file type, target file name.
func (h *Handler) checkDownload(rawURL, fileType, target string) (*url.URL, *soap.Fault) {
	u, f := checkURL(rawURL)
	if f != nil {
		return nil, f
	}
	if !h.downloadType(fileType) {
		return nil, fault(soap.FaultInvalidArguments, "unsupported download file type %q", fileType)
	}
	if f := checkTarget(target); f != nil {
		return nil, f
	}
	return u, nil
}

func (h *Handler) download(ctx context.Context, r *soap.Download) soap.Message {
	u, f := h.checkDownload(r.URL, r.FileType, r.TargetFileName)
	if f != nil {
		return f
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ev := event.TransferQueued{
		Kind: event.KindDownload, CommandKey: r.CommandKey, FileType: r.FileType,
		URL: r.URL, Username: r.Username, Password: r.Password,
		FileSize: uint64(r.FileSize), TargetFileName: r.TargetFileName,
		DelaySeconds: r.DelaySeconds,
		NotBefore:    h.now().Add(time.Duration(r.DelaySeconds) * time.Second),
	}
	if f := h.queue(ctx, "Download", u, ev); f != nil {
		return f
	}
	return &soap.DownloadResponse{Status: soap.StatusPending}
}

func (h *Handler) upload(ctx context.Context, r *soap.Upload) soap.Message {
	u, f := checkURL(r.URL)
	if f != nil {
		return f
	}
	if !h.uploadType(r.FileType) {
		return fault(soap.FaultInvalidArguments, "unsupported upload file type %q", r.FileType)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ev := event.TransferQueued{
		Kind: event.KindUpload, CommandKey: r.CommandKey, FileType: r.FileType,
		URL: r.URL, Username: r.Username, Password: r.Password,
		DelaySeconds: r.DelaySeconds,
		NotBefore:    h.now().Add(time.Duration(r.DelaySeconds) * time.Second),
	}
	if f := h.queue(ctx, "Upload", u, ev); f != nil {
		return f
	}
	return &soap.UploadResponse{Status: soap.StatusPending}
}

// windows validates ScheduleDownload's time windows and makes them absolute.
func windows(now time.Time, list []soap.TimeWindowStruct) ([]event.TimeWindow, *soap.Fault) {
	if len(list) < 1 || len(list) > 2 {
		return nil, fault(soap.FaultInvalidArguments, "%d time windows: one or two required", len(list))
	}
	out := make([]event.TimeWindow, 0, len(list))
	for i, w := range list {
		n := i + 1
		if w.WindowEnd <= w.WindowStart {
			return nil, fault(soap.FaultInvalidArguments, "time window %d ends at or before its start", n)
		}
		if i > 0 && w.WindowStart < list[i-1].WindowEnd {
			return nil, fault(soap.FaultInvalidArguments, "time window %d overlaps or precedes window %d", n, i)
		}
		switch w.WindowMode {
		case WindowAtAnyTime, WindowImmediately, WindowWhenIdle:
		case WindowConfirmation:
			return nil, fault(soap.FaultInvalidArguments, "time window %d: mode %q unsupported: no user to confirm", n, w.WindowMode)
		default:
			return nil, fault(soap.FaultInvalidArguments, "time window %d: unsupported mode %q", n, w.WindowMode)
		}
		if w.MaxRetries < -1 {
			return nil, fault(soap.FaultInvalidArguments, "time window %d: MaxRetries %d below -1", n, w.MaxRetries)
		}
		out = append(out, event.TimeWindow{
			Start:    now.Add(time.Duration(w.WindowStart) * time.Second),
			End:      now.Add(time.Duration(w.WindowEnd) * time.Second),
			Mode:     w.WindowMode,
			UserMsg:  w.UserMessage,
			MaxRetry: int(w.MaxRetries),
		})
	}
	return out, nil
}

func (h *Handler) scheduleDownload(ctx context.Context, r *soap.ScheduleDownload) soap.Message {
	u, f := h.checkDownload(r.URL, r.FileType, r.TargetFileName)
	if f != nil {
		return f
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ws, f := windows(h.now(), r.TimeWindowList)
	if f != nil {
		return f
	}
	ev := event.TransferQueued{
		Kind: event.KindScheduleDownload, CommandKey: r.CommandKey, FileType: r.FileType,
		URL: r.URL, Username: r.Username, Password: r.Password,
		FileSize: uint64(r.FileSize), TargetFileName: r.TargetFileName,
		NotBefore: ws[0].Start, Windows: ws,
	}
	if f := h.queue(ctx, "ScheduleDownload", u, ev); f != nil {
		return f
	}
	return &soap.ScheduleDownloadResponse{}
}
