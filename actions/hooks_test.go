package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// A firmware command that fails leaves no install marker: the ACS's retry
// of the same image runs the command again instead of being told the
// install is done. Covers an unknown version (the marker is the only
// guard) and a known one.
func TestHooksFailedInstallRunsAgain(t *testing.T) {
	for _, version := range []string{"", "2.0"} {
		dir := t.TempDir()
		img := filepath.Join(dir, "img")
		os.WriteFile(img, []byte("image"), 0o644)
		ran := filepath.Join(dir, "ran")
		h := &Hooks{Firmware: "echo 'sysupgrade: image check failed' >&2; exit 1", VersionCommand: "echo 1.0", StateDir: dir}
		err := h.InstallFirmware(context.Background(), []string{img}, version)
		var f *Fault
		if !errors.As(err, &f) || f.Code != FaultTransfer || !strings.Contains(f.Msg, "image check failed") {
			t.Fatalf("version %q: failing command gave %v", version, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "firmware-install")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("version %q: marker left after a failed install (%v)", version, err)
		}
		h.Firmware = "touch " + shellQuote(ran)
		if err := h.InstallFirmware(context.Background(), []string{img}, version); err != nil {
			t.Errorf("version %q: retry: %v", version, err)
		}
		if _, err := os.Stat(ran); err != nil {
			t.Errorf("version %q: the retry did not run the install command", version)
		}
	}
}

// An install interrupted by ctx (the daemon stopped: a crash, or the
// reboot sysupgrade starts by itself) keeps its marker: the repeat after
// the restart does not run the command a second time.
func TestHooksInterruptedInstallKeepsMarker(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	os.WriteFile(img, []byte("image"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	h := &Hooks{Firmware: "sleep 5", StateDir: dir}
	if err := h.InstallFirmware(ctx, []string{img}, ""); err == nil {
		t.Fatal("interrupted install succeeded")
	}
	ran := filepath.Join(dir, "ran")
	h.Firmware = "touch " + shellQuote(ran)
	if err := h.InstallFirmware(context.Background(), []string{img}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the install ran again after an interrupted one")
	}
}

// A hook a signal ends (the reboot sysupgrade starts signals every process,
// possibly before the agent sees its own stop) keeps the marker; one its
// own timeout kills has failed, and the next attempt installs again.
func TestHooksSignalKeepsMarkerTimeoutDoesNot(t *testing.T) {
	for _, c := range []struct {
		name, cmd string
		timeout   time.Duration
		kept      bool
	}{
		{"killed by the system", "kill -TERM $$; sleep 5", 0, true},
		{"timed out", "sleep 5", 200 * time.Millisecond, false},
	} {
		dir := t.TempDir()
		img := filepath.Join(dir, "img")
		os.WriteFile(img, []byte("image"), 0o644)
		h := &Hooks{Firmware: c.cmd, StateDir: dir, Timeout: c.timeout}
		if err := h.InstallFirmware(context.Background(), []string{img}, ""); err == nil {
			t.Fatalf("%s: install succeeded", c.name)
		}
		_, err := os.Stat(filepath.Join(dir, "firmware-install"))
		if kept := err == nil; kept != c.kept {
			t.Errorf("%s: marker kept %v, want %v", c.name, kept, c.kept)
		}
	}
}

// What the hooks platform reads from its commands and files is journaled
// and compared at the next start (found by FuzzHookOutputs): a version
// output that is not one line of valid UTF-8 of at most 64 characters, or
// a boot-id file that is not one line of text, used to be taken as it was,
// so the journal read back another value (invalid UTF-8 becomes U+FFFD)
// and every start saw a new firmware or a new boot; a version over 64
// characters broke TR-181's string(64). The configured version is kept
// (and no boot identity reported) instead. A failed hook's stderr cut in
// the middle of a character gave a fault string of invalid UTF-8.
func TestHookOutputsAreValuesTheJournalKeeps(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		out     string
		badBoot bool // a boot identity may be 128 characters long
	}{{"v\xff\xfe1\n", true}, {"\x1b[31m1.0\x1b[0m\n", true}, {"1.0\nbuild 7\n", true}, {strings.Repeat("9", 65), false}} {
		f := write("version", c.out)
		h := &Hooks{Ident: Identity{SoftwareVersion: "configured"}, VersionCommand: "cat " + shellQuote(f), BootIDFile: f}
		if v := h.Identity().SoftwareVersion; v != "configured" {
			t.Errorf("version output %q: version %q", c.out, v)
		}
		if b := h.DeviceBoot(); b != "" && c.badBoot {
			t.Errorf("boot-id file %q: boot %q", c.out, b)
		}
	}
	f := write("version", "  23.05.2 r1 \n")
	if v := (&Hooks{VersionCommand: "cat " + shellQuote(f)}).Identity().SoftwareVersion; v != "23.05.2 r1" {
		t.Errorf("version %q", v)
	}
	if b := (&Hooks{BootIDFile: write("boot", "a1b2c3d4-0000-4000-8000-000000000000\n")}).DeviceBoot(); b != "a1b2c3d4-0000-4000-8000-000000000000" {
		t.Errorf("boot %q", b)
	}

	stderr := write("stderr", "x"+strings.Repeat("é", 150)+"y")
	img := write("img", "image")
	h := &Hooks{Firmware: "cat " + shellQuote(stderr) + " >&2; exit 1", StateDir: dir}
	code, msg := FaultOf(h.InstallFirmware(context.Background(), []string{img}, ""), FaultTransfer)
	if code != FaultTransfer || !utf8.ValidString(msg) || !strings.HasSuffix(msg, "éy") {
		t.Errorf("fault %d %q", code, msg)
	}
}

// ApplyParameters hands the hook a file of tab-separated lines (never the
// values on its command line): the hook gets every value exactly, hidden
// ones too, in a file only the agent's user can read, removed afterwards.
// A failure's message carries the hook's stderr without any hidden value.
func TestHooksApplyParameters(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "got")
	changes := []projections.DeviceChange{
		{Op: projections.OpSet, Name: "Device.Time.NTPServer1", Value: `pool.ntp.org'; touch ` + filepath.Join(dir, "pwned") + `; echo '`},
		{Op: projections.OpSet, Name: "Device.Users.User.1.Password", Value: "s3cr3t pass $(id)", Hidden: true},
		{Op: projections.OpSet, Name: "Device.Users.User.1.Username", Value: ""},
		{Op: projections.OpAdd, Name: "Device.Users.User.2."},
		{Op: projections.OpDelete, Name: "Device.DNS.Client.Server.1."},
	}
	h := &Hooks{ApplyDir: dir, ApplyParametersCmd: `stat -c %a %f > ` + shellQuote(got+".mode") + ` && cp %f ` + shellQuote(got)}
	if err := h.ApplyParameters(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(got)
	want := "set\tDevice.Time.NTPServer1\t" + changes[0].Value + "\n" +
		"set\tDevice.Users.User.1.Password\ts3cr3t pass $(id)\n" +
		"set\tDevice.Users.User.1.Username\t\n" +
		"add\tDevice.Users.User.2.\n" +
		"delete\tDevice.DNS.Client.Server.1.\n"
	if string(b) != want {
		t.Fatalf("the hook got\n%q\nwant\n%q", b, want)
	}
	if mode, _ := os.ReadFile(got + ".mode"); strings.TrimSpace(string(mode)) != "600" {
		t.Errorf("file mode %q", mode)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("a value ran as a command")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "cwmpd-apply-*")); len(left) != 0 {
		t.Errorf("files of changes left: %v", left)
	}

	// A shell reading the file with IFS=<tab> read -r gets the values back.
	h.ApplyParametersCmd = `tab=$(printf '\t'); while IFS="$tab" read -r op name value; do printf '%s|%s|%s\n' "$op" "$name" "$value"; done < %f > ` + shellQuote(got)
	if err := h.ApplyParameters(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(got)
	if lines := strings.Split(string(b), "\n"); len(lines) != 6 || lines[0] != "set|Device.Time.NTPServer1|"+changes[0].Value ||
		lines[1] != "set|Device.Users.User.1.Password|s3cr3t pass $(id)" || lines[2] != "set|Device.Users.User.1.Username|" || lines[3] != "add|Device.Users.User.2.|" {
		t.Fatalf("read back: %q", b)
	}

	// Failure: stderr in the message, the password withheld.
	h.ApplyParametersCmd = `cat %f >&2; echo "uci: invalid password" >&2; exit 1`
	err := h.ApplyParameters(context.Background(), changes)
	var ae *ApplyError
	if !errors.As(err, &ae) || !strings.Contains(ae.Msg, "uci: invalid password") || !strings.Contains(ae.Msg, "exit status 1") {
		t.Fatalf("failure: %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("a hidden value in the failure: %v", err)
	}

	// A value that would split a line never reaches the hook.
	h.ApplyParametersCmd = "touch " + shellQuote(filepath.Join(dir, "ran"))
	err = h.ApplyParameters(context.Background(), []projections.DeviceChange{{Op: projections.OpSet, Name: "Device.Time.NTPServer1", Value: "a\nset\tDevice.X\tb"}})
	if err == nil {
		t.Fatal("a newline in a value accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the hook ran for a value with a newline")
	}

	// Its own timeout, and no command at all.
	h = &Hooks{ApplyDir: dir, ApplyParametersCmd: "sleep 5", ApplyTimeout: 100 * time.Millisecond, Timeout: time.Hour}
	start := time.Now()
	if err := h.ApplyParameters(context.Background(), changes[:1]); err == nil || !strings.Contains(err.Error(), "timed out after 100ms") || time.Since(start) > 4*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
	h.ApplyParametersCmd = ""
	if err := h.ApplyParameters(context.Background(), changes[:1]); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("no command: %v", err)
	}
}

// withhold leaves no piece of a secret: whole ones anywhere, and the
// beginning of one where the capture was cut.
func TestWithholdSecrets(t *testing.T) {
	for _, c := range []struct {
		in   string
		cut  bool
		want string
	}{
		{"bad value hunter2 for user", false, "bad value (redacted) for user"},
		{"hunter2hunter22", false, "(redacted)(redacted)"},
		{"stderr ends in hunt", true, "stderr ends in (redacted)"},
		{"stderr ends in hunt", false, "stderr ends in hunt"},
	} {
		if got := withhold(c.in, []string{"hunter2", "", "hunter22"}, c.cut); got != c.want {
			t.Errorf("withhold(%q, cut %v) = %q, want %q", c.in, c.cut, got, c.want)
		}
	}
	// A long stderr cut at 4 KiB in the middle of the password.
	h := &Hooks{ApplyDir: t.TempDir(), ApplyParametersCmd: fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x >&2; echo topsecretpassword >&2; exit 2", maxHookStderr-5)}
	err := h.ApplyParameters(context.Background(), []projections.DeviceChange{{Op: projections.OpSet, Name: "Device.Users.User.1.Password", Value: "topsecretpassword", Hidden: true}})
	if err == nil || strings.Contains(err.Error(), "topse") || !strings.Contains(err.Error(), "(redacted)") {
		t.Fatalf("cut stderr: %v", err)
	}
}

// TestHooksApplyRemovesOnlyALeftoverFileOfChanges: the next run removes
// the file of changes a killed agent left (it may hold passwords), and
// nothing else whatever the record in the state directory names.
func TestHooksApplyRemovesOnlyALeftoverFileOfChanges(t *testing.T) {
	applyDir, state, elsewhere := t.TempDir(), t.TempDir(), t.TempDir()
	h := &Hooks{ApplyDir: applyDir, StateDir: state, ApplyParametersCmd: "true"}
	changes := []projections.DeviceChange{{Op: projections.OpSet, Name: "Device.Time.NTPServer1", Value: "ntp"}}
	record := filepath.Join(state, applyFileRecord)

	left := filepath.Join(applyDir, applyFilePrefix+"12345")
	os.WriteFile(left, []byte("set\tDevice.Users.User.1.Password\tsecret\n"), 0o600)
	os.WriteFile(record, []byte(left), 0o600)
	if err := h.ApplyParameters(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover file of changes is still there (%v)", err)
	}
	if _, err := os.Stat(record); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the record outlived the run (%v)", err)
	}

	for _, other := range []string{
		filepath.Join(elsewhere, applyFilePrefix+"1"), // not in the apply directory
		filepath.Join(applyDir, "config"),             // not a file of changes
	} {
		os.WriteFile(other, []byte("keep"), 0o600)
		os.WriteFile(record, []byte(other), 0o600)
		if err := h.ApplyParameters(context.Background(), changes); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(other); err != nil {
			t.Errorf("%s was removed: %v", other, err)
		}
	}
}
