package event

import (
	"fmt"
	"strings"
	"time"
)

func events(es []InformEvent) string {
	parts := make([]string, len(es))
	for i, e := range es {
		if e.CommandKey != "" {
			parts[i] = fmt.Sprintf("%s(%s)", e.Code, e.CommandKey)
		} else {
			parts[i] = e.Code
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func settings(ss []Setting) string {
	parts := make([]string, len(ss))
	for i, s := range redactSettings(ss) {
		parts[i] = s.Name + "=" + s.Value
	}
	return strings.Join(parts, " ")
}

func values(vs []ParamValue) string {
	parts := make([]string, len(vs))
	for i, v := range redactValues(vs) {
		parts[i] = v.Name + "=" + v.Value
	}
	return strings.Join(parts, " ")
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

func key(set bool, k string) string {
	if !set {
		return ""
	}
	return fmt.Sprintf(" ParameterKey=%q", k)
}

func (e Booted) Summary() string {
	return fmt.Sprintf("reason=%s software=%s", e.Reason, e.SoftwareVersion)
}
func (e AgentRestarted) Summary() string { return "the device did not boot: " + e.DeviceBoot }
func (e JournalRecovered) Summary() string {
	return fmt.Sprintf("by %s: the previous journal was damaged (%s) and moved to %s", e.By, e.Cause, e.MovedTo)
}
func (e SettingsChanged) Summary() string {
	return fmt.Sprintf("by %s: %s", e.Source, settings(e.Changes))
}
func (e SettingsReset) Summary() string { return "to defaults: " + settings(e.Defaults) }
func applies(seq uint64) string {
	if seq == 0 {
		return ""
	}
	return fmt.Sprintf(" (applied: change #%d)", seq)
}

func (e ParametersSet) Summary() string {
	return fmt.Sprintf("by %s: %s%s%s", e.Source, values(e.Values), key(e.SetKey, e.ParameterKey), applies(e.Applies))
}
func (e ObjectAdded) Summary() string {
	return fmt.Sprintf("by %s: %s%d.%s%s", e.Source, e.Object, e.Instance, key(e.SetKey, e.ParameterKey), applies(e.Applies))
}
func (e ObjectDeleted) Summary() string {
	return fmt.Sprintf("by %s: %s%s%s", e.Source, e.Object, key(e.SetKey, e.ParameterKey), applies(e.Applies))
}
func (e ChangeApplying) Summary() string {
	switch e.Kind {
	case ChangeAdd:
		return fmt.Sprintf("add %s%d.%s", e.Object, e.Instance, key(true, e.ParameterKey))
	case ChangeDelete:
		return fmt.Sprintf("delete %s%s", e.Object, key(true, e.ParameterKey))
	}
	return fmt.Sprintf("%s %s%s", e.Kind, values(e.Values), key(true, e.ParameterKey))
}
func (e ChangeApplyFailed) Summary() string {
	return fmt.Sprintf("change #%d not applied: %s", e.Change, e.Error)
}
func (e AttributesSet) Summary() string {
	parts := make([]string, 0, len(e.Changes))
	for _, c := range e.Changes {
		s := c.Name
		if c.NotificationChange {
			s += fmt.Sprintf(" notification=%d", c.Notification)
		}
		if c.AccessListChange {
			s += fmt.Sprintf(" access=%v", c.AccessList)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
func (e ValueChanged) Summary() string {
	kind := "passive"
	if e.Active {
		kind = "active"
	}
	return kind + ": " + values(e.Changes)
}
func (e ConnectionRequestReceived) Summary() string {
	if e.Accepted {
		return "accepted from " + e.Remote
	}
	return fmt.Sprintf("rejected from %s: %s", e.Remote, e.Reason)
}
func (e InformScheduled) Summary() string {
	return fmt.Sprintf("ck=%q in %ds, due %s", e.CommandKey, e.DelaySeconds, ts(e.Due))
}
func (e ScheduledInformDue) Summary() string { return fmt.Sprintf("schedule #%d", e.Schedule) }
func (e PeriodicInformDue) Summary() string  { return "due " + ts(e.Due) }
func (e RebootRequested) Summary() string {
	return fmt.Sprintf("ck=%q by %s", e.CommandKey, e.Source)
}
func (e FactoryResetRequested) Summary() string { return "by " + e.Source }
func (e FactoryResetDone) Summary() string      { return "defaults: " + settings(e.Defaults) }
func (e TransferQueued) Summary() string {
	s := fmt.Sprintf("%s ck=%q type=%q url=%s", e.Kind, e.CommandKey, e.FileType, RedactURL(e.URL))
	if e.FileSize > 0 {
		s += fmt.Sprintf(" size=%d", e.FileSize)
	}
	if e.DelaySeconds > 0 {
		s += fmt.Sprintf(" not before %s", ts(e.NotBefore))
	}
	return s
}
func (e TransferStarted) Summary() string {
	return fmt.Sprintf("transfer #%d at %s", e.Transfer, ts(e.StartTime))
}
func (e TransferProgress) Summary() string {
	return fmt.Sprintf("transfer #%d file %d at byte %d", e.Transfer, e.File, e.Offset)
}
func (e TransferFetched) Summary() string {
	return fmt.Sprintf("transfer #%d file %d: %d bytes sha256=%.12s", e.Transfer, e.File, e.Size, e.SHA256)
}
func (e TransferApplying) Summary() string { return fmt.Sprintf("transfer #%d", e.Transfer) }
func (e TransferFinished) Summary() string {
	if e.FaultCode == 0 {
		return fmt.Sprintf("transfer #%d ok (%s → %s)", e.Transfer, ts(e.StartTime), ts(e.CompleteTime))
	}
	return fmt.Sprintf("transfer #%d fault %d %q", e.Transfer, e.FaultCode, e.FaultString)
}
func (e TransferAttemptFailed) Summary() string {
	return fmt.Sprintf("transfer #%d fault %d %q in window %d; next attempt %s", e.Transfer, e.FaultCode, e.FaultString, e.Window+1, ts(e.NextAttempt))
}
func (e TransferCompleteAcked) Summary() string { return fmt.Sprintf("transfer #%d", e.Transfer) }
func (e TransferCancelled) Summary() string     { return fmt.Sprintf("transfer #%d", e.Transfer) }
func (e SessionStarted) Summary() string {
	return fmt.Sprintf("events %s retry=%d", events(e.Events), e.RetryCount)
}
func (e InformAccepted) Summary() string {
	return fmt.Sprintf("session #%d delivered %s", e.Session, events(e.Events))
}
func (e SessionSucceeded) Summary() string { return fmt.Sprintf("session #%d", e.Session) }
func (e SessionFailed) Summary() string {
	return fmt.Sprintf("session #%d: %s; retry #%d in %s", e.Session, e.Error, e.RetryCount, e.Delay)
}
func (e RestartRequested) Summary() string { return "for " + e.Reason }
