package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// Files of the simulated device under <Dir>/device/.
const (
	simVersionFile  = "version"        // the installed firmware version
	simPackagesFile = "packages"       // the installed packages: name, size, sha256
	simInstallsFile = "installs.log"   // one line per install actually performed
	simDefaultFile  = "default-config" // the factory default configuration script
	simLogFile      = "log"            // the device log, a bounded ring
	// SimLogMax bounds the device log; when it grows past this the oldest
	// half is dropped.
	SimLogMax = 64 << 10
)

// simDefaultConfig is the default configuration of a fresh simulated
// device: nothing beyond the data model's own defaults.
const simDefaultConfig = "# cwmpd-sim factory default configuration\n"

// writeAtomic replaces name with data durably: temp file, fsync, rename,
// fsync of the directory.
func writeAtomic(name string, data []byte) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// InstallFirmware implements Platform. The sim "installs" by recording the
// packages and writing the version file (so Identity().SoftwareVersion
// changes); a version of "" becomes "sim-" and 12 hex digits of a digest
// of the files. Idempotence: when the version file already holds the
// version, nothing is done (and installs.log, which counts real installs,
// is not touched).
func (s *Sim) InstallFirmware(ctx context.Context, files []string, version string) error {
	if version != "" && s.Identity().SoftwareVersion == version {
		return nil // already installed: a repeat after a crash
	}
	if len(files) == 0 {
		return faultf(FaultInternal, nil, "firmware install without files")
	}
	all := sha256.New()
	var pkgs strings.Builder
	for _, f := range files {
		sum, size, err := fileSHA256(f)
		if err != nil {
			return faultf(FaultTransfer, err, "firmware file %s: %v", filepath.Base(f), err)
		}
		fmt.Fprintf(all, "%s\n", sum)
		fmt.Fprintf(&pkgs, "%s %d %s\n", filepath.Base(f), size, sum)
	}
	if version == "" {
		version = "sim-" + hex.EncodeToString(all.Sum(nil))[:12]
	}
	if s.Identity().SoftwareVersion == version {
		return nil
	}
	if err := writeAtomic(s.path(simPackagesFile), []byte(pkgs.String())); err != nil {
		return faultf(FaultTransfer, err, "firmware install: %v", err)
	}
	if err := writeAtomic(s.path(simVersionFile), []byte(version+"\n")); err != nil {
		return faultf(FaultTransfer, err, "firmware install: %v", err)
	}
	return appendLine(s.path(simInstallsFile), version)
}

// Installs returns the versions the sim actually installed, oldest first
// (installs.log): a test's witness of "installed exactly once".
func (s *Sim) Installs() []string {
	b, err := os.ReadFile(s.path(simInstallsFile))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func appendLine(name, line string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fileSHA256(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ApplyConfig implements Platform: the file is a configuration script (see
// script.go) turned into journal events against current; a full
// replacement also clears what the script does not set and needs a reboot.
// The sim's configuration is the journal itself, so it changes nothing on
// disk and a repeat after a crash computes the same events.
func (s *Sim) ApplyConfig(ctx context.Context, path string, alter bool, current projections.Params) (ConfigResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ConfigResult{}, faultf(FaultInternal, err, "configuration file: %v", err)
	}
	evs, err := configEvents(data, alter, current, s.CheckParam)
	if err != nil {
		return ConfigResult{}, err
	}
	return ConfigResult{Events: evs, RebootNeeded: !alter}, nil
}

// SetDefaultConfig implements Platform: the script is checked for syntax
// and written durably to device/default-config.
func (s *Sim) SetDefaultConfig(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return faultf(FaultInternal, err, "default configuration file: %v", err)
	}
	if _, err := parseScript(data); err != nil {
		return err
	}
	if err := writeAtomic(s.path(simDefaultFile), data); err != nil {
		return faultf(FaultTransfer, err, "storing the default configuration: %v", err)
	}
	return nil
}

// ExportConfig implements Platform with the script form of current.
func (s *Sim) ExportConfig(ctx context.Context, w io.Writer, current projections.Params) error {
	return writeScript(w, current, "cwmpd-sim configuration export ("+s.Identity().SoftwareVersion+")")
}

// ExportDefaultConfig implements Platform.
func (s *Sim) ExportDefaultConfig(ctx context.Context, w io.Writer) error {
	data, err := os.ReadFile(s.path(simDefaultFile))
	if os.IsNotExist(err) {
		data, err = []byte(simDefaultConfig), nil
	}
	if err != nil {
		return faultf(FaultUpload, err, "default configuration: %v", err)
	}
	_, err = w.Write(data)
	return err
}

// ExportLog implements Platform with the device log ring.
func (s *Sim) ExportLog(ctx context.Context, w io.Writer) error {
	data, err := os.ReadFile(s.path(simLogFile))
	if err != nil && !os.IsNotExist(err) {
		return faultf(FaultUpload, err, "device log: %v", err)
	}
	_, err = w.Write(data)
	return err
}

// Log appends one line to the device log (the daemon calls it for what an
// operator would see in a router's log). The log is a ring: past SimLogMax
// bytes the oldest half is dropped. Not safe for concurrent use with
// itself; the daemon logs from one goroutine.
func (s *Sim) Log(now time.Time, line string) error {
	name := s.path(simLogFile)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	line = strings.NewReplacer("\n", " ", "\r", " ").Replace(line)
	if err := appendLine(name, now.UTC().Format(time.RFC3339)+" "+line); err != nil {
		return err
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Size() <= SimLogMax {
		return err
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	keep := data[len(data)-SimLogMax/2:]
	if i := strings.IndexByte(string(keep), '\n'); i >= 0 {
		keep = keep[i+1:]
	}
	return writeAtomic(name, keep)
}

// DefaultConfigEvents returns the events that apply the default
// configuration script (SetDefaultConfig) to current, as an alteration.
// The daemon journals them right after FactoryResetDone (current is then
// the reset configuration), which is how a factory reset "executes the
// default configuration script" on the sim. A device without a script
// set gives no events.
func (s *Sim) DefaultConfigEvents(current projections.Params) ([]event.Event, error) {
	data, err := os.ReadFile(s.path(simDefaultFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("actions: sim default configuration: %w", err)
	}
	return configEvents(data, true, current, s.CheckParam)
}
