package actions

import (
	"github.com/cwmpd/cwmpd/projections/live"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// FetchRequest is one file to download into Path.
type FetchRequest struct {
	URL                string
	Username, Password string // the transfer's credentials; sent only when challenged
	// Path is the destination; it may hold a partial download.
	Path string
	// Offset is how many bytes of Path are known durable (the last
	// journaled TransferProgress). Bytes beyond it are discarded.
	Offset int64
	// Size and SHA256 (hex), when non-zero, are what the file must be.
	Size   int64
	SHA256 string
	// Progress is called after Offset bytes have been fsynced, every
	// FileClient.progressEvery bytes and before each retry, so the caller
	// journals TransferProgress. An error from it stops the fetch and is
	// returned as is (it is not a transfer fault).
	Progress func(ctx context.Context, offset int64) error
}

// Fetched describes a downloaded, verified file.
type Fetched struct {
	Size   int64
	SHA256 string
}

// errRetry marks an attempt that may be retried (resuming where it
// stopped); final is the fault reported when the retries run out.
type errRetry struct{ final *Fault }

func (e *errRetry) Error() string { return e.final.Msg }
func (e *errRetry) Unwrap() error { return e.final }

// fetchState is one Fetch in progress.
type fetchState struct {
	req      FetchRequest
	u        *url.URL
	f        *os.File
	h        hash.Hash
	off      int64 // bytes in f, all hashed
	total    int64 // the file's size as the server told it; -1 unknown
	reported int64 // last offset handed to Progress
	received int64 // body bytes received by this Fetch
	start    int64 // the offset this Fetch started from
	budget   int64 // most body bytes this Fetch may receive; -1 until the size is known
	auth     auth
}

// Fetch downloads req.URL into req.Path, resuming after req.Offset with
// "Range: bytes=N-" (a 200 answer means the server ignored the range: the
// file restarts from 0). Dropped connections, connect failures and 5xx
// answers are retried up to MaxRetries times with back-off, each retry
// resuming. The free space (statfs) must hold the remaining bytes plus the
// reserve (checked up front when the size is known, and while writing),
// and the file must not exceed MaxSize. At the end the size and
// sha256 are checked against req (when given). Every failure is a *Fault
// (see doc.go for the table), except a cancelled ctx and an error from
// Progress, which are returned as they are: the download then stays
// resumable from the last reported offset.
func (c *FileClient) Fetch(ctx context.Context, req FetchRequest) (Fetched, error) {
	u, err := checkURL(req.URL)
	if err != nil {
		return Fetched{}, err
	}
	if req.Size > c.maxSize() {
		return Fetched{}, permanentf(FaultTransfer, nil, "file too large: %d bytes, the limit is %d", req.Size, c.maxSize())
	}
	st := &fetchState{req: req, u: u, h: sha256.New(), total: -1, budget: -1,
		auth: auth{username: req.Username, password: req.Password}}
	if err := os.MkdirAll(filepath.Dir(req.Path), 0o755); err != nil {
		return Fetched{}, faultf(FaultInternal, err, "download directory: %v", err)
	}
	if st.f, err = os.OpenFile(req.Path, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		return Fetched{}, faultf(FaultInternal, err, "download file: %v", err)
	}
	defer st.f.Close()
	if err := st.resumeFrom(req.Offset); err != nil {
		return Fetched{}, err
	}
	st.start = st.off
	if req.Size > 0 {
		if err := c.checkSpace(st, req.Size); err != nil {
			return Fetched{}, err
		}
	}
	bo := c.backOff(ctx)
	for {
		err := c.attempt(ctx, st)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return Fetched{}, ctx.Err()
		}
		var r *errRetry
		if !errors.As(err, &r) {
			return Fetched{}, err
		}
		if err := c.report(ctx, st, true); err != nil {
			return Fetched{}, err
		}
		wait := bo.NextBackOff()
		if wait == backoff.Stop {
			if ctx.Err() != nil {
				return Fetched{}, ctx.Err()
			}
			return Fetched{}, r.final
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Fetched{}, ctx.Err()
		case <-t.C:
		}
	}
	sum := hex.EncodeToString(st.h.Sum(nil))
	if req.Size > 0 && st.off != req.Size {
		return Fetched{}, faultf(FaultCorrupted, nil, "size mismatch: got %d bytes, expected %d", st.off, req.Size)
	}
	if req.SHA256 != "" && !strings.EqualFold(req.SHA256, sum) {
		return Fetched{}, faultf(FaultCorrupted, nil, "sha256 mismatch: got %s, expected %s", sum, strings.ToLower(req.SHA256))
	}
	if err := st.f.Sync(); err != nil {
		return Fetched{}, writeFault(err)
	}
	return Fetched{Size: st.off, SHA256: sum}, nil
}

// resumeFrom keeps the first off bytes of the file (hashing them) and
// drops the rest; a file shorter than off starts again from 0.
func (st *fetchState) resumeFrom(off int64) error {
	fi, err := st.f.Stat()
	if err != nil {
		return faultf(FaultInternal, err, "download file: %v", err)
	}
	if off < 0 || fi.Size() < off {
		off = 0
	}
	if err := st.f.Truncate(off); err != nil {
		return writeFault(err)
	}
	st.h.Reset()
	if _, err := io.Copy(st.h, io.NewSectionReader(st.f, 0, off)); err != nil {
		return faultf(FaultInternal, err, "reading the partial download: %v", err)
	}
	if _, err := st.f.Seek(off, io.SeekStart); err != nil {
		return faultf(FaultInternal, err, "download file: %v", err)
	}
	st.off, st.reported = off, off
	return nil
}

// checkSpace refuses a file larger than MaxSize, or one whose remaining
// bytes plus the reserve do not fit in the free space.
func (c *FileClient) checkSpace(st *fetchState, total int64) error {
	if total > c.maxSize() {
		return permanentf(FaultTransfer, nil, "file too large: %d bytes, the limit is %d", total, c.maxSize())
	}
	avail, ok := c.available(st)
	if !ok {
		return nil // unknown: the write itself will tell (ENOSPC → 9010)
	}
	need := total - st.off + c.reserve()
	if avail < need {
		return faultf(FaultTransfer, nil, "not enough free space: %d bytes needed (with %d reserved), %d available", need, c.reserve(), avail)
	}
	return nil
}

// available is the free space (statfs) where st is downloaded; false
// when unknown.
func (c *FileClient) available(st *fetchState) (int64, bool) {
	free := c.FreeSpace
	if free == nil {
		free = freeSpace
	}
	avail, err := free(filepath.Dir(st.req.Path))
	if err != nil || avail < 0 {
		return 0, false
	}
	return avail, true
}

// spaceCheckEvery is how many bytes copyBody writes between two statfs
// calls: rare enough to cost nothing next to the writes.
const spaceCheckEvery = 1 << 20

// spaceGuard keeps the writes of one attempt above the reserve even when
// the size was not known up front (a chunked body, FileSize 0), or other
// writers take space meanwhile. It counts the room left as measured, minus
// what it wrote since, and measures again every spaceCheckEvery bytes,
// keeping the smaller figure (the file system may account writes late).
type spaceGuard struct {
	c       *FileClient
	st      *fetchState
	known   bool
	room    int64 // bytes that may still be written before the reserve
	sinceFS int64 // bytes written since the last statfs
}

func (c *FileClient) newSpaceGuard(st *fetchState) *spaceGuard {
	g := &spaceGuard{c: c, st: st}
	g.measure()
	return g
}

func (g *spaceGuard) measure() {
	avail, ok := g.c.available(g.st)
	if !ok {
		return // unknown: ENOSPC from the write is the only guard
	}
	room := avail - g.c.reserve()
	if !g.known || room < g.room {
		g.room = room
	}
	g.known, g.sinceFS = true, 0
}

// reserve is called before writing n bytes; the fault is the up-front
// check's (9010, not enough free space).
func (g *spaceGuard) reserve(n int64) error {
	if g.sinceFS >= spaceCheckEvery {
		g.measure()
	}
	if !g.known {
		return nil
	}
	if n > g.room {
		return faultf(FaultTransfer, nil, "not enough free space: %d bytes written, more would cut into the %d bytes reserved (%d available)",
			g.st.off, g.c.reserve(), g.room+g.c.reserve())
	}
	g.room -= n
	g.sinceFS += n
	return nil
}

// report fsyncs and hands the offset to Progress when it moved by a step
// (or, with force, at all).
func (c *FileClient) report(ctx context.Context, st *fetchState, force bool) error {
	if st.off == st.reported || (!force && st.off-st.reported < c.progressEvery(st.total)) {
		return nil
	}
	if err := st.f.Sync(); err != nil {
		return writeFault(err)
	}
	st.reported = st.off
	if st.req.Progress != nil {
		return st.req.Progress(ctx, st.off)
	}
	return nil
}

func writeFault(err error) *Fault {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return faultf(FaultTransfer, err, "disk full while writing the download")
	}
	return faultf(FaultTransfer, err, "writing the download: %v", err)
}

// attempt runs one GET from st.off to the end.
func (c *FileClient) attempt(ctx context.Context, st *fetchState) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.get(actx, st)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if st.off > 0 {
			// The server ignored Range: start again from byte 0.
			if err := st.resumeFrom(0); err != nil {
				return err
			}
		}
		st.total = resp.ContentLength
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != st.off {
			drain(resp.Body)
			if err := st.resumeFrom(0); err != nil {
				return err
			}
			return &errRetry{final: faultf(FaultIncomplete, nil, "file server answered an unexpected range %q", resp.Header.Get("Content-Range"))}
		}
		st.total = total
	case http.StatusRequestedRangeNotSatisfiable:
		_, total, _ := parseContentRange(resp.Header.Get("Content-Range"))
		drain(resp.Body)
		if st.off > 0 && total == st.off {
			st.total = total
			return nil // already complete
		}
		if err := st.resumeFrom(0); err != nil {
			return err
		}
		return &errRetry{final: faultf(FaultIncomplete, nil, "file server refused to resume at byte %d", st.off)}
	default:
		drain(resp.Body)
		f := statusFault(st.u, resp.StatusCode, st.auth.has(), false)
		if resp.StatusCode >= 500 {
			return &errRetry{final: f}
		}
		return f
	}
	if st.total >= 0 {
		// Budget: one Fetch never receives more than the bytes it lacked
		// plus half the file, which with progress reports every ≤10 %
		// bounds the total across crashes and retries to about 1.5 × the
		// size. A server that keeps restarting the file hits it (9017).
		if st.budget < 0 {
			st.budget = st.total - st.start + st.total/2 + 1
		}
		if st.req.Size > 0 && st.total != st.req.Size {
			return faultf(FaultCorrupted, nil, "size mismatch: the server has %d bytes, expected %d", st.total, st.req.Size)
		}
		if err := c.checkSpace(st, st.total); err != nil {
			return err
		}
	}
	return c.copyBody(ctx, cancel, st, resp.Body)
}

// get sends the GET, answering a 401 challenge with the credentials (at
// most three rounds, for servers that keep calling the nonce stale).
func (c *FileClient) get(ctx context.Context, st *fetchState) (*http.Response, error) {
	for round := 0; ; round++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.u.String(), nil)
		if err != nil {
			return nil, faultf(FaultAccess, err, "bad file URL %s", shownURL(st.u))
		}
		if st.off > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(st.off, 10)+"-")
		}
		if err := st.auth.apply(req); err != nil {
			return nil, err
		}
		resp, err := c.http().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if f := refusedRedirect(err); f != nil {
				return nil, f
			}
			f := connectFault(st.u, err)
			if st.received > 0 || !isConnectError(err) {
				f = faultf(FaultIncomplete, err, "download of %s stopped at byte %d: %s", shownURL(st.u), st.off, shortNetErr(err))
			}
			return nil, &errRetry{final: f}
		}
		if resp.StatusCode == http.StatusUnauthorized && round < 3 && st.auth.challenged(resp) {
			drain(resp.Body)
			continue
		}
		return resp, nil
	}
}

// minProgress is what a body must deliver within IdleTimeout to count as
// moving: a server trickling a byte now and then would otherwise hold the
// transfer (and the queue behind it) in progress for ever.
const minProgress = 1 << 10

// copyBody appends the body to the file, hashing, reporting progress and
// enforcing the limits; a broken body (or one that delivers less than
// minProgress bytes in IdleTimeout, which cancels the attempt) is a
// retryable drop. ctx is the Fetch's context.
func (c *FileClient) copyBody(ctx context.Context, cancelAttempt context.CancelFunc, st *fetchState, body io.Reader) error {
	idle := c.idleTimeout()
	timer := time.AfterFunc(idle, cancelAttempt)
	defer timer.Stop()
	buf := make([]byte, 32<<10)
	space := c.newSpaceGuard(st)
	var sinceReset int64
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if sinceReset += int64(n); sinceReset >= minProgress {
				timer.Reset(idle)
				sinceReset = 0
			}
			if st.off+int64(n) > c.maxSize() {
				return permanentf(FaultTransfer, nil, "file too large: more than %d bytes", c.maxSize())
			}
			if st.req.Size > 0 && st.off+int64(n) > st.req.Size {
				return faultf(FaultCorrupted, nil, "size mismatch: more than the expected %d bytes", st.req.Size)
			}
			if err := space.reserve(int64(n)); err != nil {
				return err
			}
			if _, err := st.f.Write(buf[:n]); err != nil {
				return writeFault(err)
			}
			st.h.Write(buf[:n])
			st.off += int64(n)
			st.received += int64(n)
			live.CrashAtBytes("download", st.off) // crash tests only: a no-op unless CWMPD_FAILPOINT says so
			if err := c.report(ctx, st, false); err != nil {
				return err
			}
			if st.budget >= 0 && st.received > st.budget {
				return faultf(FaultIncomplete, nil, "download of %s gave up after %d bytes for a %d-byte file", shownURL(st.u), st.received, st.total)
			}
		}
		if rerr == io.EOF {
			if st.total >= 0 && st.off < st.total {
				return &errRetry{final: faultf(FaultIncomplete, nil, "download of %s stopped at byte %d of %d", shownURL(st.u), st.off, st.total)}
			}
			return nil
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &errRetry{final: faultf(FaultIncomplete, rerr, "download of %s stopped at byte %d: %s", shownURL(st.u), st.off, shortNetErr(rerr))}
		}
	}
}

// parseContentRange reads "bytes a-b/total" (total may be "*": -1) and
// "bytes */total".
func parseContentRange(s string) (start, total int64, ok bool) {
	s, found := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !found {
		return 0, -1, false
	}
	rng, tot, found := strings.Cut(s, "/")
	if !found {
		return 0, -1, false
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || t < 0 {
			return 0, -1, false
		}
		total = t
	}
	if rng == "*" {
		return 0, total, true
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, -1, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, -1, false
	}
	return start, total, true
}
