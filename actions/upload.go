package actions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
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
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, f)
		if err != nil {
			f.Close()
			return faultf(FaultUpload, err, "bad upload URL %s", redactURL(target))
		}
		req.ContentLength = size
		req.GetBody = func() (io.ReadCloser, error) { return os.Open(ur.Path) }
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
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
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
			continue
		}
		drain(resp.Body)
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
