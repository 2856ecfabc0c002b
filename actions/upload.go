package actions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// UploadRequest is one file to send with HTTP PUT.
type UploadRequest struct {
	URL                string
	Username, Password string // sent only when the server challenges
	Path               string // the file to send
	ContentType        string // default application/octet-stream
}

// Upload PUTs the file at req.Path to req.URL, answering a 401 challenge
// with Digest or Basic. Connect failures are retried (MaxRetries, with
// back-off) and then reported as 9015; 401/403 after the credentials as
// 9012; any other failure (a non-2xx answer, a dropped connection) as
// 9011. The file is re-read for each attempt, so a retry sends it whole.
func (c *FileClient) Upload(ctx context.Context, req UploadRequest) error {
	u, err := checkURL(req.URL)
	if err != nil {
		return &Fault{Code: FaultUpload, Msg: err.(*Fault).Msg}
	}
	fi, err := os.Stat(req.Path)
	if err != nil {
		return faultf(FaultUpload, err, "file to upload: %v", err)
	}
	a := auth{username: req.Username, password: req.Password}
	bo := c.backOff(ctx)
	for {
		err := c.put(ctx, u.String(), req, fi.Size(), &a)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var r *errRetry
		if !errors.As(err, &r) {
			return err
		}
		if wait := bo.NextBackOff(); wait == backoff.Stop {
			return r.final
		} else if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (c *FileClient) put(ctx context.Context, target string, ur UploadRequest, size int64, a *auth) error {
	for round := 0; ; round++ {
		f, err := os.Open(ur.Path)
		if err != nil {
			return faultf(FaultUpload, err, "file to upload: %v", err)
		}
		// A server that stops reading the body (or reads a trickle) would
		// otherwise hold the upload, and the queue behind it, for ever:
		// as for downloads, less than minProgress bytes sent in
		// IdleTimeout cancels the attempt.
		actx, cancel := context.WithCancel(ctx)
		stall := newStallGuard(c.idleTimeout(), cancel)
		req, err := http.NewRequestWithContext(actx, http.MethodPut, target, stall.reader(f))
		if err != nil {
			stall.stop()
			cancel()
			f.Close()
			return faultf(FaultUpload, err, "bad upload URL %s", redactURL(target))
		}
		req.ContentLength = size
		req.GetBody = func() (io.ReadCloser, error) {
			g, err := os.Open(ur.Path)
			if err != nil {
				return nil, err
			}
			return stall.reader(g), nil
		}
		ct := ur.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		req.Header.Set("Content-Type", ct)
		if err := a.apply(req); err != nil {
			f.Close()
			return &Fault{Code: FaultServerAuth, Msg: err.(*Fault).Msg}
		}
		resp, err := c.http().Do(req)
		stalled := stall.stop()
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if stalled {
				return &errRetry{final: faultf(FaultUpload, err, "upload to %s stalled: under %d bytes taken in %s", req.URL.Host, minProgress, c.idleTimeout())}
			}
			if f := refusedRedirect(err); f != nil {
				return f
			}
			if isConnectError(err) {
				return &errRetry{final: connectFault(req.URL, err)}
			}
			return &errRetry{final: faultf(FaultUpload, err, "upload to %s failed: %s", req.URL.Host, shortNetErr(err))}
		}
		if resp.StatusCode == http.StatusUnauthorized && round < 3 && a.challenged(resp) {
			drain(resp.Body)
			cancel()
			continue
		}
		drain(resp.Body)
		cancel()
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil
		}
		f2 := statusFault(req.URL, resp.StatusCode, a.has(), true)
		if resp.StatusCode >= 500 {
			return &errRetry{final: f2}
		}
		return f2
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stallGuard cancels an upload attempt whose body moves less than
// minProgress bytes in idle.
type stallGuard struct {
	idle    time.Duration
	timer   *time.Timer
	fired   atomic.Bool
	pending atomic.Int64
}

func newStallGuard(idle time.Duration, cancel context.CancelFunc) *stallGuard {
	g := &stallGuard{idle: idle}
	g.timer = time.AfterFunc(idle, func() { g.fired.Store(true); cancel() })
	return g
}

// reader counts what the transport takes from r.
func (g *stallGuard) reader(r io.ReadCloser) io.ReadCloser { return &stallReader{r, g} }

// stop ends the watch and reports whether it cancelled the attempt.
func (g *stallGuard) stop() bool {
	g.timer.Stop()
	return g.fired.Load()
}

type stallReader struct {
	io.ReadCloser
	g *stallGuard
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.ReadCloser.Read(p)
	if n > 0 && s.g.pending.Add(int64(n)) >= minProgress {
		s.g.pending.Store(0)
		s.g.timer.Reset(s.g.idle)
	}
	if err == io.EOF {
		// All taken: the wait for the answer is the transport's
		// ResponseHeaderTimeout's business.
		s.g.timer.Stop()
	}
	return n, err
}
