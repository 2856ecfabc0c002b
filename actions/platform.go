package actions

import "context"

// Identity is the device's fixed identity and its running software.
type Identity struct {
	Manufacturer    string
	OUI             string
	ModelName       string
	Description     string
	ProductClass    string
	SerialNumber    string
	HardwareVersion string
	SoftwareVersion string
}

// Platform is the device under the agent.
type Platform interface {
	// Identity reports the device's identity; SoftwareVersion is the
	// version running now.
	Identity() Identity

	// Reboot restarts the device.
	// Before: RebootRequested is durable; the session that asked for it
	// has ended; the journal is closed (the lock released).
	// After: it does not return on success (the process is replaced or
	// the machine goes down); an error means the reboot did not happen.
	Reboot(ctx context.Context) error

	// FactoryReset returns the device's configuration to its defaults.
	// Before: FactoryResetRequested is durable; the session has ended.
	// After: on success the device configuration is the default one; the
	// caller journals FactoryResetDone and then reboots. A reset
	// interrupted by a crash is simply done again (it is idempotent).
	FactoryReset(ctx context.Context) error
}
