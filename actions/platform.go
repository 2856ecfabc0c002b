package actions

import (
	"context"
	"io"

	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

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

	// DeviceBoot identifies the device's current boot: it changes when the
	// device boots and only then. "" means the platform cannot tell, and
	// every start of the agent is then taken for a boot.
	DeviceBoot() string

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

	// InstallFirmware installs the fetched firmware files together, as one
	// upgrade; version is the firmware version they make ("" when unknown:
	// a single image, or a manifest without a firmware attribute).
	// Before: TransferApplying is durable; every file is fetched and
	// verified (TransferFetched journaled for each).
	// After: nil means the new firmware is installed and becomes the
	// running one at the next reboot (the caller journals TransferFinished
	// and then reboots); an error (a *Fault, 9010 by default) means it is
	// not installed. It must be idempotent: called again after a crash
	// between TransferApplying and TransferFinished, it must recognise an
	// install already done (the version installed, or its own durable
	// marker) and return nil without installing twice. The files' paths
	// name the transfer (Runner.DownloadPath): a later Download of the
	// same image has other paths and must install again.
	InstallFirmware(ctx context.Context, files []string, version string) error

	// ApplyConfig applies a vendor configuration file: an alteration
	// (alter, the URL ended in ".alter") changes some values; otherwise
	// the file replaces the whole configuration. current is the
	// journal-backed configuration now (the caller's copy).
	// Before: TransferApplying is durable; the file is fetched and verified.
	// After: on success the result's Events (Source "platform") are what
	// the change did to the journal-backed parameters; the caller journals
	// them in the same append as TransferFinished, so they are applied
	// exactly when the transfer is reported done. The platform must not
	// touch the journal. RebootNeeded asks the caller to reboot after
	// journaling. On error nothing was changed (a *Fault: 9018 for a file
	// that cannot be read as a configuration, 9010 for one that cannot be
	// applied). Called again after a crash before TransferFinished, it
	// computes the same change again from current.
	ApplyConfig(ctx context.Context, path string, alter bool, current projections.Params) (ConfigResult, error)

	// SetDefaultConfig makes the file the configuration a factory reset
	// applies ("X <OUI> Factory Configuration File").
	// Before: TransferApplying is durable. After: nil means the file is
	// durably the default configuration (so a repeat is harmless).
	SetDefaultConfig(ctx context.Context, path string) error

	// ExportConfig writes the current configuration ("1 Vendor
	// Configuration File" upload) in the form ApplyConfig reads; current is
	// the journal-backed configuration. Secrets are not exported.
	// Before: TransferStarted is durable. After: w holds the export.
	ExportConfig(ctx context.Context, w io.Writer, current projections.Params) error

	// ExportLog writes the device log ("2 Vendor Log File" upload).
	// Before: TransferStarted is durable. After: w holds the log.
	ExportLog(ctx context.Context, w io.Writer) error

	// ExportDefaultConfig writes the configuration a factory reset would
	// apply (upload of "X <OUI> Factory Configuration File").
	// Before: TransferStarted is durable. After: w holds it.
	ExportDefaultConfig(ctx context.Context, w io.Writer) error
}

// ConfigResult is what ApplyConfig did.
type ConfigResult struct {
	// Events are the journal-backed parameter changes (ParametersSet,
	// ObjectAdded, ObjectDeleted with Source "platform"), in order.
	Events []event.Event
	// RebootNeeded asks the caller to reboot once the outcome is durable.
	RebootNeeded bool
}
