package actions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cwmpd/cwmpd/projections"
)

// DefaultHookTimeout bounds one hook command.
const DefaultHookTimeout = 5 * time.Minute

// maxHookStderr bounds the stderr kept for a fault string.
const maxHookStderr = 4 << 10

// Hooks is the Platform of a real router: each action runs a configured
// shell command (sh -c). In a command, %f is replaced by the file path(s),
// shell-quoted and space-separated, and %v by the firmware version
// (quoted). Export commands write the file to their stdout. A command left
// empty makes its action unsupported (a fault). A non-zero exit, a timeout
// or a missing command is a *Fault carrying the command's trimmed stderr:
// 9010 for downloads (firmware, configuration, default configuration),
// 9011 for exports (uploads).
//
// Example (OpenWrt):
//
//	Firmware:      "sysupgrade %f"
//	ConfigAlter:   "uci batch < %f && uci commit"
//	ConfigReplace: "uci import < %f && uci commit"
//	ExportConfig:  "uci export"
//	ExportLog:     "logread"
type Hooks struct {
	// Ident is the fixed identity; SoftwareVersion is replaced by the
	// output of VersionCommand when that is set.
	Ident          Identity
	VersionCommand string

	Firmware         string
	ConfigAlter      string
	ConfigReplace    string
	SetDefault       string
	ExportConfigCmd  string
	ExportLogCmd     string
	ExportDefaultCmd string
	RebootCmd        string
	FactoryResetCmd  string

	// StateDir holds the firmware install marker (see InstallFirmware); it
	// must survive a reboot.
	StateDir string
	Timeout  time.Duration
	Shell    string // default /bin/sh
	// BootIDFile holds the identity of the device's boot; default the
	// kernel's /proc/sys/kernel/random/boot_id. Tests point it elsewhere.
	BootIDFile string
}

var _ Platform = (*Hooks)(nil)
var _ Platform = (*Sim)(nil)

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func expand(cmd string, files []string, version string) string {
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = shellQuote(f)
	}
	r := strings.NewReplacer("%f", strings.Join(q, " "), "%v", shellQuote(version), "%%", "%")
	return r.Replace(cmd)
}

// run executes one hook; stdout goes to out (may be nil).
// errHookTimedOut marks a hook its own timeout killed (not the system).
var errHookTimedOut = errors.New("hook timed out")

func (h *Hooks) run(ctx context.Context, what, cmd string, code int, out io.Writer, files []string, version string) error {
	if strings.TrimSpace(cmd) == "" {
		return faultf(code, nil, "%s is not supported on this device (no command configured)", what)
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	shell := h.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	c := exec.CommandContext(ctx, shell, "-c", expand(cmd, files, version))
	var stderr bytes.Buffer
	c.Stderr = &limitedBuffer{b: &stderr, max: maxHookStderr}
	if out != nil {
		c.Stdout = out
	}
	ownProcessGroup(c)
	c.WaitDelay = 2 * time.Second
	err := c.Run()
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(stderr.String())
	if len(msg) > 200 {
		// The end says why; cut where a character starts.
		cut := len(msg) - 200
		for cut < len(msg) && !utf8.RuneStart(msg[cut]) {
			cut++
		}
		msg = msg[cut:]
	}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return faultf(code, fmt.Errorf("%w: %w", errHookTimedOut, err), "%s timed out after %s", what, timeout)
	case errors.As(err, &exitErr):
		if msg == "" {
			return faultf(code, err, "%s failed: %v", what, err)
		}
		return faultf(code, err, "%s failed: %v: %s", what, err, msg)
	}
	return faultf(code, err, "%s: %v", what, err)
}

type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		if len(p) > room {
			l.b.Write(p[:room])
		} else {
			l.b.Write(p)
		}
	}
	return len(p), nil
}

// Identity implements Platform. The version command's output, trimmed,
// is the software version when it is one: a line of text (valid UTF-8, no
// control characters) of at most 64 characters, TR-181's
// DeviceInfo.SoftwareVersion. Anything else (a warning over several lines,
// a colour escape, binary noise) keeps the configured version, as a failed
// command does: the version is journaled, compared at every start and with
// each firmware's, and sent to the ACS, and all of them must see one value.
func (h *Hooks) Identity() Identity {
	id := h.Ident
	if h.VersionCommand != "" {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Bounded: a runaway command (yes) must not fill the memory.
		if err := h.run(ctx, "version command", h.VersionCommand, FaultInternal, &limitedBuffer{b: &out, max: 4 << 10}, nil, ""); err == nil {
			if v, ok := hookLine(out.String(), 64); ok {
				id.SoftwareVersion = v
			}
		}
	}
	return id
}

// hookLine returns s trimmed when that is a value the agent can keep,
// journal and send as it is: non-empty valid UTF-8 without control
// characters, of at most max characters.
func hookLine(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", false
	}
	return s, true
}

// Reboot implements Platform.
// DeviceBoot implements Platform with the kernel's identity of this boot
// (Linux: /proc/sys/kernel/random/boot_id), "" where there is none.
func (h *Hooks) DeviceBoot() string {
	path := h.BootIDFile
	if path == "" {
		path = "/proc/sys/kernel/random/boot_id"
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<10))
	if err != nil {
		return ""
	}
	// The kernel's is a UUID. Anything that is not one line of text would
	// not read back from the journal as it was written, and every start
	// would then look like a boot: none is better.
	id, _ := hookLine(string(b), 128)
	return id
}

func (h *Hooks) Reboot(ctx context.Context) error {
	return h.run(ctx, "reboot", h.RebootCmd, FaultInternal, nil, nil, "")
}

// FactoryReset implements Platform.
func (h *Hooks) FactoryReset(ctx context.Context) error {
	return h.run(ctx, "factory reset", h.FactoryResetCmd, FaultInternal, nil, nil, "")
}

// InstallFirmware implements Platform. Idempotence: when version is known
// and already running, nothing is done. Otherwise a marker naming the
// install (the version, or a digest of the files) is written durably to
// StateDir before the command runs: found again on a repeat (the command —
// sysupgrade reboots the router by itself — was started before a crash or
// that reboot), the install is not run twice; it is reported done when the
// version is unknown, and failed (9010) when the version is known and is
// not the running one. When the command fails on its own (non-zero exit,
// timeout, not configured, not startable) the marker is removed again, so
// a retried Download of the same image runs the install instead of finding
// the marker; it is kept only when ctx ended mid-install, as a crash or
// sysupgrade's own reboot leaves it.
func (h *Hooks) InstallFirmware(ctx context.Context, files []string, version string) error {
	if version != "" && h.Identity().SoftwareVersion == version {
		return nil
	}
	key := "version " + version
	if version == "" {
		all := sha256.New()
		for _, f := range files {
			sum, _, err := fileSHA256(f)
			if err != nil {
				return faultf(FaultTransfer, err, "firmware file %s: %v", filepath.Base(f), err)
			}
			fmt.Fprintln(all, sum)
		}
		key = "files " + hex.EncodeToString(all.Sum(nil))
	}
	marker := filepath.Join(h.StateDir, "firmware-install")
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == key {
		if version != "" {
			return faultf(FaultTransfer, nil, "firmware %s was installed but is not running", version)
		}
		return nil
	}
	if h.StateDir == "" {
		return faultf(FaultInternal, nil, "hooks: no state directory for the install marker")
	}
	if err := writeAtomic(marker, []byte(key+"\n")); err != nil {
		return faultf(FaultTransfer, err, "firmware install marker: %v", err)
	}
	err := h.run(ctx, "firmware install", h.Firmware, FaultTransfer, nil, files, version)
	if err == nil || ctx.Err() != nil || killedBySignal(err) && !errors.Is(err, errHookTimedOut) {
		// Success, or we are being stopped (shutdown, or the reboot the
		// install itself started, which may signal the hook before the
		// agent): the marker stays, so the repeat after the restart does
		// not install twice.
		return err
	}
	if rmErr := removeDurably(marker); rmErr != nil {
		// A marker left behind would report the next attempt done without
		// installing: say so instead of hiding it behind the hook's fault.
		var f *Fault
		if errors.As(err, &f) {
			return faultf(f.Code, errors.Join(err, rmErr), "%s (and its install marker could not be removed: %v)", f.Msg, rmErr)
		}
		return fmt.Errorf("firmware install: %w (install marker not removed: %w)", err, rmErr)
	}
	return err
}

// removeDurably removes name and syncs its directory, so that the removal
// survives a crash right after it; a missing file is not an error.
func removeDurably(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d, err := os.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ApplyConfig implements Platform. The router's configuration is its own
// (not journal-backed), so no events result; a replacement asks for a
// reboot. The command should be idempotent (uci import is): after a crash
// before TransferFinished it runs again.
func (h *Hooks) ApplyConfig(ctx context.Context, path string, alter bool, _ projections.Params) (ConfigResult, error) {
	if alter {
		return ConfigResult{}, h.run(ctx, "configuration alteration", h.ConfigAlter, FaultTransfer, nil, []string{path}, "")
	}
	if err := h.run(ctx, "configuration replacement", h.ConfigReplace, FaultTransfer, nil, []string{path}, ""); err != nil {
		return ConfigResult{}, err
	}
	return ConfigResult{RebootNeeded: true}, nil
}

// SetDefaultConfig implements Platform.
func (h *Hooks) SetDefaultConfig(ctx context.Context, path string) error {
	return h.run(ctx, "default configuration change", h.SetDefault, FaultTransfer, nil, []string{path}, "")
}

// ExportConfig implements Platform (the command's stdout).
func (h *Hooks) ExportConfig(ctx context.Context, w io.Writer, _ projections.Params) error {
	return h.run(ctx, "configuration export", h.ExportConfigCmd, FaultUpload, w, nil, "")
}

// ExportLog implements Platform (the command's stdout).
func (h *Hooks) ExportLog(ctx context.Context, w io.Writer) error {
	return h.run(ctx, "log export", h.ExportLogCmd, FaultUpload, w, nil, "")
}

// ExportDefaultConfig implements Platform (the command's stdout).
func (h *Hooks) ExportDefaultConfig(ctx context.Context, w io.Writer) error {
	return h.run(ctx, "default configuration export", h.ExportDefaultCmd, FaultUpload, w, nil, "")
}
