package event

import "time"

// Event is one typed journal record payload.
type Event interface {
	Type() Type
	// Summary is the one-line human description used in replay timelines.
	// It never contains a secret.
	Summary() string
}

// Sources of a change: who caused it decides whether it notifies the ACS.
const (
	SourceACS      = "acs"      // an ACS RPC; never raises VALUE CHANGE
	SourceCLI      = "cli"      // the operator's cwmpd set / reset
	SourceDefaults = "defaults" // factory-default settings file at first boot
	SourcePlatform = "platform" // the device itself (config file applied, …)
)

// Boot reasons.
const (
	BootPowerOn      = "power-on"      // a start with no recorded cause
	BootReboot       = "reboot"        // after RebootRequested
	BootFactoryReset = "factory-reset" // after FactoryResetDone
	BootFirmware     = "firmware"      // after a firmware install
)

// InformEvent is one CWMP EventStruct: an event code and its command key.
type InformEvent struct {
	Code       string `json:"code"`
	CommandKey string `json:"ck,omitempty"`
}

// Setting is one of the operator's settings (the seed's names, e.g.
// "acs-url"), already validated and in canonical form.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ParamValue is a data-model parameter and its value in CWMP string form.
type ParamValue struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Type   string `json:"type,omitempty"`   // xsd type name, e.g. "unsignedInt"
	Hidden bool   `json:"hidden,omitempty"` // a hidden (password) parameter: redacted in exports
}

// Booted is written once per start of the agent, before anything else of
// that boot. The envelope's BootID identifies the boot.
type Booted struct {
	Reason          string `json:"reason"`
	SoftwareVersion string `json:"software_version,omitempty"`
	// DeviceBoot identifies the device's boot (the kernel's boot_id), ""
	// when the platform cannot tell: then every start of the agent is
	// taken for a boot.
	DeviceBoot string `json:"device_boot,omitempty"`
}

// AgentRestarted records a start of the agent on a device that did not
// boot since the last Booted (same DeviceBoot): the process was restarted
// (a crash, its supervisor, an upgrade of the agent alone). Unlike Booted
// it raises no "1 BOOT" and drops nothing pending: the digest's BOOT is a
// power-up or reset of the device (§8.1).
type AgentRestarted struct {
	DeviceBoot string `json:"device_boot"`
}

// JournalRecovered is the first record of a journal made to replace a
// damaged one (Badger's files garbled, a record that does not decode): the
// damaged journal was moved, whole, to MovedTo for post-mortem, and the
// agent's memory starts afresh from here (the ACS gets a BOOTSTRAP). By is
// what did it: "cwmpd run" at start, or "reset-tr069-config".
type JournalRecovered struct {
	MovedTo string `json:"moved_to"`
	Cause   string `json:"cause"`
	By      string `json:"by"`
}

// SettingsChanged records validated changes of operator settings.
type SettingsChanged struct {
	Changes []Setting `json:"changes"`
	Source  string    `json:"source"`
}

// SettingsReset is reset-tr069-config: the client's configuration and state
// are forgotten and Defaults (the factory-default settings file) apply.
type SettingsReset struct {
	Defaults []Setting `json:"defaults"`
}

// ParametersSet records a successful, complete SetParameterValues (or a
// local or platform change). ParameterKey is applied only when SetKey.
// Applies, when set, is the ChangeApplying this record completes: the
// platform applied the change to the device.
type ParametersSet struct {
	Values       []ParamValue `json:"values"`
	ParameterKey string       `json:"parameter_key,omitempty"`
	SetKey       bool         `json:"set_key,omitempty"`
	Source       string       `json:"source"`
	Applies      uint64       `json:"applies,omitempty"`
}

// ObjectAdded records AddObject: Object is the table path ("Device.Users.User.").
// Applies as in ParametersSet.
type ObjectAdded struct {
	Object       string `json:"object"`
	Instance     uint32 `json:"instance"`
	ParameterKey string `json:"parameter_key,omitempty"`
	SetKey       bool   `json:"set_key,omitempty"`
	Source       string `json:"source"`
	Applies      uint64 `json:"applies,omitempty"`
}

// ObjectDeleted records DeleteObject: Object is the instance path
// ("Device.Users.User.3."). Applies as in ParametersSet.
type ObjectDeleted struct {
	Object       string `json:"object"`
	ParameterKey string `json:"parameter_key,omitempty"`
	SetKey       bool   `json:"set_key,omitempty"`
	Source       string `json:"source"`
	Applies      uint64 `json:"applies,omitempty"`
}

// Kinds of ChangeApplying.
const (
	ChangeSet    = "set"    // SetParameterValues
	ChangeAdd    = "add"    // AddObject
	ChangeDelete = "delete" // DeleteObject
)

// ChangeApplying is the durable intent of an ACS change that the device
// itself must carry out (a platform with an apply-parameters hook): it
// changes no value. Its outcome is either the change's own record
// (ParametersSet, ObjectAdded or ObjectDeleted, from the ACS, with Applies
// naming this record's sequence) or ChangeApplyFailed. One with neither is
// carried out again at the next start.
type ChangeApplying struct {
	Kind string `json:"kind"`
	// Values are every value of a SetParameterValues, the agent's own
	// settings included: the outcome sets them all at once.
	Values []ParamValue `json:"values,omitempty"`
	// Object is the table path of an add ("Device.Users.User."), with its
	// new Instance, or the instance path of a delete.
	Object       string `json:"object,omitempty"`
	Instance     uint32 `json:"instance,omitempty"`
	ParameterKey string `json:"parameter_key"`
}

// ChangeApplyFailed is the outcome of a ChangeApplying the device did not
// carry out: nothing changes (the ParameterKey neither), except that the
// instance number an add announced is never used again.
type ChangeApplyFailed struct {
	Change uint64 `json:"change"`
	Error  string `json:"error"`
}

// AttributeChange is one SetParameterAttributesStruct.
type AttributeChange struct {
	Name               string   `json:"name"`
	NotificationChange bool     `json:"notification_change,omitempty"`
	Notification       int      `json:"notification,omitempty"`
	AccessListChange   bool     `json:"access_list_change,omitempty"`
	AccessList         []string `json:"access_list,omitempty"`
}

// AttributesSet records a successful SetParameterAttributes.
type AttributesSet struct {
	Changes []AttributeChange `json:"changes"`
}

// ValueChanged records parameters whose value changed by an external cause.
// Active is true when at least one of them has active notification.
type ValueChanged struct {
	Changes []ParamValue `json:"changes"`
	Active  bool         `json:"active,omitempty"`
}

// ConnectionRequestReceived records one connection request attempt, accepted
// or rejected (rejected ones are kept for the operator; they raise nothing).
type ConnectionRequestReceived struct {
	Remote   string `json:"remote"`
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason,omitempty"`
}

// InformScheduled records an accepted ScheduleInform; Due is absolute.
type InformScheduled struct {
	CommandKey   string    `json:"ck"`
	DelaySeconds uint32    `json:"delay_seconds"`
	Due          time.Time `json:"due"`
}

// ScheduledInformDue records that the schedule with ID Schedule (the
// sequence of its InformScheduled) fired.
type ScheduledInformDue struct {
	Schedule uint64 `json:"schedule"`
}

// PeriodicInformDue records a periodic inform firing.
type PeriodicInformDue struct {
	Due time.Time `json:"due"`
}

// RebootRequested is the durable intent to reboot; its CommandKey must
// survive the reboot (M Reboot).
type RebootRequested struct {
	CommandKey string `json:"ck"`
	Source     string `json:"source"`
}

// RestartRequested is the durable intent to restart the device for a
// reason of its own (a firmware install, a full configuration replacement):
// unlike RebootRequested it raises no "M Reboot" — the Inform after it
// carries "1 BOOT" and the transfer's own "7 TRANSFER COMPLETE".
type RestartRequested struct {
	Reason string `json:"reason"`
}

// FactoryResetRequested is the durable intent to factory-reset the device.
type FactoryResetRequested struct {
	Source string `json:"source"`
}

// FactoryResetDone is the outcome: the platform has reset the device. It is
// a reset point for every projection; Defaults are the settings that apply.
type FactoryResetDone struct {
	Defaults []Setting `json:"defaults"`
}

// Transfer kinds.
const (
	KindDownload         = "download"
	KindUpload           = "upload"
	KindScheduleDownload = "schedule-download"
)

// TimeWindow is one ScheduleDownload window, absolute.
type TimeWindow struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Mode     string    `json:"mode"`
	UserMsg  string    `json:"user_message,omitempty"`
	MaxRetry int       `json:"max_retries,omitempty"`
}

// TransferQueued is the durable intent of a Download, Upload or
// ScheduleDownload; its sequence is the transfer's ID.
type TransferQueued struct {
	Kind           string       `json:"kind"`
	CommandKey     string       `json:"ck"`
	FileType       string       `json:"file_type"`
	URL            string       `json:"url"`
	Username       string       `json:"username,omitempty"`
	Password       string       `json:"password,omitempty"`
	FileSize       uint64       `json:"file_size,omitempty"`
	TargetFileName string       `json:"target_file_name,omitempty"`
	DelaySeconds   uint32       `json:"delay_seconds,omitempty"`
	NotBefore      time.Time    `json:"not_before"`
	Windows        []TimeWindow `json:"windows,omitempty"`
}

// TransferStarted records the first byte of work on a transfer.
type TransferStarted struct {
	Transfer  uint64    `json:"transfer"`
	StartTime time.Time `json:"start_time"`
}

// TransferProgress records a resume point: File (index in the transfer's
// file list) has Offset bytes durably on disk.
type TransferProgress struct {
	Transfer uint64 `json:"transfer"`
	File     int    `json:"file"`
	URL      string `json:"url,omitempty"`
	Offset   int64  `json:"offset"`
}

// TransferFetched records a file fully downloaded and verified.
type TransferFetched struct {
	Transfer uint64 `json:"transfer"`
	File     int    `json:"file"`
	URL      string `json:"url,omitempty"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
}

// TransferApplying is the intent to install/apply what was fetched.
type TransferApplying struct {
	Transfer uint64 `json:"transfer"`
}

// TransferFinished is the outcome to report in TransferComplete. FaultCode
// 0 is success.
type TransferFinished struct {
	Transfer     uint64    `json:"transfer"`
	FaultCode    int       `json:"fault_code"`
	FaultString  string    `json:"fault_string,omitempty"`
	StartTime    time.Time `json:"start_time"`
	CompleteTime time.Time `json:"complete_time"`
}

// TransferAttemptFailed records a failed download attempt of a
// ScheduleDownload that will be tried again (its window's MaxRetries,
// D§11.9): nothing is reported, the transfer keeps its journaled progress
// and waits until NextAttempt. Window is the index (in the request's
// Windows) of the window whose retry budget the attempt used; NextAttempt
// was decided once, here — the back-off drawn, or the start of the next
// window when this one's budget is spent — and is never recomputed.
// A failed attempt that leaves no attempt in any window is a
// TransferFinished instead.
type TransferAttemptFailed struct {
	Transfer    uint64    `json:"transfer"`
	FaultCode   int       `json:"fault_code"`
	FaultString string    `json:"fault_string,omitempty"`
	Window      int       `json:"window"`
	NextAttempt time.Time `json:"next_attempt"`
}

// TransferCompleteAcked records the ACS's TransferCompleteResponse.
type TransferCompleteAcked struct {
	Transfer uint64 `json:"transfer"`
}

// TransferCancelled records a CancelTransfer: no TransferComplete follows.
type TransferCancelled struct {
	Transfer uint64 `json:"transfer"`
}

// SessionStarted records the Inform about to be sent; its sequence is the
// session's ID.
type SessionStarted struct {
	Events     []InformEvent `json:"events"`
	RetryCount int           `json:"retry_count"`
	Reasons    []string      `json:"reasons,omitempty"`
	// Composed is the sequence of the state the Inform was composed from
	// (0 in older records: the SessionStarted itself). A value change
	// journaled after it is not in the Inform, even when it comes before
	// this record.
	Composed uint64 `json:"composed,omitempty"`
}

// InformAccepted records an InformResponse: Events are delivered.
type InformAccepted struct {
	Session     uint64        `json:"session"`
	Events      []InformEvent `json:"events"`
	CWMPVersion string        `json:"cwmp_version,omitempty"`
}

// SessionSucceeded records a session that ended normally (HTTP 204).
type SessionSucceeded struct {
	Session uint64 `json:"session"`
}

// SessionFailed records a failed session and the retry decision: Delay was
// drawn once, here, and is never recomputed.
type SessionFailed struct {
	Session     uint64        `json:"session"`
	Error       string        `json:"error"`
	RetryCount  int           `json:"retry_count"` // consecutive failures including this one
	Delay       time.Duration `json:"delay_ns"`
	NextAttempt time.Time     `json:"next_attempt"`
}

func (Booted) Type() Type                    { return TypeBooted }
func (AgentRestarted) Type() Type            { return TypeAgentRestarted }
func (JournalRecovered) Type() Type          { return TypeJournalRecovered }
func (SettingsChanged) Type() Type           { return TypeSettingsChanged }
func (SettingsReset) Type() Type             { return TypeSettingsReset }
func (ParametersSet) Type() Type             { return TypeParametersSet }
func (ObjectAdded) Type() Type               { return TypeObjectAdded }
func (ObjectDeleted) Type() Type             { return TypeObjectDeleted }
func (AttributesSet) Type() Type             { return TypeAttributesSet }
func (ValueChanged) Type() Type              { return TypeValueChanged }
func (ConnectionRequestReceived) Type() Type { return TypeConnectionRequestReceived }
func (InformScheduled) Type() Type           { return TypeInformScheduled }
func (ScheduledInformDue) Type() Type        { return TypeScheduledInformDue }
func (PeriodicInformDue) Type() Type         { return TypePeriodicInformDue }
func (RebootRequested) Type() Type           { return TypeRebootRequested }
func (FactoryResetRequested) Type() Type     { return TypeFactoryResetRequested }
func (RestartRequested) Type() Type          { return TypeRestartRequested }
func (FactoryResetDone) Type() Type          { return TypeFactoryResetDone }
func (TransferQueued) Type() Type            { return TypeTransferQueued }
func (TransferStarted) Type() Type           { return TypeTransferStarted }
func (TransferProgress) Type() Type          { return TypeTransferProgress }
func (TransferFetched) Type() Type           { return TypeTransferFetched }
func (TransferApplying) Type() Type          { return TypeTransferApplying }
func (TransferFinished) Type() Type          { return TypeTransferFinished }
func (TransferAttemptFailed) Type() Type     { return TypeTransferAttemptFailed }
func (TransferCompleteAcked) Type() Type     { return TypeTransferCompleteAcked }
func (TransferCancelled) Type() Type         { return TypeTransferCancelled }
func (SessionStarted) Type() Type            { return TypeSessionStarted }
func (InformAccepted) Type() Type            { return TypeInformAccepted }
func (SessionSucceeded) Type() Type          { return TypeSessionSucceeded }
func (SessionFailed) Type() Type             { return TypeSessionFailed }
func (ChangeApplying) Type() Type            { return TypeChangeApplying }
func (ChangeApplyFailed) Type() Type         { return TypeChangeApplyFailed }

// Unknown is a record of a type this build does not know (written by a newer
// cwmpd). It folds as a no-op.
type Unknown struct {
	Code    Type
	Payload []byte
}

func (u Unknown) Type() Type      { return u.Code }
func (u Unknown) Summary() string { return "unknown event type " + u.Code.String() + " (ignored)" }
