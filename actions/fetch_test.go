package actions

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
)

// closedURL is an http URL where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestFetchDigestAuthAndProgress(t *testing.T) {
	acs := startACS(t, acsim.Config{FileAuth: acsim.Auth{Mode: acsim.AuthDigest, Username: "cpe", Password: "pw"}})
	data := randomBytes(t, 1<<20)
	acs.AddFile("f", data)
	c := testClient()
	var reports []int64
	dest := filepath.Join(t.TempDir(), "f")
	got, err := c.Fetch(context.Background(), FetchRequest{URL: acs.FilesURL() + "/files/f", Username: "cpe", Password: "pw", Path: dest,
		Size: int64(len(data)), SHA256: strings.ToUpper(sha(data)),
		Progress: func(_ context.Context, off int64) error { reports = append(reports, off); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != sha(data) || got.Size != int64(len(data)) {
		t.Errorf("got %+v", got)
	}
	// 1 MiB, a report every 10 % (more than 64 KiB): about 9 (the last
	// stretch ends as TransferFetched instead).
	if len(reports) < 7 || len(reports) > 10 {
		t.Errorf("reports %v", reports)
	}
	b, _ := os.ReadFile(dest)
	if sha(b) != sha(data) {
		t.Error("file content differs")
	}
}

// A server that ignores Range answers 200: the fetch starts again from 0
// and the result is still right.
func TestFetchServerIgnoresRange(t *testing.T) {
	data := randomBytes(t, 100<<10)
	var ranges []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range"))
		w.Write(data)
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(dest, append(append([]byte{}, data[:50<<10]...), "garbage"...), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := testClient().Fetch(context.Background(), FetchRequest{URL: srv.URL + "/f", Path: dest, Offset: 50 << 10, SHA256: sha(data)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != int64(len(data)) || len(ranges) != 1 || ranges[0] != "bytes=51200-" {
		t.Errorf("got %+v ranges %q", got, ranges)
	}
}

// The durable offset rules: bytes past it are dropped and fetched again.
func TestFetchResumesAtDurableOffset(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	data := randomBytes(t, 200<<10)
	acs.AddFile("f", data)
	dest := filepath.Join(t.TempDir(), "f")
	// 120 KiB on disk, of which only 100 KiB were reported durable.
	partial := append(append([]byte{}, data[:100<<10]...), make([]byte, 20<<10)...)
	if err := os.WriteFile(dest, partial, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := testClient().Fetch(context.Background(), FetchRequest{URL: acs.FilesURL() + "/files/f", Path: dest, Offset: 100 << 10, Size: int64(len(data)), SHA256: sha(data)})
	if err != nil {
		t.Fatal(err)
	}
	st := stats(acs, "f")
	if got.SHA256 != sha(data) || st.BytesServed != 100<<10 || st.RangeRequests != 1 {
		t.Errorf("got %+v stats %+v", got, st)
	}
}

func TestFetchCorruptedFailsSHA256(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	data := randomBytes(t, 10<<10)
	acs.AddFile("f", data)
	acs.SetFileFault("f", acsim.FileFault{Corrupt: true})
	_, err := testClient().Fetch(context.Background(), FetchRequest{URL: acs.FilesURL() + "/files/f", Path: filepath.Join(t.TempDir(), "f"), SHA256: sha(data)})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultCorrupted {
		t.Fatalf("err %v, want 9018", err)
	}
}

func TestFetchCancelledIsNotAFault(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("f", randomBytes(t, 1<<20))
	ctx, cancel := context.WithCancel(context.Background())
	_, err := testClient().Fetch(ctx, FetchRequest{URL: acs.FilesURL() + "/files/f", Path: filepath.Join(t.TempDir(), "f"),
		Progress: func(context.Context, int64) error { cancel(); return nil }})
	var f *Fault
	if !errors.Is(err, context.Canceled) || errors.As(err, &f) {
		t.Fatalf("err %v, want context.Canceled and no fault", err)
	}
}

func TestFetchRejectsOtherSchemes(t *testing.T) {
	_, err := testClient().Fetch(context.Background(), FetchRequest{URL: "ftp://example.com/f", Path: filepath.Join(t.TempDir(), "f")})
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultAccess {
		t.Fatalf("err %v", err)
	}
}

func TestFaultStringBounded(t *testing.T) {
	code, msg := FaultOf(&Fault{Code: FaultTransfer, Msg: strings.Repeat("é", 300)}, FaultUpload)
	if code != FaultTransfer || len(msg) > 256 || !strings.HasSuffix(msg, "…") {
		t.Errorf("%d %d %q", code, len(msg), msg[len(msg)-8:])
	}
	if code, _ := FaultOf(errors.New("x"), FaultUpload); code != FaultUpload {
		t.Errorf("fallback %d", code)
	}
}
