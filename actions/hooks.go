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
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// DefaultHookTimeout bounds one hook command.
const DefaultHookTimeout = 5 * time.Minute

// maxHookStderr bounds the stderr kept for a fault string.
const maxHookStderr = 4 << 10

// DefaultApplyTimeout bounds the apply-parameters hook: it runs while the
// ACS waits for the answer to its request.
const DefaultApplyTimeout = 30 * time.Second

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

	// ApplyParametersCmd carries out the ACS's changes of the device's
	// configuration (see ApplyParameters); empty, they are the journal's
	// alone. ApplyTimeout bounds it (DefaultApplyTimeout when 0): the ACS
	// waits for the answer meanwhile. ApplyDir is where the file of
	// changes is written (os.TempDir() when empty: RAM on OpenWrt, no
	// flash wear, gone at a reboot).
	ApplyParametersCmd string
	ApplyTimeout       time.Duration
	ApplyDir           string

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

// errHookTimedOut marks a hook its own timeout killed (not the system).
var errHookTimedOut = errors.New("hook timed out")

// run executes one hook; stdout goes to out (may be nil).
func (h *Hooks) run(ctx context.Context, what, cmd string, code int, out io.Writer, files []string, version string) error {
	return h.call(ctx, hookCall{what: what, cmd: cmd, code: code, out: out, files: files, version: version})
}

// hookCall is one run of a hook command.
type hookCall struct {
	what, cmd string
	code      int
	out       io.Writer
	files     []string
	version   string
	timeout   time.Duration // 0: h.Timeout
	// secrets are withheld from the fault message: the hook may print
	// what it was given (a password) on its stderr.
	secrets []string
	// started, when set, learns the shell's pid (its process group's id)
	// as soon as it runs.
	started func(pid int)
}

func (h *Hooks) call(ctx context.Context, hc hookCall) error {
	what, code := hc.what, hc.code
	if strings.TrimSpace(hc.cmd) == "" {
		return faultf(code, nil, "%s is not supported on this device (no command configured)", what)
	}
	timeout := hc.timeout
	if timeout <= 0 {
		timeout = h.Timeout
	}
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	shell := h.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	c := exec.CommandContext(ctx, shell, "-c", expand(hc.cmd, hc.files, hc.version))
	var stderr bytes.Buffer
	lb := &limitedBuffer{b: &stderr, max: maxHookStderr}
	c.Stderr = lb
	if hc.out != nil {
		c.Stdout = hc.out
	}
	ownProcessGroup(c)
	c.WaitDelay = 2 * time.Second
	err := c.Start()
	if err == nil {
		if hc.started != nil {
			hc.started(c.Process.Pid)
		}
		err = c.Wait()
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, exec.ErrWaitDelay) && c.ProcessState != nil && c.ProcessState.Success() {
		// The command exited 0, and its exit status is its answer: what it
		// left in the background (a service restarted once the ACS has
		// its answer) still held its stderr open, and Wait stopped
		// reading it after WaitDelay. Calling that a failure would tell
		// the ACS "nothing changed" about a change the device made.
		return nil
	}
	// Secrets go before the message is cut to its last 200 bytes, so that
	// no cut leaves a piece of one.
	msg := strings.TrimSpace(withhold(stderr.String(), hc.secrets, lb.dropped))
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

// withhold replaces every secret in s with event.Redacted. When the capture
// was cut (cut), a secret's beginning may end it: that is withheld too.
func withhold(s string, secrets []string, cut bool) string {
	long := make([]string, 0, len(secrets))
	for _, x := range secrets {
		if x != "" {
			long = append(long, x)
		}
	}
	// The longest first: a secret holding another is replaced whole.
	sort.Slice(long, func(i, j int) bool { return len(long[i]) > len(long[j]) })
	for _, x := range long {
		s = strings.ReplaceAll(s, x, event.Redacted)
	}
	if cut {
		for _, x := range long {
			for k := len(x) - 1; k > 0; k-- {
				if strings.HasSuffix(s, x[:k]) {
					return s[:len(s)-k] + event.Redacted
				}
			}
		}
	}
	return s
}

type limitedBuffer struct {
	b       *bytes.Buffer
	max     int
	dropped bool // more was written than kept
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	room := l.max - l.b.Len()
	if len(p) > room {
		l.dropped = true
	}
	if room > 0 {
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
// install (the version, or a digest of the files, and the files' paths) is
// written durably to StateDir before the command runs. The paths name the
// transfer (Runner.DownloadPath), so the marker matches only a repeat of
// the same transfer: a later Download of the same image or version, which
// the ACS sends when the device rolled back or was reflashed meanwhile,
// installs again instead of being reported done (or failed) with nothing
// run. Found again on a repeat (the command —
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
	// One line: the paths are the Runner's own (state dir, transfer id),
	// quoted so that no character in them can end the line. A marker
	// without them (legacy) was written by an agent before this one, which
	// a sysupgrade may have just replaced mid-install: it still counts, so
	// that the upgrade to this agent never installs twice.
	legacy := key
	key += " at " + strconv.Quote(strings.Join(files, "\x00"))
	marker := filepath.Join(h.StateDir, "firmware-install")
	if b, err := os.ReadFile(marker); err == nil && (strings.TrimSpace(string(b)) == key || strings.TrimSpace(string(b)) == legacy) {
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

// ApplyError is an apply-parameters hook that failed, timed out or could
// not run. Its text is for the ACS's fault string and the log: it holds
// the hook's stderr (cut, hidden values withheld) and never a secret.
type ApplyError struct {
	Msg string
	Err error
}

func (e *ApplyError) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *ApplyError) Unwrap() error { return e.Err }

// ApplyParameters runs ApplyParametersCmd once for one ACS request's changes
// of the device's configuration (journal-backed parameters; the agent's own
// settings are not among them). The changes are in a file (mode 0600,
// removed afterwards) whose path replaces %f; nothing of them is put on the
// command line. One line per change, in the request's order, fields
// separated by a tab:
//
//	set<TAB>Device.Time.NTPServer1<TAB>pool.ntp.org
//	add<TAB>Device.Users.User.3.
//	delete<TAB>Device.DNS.Client.Server.2.
//
// set carries the value as the ACS sent it in canonical form (hidden ones,
// passwords, included: the device needs them); add names the new instance
// (its parameters are then at their defaults until an SPV sets them);
// delete names the instance removed with everything below it. Values never
// hold a tab, a newline or another control character (the agent refuses
// such a value with fault 9007), so `IFS=<tab> read -r op name value`
// reads a line exactly. The command must apply all of it or none and exit
// 0 only when it did; it must be idempotent: after a crash of the agent
// mid-way it is run again with the same file.
func (h *Hooks) ApplyParameters(ctx context.Context, changes []projections.DeviceChange) error {
	var buf bytes.Buffer
	var secrets []string
	for _, c := range changes {
		if strings.ContainsFunc(c.Name, isControl) || strings.ContainsFunc(c.Value, isControl) {
			// The data model refuses these (9007); a line they would
			// split must never reach the hook.
			return &ApplyError{Msg: fmt.Sprintf("the value of %s holds a control character", c.Name)}
		}
		switch c.Op {
		case projections.OpSet:
			fmt.Fprintf(&buf, "%s\t%s\t%s\n", c.Op, c.Name, c.Value)
		default:
			fmt.Fprintf(&buf, "%s\t%s\n", c.Op, c.Name)
		}
		if c.Hidden {
			secrets = append(secrets, c.Value)
		}
	}
	h.removeLeftoverChanges()
	f, err := os.CreateTemp(h.ApplyDir, applyFilePrefix+"*") // mode 0600: it may hold passwords
	if err != nil {
		return &ApplyError{Msg: "apply-parameters: cannot write the file of changes", Err: fmt.Errorf("apply-parameters: %w", err)}
	}
	h.recordChanges(f.Name())
	defer h.forgetChanges(f.Name())
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return &ApplyError{Msg: "apply-parameters: cannot write the file of changes", Err: fmt.Errorf("apply-parameters: %w", err)}
	}
	if err := f.Close(); err != nil {
		return &ApplyError{Msg: "apply-parameters: cannot write the file of changes", Err: fmt.Errorf("apply-parameters: %w", err)}
	}
	timeout := h.ApplyTimeout
	if timeout <= 0 {
		timeout = DefaultApplyTimeout
	}
	// A run the agent died during is ended first: this one applies the
	// same changes again (Handler.Resume), and must not run beside it.
	h.endLeftoverRun()
	defer h.forgetRun()
	err = h.call(ctx, hookCall{what: "apply-parameters", cmd: h.ApplyParametersCmd, code: FaultInternal,
		files: []string{f.Name()}, timeout: timeout, secrets: secrets, started: h.recordRun})
	if err == nil {
		return nil
	}
	var hf *Fault
	if errors.As(err, &hf) {
		return &ApplyError{Msg: hf.Msg, Err: err}
	}
	return &ApplyError{Msg: "apply-parameters: " + withhold(err.Error(), secrets, false), Err: err}
}

// applyFilePrefix begins the name of every file of changes.
const applyFilePrefix = "cwmpd-apply-"

// applyFileRecord, in StateDir, names the file of changes of the run under
// way. An agent killed during a run never removes that file, and it may
// hold passwords: the next run removes it (removeLeftoverChanges).
const applyFileRecord = "apply-file"

// recordChanges notes the file of changes about to be handed to the hook.
// Not synced: a power cut clears the RAM disk it is usually on.
func (h *Hooks) recordChanges(path string) {
	if h.StateDir != "" {
		os.WriteFile(filepath.Join(h.StateDir, applyFileRecord), []byte(path), 0o600)
	}
}

// forgetChanges removes the file of changes of a run that has ended, and
// its record.
func (h *Hooks) forgetChanges(path string) {
	os.Remove(path)
	if h.StateDir != "" {
		os.Remove(filepath.Join(h.StateDir, applyFileRecord))
	}
}

// removeLeftoverChanges removes the file of changes a killed agent left.
// Only a file of changes in the apply directory is removed, whatever the
// record says: the record is a file like any other.
func (h *Hooks) removeLeftoverChanges() {
	if h.StateDir == "" {
		return
	}
	rec := filepath.Join(h.StateDir, applyFileRecord)
	b, err := os.ReadFile(rec)
	if err != nil {
		return
	}
	dir := h.ApplyDir
	if dir == "" {
		dir = os.TempDir()
	}
	if p := string(b); filepath.Dir(p) == filepath.Clean(dir) && strings.HasPrefix(filepath.Base(p), applyFilePrefix) {
		os.Remove(p)
	}
	os.Remove(rec)
}

// isControl reports the characters a line of the changes file cannot hold.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
