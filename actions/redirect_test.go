package actions

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cwmpd/cwmpd/projections/event"
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
			http.Redirect(w, r, "/moved?X-Amz-Signature=sig-secret", status)
		}))
		p := filepath.Join(t.TempDir(), "cfg")
		os.WriteFile(p, []byte("config"), 0o644)
		err := testClient().Upload(context.Background(), UploadRequest{URL: srv.URL + "/up/cfg", Path: p})
		srv.Close()
		var f *Fault
		if !errors.As(err, &f) || f.Code != FaultUpload || !strings.Contains(f.Msg, "HTTP "+strconv.Itoa(status)) {
			t.Errorf("HTTP %d: err %v, want 9011 naming the status", status, err)
		}
		// The FaultString is journaled and goes to the ACS: a signed
		// target's token stays out of it.
		if strings.Contains(err.Error(), "sig-secret") {
			t.Errorf("HTTP %d: the fault quotes the signed URL's token: %v", status, err)
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

// A redirect from https to plain http is refused (9016 download, 9011
// upload) before anything is sent there: net/http would copy the Basic
// Authorization header to the same host name in clear text.
func TestTransferRedirectHTTPSToHTTPRefused(t *testing.T) {
	var plainCalls atomic.Int32
	var leaked atomic.Value
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainCalls.Add(1)
		leaked.Store(r.Header.Get("Authorization"))
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("img"))
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="files"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// 307: the one redirect an upload may follow, so only the
		// downgrade rule stops it.
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer tlsSrv.Close()
	c := testClient()
	c.TLS = tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig
	dir := t.TempDir()
	_, err := c.Fetch(context.Background(), FetchRequest{URL: tlsSrv.URL + "/fw.bin", Username: "cpe", Password: "s3cret",
		Path: filepath.Join(dir, "f")})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultAccess || !strings.Contains(f.Msg, "from https to http") {
		t.Errorf("download: err %v, want 9016 refusing the downgrade", err)
	}
	p := filepath.Join(dir, "cfg")
	os.WriteFile(p, []byte("config"), 0o644)
	err = c.Upload(context.Background(), UploadRequest{URL: tlsSrv.URL + "/up/cfg", Username: "cpe", Password: "s3cret", Path: p})
	if !errors.As(err, &f) || f.Code != FaultUpload || !strings.Contains(f.Msg, "from https to http") {
		t.Errorf("upload: err %v, want 9011 refusing the downgrade", err)
	}
	if n := plainCalls.Load(); n != 0 {
		t.Errorf("the plain http server got %d requests (Authorization %q)", n, leaked.Load())
	}
}

// A manifest fetched over https with credentials does not hand them to a
// link on the same host over plain http: that server's Basic challenge
// would get the password in clear. The host name example.com (in
// httptest's certificate) is dialled to the two local servers, so the
// manifest and the link share url.Host "example.com" as on a real host.
func TestRunnerManifestLinkNoCredentialsOverHTTP(t *testing.T) {
	pkg := randomBytes(t, 4<<10)
	var leaked atomic.Value
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			leaked.Store(a)
			w.Write(pkg)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="files"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer plain.Close()
	manifest := manifestFor(linkXML("http://example.com/pkg.npk", pkg))
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "cpe" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="files"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write(manifest)
	}))
	defer tlsSrv.Close()
	addrs := map[string]string{"example.com:443": tlsSrv.Listener.Addr().String(), "example.com:80": plain.Listener.Addr().String()}
	var d net.Dialer
	f := newFix(t)
	f.files.Transport = &http.Transport{
		TLSClientConfig: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.Clone(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if a, ok := addrs[addr]; ok {
				addr = a
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	id := f.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: "https://example.com/upgrade.xml", Username: "cpe", Password: "s3cret"})
	out := f.run(id)
	if a, _ := leaked.Load().(string); a != "" {
		t.Fatalf("the plain http link got the credentials: Authorization %q", a)
	}
	if out.Finished.FaultCode != FaultServerAuth || len(f.sim.Installs()) != 0 {
		t.Errorf("outcome %+v, want 9012 (the http link asks for credentials it does not get)", out.Finished)
	}
}
