package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
)

// syncBuffer is a log sink safe to read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunWiresFlags(t *testing.T) {
	dir := t.TempDir()
	scenario := filepath.Join(dir, "s.json")
	os.WriteFile(scenario, []byte(`{"rpcs":[{"method":"Reboot","args":{"CommandKey":"r1"}}],"files":{"fw.bin":{"text":"fw"}}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "disk.bin"), []byte("disk"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	started := make(chan *acsim.Server, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--files-listen", "127.0.0.1:0",
			"--auth", "digest", "--user", "cpe", "--pass", "topsecret", "--scenario", scenario, "--files", dir,
			"--log-format", "console", "--log-level", "debug"}, &logs, func(s *acsim.Server) { started <- s })
	}()
	var srv *acsim.Server
	select {
	case srv = <-started:
	case code := <-done:
		t.Fatalf("run exited %d:\n%s", code, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start")
	}
	if srv.Queued("") != 1 {
		t.Fatal("scenario RPC not queued")
	}
	resp, err := http.Post(srv.URL(), "text/xml", strings.NewReader("<x/>"))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Digest ") {
		t.Fatalf("--auth digest not applied: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.FilesURL() + "/files/disk.bin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "disk" {
		t.Fatalf("--files not served: %q", b)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(logs.String(), "topsecret") {
		t.Fatal("password in the log")
	}
	if !strings.Contains(logs.String(), "listening") {
		t.Fatalf("no start-up log line:\n%s", logs.String())
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--auth", "ntlm"},
		{"--log-format", "xml"},
		{"--tls-client-ca", "ca.pem"},
		{"stray"},
		{"--no-such-flag"},
	} {
		var out syncBuffer
		if code := run(context.Background(), args, &out, nil); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	var out syncBuffer
	if code := run(context.Background(), []string{"--auth", "digest", "--listen", "127.0.0.1:0"}, &out, nil); code != 1 {
		t.Errorf("digest without credentials: exit %d, want 1", code)
	}
	if code := run(context.Background(), []string{"--scenario", "/nonexistent.json", "--listen", "127.0.0.1:0"}, &out, nil); code != 1 {
		t.Errorf("missing scenario: exit %d, want 1", code)
	}
}
