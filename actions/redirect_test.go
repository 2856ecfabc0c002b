package actions

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
