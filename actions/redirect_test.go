package actions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// A redirect to a URL that is not http(s) fails at once with 9016 (a URL
// the transfer cannot use), not after the retries as a dropped connection.
// A redirect loop fails the same way.
func TestFetchRedirectUnusableFailsAtOnce(t *testing.T) {
	for _, tc := range []struct{ name, location, msg string }{
		{"file scheme", "file:///etc/passwd", "not an http(s) URL"},
		{"ftp scheme", "ftp://127.0.0.1/fw.bin", "not an http(s) URL"},
		{"loop", "/fw.bin", "redirected more than 10 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, tc.location, http.StatusFound)
			}))
			defer srv.Close()
			_, err := testClient().Fetch(context.Background(), FetchRequest{URL: srv.URL + "/fw.bin", Path: filepath.Join(t.TempDir(), "f")})
			var f *Fault
			if !errors.As(err, &f) || f.Code != FaultAccess || !strings.Contains(f.Msg, tc.msg) {
				t.Fatalf("err %v, want 9016 %q", err, tc.msg)
			}
			if n := calls.Load(); n > 10 {
				t.Errorf("%d requests: the refused redirect was retried", n)
			}
		})
	}
}

// An upload answered 301/302/303 fails with 9011: net/http would resend
// the PUT as a GET without the file, and that GET's 200 is no upload.
func TestUploadRedirectChangingMethodFails(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		var puts, others atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPut {
				others.Add(1)
				w.Write([]byte("<html>welcome</html>"))
				return
			}
			puts.Add(1)
			http.Redirect(w, r, "/moved", status)
		}))
		p := filepath.Join(t.TempDir(), "cfg")
		os.WriteFile(p, []byte("config"), 0o644)
		err := testClient().Upload(context.Background(), UploadRequest{URL: srv.URL + "/up/cfg", Path: p})
		srv.Close()
		var f *Fault
		if !errors.As(err, &f) || f.Code != FaultUpload || !strings.Contains(f.Msg, "HTTP "+strconv.Itoa(status)) {
			t.Errorf("HTTP %d: err %v, want 9011 naming the status", status, err)
		}
		if puts.Load() != 1 || others.Load() != 0 {
			t.Errorf("HTTP %d: %d PUTs, %d other requests; want the one PUT", status, puts.Load(), others.Load())
		}
	}
}

// 307 and 308 repeat the PUT with its body: followed, and the file arrives.
func TestUploadRedirectKeepingMethodFollowed(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var stored atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/moved" {
				http.Redirect(w, r, "/moved", status)
				return
			}
			b, _ := io.ReadAll(r.Body)
			stored.Store(r.Method + " " + string(b))
			w.WriteHeader(http.StatusCreated)
		}))
		p := filepath.Join(t.TempDir(), "cfg")
		os.WriteFile(p, []byte("config"), 0o644)
		err := testClient().Upload(context.Background(), UploadRequest{URL: srv.URL + "/up/cfg", Path: p})
		srv.Close()
		if got, _ := stored.Load().(string); err != nil || got != "PUT config" {
			t.Errorf("HTTP %d: err %v, stored %q", status, err, got)
		}
	}
}
