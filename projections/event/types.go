package event

import "strconv"

// Type numbers an event kind. Numbers are stored in journals: never reuse or
// renumber one.
type Type uint16

const (
	TypeBooted                    Type = 1
	TypeSettingsChanged           Type = 2
	TypeSettingsReset             Type = 3
	TypeParametersSet             Type = 4
	TypeObjectAdded               Type = 5
	TypeObjectDeleted             Type = 6
	TypeAttributesSet             Type = 7
	TypeValueChanged              Type = 8
	TypeConnectionRequestReceived Type = 9
	TypeInformScheduled           Type = 10
	TypeScheduledInformDue        Type = 11
	TypePeriodicInformDue         Type = 12
	TypeRebootRequested           Type = 13
	TypeFactoryResetRequested     Type = 14
	TypeFactoryResetDone          Type = 15
	TypeTransferQueued            Type = 16
	TypeTransferStarted           Type = 17
	TypeTransferProgress          Type = 18
	TypeTransferFetched           Type = 19
	TypeTransferApplying          Type = 20
	TypeTransferFinished          Type = 21
	TypeTransferCompleteAcked     Type = 22
	TypeTransferCancelled         Type = 23
	TypeSessionStarted            Type = 24
	TypeInformAccepted            Type = 25
	TypeSessionSucceeded          Type = 26
	TypeSessionFailed             Type = 27
	TypeRestartRequested          Type = 28
	TypeAgentRestarted            Type = 29
	TypeTransferAttemptFailed     Type = 30
	TypeChangeApplying            Type = 31
	TypeChangeApplyFailed         Type = 32
	TypeJournalRecovered          Type = 33
)

var typeNames = map[Type]string{
	TypeBooted:                    "Booted",
	TypeAgentRestarted:            "AgentRestarted",
	TypeJournalRecovered:          "JournalRecovered",
	TypeSettingsChanged:           "SettingsChanged",
	TypeSettingsReset:             "SettingsReset",
	TypeParametersSet:             "ParametersSet",
	TypeObjectAdded:               "ObjectAdded",
	TypeObjectDeleted:             "ObjectDeleted",
	TypeAttributesSet:             "AttributesSet",
	TypeValueChanged:              "ValueChanged",
	TypeConnectionRequestReceived: "ConnectionRequestReceived",
	TypeInformScheduled:           "InformScheduled",
	TypeScheduledInformDue:        "ScheduledInformDue",
	TypePeriodicInformDue:         "PeriodicInformDue",
	TypeRebootRequested:           "RebootRequested",
	TypeFactoryResetRequested:     "FactoryResetRequested",
	TypeFactoryResetDone:          "FactoryResetDone",
	TypeTransferQueued:            "TransferQueued",
	TypeTransferStarted:           "TransferStarted",
	TypeTransferProgress:          "TransferProgress",
	TypeTransferFetched:           "TransferFetched",
	TypeTransferApplying:          "TransferApplying",
	TypeTransferFinished:          "TransferFinished",
	TypeTransferAttemptFailed:     "TransferAttemptFailed",
	TypeTransferCompleteAcked:     "TransferCompleteAcked",
	TypeTransferCancelled:         "TransferCancelled",
	TypeSessionStarted:            "SessionStarted",
	TypeInformAccepted:            "InformAccepted",
	TypeSessionSucceeded:          "SessionSucceeded",
	TypeSessionFailed:             "SessionFailed",
	TypeRestartRequested:          "RestartRequested",
	TypeChangeApplying:            "ChangeApplying",
	TypeChangeApplyFailed:         "ChangeApplyFailed",
}

// String returns the type's stable name, or "Type(N)" for one this build
// does not know.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Known reports whether this build knows the type.
func (t Type) Known() bool { _, ok := typeNames[t]; return ok }

// Name is a journal.ExportOptions.Name adapter.
func Name(t uint16) string { return Type(t).String() }

// TypeByName is the inverse of String for known types.
func TypeByName(name string) (Type, bool) {
	for t, n := range typeNames {
		if n == name {
			return t, true
		}
	}
	return 0, false
}
