package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// cwmpdBinary builds the real binary once per test run.
func cwmpdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cwmpd-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cwmpd")
		// Static, as make build and the router builds ship it (the timer
		// slack, for one, needs a binary without cgo).
		build := exec.Command("go", "build", "-tags", "nethttpomithttp2", "-o", binPath, ".") // as make build ships it
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v: %s", buildErr, binPath)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

func runBin(t *testing.T, args ...string) result {
	t.Helper()
	return runBinIn(t, "", args...)
}

// runBinIn runs the binary in the working directory dir ("": this one).
func runBinIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cwmpdBinary(t), args...)
	cmd.Dir = dir
	return runCmd(t, cmd)
}

// runCmd runs a prepared command of the binary and collects its result.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// stateDir writes a small real journal: a first boot with secrets in it.
func stateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(journal.Options{Dir: dir, BootID: "boot-a", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	var entries []journal.Entry
	for _, e := range []event.Event{
		event.Booted{Reason: event.BootPowerOn, SoftwareVersion: "1.0"},
		event.SettingsChanged{Source: event.SourceDefaults, Changes: []event.Setting{
			{Name: "acs-url", Value: "https://acs.example/"}, {Name: "password", Value: "top-secret"}}},
		event.SessionStarted{Events: []event.InformEvent{{Code: "0 BOOTSTRAP"}, {Code: "1 BOOT"}}},
		event.SessionFailed{Session: 3, Error: "ACS returned HTTP 503", RetryCount: 1, Delay: 6 * time.Second},
	} {
		typ, p := event.MustEncode(e)
		entries = append(entries, journal.Entry{Type: typ, Payload: p})
	}
	if _, err := j.Append(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestJournalExportRedactsAndReplaysBack(t *testing.T) {
	dir := stateDir(t)
	r := runBin(t, "journal", "export", "--state", dir)
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "top-secret") || !strings.Contains(r.stdout, event.Redacted) {
		t.Fatalf("export not redacted:\n%s", r.stdout)
	}
	if n := strings.Count(r.stdout, "\n"); n != 4 {
		t.Fatalf("%d lines", n)
	}
	file := filepath.Join(t.TempDir(), "export.jsonl")
	os.WriteFile(file, []byte(r.stdout), 0o600)
	rep := runBin(t, "replay", file)
	if rep.code != 0 || !strings.Contains(rep.stdout, "SessionFailed") ||
		!strings.Contains(rep.stdout, `last-session-error: "ACS returned HTTP 503"`) {
		t.Fatalf("replay of export: %d\n%s%s", rep.code, rep.stdout, rep.stderr)
	}
	since := runBin(t, "journal", "export", "--state", dir, "--since", "3")
	if strings.Count(since.stdout, "\n") != 2 {
		t.Fatalf("--since 3: %s", since.stdout)
	}
}

func TestReplayDirTextAndJSON(t *testing.T) {
	dir := stateDir(t)
	r := runBin(t, "replay", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "retry-count: 1") || strings.Contains(r.stdout, "top-secret") {
		t.Fatalf("%d\n%s%s", r.code, r.stdout, r.stderr)
	}
	j := runBin(t, "replay", dir, "--json", "--at", "2")
	var out struct {
		Records  int      `json:"records"`
		Timeline []string `json:"timeline"`
		Status   struct {
			Status string `json:"status"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(j.stdout), &out); err != nil {
		t.Fatalf("%v: %s", err, j.stdout)
	}
	if out.Records != 2 || len(out.Timeline) != 2 || out.Status.Status != "running" {
		t.Fatalf("%+v", out)
	}
	if strings.Contains(j.stdout, "top-secret") {
		t.Fatal("secret in JSON replay")
	}
	// Replay never writes to what it reads.
	before := dirDigest(t, dir)
	runBin(t, "replay", dir)
	if dirDigest(t, dir) != before {
		t.Fatal("replay modified the state dir")
	}
}

func dirDigest(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			data, _ := os.ReadFile(p)
			b.WriteString(p + ":" + string(rune(len(data))) + ":" + info.ModTime().String() + ";")
		}
		return nil
	})
	return b.String()
}

func TestBadInputIsOneLineAndExitTwo(t *testing.T) {
	corrupt := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(corrupt, []byte(`{"v":1,"seq":1,"time":"2026-01-01T00:00:00Z","boot":"b","type":1,"payload":{"reason":"x"}}`+"\n{not json\n"), 0o600)
	locked := stateDir(t)
	held, err := journal.Open(journal.Options{Dir: locked, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cases := map[string][]string{
		"missing dir":    {"replay", filepath.Join(t.TempDir(), "nope")},
		"corrupt line":   {"replay", corrupt},
		"locked journal": {"replay", locked},
		"locked export":  {"journal", "export", "--state", locked},
		"bad flag":       {"replay", "--bogus", corrupt},
		"no args":        {"replay"},
		"unknown cmd":    {"frobnicate"},
		"bad since":      {"journal", "export", "--since", "abc"},
	}
	for name, args := range cases {
		r := runBin(t, args...)
		if r.code != 2 {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
		if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); name != "unknown cmd" && lines != 0 {
			t.Errorf("%s: %d-line error: %q", name, lines+1, r.stderr)
		}
		if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%s: panicked: %s", name, r.stderr)
		}
	}
	if r := runBin(t, "replay", locked); !strings.Contains(r.stderr, "locked") {
		t.Errorf("locked journal message: %q", r.stderr)
	}
	if r := runBin(t, "replay", corrupt); !strings.Contains(r.stderr, "line 2") && !strings.Contains(r.stderr, "record") {
		t.Errorf("corrupt line message does not say where: %q", r.stderr)
	}
}

func TestReplayReportsViolationsWithExitOne(t *testing.T) {
	file := filepath.Join(t.TempDir(), "v.jsonl")
	os.WriteFile(file, []byte(
		`{"v":1,"seq":1,"time":"2026-01-01T00:00:00Z","boot":"b","type":1,"payload":{"reason":"x"}}`+"\n"+
			`{"v":1,"seq":2,"time":"2026-01-01T00:00:01Z","boot":"b","type":22,"payload":{"transfer":77}}`+"\n"), 0o600)
	r := runBin(t, "replay", file)
	if r.code != 1 || !strings.Contains(r.stdout, "VIOLATION") {
		t.Fatalf("%d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestParamsDocMatchesCommittedReference(t *testing.T) {
	r := runBin(t, "params", "doc")
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "parameters.md"))
	if err != nil || r.code != 0 || r.stdout != string(want) {
		t.Fatalf("cwmpd params doc differs from docs/parameters.md (exit %d, %v)", r.code, err)
	}
	if r := runBin(t, "params", "doc", "--format", "pdf"); r.code != 2 {
		t.Fatalf("bad format: exit %d", r.code)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"24MiB": 24 << 20, "512KiB": 512 << 10, "64MB": 64e6, "1000": 1000} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"lots", "-1MiB", "MiB", "", "8589934592GiB", "9223372036854775807KB"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A reboot whose reason cannot be kept waits for the intent retry time
// instead of going ahead: the next start would otherwise take itself for a
// restart of the agent alone and carry the reboot out again.
func TestRebootWaitsWhenItsReasonCannotBeKept(t *testing.T) {
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), BootID: "b", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	j.Close() // every write now fails
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	d := &daemon{j: j, log: zerolog.Nop(), clock: func() time.Time { return now }}
	if d.keepBootReason(event.BootReboot) {
		t.Fatal("a reason the journal refused reported kept")
	}
	if !d.intentRetryAt.Equal(now.Add(time.Minute)) || d.intentFailures != 1 {
		t.Fatalf("retry at %v after %d failures, want a minute later", d.intentRetryAt, d.intentFailures)
	}
}
