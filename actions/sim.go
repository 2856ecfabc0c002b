package actions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cwmpd/cwmpd/projections/event"
)

// SimOUI is the OUI of the simulated device: 02C0DE has the locally
// administered bit set, so it can never be a real vendor's IEEE OUI.
const SimOUI = "02C0DE"

// SimVersion is the software version of a fresh simulated device.
const SimVersion = "cwmpd-sim 1.0.0"

// Sim is a self-contained device in a directory: its firmware version file
// and its default configuration live there; Reboot re-executes the daemon.
type Sim struct {
	Dir string
	// Exec replaces the process (syscall.Exec); tests inject it.
	Exec func(argv0 string, argv []string, envv []string) error
	// Args are the daemon's command line, re-executed on reboot.
	Args []string
	// CheckParam, when set, validates a value a configuration script sets
	// and gives its type (the daemon wires the data model's check); nil
	// accepts any Device. name, keeping the type of an existing value.
	CheckParam func(name, value string) (event.ParamValue, error)
}

func (s *Sim) path(name string) string { return filepath.Join(s.Dir, "device", name) }

// Identity implements Platform. The serial number is derived from the
// state directory, so each simulated device is distinct and stable.
func (s *Sim) Identity() Identity {
	abs, _ := filepath.Abs(s.Dir)
	sum := sha256.Sum256([]byte(abs))
	version := SimVersion
	if b, err := os.ReadFile(s.path("version")); err == nil && strings.TrimSpace(string(b)) != "" {
		version = strings.TrimSpace(string(b))
	}
	return Identity{
		Manufacturer:    "cwmpd project",
		OUI:             SimOUI,
		ModelName:       "cwmpd simulated router",
		Description:     "cwmpd on the simulated platform",
		ProductClass:    "cwmpd-sim",
		SerialNumber:    strings.ToUpper(hex.EncodeToString(sum[:6])),
		HardwareVersion: "sim-1",
		SoftwareVersion: version,
	}
}

// Reboot implements Platform by re-executing the daemon with the same
// arguments and environment: a real restart of the process.
// DeviceBoot implements Platform: the simulated device boots whenever the
// agent starts (its Reboot re-executes the agent), so it cannot tell a
// restart of the agent alone from a boot.
func (s *Sim) DeviceBoot() string { return "" }

func (s *Sim) Reboot(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("actions: sim reboot: %w", err)
	}
	exec := s.Exec
	if exec == nil {
		exec = syscall.Exec
	}
	args := s.Args
	if len(args) == 0 {
		args = os.Args
	}
	if err := exec(exe, args, os.Environ()); err != nil {
		return fmt.Errorf("actions: sim reboot: exec %s: %w", exe, err)
	}
	return nil
}

// FactoryReset implements Platform: the simulated device's configuration
// is its journal-backed parameters, which FactoryResetDone clears; the
// device directory keeps only its firmware.
func (s *Sim) FactoryReset(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(s.Dir, "device"), 0o755); err != nil {
		return fmt.Errorf("actions: sim factory reset: %w", err)
	}
	return nil
}
