package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// File types the Runner carries out (cwmp-digest.md §11.7 and the seeds).
// The vendor ones are "X <OUI> <name>" with the platform's OUI.
const (
	FileTypeFirmware       = "1 Firmware Upgrade Image"    // Download: an image or a manifest
	FileTypeConfigDownload = "3 Vendor Configuration File" // Download: ".alter" alters, else replaces
	FileTypeConfigUpload   = "1 Vendor Configuration File" // Upload: ExportConfig
	FileTypeLogUpload      = "2 Vendor Log File"           // Upload: ExportLog
	VendorFactoryConfig    = "Factory Configuration File"  // Download: SetDefaultConfig; Upload: ExportDefaultConfig
	VendorJournal          = "Journal"                     // Upload: the journal export
)

// Journal is where the Runner records what it does; live.Store fits.
type Journal interface {
	Append(ctx context.Context, evs ...event.Event) ([]journal.Record, error)
}

// Runner carries one transfer forward from the state the journal says it
// is in, journaling before each side effect (see doc.go for the steps and
// the crash rules).
type Runner struct {
	Journal  Journal
	Platform Platform
	Files    *FileClient
	// Dir is the state directory: downloads go to Dir/downloads/<id>-<n>,
	// uploads are staged in Dir/uploads/<id>. It must survive a reboot.
	Dir string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RetryDelay is the wait before retrying a ScheduleDownload after its
	// n-th failed attempt in a window (n ≥ 1); default DefaultRetryDelay.
	// Its result is journaled, so it may be random.
	RetryDelay func(n int) time.Duration
	// Config returns a copy of the journal-backed configuration (for
	// ApplyConfig and ExportConfig) that the Runner may keep.
	Config func() projections.Params
	// JournalExport writes the journal export for "X <OUI> Journal".
	JournalExport func(ctx context.Context, w io.Writer) error
	Log           zerolog.Logger
}

// Outcome is what a Run ended with.
type Outcome struct {
	// Finished is the journaled outcome (or the one found already there).
	Finished event.TransferFinished
	// RebootNeeded: a firmware install or a full configuration replacement
	// succeeded; the daemon reboots now that the outcome is durable.
	RebootNeeded bool
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) files() *FileClient {
	if r.Files != nil {
		return r.Files
	}
	return &FileClient{}
}

// DownloadPath is where file n of transfer id is downloaded.
func (r *Runner) DownloadPath(id uint64, n int) string {
	return filepath.Join(r.Dir, "downloads", strconv.FormatUint(id, 10)+"-"+strconv.Itoa(n))
}

func (r *Runner) uploadPath(id uint64) string {
	return filepath.Join(r.Dir, "uploads", strconv.FormatUint(id, 10))
}

// Run carries tr forward to TransferFinished. It returns an error only
// when it could not journal or ctx ended: the transfer then stays where
// the journal says and a later Run resumes it; or, for a ScheduleDownload,
// ErrOutsideWindow (no window open) and ErrRetryWait (a failed attempt
// journaled to be retried, or its retry not yet due). A transfer failure
// is not an error: it is journaled as TransferFinished with its fault and
// returned in the Outcome.
func (r *Runner) Run(ctx context.Context, tr projections.Transfer) (Outcome, error) {
	if tr.State == projections.TransferFinishedState {
		return Outcome{Finished: event.TransferFinished{Transfer: tr.ID, FaultCode: tr.FaultCode,
			FaultString: tr.FaultString, StartTime: tr.StartTime, CompleteTime: tr.CompleteTime}}, nil
	}
	log := r.Log.With().Uint64("transfer", tr.ID).Str("file_type", tr.Request.FileType).Logger()
	if tr.State != projections.TransferApplyingState {
		now := r.now()
		phase, at := projections.WindowAt(tr.Request, now)
		if phase == projections.BeforeWindow {
			log.Info().Time("window_start", at).Msg("transfer waits for its time window")
			return Outcome{}, fmt.Errorf("actions: transfer %d: %w", tr.ID, ErrOutsideWindow)
		}
		if phase != projections.WindowsOver && now.Before(tr.NextAttempt) {
			log.Info().Time("next_attempt", tr.NextAttempt).Msg("transfer waits for its next attempt")
			return Outcome{}, fmt.Errorf("actions: transfer %d: %w", tr.ID, ErrRetryWait)
		}
		if phase == projections.WindowsOver && tr.State == projections.TransferQueuedState {
			// Every window closed before it could start (the device was
			// off): reported with 9020, and with an Unknown StartTime,
			// since it never began (D§11.4) — no TransferStarted.
			return r.windowClosed(ctx, log, tr, time.Time{}, false)
		}
	}
	start := tr.StartTime
	if tr.State == projections.TransferQueuedState || start.IsZero() {
		start = r.now().UTC()
		if _, err := r.Journal.Append(ctx, event.TransferStarted{Transfer: tr.ID, StartTime: start}); err != nil {
			return Outcome{}, fmt.Errorf("actions: transfer %d: journal start: %w", tr.ID, err)
		}
		log.Info().Str("server", redactURL(tr.Request.URL)).Msg("transfer started")
	}
	if tr.Request.Kind == event.KindUpload {
		return r.upload(ctx, log, tr, start)
	}
	return r.download(ctx, log, tr, start)
}

// finish journals the outcome (with the platform's events before it, in
// one append) and removes the transfer's files.
func (r *Runner) finish(ctx context.Context, log zerolog.Logger, tr projections.Transfer, start time.Time, cause error, fallback int, pre []event.Event, reboot bool) (Outcome, error) {
	code, msg := FaultOf(cause, fallback)
	fin := event.TransferFinished{Transfer: tr.ID, FaultCode: code, FaultString: msg, StartTime: start, CompleteTime: r.now().UTC()}
	evs := append(pre, fin)
	if reboot && code == FaultNone {
		// The restart intent goes in the same record batch as the
		// outcome: a crash cannot keep one and lose the other.
		reason := "configuration"
		if tr.Request.FileType == FileTypeFirmware {
			reason = "firmware"
		}
		evs = append(evs, event.RestartRequested{Reason: reason})
	}
	if _, err := r.Journal.Append(ctx, evs...); err != nil {
		return Outcome{}, fmt.Errorf("actions: transfer %d: journal outcome: %w", tr.ID, err)
	}
	r.removeFiles(tr.ID)
	if code == FaultNone {
		log.Info().Bool("reboot", reboot).Msg("transfer done")
	} else {
		log.Warn().Int("fault", code).Str("reason", msg).Msg("transfer failed")
		reboot = false
	}
	return Outcome{Finished: fin, RebootNeeded: reboot}, nil
}

// removeFiles deletes the transfer's downloads and staged upload.
func (r *Runner) removeFiles(id uint64) {
	matches, _ := filepath.Glob(filepath.Join(r.Dir, "downloads", strconv.FormatUint(id, 10)+"-*"))
	for _, m := range matches {
		os.Remove(m)
	}
	os.Remove(r.uploadPath(id))
}

// Sweep removes downloaded and staged files of transfers that are no
// longer active (finished before their files were removed, by a crash);
// the daemon calls it at start with the IDs of unfinished transfers.
func (r *Runner) Sweep(active func(id uint64) bool) {
	for _, sub := range []string{"downloads", "uploads"} {
		entries, _ := os.ReadDir(filepath.Join(r.Dir, sub))
		for _, e := range entries {
			idStr, _, _ := strings.Cut(e.Name(), "-")
			id, err := strconv.ParseUint(idStr, 10, 64)
			if err != nil || !active(id) {
				os.Remove(filepath.Join(r.Dir, sub, e.Name()))
			}
		}
	}
}

// stopped tells a stop (ctx ended, journal failed) from a transfer fault.
func stopped(ctx context.Context, err error) bool {
	var f *Fault
	return ctx.Err() != nil || !errors.As(err, &f)
}

func (r *Runner) vendor(name string) string { return "X " + r.Platform.Identity().OUI + " " + name }

func (r *Runner) download(ctx context.Context, log zerolog.Logger, tr projections.Transfer, start time.Time) (Outcome, error) {
	req := tr.Request
	// A ScheduleDownload fetches only while its time window is open: ctx
	// ends when the window closes (parent is the caller's context).
	parent := ctx
	ctx, win := r.guardWindow(ctx, tr)
	defer win.stop()
	// A ScheduleDownload's failed fetch may be retried (its windows'
	// MaxRetries); once TransferApplying is journaled it may not: the
	// platform's install or apply step said no.
	applying := tr.State == projections.TransferApplyingState
	fail := func(err error) (Outcome, error) {
		if win.ended() && parent.Err() == nil {
			return r.windowClosed(parent, log, tr, start, true)
		}
		if stopped(ctx, err) {
			return Outcome{}, fmt.Errorf("actions: transfer %d: %w", tr.ID, err)
		}
		if !applying && req.Kind == event.KindScheduleDownload && retryable(err) {
			if retried, err := r.retryLater(parent, log, tr, err); retried {
				return Outcome{}, err
			}
		}
		return r.finish(parent, log, tr, start, err, FaultTransfer, nil, false)
	}
	if win.ended() {
		return r.windowClosed(parent, log, tr, start, false)
	}
	var kind string
	switch req.FileType {
	case FileTypeFirmware, FileTypeConfigDownload, r.vendor(VendorFactoryConfig):
		kind = req.FileType
	default:
		return fail(permanentf(FaultTransfer, nil, "file type %q is not supported", req.FileType))
	}
	first, err := r.fetchFile(ctx, tr, 0, req.URL, req.Username, req.Password, int64(req.FileSize), "")
	if err != nil {
		return fail(err)
	}
	paths := []string{first}
	version := ""
	if kind == FileTypeFirmware {
		m, err := r.manifestOf(first)
		if err != nil {
			return fail(err)
		}
		if m != nil {
			version = m.Firmware
			paths = paths[:0]
			base, _ := url.Parse(req.URL)
			for i, l := range m.Links {
				user, pass := "", ""
				if lu, err := url.Parse(l.URL); err == nil && base != nil && linkGetsCredentials(base, lu) {
					user, pass = req.Username, req.Password
				}
				p, err := r.fetchFile(ctx, tr, i+1, l.URL, user, pass, l.Size, l.SHA256)
				if err != nil {
					return fail(err)
				}
				paths = append(paths, p)
			}
		}
	}
	if win.disarm() { // applying is committed only inside the window
		return r.windowClosed(parent, log, tr, start, true)
	}
	if tr.State != projections.TransferApplyingState {
		if _, err := r.Journal.Append(ctx, event.TransferApplying{Transfer: tr.ID}); err != nil {
			return Outcome{}, fmt.Errorf("actions: transfer %d: journal applying: %w", tr.ID, err)
		}
	}
	applying = true
	switch kind {
	case FileTypeFirmware:
		log.Info().Int("files", len(paths)).Str("version", version).Msg("installing firmware")
		if err := r.Platform.InstallFirmware(ctx, paths, version); err != nil {
			return fail(err)
		}
		return r.finish(ctx, log, tr, start, nil, FaultTransfer, nil, true)
	case FileTypeConfigDownload:
		alter := strings.HasSuffix(urlPath(req.URL), ".alter")
		cur := projections.Params{}
		if r.Config != nil {
			cur = r.Config()
		}
		res, err := r.Platform.ApplyConfig(ctx, first, alter, cur)
		if err != nil {
			return fail(err)
		}
		return r.finish(ctx, log, tr, start, nil, FaultTransfer, res.Events, res.RebootNeeded)
	default:
		if err := r.Platform.SetDefaultConfig(ctx, first); err != nil {
			return fail(err)
		}
		return r.finish(ctx, log, tr, start, nil, FaultTransfer, nil, false)
	}
}

// linkGetsCredentials tells whether a manifest link may be answered with
// the Download's credentials: same host (and port) as the manifest, and
// not downgraded from https to http, where a Basic answer would carry the
// password in clear (the rule checkRedirect applies to redirects).
func linkGetsCredentials(manifest, link *url.URL) bool {
	if link.Host != manifest.Host {
		return false
	}
	return link.Scheme == manifest.Scheme || link.Scheme == "https"
}

func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return path.Clean(u.Path)
}

// manifestOf reads a downloaded firmware file: a manifest (parsed and
// validated) or nil for an image.
func (r *Runner) manifestOf(name string) (*Manifest, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, faultf(FaultInternal, err, "downloaded file: %v", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if !IsManifest(head[:n]) {
		return nil, nil
	}
	// At most one byte past the manifest limit: enough for ParseManifest
	// to refuse a larger file (9018) without holding an image-sized file
	// (an HTML error page, say) in memory.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, faultf(FaultInternal, err, "downloaded file: %v", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return nil, faultf(FaultInternal, err, "downloaded file: %v", err)
	}
	return ParseManifest(data, r.files().maxSize())
}

// fetchFile makes file n of the transfer present and verified: already
// fetched (TransferFetched) and intact on disk, or fetched now, resuming
// at the journaled offset, with TransferProgress records on the way and
// TransferFetched at the end.
func (r *Runner) fetchFile(ctx context.Context, tr projections.Transfer, n int, rawURL, user, pass string, size int64, sha string) (string, error) {
	dest := r.DownloadPath(tr.ID, n)
	fp, known := tr.Files[n]
	if known && fp.Fetched && fp.URL == rawURL {
		if sum, sz, err := fileSHA256(fp.Path); err == nil && sz == fp.Size && sum == fp.SHA256 {
			return fp.Path, nil
		}
		fp = projections.FileProgress{} // lost or damaged: fetch again
	}
	offset := int64(0)
	if known && !fp.Fetched && (fp.URL == "" || fp.URL == rawURL) {
		offset = fp.Offset
	}
	got, err := r.files().Fetch(ctx, FetchRequest{
		URL: rawURL, Username: user, Password: pass, Path: dest, Offset: offset, Size: size, SHA256: sha,
		Progress: func(ctx context.Context, off int64) error {
			_, err := r.Journal.Append(ctx, event.TransferProgress{Transfer: tr.ID, File: n, URL: rawURL, Offset: off})
			return err
		},
	})
	if err != nil {
		return "", err
	}
	if got.Size == 0 {
		// No file type this agent installs or applies can be empty: an
		// empty body is a server's mistake (a 200 for a missing file),
		// and "applying" it would install nothing as firmware or clear
		// the whole configuration as a replacement.
		return "", permanentf(FaultCorrupted, nil, "the file from %s is empty", redactURL(rawURL))
	}
	if _, err := r.Journal.Append(ctx, event.TransferFetched{Transfer: tr.ID, File: n, URL: rawURL, Path: dest, Size: got.Size, SHA256: got.SHA256}); err != nil {
		return "", fmt.Errorf("journal fetched: %w", err)
	}
	return dest, nil
}

func (r *Runner) upload(ctx context.Context, log zerolog.Logger, tr projections.Transfer, start time.Time) (Outcome, error) {
	req := tr.Request
	fail := func(err error) (Outcome, error) {
		if stopped(ctx, err) {
			return Outcome{}, fmt.Errorf("actions: transfer %d: %w", tr.ID, err)
		}
		return r.finish(ctx, log, tr, start, err, FaultUpload, nil, false)
	}
	var produce func(w io.Writer) error
	switch req.FileType {
	case FileTypeConfigUpload:
		produce = func(w io.Writer) error {
			cur := projections.Params{}
			if r.Config != nil {
				cur = r.Config()
			}
			return r.Platform.ExportConfig(ctx, w, cur)
		}
	case FileTypeLogUpload:
		produce = func(w io.Writer) error { return r.Platform.ExportLog(ctx, w) }
	case r.vendor(VendorFactoryConfig):
		produce = func(w io.Writer) error { return r.Platform.ExportDefaultConfig(ctx, w) }
	case r.vendor(VendorJournal):
		if r.JournalExport == nil {
			return fail(faultf(FaultUpload, nil, "journal export is not available"))
		}
		produce = func(w io.Writer) error { return r.JournalExport(ctx, w) }
	default:
		return fail(faultf(FaultUpload, nil, "file type %q is not supported", req.FileType))
	}
	staged := r.uploadPath(tr.ID)
	if err := stage(staged, produce); err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		var f *Fault
		if !errors.As(err, &f) {
			err = faultf(FaultUpload, err, "preparing the file: %v", err)
		}
		return fail(err)
	}
	err := r.files().Upload(ctx, UploadRequest{URL: req.URL, Username: req.Username, Password: req.Password, Path: staged, ContentType: "text/plain; charset=utf-8"})
	if err != nil {
		var f *Fault
		if errors.As(err, &f) && f.Code == FaultAccess {
			err = &Fault{Code: FaultUpload, Msg: f.Msg, Err: f.Err}
		}
		return fail(err)
	}
	return r.finish(ctx, log, tr, start, nil, FaultUpload, nil, false)
}

// stage writes the file to upload; it is produced again on every Run, so
// a crash mid-upload sends a fresh, complete file.
func stage(name string, produce func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := produce(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
