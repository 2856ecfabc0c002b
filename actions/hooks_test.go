package actions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/projections"
)

// InstallFirmware via hooks runs the command once per install: a repeat
// after a crash finds its marker and does not run it again.
func TestHooksInstallIdempotent(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	img := filepath.Join(dir, "img")
	os.WriteFile(img, []byte("image"), 0o644)
	h := &Hooks{Firmware: "echo %f >> " + shellQuote(count), StateDir: dir}
	for i := 0; i < 2; i++ {
		if err := h.InstallFirmware(context.Background(), []string{img}, ""); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(count)
	if strings.Count(string(b), "\n") != 1 || !strings.Contains(string(b), img) {
		t.Errorf("command ran %q", b)
	}
	// A known version that is running: nothing runs at all.
	h2 := &Hooks{Firmware: "exit 1", VersionCommand: "echo 7.1", StateDir: dir}
	if err := h2.InstallFirmware(context.Background(), []string{img}, "7.1"); err != nil {
		t.Errorf("installed version: %v", err)
	}
	// A known version whose install ran but is not running: a failure.
	h3 := &Hooks{Firmware: "true", VersionCommand: "echo 7.1", StateDir: dir}
	if err := h3.InstallFirmware(context.Background(), []string{img}, "7.2"); err != nil {
		t.Fatal(err)
	}
	err := h3.InstallFirmware(context.Background(), []string{img}, "7.2")
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultTransfer || !strings.Contains(f.Msg, "not running") {
		t.Errorf("err %v", err)
	}
}

func TestHooksTimeoutAndMissing(t *testing.T) {
	h := &Hooks{SetDefault: "sleep 5", Timeout: 100 * time.Millisecond}
	start := time.Now()
	err := h.SetDefaultConfig(context.Background(), "/nonexistent")
	var f *Fault
	if !errors.As(err, &f) || f.Code != FaultTransfer || !strings.Contains(f.Msg, "timed out") || time.Since(start) > 4*time.Second {
		t.Errorf("err %v after %v", err, time.Since(start))
	}
	if err := h.ExportLog(context.Background(), &strings.Builder{}); !errors.As(err, &f) || f.Code != FaultUpload || !strings.Contains(f.Msg, "not supported") {
		t.Errorf("unconfigured export: %v", err)
	}
}

func TestHooksQuoting(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "it's a $file")
	os.WriteFile(odd, []byte("x"), 0o644)
	h := &Hooks{ConfigReplace: "test -f %f"}
	res, err := h.ApplyConfig(context.Background(), odd, false, projParams())
	if err != nil || !res.RebootNeeded || len(res.Events) != 0 {
		t.Errorf("%+v %v", res, err)
	}
}

func projParams() projections.Params { return projections.Params{} }
