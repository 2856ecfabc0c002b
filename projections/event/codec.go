package event

import (
	"encoding/json"
	"fmt"
)

// Encode returns the journal type number and payload of e.
func Encode(e Event) (uint16, []byte, error) {
	if u, ok := e.(Unknown); ok {
		return uint16(u.Code), u.Payload, nil
	}
	if !e.Type().Known() {
		return 0, nil, fmt.Errorf("event: encode: unknown type %v", e.Type())
	}
	if b, ok := fastEncode(e); ok {
		return uint16(e.Type()), b, nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return 0, nil, fmt.Errorf("event: encode %v: %w", e.Type(), err)
	}
	return uint16(e.Type()), b, nil
}

// MustEncode is Encode for events built by the program itself, whose
// encoding cannot fail (plain structs of strings, numbers and times).
func MustEncode(e Event) (uint16, []byte) {
	t, b, err := Encode(e)
	if err != nil {
		panic(err) // a programming error: every known event is encodable
	}
	return t, b
}

func decodeAs[T Event](payload []byte) (Event, error) {
	var v T
	if err := json.Unmarshal(payload, &v); err != nil {
		return nil, err
	}
	return v, nil
}

var decoders = map[Type]func([]byte) (Event, error){
	TypeBooted:                    decodeAs[Booted],
	TypeSettingsChanged:           decodeAs[SettingsChanged],
	TypeSettingsReset:             decodeAs[SettingsReset],
	TypeParametersSet:             decodeAs[ParametersSet],
	TypeObjectAdded:               decodeAs[ObjectAdded],
	TypeObjectDeleted:             decodeAs[ObjectDeleted],
	TypeAttributesSet:             decodeAs[AttributesSet],
	TypeValueChanged:              decodeAs[ValueChanged],
	TypeConnectionRequestReceived: decodeAs[ConnectionRequestReceived],
	TypeInformScheduled:           decodeAs[InformScheduled],
	TypeScheduledInformDue:        decodeAs[ScheduledInformDue],
	TypePeriodicInformDue:         decodeAs[PeriodicInformDue],
	TypeRebootRequested:           decodeAs[RebootRequested],
	TypeFactoryResetRequested:     decodeAs[FactoryResetRequested],
	TypeFactoryResetDone:          decodeAs[FactoryResetDone],
	TypeAgentRestarted:            decodeAs[AgentRestarted],
	TypeJournalRecovered:          decodeAs[JournalRecovered],
	TypeTransferQueued:            decodeAs[TransferQueued],
	TypeTransferStarted:           decodeAs[TransferStarted],
	TypeTransferProgress:          decodeAs[TransferProgress],
	TypeTransferFetched:           decodeAs[TransferFetched],
	TypeTransferApplying:          decodeAs[TransferApplying],
	TypeTransferFinished:          decodeAs[TransferFinished],
	TypeTransferAttemptFailed:     decodeAs[TransferAttemptFailed],
	TypeTransferCompleteAcked:     decodeAs[TransferCompleteAcked],
	TypeTransferCancelled:         decodeAs[TransferCancelled],
	TypeSessionStarted:            decodeAs[SessionStarted],
	TypeInformAccepted:            decodeAs[InformAccepted],
	TypeSessionSucceeded:          decodeAs[SessionSucceeded],
	TypeSessionFailed:             decodeAs[SessionFailed],
	TypeRestartRequested:          decodeAs[RestartRequested],
	TypeChangeApplying:            decodeAs[ChangeApplying],
	TypeChangeApplyFailed:         decodeAs[ChangeApplyFailed],
}

// Decode turns a journal (type, payload) pair into an Event. An unknown type
// is not an error (see Unknown); a payload that is not a JSON object of the
// expected shape is.
func Decode(typ uint16, payload []byte) (Event, error) {
	if e, ok := fastDecode(Type(typ), payload); ok {
		return e, nil
	}
	dec, ok := decoders[Type(typ)]
	if !ok {
		return Unknown{Code: Type(typ), Payload: append([]byte(nil), payload...)}, nil
	}
	e, err := dec(payload)
	if err != nil {
		return nil, fmt.Errorf("event: decode %v: %w", Type(typ), err)
	}
	return e, nil
}
