package actions

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/testpki"
)

// A response that stalls mid-body is abandoned after IdleTimeout and the
// fetch resumes with a Range request.
func TestFetchIdleTimeoutResumes(t *testing.T) {
	data := randomBytes(t, 64<<10)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data[:20<<10])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // stall until the client gives up
			return
		}
		http.ServeContent(w, r, "f", time.Time{}, bytesReader(data))
	}))
	defer srv.Close()
	c := testClient()
	c.IdleTimeout = 200 * time.Millisecond
	got, err := c.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/f", Path: filepath.Join(t.TempDir(), "f"), SHA256: sha(data)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != int64(len(data)) || calls.Load() != 2 {
		t.Errorf("got %+v after %d calls", got, calls.Load())
	}
}

// 5xx answers are retried; when they persist the fault is 9010.
func TestFetchServerErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	if _, err := testClient().Fetch(context.Background(), FetchRequest{URL: srv.URL + "/f", Path: filepath.Join(t.TempDir(), "f")}); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	calls.Store(-100)
	c := testClient()
	c.MaxRetries = 2
	_, err := c.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/f", Path: filepath.Join(t.TempDir(), "g")})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultTransfer || calls.Load() != -97 {
		t.Errorf("err %v after %d calls", err, calls.Load()+100)
	}
}

// HTTPS with a private CA: trusted through FileClient.TLS; without it the
// certificate is refused (9015).
func TestFetchTLSPrivateCA(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	serverTLS, pool := ca.ServerTLS(t), ca.Pool()
	acs := startACS(t, acsim.Config{TLS: serverTLS})
	data := randomBytes(t, 10<<10)
	acs.AddFile("f", data)
	c := testClient()
	c.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if _, err := c.Fetch(context.Background(), FetchRequest{URL: acs.FilesURL() + "/files/f", Path: filepath.Join(t.TempDir(), "f"), SHA256: sha(data)}); err != nil {
		t.Fatal(err)
	}
	c2 := testClient()
	c2.MaxRetries = 1
	_, err := c2.Fetch(context.Background(), FetchRequest{URL: acs.FilesURL() + "/files/f", Path: filepath.Join(t.TempDir(), "g")})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultContact {
		t.Errorf("untrusted: %v", err)
	}
}

// An upload whose connection is cut after it was made is 9011, not 9015.
func TestUploadDroppedIsUploadFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	p := filepath.Join(t.TempDir(), "u")
	if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testClient()
	c.MaxRetries = 1
	err := c.Upload(context.Background(), UploadRequest{URL: srv.URL + "/u", Path: p})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultUpload {
		t.Errorf("err %v, want 9011", err)
	}
}

// A server that drops the connection and then ignores Range makes every
// retry start from 0: the fetch gives up (9017) before receiving 1.5× the
// file, instead of looping through its retries.
func TestFetchBudgetAgainstRestartingServer(t *testing.T) {
	data := randomBytes(t, 100<<10)
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		n, _ := w.Write(data[:70<<10]) // then drop: 70 % each time, always from 0
		served.Add(int64(n))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c := testClient()
	c.MaxRetries = 10
	_, err := c.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/f", Path: filepath.Join(t.TempDir(), "f")})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultIncomplete {
		t.Fatalf("err %v, want 9017", err)
	}
	if got := served.Load(); got > int64(len(data))*3/2+int64(len(data))*7/10 {
		t.Errorf("%d bytes served for a %d-byte file", got, len(data))
	}
}

// A chunked body (no Content-Length, no FileSize) stops at the reserve
// too: the free space is checked while writing, not only up front. The
// free space here is that of a disk with 100 KiB above the reserve, less
// what the download file really holds.
func TestFetchChunkedBodyKeepsReserve(t *testing.T) {
	data := randomBytes(t, 640<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < len(data); i += 32 << 10 {
			w.Write(data[i : i+32<<10])
			w.(http.Flusher).Flush() // no Content-Length: chunked
		}
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "f")
	disk := func(room int64) func(string) (int64, error) {
		return func(string) (int64, error) {
			var used int64
			if fi, err := os.Stat(dest); err == nil {
				used = fi.Size()
			}
			return DefaultReserve + room - used, nil
		}
	}
	c := testClient()
	c.FreeSpace = disk(100 << 10)
	_, err := c.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/fw.bin", Path: dest})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultTransfer || !strings.Contains(f.Msg, "not enough free space") {
		t.Fatalf("640 KiB body with 100 KiB above the reserve: err %v, want 9010 not enough free space", err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Size() > 100<<10 {
		t.Errorf("wrote %v bytes (%v) past the reserve", fi.Size(), err)
	}
	// The same body fits with 1 MiB above the reserve.
	c = testClient()
	c.FreeSpace = disk(1 << 20)
	if got, err := c.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/fw.bin", Path: dest}); err != nil || got.SHA256 != sha(data) {
		t.Errorf("with room: %+v %v", got, err)
	}
}

// A server that trickles a byte at a time, never quite idle, does not keep
// the transfer in progress for ever: less than 1 KiB per IdleTimeout is a
// stalled attempt, retried and in the end failed with 9017.
func TestFetchTrickleIsStalled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		for range 1500 { // 30 s at most, so a failing run still ends
			if _, err := w.Write([]byte{'x'}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	c := testClient()
	c.IdleTimeout = 200 * time.Millisecond
	c.MaxRetries = 1
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/f", Path: filepath.Join(t.TempDir(), "f")})
		done <- err
	}()
	select {
	case err := <-done:
		var f *Fault
		if !errors.As(err, &f) || f.Code != FaultIncomplete {
			t.Fatalf("trickled download: %v, want fault %d", err, FaultIncomplete)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a trickling server kept the download going for 20 s (IdleTimeout 200 ms)")
	}
}

// An upload server that stops reading the body does not hold the upload
// for ever: under 1 KiB taken in IdleTimeout cancels the attempt, and the
// upload fails with 9011.
func TestUploadStalledServerFails(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // read nothing: the client's writes block once the socket buffers are full
		case <-release:
		case <-time.After(30 * time.Second):
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the handler
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, make([]byte, 64<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testClient()
	c.IdleTimeout = 300 * time.Millisecond
	c.MaxRetries = 0
	start := time.Now()
	err := c.Upload(context.Background(), UploadRequest{URL: srv.URL + "/up/log", Path: p})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultUpload || !strings.Contains(f.Msg, "stalled") {
		t.Fatalf("upload to a server that reads nothing: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("took %v with IdleTimeout 300 ms", d)
	}
}
