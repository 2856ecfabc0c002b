package projections

import "strings"

// CWMP event codes (digest §8).
const (
	EventBootstrap                  = "0 BOOTSTRAP"
	EventBoot                       = "1 BOOT"
	EventPeriodic                   = "2 PERIODIC"
	EventScheduled                  = "3 SCHEDULED"
	EventValueChange                = "4 VALUE CHANGE"
	EventKicked                     = "5 KICKED"
	EventConnectionRequest          = "6 CONNECTION REQUEST"
	EventTransferComplete           = "7 TRANSFER COMPLETE"
	EventDiagnosticsComplete        = "8 DIAGNOSTICS COMPLETE"
	EventRequestDownload            = "9 REQUEST DOWNLOAD"
	EventAutonomousTransferComplete = "10 AUTONOMOUS TRANSFER COMPLETE"
	EventMReboot                    = "M Reboot"
	EventMScheduleInform            = "M ScheduleInform"
	EventMDownload                  = "M Download"
	EventMUpload                    = "M Upload"
	EventMScheduleDownload          = "M ScheduleDownload"
)

// MaxInformEvents is the schema's bound on an Inform's Event array.
const MaxInformEvents = 64

// isMultiple reports the cumulative behaviour of a code: "M …" codes keep
// one entry per command key, every other code is single (digest §8.1, the
// split implemented by the modus client; Table 7 itself is [U]).
func isMultiple(code string) bool { return strings.HasPrefix(code, "M ") }

// droppedOnBoot are the codes that do not survive a reboot (digest §8.1:
// a new BOOT is raised anyway; value changes and connection requests belong
// to the boot that saw them).
var droppedOnBoot = map[string]bool{
	EventBoot:                true,
	EventValueChange:         true,
	EventConnectionRequest:   true,
	EventDiagnosticsComplete: true,
}
