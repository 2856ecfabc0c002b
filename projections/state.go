package projections

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

// SnapshotVersion is the format of State.Snapshot. A snapshot of another
// version is ignored (boot folds the whole journal instead).
const SnapshotVersion = 1

// Schedule is a ScheduleInform not yet fired, identified by the sequence of
// its InformScheduled record.
type Schedule struct {
	CommandKey string    `json:"ck"`
	Due        time.Time `json:"due"`
}

// Boot is what the agent knows of its boots.
type Boot struct {
	Count           int       `json:"count"`
	Time            time.Time `json:"time,omitempty"` // when the current boot was journaled
	BootID          string    `json:"boot_id,omitempty"`
	DeviceBoot      string    `json:"device_boot,omitempty"` // the platform's boot identity at the last Booted
	Reason          string    `json:"reason,omitempty"`
	SoftwareVersion string    `json:"software_version,omitempty"`
	// BootstrapDelivered is true once an InformResponse acknowledged
	// "0 BOOTSTRAP"; a settings reset, factory reset or ACS URL change
	// makes it false again.
	BootstrapDelivered bool `json:"bootstrap_delivered"`
	// RebootPending holds a Reboot RPC's command key from the intent until
	// the next boot turns it into "M Reboot".
	RebootPending    bool   `json:"reboot_pending,omitempty"`
	RebootCommandKey string `json:"reboot_ck,omitempty"`
	// RestartPending is a restart the device needs (after a firmware
	// install): the daemon reboots; the next boot raises no "M Reboot".
	RestartPending bool   `json:"restart_pending,omitempty"`
	RestartReason  string `json:"restart_reason,omitempty"`
	// FactoryResetPending is an intent with no outcome yet: the daemon
	// must carry it out (again) before anything else.
	FactoryResetPending bool `json:"factory_reset_pending,omitempty"`
}

// Session is the CWMP session bookkeeping.
type Session struct {
	// Open is the ID of a session started and not yet ended (0: none).
	Open uint64 `json:"open,omitempty"`
	// Composed is the sequence the open session's Inform was composed
	// from (SessionStarted.Composed, else Open): a value change raised
	// after it was not in that Inform.
	Composed uint64 `json:"composed,omitempty"`
	// LastSuccess is when the last session completed; the active
	// notification throttle counts from it (digest §9).
	LastSuccess time.Time `json:"last_success,omitempty"`
	// LastPeriodic is the due time of the newest periodic inform.
	LastPeriodic time.Time `json:"last_periodic,omitempty"`
	Succeeded    int       `json:"succeeded"`
	Failed       int       `json:"failed"`
	// LastFailedSession is the ID of the newest failed session.
	LastFailedSession uint64 `json:"last_failed_session,omitempty"`
	// RejectedConnectionRequests counts refused connection requests.
	RejectedConnectionRequests int `json:"rejected_connection_requests,omitempty"`
}

// State is every projection, folded up to Seq.
type State struct {
	Seq       uint64              `json:"seq"`
	Boot      Boot                `json:"boot"`
	Settings  Settings            `json:"settings"`
	Pending   Pending             `json:"pending"`
	Retry     Retry               `json:"retry"`
	Transfers Transfers           `json:"transfers"`
	Params    Params              `json:"params"`
	Schedules map[uint64]Schedule `json:"schedules,omitempty"`
	Session   Session             `json:"session"`
	// Recovered is set when this journal replaced a damaged one
	// (JournalRecovered): print shows it for the journal's life.
	Recovered *Recovery `json:"recovered,omitempty"`
}

// Recovery is what JournalRecovered recorded, with the record's time.
type Recovery struct {
	Time    time.Time `json:"time"`
	MovedTo string    `json:"moved_to"`
	Cause   string    `json:"cause"`
	By      string    `json:"by"`
}

// New returns the state of an empty journal.
func New() *State { return &State{Settings: Settings{}} }

// ViolationError reports a record that contradicts the state it is applied
// to (an acknowledgement of an unknown transfer, a reused instance number,
// …). The record's valid parts are applied; replay reports the violation.
type ViolationError struct {
	Seq    uint64
	Reason string
}

func (e *ViolationError) Error() string {
	return fmt.Sprintf("projections: record %d: %s", e.Seq, e.Reason)
}

// Apply folds one journal record. A record that cannot be decoded is an
// error and changes nothing; a ViolationError means it was applied as far
// as it made sense. Records must come in sequence order.
func (s *State) Apply(rec journal.Record) error {
	if s.Seq != 0 && rec.Seq != s.Seq+1 {
		return fmt.Errorf("projections: record %d after %d: out of order", rec.Seq, s.Seq)
	}
	ev, err := event.Decode(rec.Type, rec.Payload)
	if err != nil {
		return &journal.CorruptionError{Seq: rec.Seq, Err: err}
	}
	return s.ApplyEvent(rec, ev)
}

// ApplyEvent is Apply for a record its caller already decoded (replay
// decodes once for the timeline and the fold).
func (s *State) ApplyEvent(rec journal.Record, ev event.Event) error {
	if s.Seq != 0 && rec.Seq != s.Seq+1 {
		return fmt.Errorf("projections: record %d after %d: out of order", rec.Seq, s.Seq)
	}
	s.Seq = rec.Seq
	if reason := s.apply(rec, ev); reason != "" {
		return &ViolationError{Seq: rec.Seq, Reason: reason}
	}
	return nil
}

// raisePeriodic and raiseScheduled are what the triggers raise: shared by
// the fold and by Decide's look ahead (pendingAfter).
func raisePeriodic(p *Pending, seq uint64) { p.raise(EventPeriodic, "", seq, 0) }

func raiseScheduled(p *Pending, sch Schedule, seq uint64) {
	p.raise(EventScheduled, "", seq, 0)
	p.raise(EventMScheduleInform, sch.CommandKey, seq, 0)
}

func (s *State) apply(rec journal.Record, ev event.Event) string {
	seq := rec.Seq
	switch e := ev.(type) {
	case event.Booted:
		return s.booted(rec, e)
	case event.AgentRestarted:
		s.interrupted()
		s.Boot.BootID = rec.BootID
	case event.JournalRecovered:
		s.Recovered = &Recovery{Time: rec.Time, MovedTo: e.MovedTo, Cause: e.Cause, By: e.By}
	case event.SettingsChanged:
		for _, c := range e.Changes {
			s.setSetting(seq, c.Name, c.Value)
		}
	case event.SettingsReset:
		s.resetClient(seq, e.Defaults)
	case event.ParametersSet:
		reason := s.completes(e.Applies)
		for _, v := range e.Values {
			if name, ok := SettingForParameter(v.Name); ok {
				s.setSetting(seq, name, v.Value)
				continue
			}
			s.Params.set(v)
		}
		s.Params.key(e.SetKey, e.ParameterKey)
		if e.Source == event.SourceACS {
			set := make(map[string]bool, len(e.Values))
			for _, v := range e.Values {
				set[v.Name] = true
			}
			s.Pending.forget(func(name string) bool { return set[name] })
		}
		return reason
	case event.ObjectAdded:
		reason := s.completes(e.Applies)
		s.Params.key(e.SetKey, e.ParameterKey)
		if !s.Params.added(e.Object, e.Instance) {
			return fmt.Sprintf("instance %s%d reused", e.Object, e.Instance)
		}
		return reason
	case event.ObjectDeleted:
		reason := s.completes(e.Applies)
		s.Params.key(e.SetKey, e.ParameterKey)
		if !s.Params.deleted(e.Object) {
			return "delete of unknown instance " + e.Object
		}
		s.Pending.forget(func(name string) bool { return strings.HasPrefix(name, e.Object) })
		return reason
	case event.ChangeApplying:
		if prev := s.Params.Applying; !s.Params.applying(seq, e) {
			return fmt.Sprintf("change #%d left unresolved by a new one", prev.Seq)
		}
	case event.ChangeApplyFailed:
		if !s.Params.notApplied(e.Change) {
			return fmt.Sprintf("failure of change #%d, which is not being applied", e.Change)
		}
	case event.AttributesSet:
		s.Params.attributes(e.Changes)
		// The ParameterList reports changes of parameters with passive or
		// active notification (digest §7): one the ACS turned off is no
		// longer owed, nor does it ask for a session.
		off := map[string]bool{}
		for _, c := range e.Changes {
			if c.NotificationChange && c.Notification == 0 {
				off[c.Name] = true
			}
		}
		if len(off) > 0 {
			s.Pending.forget(func(name string) bool { return off[name] })
		}
	case event.ValueChanged:
		s.Pending.valueChanged(seq, e)
	case event.ConnectionRequestReceived:
		if e.Accepted {
			s.Pending.raise(EventConnectionRequest, "", seq, 0)
		} else {
			s.Session.RejectedConnectionRequests++
		}
	case event.InformScheduled:
		if s.Schedules == nil {
			s.Schedules = map[uint64]Schedule{}
		}
		s.Schedules[seq] = Schedule{CommandKey: e.CommandKey, Due: e.Due}
	case event.ScheduledInformDue:
		sch, ok := s.Schedules[e.Schedule]
		if !ok {
			return fmt.Sprintf("unknown schedule #%d fired", e.Schedule)
		}
		delete(s.Schedules, e.Schedule)
		raiseScheduled(&s.Pending, sch, seq)
	case event.PeriodicInformDue:
		s.Session.LastPeriodic = e.Due
		raisePeriodic(&s.Pending, seq)
	case event.RebootRequested:
		s.Boot.RebootPending, s.Boot.RebootCommandKey = true, e.CommandKey
	case event.RestartRequested:
		s.Boot.RestartPending, s.Boot.RestartReason = true, e.Reason
	case event.FactoryResetRequested:
		s.Boot.FactoryResetPending = true
	case event.FactoryResetDone:
		s.factoryReset(seq, e.Defaults)
	case event.TransferQueued:
		s.Transfers.queued(seq, e)
	case event.TransferStarted:
		tr := s.Transfers.get(e.Transfer)
		if tr == nil {
			return fmt.Sprintf("start of unknown transfer #%d", e.Transfer)
		}
		tr.State, tr.StartTime = TransferInProgressState, e.StartTime
	case event.TransferProgress:
		tr, f := s.Transfers.file(e.Transfer, e.File)
		if tr == nil {
			return fmt.Sprintf("progress of unknown transfer #%d", e.Transfer)
		}
		f.Offset = e.Offset
		if e.URL != "" {
			f.URL = e.URL
		}
		tr.Files[e.File] = f
	case event.TransferFetched:
		tr, f := s.Transfers.file(e.Transfer, e.File)
		if tr == nil {
			return fmt.Sprintf("fetch of unknown transfer #%d", e.Transfer)
		}
		f.Fetched, f.Path, f.Size, f.SHA256, f.Offset = true, e.Path, e.Size, e.SHA256, e.Size
		if e.URL != "" {
			f.URL = e.URL
		}
		tr.Files[e.File] = f
	case event.TransferApplying:
		tr := s.Transfers.get(e.Transfer)
		if tr == nil {
			return fmt.Sprintf("apply of unknown transfer #%d", e.Transfer)
		}
		tr.State = TransferApplyingState
	case event.TransferFinished:
		if !s.Transfers.finished(e) {
			return fmt.Sprintf("finish of unknown transfer #%d", e.Transfer)
		}
		tr := s.Transfers.get(e.Transfer)
		s.Pending.raise(EventTransferComplete, "", seq, 0)
		s.Pending.raise(mMethod(tr.Request.Kind), tr.Request.CommandKey, seq, tr.ID)
	case event.TransferAttemptFailed:
		return s.Transfers.attemptFailed(e)
	case event.TransferCompleteAcked:
		tr := s.Transfers.get(e.Transfer)
		if tr == nil || tr.State != TransferFinishedState {
			return fmt.Sprintf("acknowledgement of transfer #%d, which owes no TransferComplete", e.Transfer)
		}
		s.Transfers.remove(e.Transfer)
		s.Transfers.Acked++
		s.Pending.transferAcked(e.Transfer, s.Transfers.HasOwed())
	case event.TransferCancelled:
		tr := s.Transfers.get(e.Transfer)
		if tr == nil {
			return fmt.Sprintf("cancel of unknown transfer #%d", e.Transfer)
		}
		if tr.State != TransferQueuedState {
			// Work under way cannot be cancelled (9021): its outcome is
			// still owed to the ACS.
			return fmt.Sprintf("cancel of transfer #%d, already %s", e.Transfer, tr.State)
		}
		s.Transfers.remove(e.Transfer)
		s.Pending.transferAcked(e.Transfer, s.Transfers.HasOwed())
	case event.SessionStarted:
		prev := s.Session.Open
		s.Session.Open = seq
		s.Session.Composed = seq
		if e.Composed != 0 && e.Composed < seq {
			s.Session.Composed = e.Composed
		}
		if prev != 0 {
			return fmt.Sprintf("session started while session #%d is open", prev)
		}
	case event.InformAccepted:
		if e.Session != s.Session.Open {
			return fmt.Sprintf("InformResponse for session #%d, open is #%d", e.Session, s.Session.Open)
		}
		s.Pending.delivered(e.Session, s.Session.Composed, e.Events, s.Transfers.HasOwed())
		for _, d := range e.Events {
			if d.Code == EventBootstrap && !s.Pending.Has(EventBootstrap, "") {
				s.Boot.BootstrapDelivered = true
			}
		}
	case event.SessionSucceeded:
		s.endSession(e.Session)
		s.Session.Succeeded++
		s.Session.LastSuccess = rec.Time
		s.Retry.reset()
	case event.SessionFailed:
		s.endSession(e.Session)
		s.Session.Failed++
		s.Session.LastFailedSession = e.Session
		s.Pending.failed(e.Session)
		s.Retry.failed(e)
	case event.Unknown:
		// A newer build's record: nothing this build can fold.
	}
	return ""
}

func (s *State) endSession(id uint64) {
	if s.Session.Open == id {
		s.Session.Open, s.Session.Composed = 0, 0
	}
}

// booted applies a start of the agent. A session left open by a crash or
// power cut counts as failed (digest §16: derived from SessionStarted with
// no end).
// interrupted ends the session a stopped agent left open: it failed.
func (s *State) interrupted() {
	if s.Session.Open != 0 {
		s.Pending.failed(s.Session.Open)
		s.Session.Open, s.Session.Composed = 0, 0
		s.Session.Failed++
	}
}

func (s *State) booted(rec journal.Record, e event.Booted) string {
	s.interrupted()
	s.Boot.Count++
	s.Boot.BootID, s.Boot.Reason, s.Boot.SoftwareVersion = rec.BootID, e.Reason, e.SoftwareVersion
	s.Boot.DeviceBoot = e.DeviceBoot
	s.Boot.Time = rec.Time
	s.Pending.onBoot()
	s.Retry.reset()
	if !s.Boot.BootstrapDelivered {
		s.Pending.raise(EventBootstrap, "", rec.Seq, 0)
	}
	s.Pending.raise(EventBoot, "", rec.Seq, 0)
	if s.Boot.RebootPending {
		s.Pending.raise(EventMReboot, s.Boot.RebootCommandKey, rec.Seq, 0)
		s.Boot.RebootPending, s.Boot.RebootCommandKey = false, ""
	}
	s.Boot.RestartPending, s.Boot.RestartReason = false, ""
	return ""
}

// setSetting applies one setting. A changed ACS URL means a new ACS: the
// next session is a BOOTSTRAP, and what the old ACS asked for and has not
// started is dropped (digest §8.2). Disabling the client resets the retry
// state (seed: the client stops; nothing is being retried).
func (s *State) setSetting(seq uint64, name, value string) {
	if s.Settings == nil {
		s.Settings = Settings{}
	}
	old, had := s.Settings[name]
	s.Settings[name] = value
	switch {
	case name == SettingACSURL && value != old && (had || value != ""):
		s.Boot.BootstrapDelivered = false
		s.Schedules = nil
		s.Transfers.dropUnstarted()
		s.Pending.removeWhere(func(e PendingEvent) bool {
			return e.Transfer != 0 && s.Transfers.get(e.Transfer) == nil ||
				e.Code == EventTransferComplete && !s.Transfers.HasOwed()
		})
		if s.Session.Open != 0 && s.Pending.raisedBy(EventBootstrap, s.Session.Open) {
			// The BOOTSTRAP still pending is in the open session's Inform:
			// it goes with that session's InformAccepted, wherever the
			// journal puts that record, so the new one is raised as if it
			// were gone and discards everything else (digest §8.1).
			s.Pending.clear()
		}
		s.Pending.raise(EventBootstrap, "", seq, 0)
		s.Retry.reset()
	case name == SettingEnabled && value != "true":
		s.Retry.reset()
	}
}

// resetClient is reset-tr069-config: the client's configuration and state
// are forgotten, the device's configuration (journal-backed parameter
// values and object instances) is kept. Attributes and the ParameterKey are
// CWMP state, so they go.
func (s *State) resetClient(seq uint64, defaults []event.Setting) {
	s.Settings = settingsFrom(defaults)
	s.Boot.BootstrapDelivered = false
	s.Pending.clear()
	s.Retry.reset()
	s.Schedules = nil
	// A transfer already under way finishes (its work cannot be undone
	// halfway); queued ones and owed reports are forgotten.
	s.Transfers.dropUnstarted()
	s.Params.Attributes = nil
	s.Params.ParameterKey = ""
	s.Params.clientReset()
	s.Pending.raise(EventBootstrap, "", seq, 0)
}

// completes resolves the intent a change's record names (Applies), if any,
// and returns the violation, "" when there is none.
func (s *State) completes(applies uint64) string {
	if applies == 0 || s.Params.resolved(applies) {
		return ""
	}
	return fmt.Sprintf("completes change #%d, which is not being applied", applies)
}

// factoryReset is the reset point of a factory reset (digest §11.2): every
// projection forgets, except the boot count and the instance numbers ever
// used. The Booted that follows adds "1 BOOT" to the BOOTSTRAP.
func (s *State) factoryReset(seq uint64, defaults []event.Setting) {
	s.resetClient(seq, defaults)
	s.Transfers = Transfers{Acked: s.Transfers.Acked} // the device forgets everything
	s.Params.factoryReset()
	s.Boot.FactoryResetPending = false
	s.Boot.RebootPending, s.Boot.RebootCommandKey = false, ""
}

// Status returns the seed's read-only settings.
func (s *State) Status() Status {
	st := Status{LastSessionError: s.Retry.LastError, RetryCount: s.Retry.Failures}
	if r := s.Recovered; r != nil {
		st.JournalRecovered = fmt.Sprintf("%s: the previous journal was damaged (%s); %s moved it to %s and started this one afresh",
			r.Time.UTC().Format(time.RFC3339), r.Cause, r.By, r.MovedTo)
	}
	switch {
	case !s.Settings.Bool(SettingEnabled, true):
		st.Status = StatusDisabled
	case s.Settings.Get(SettingACSURL) == "":
		st.Status = StatusWaitingURL
	default:
		st.Status = StatusRunning
	}
	return st
}

// ScheduleIDs returns the pending schedules' IDs, oldest first.
func (s *State) ScheduleIDs() []uint64 {
	if len(s.Schedules) == 0 {
		return nil // the usual case, asked on every decision
	}
	out := make([]uint64, 0, len(s.Schedules))
	for id := range s.Schedules {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Snapshot serialises the state with the sequence it covers.
func (s *State) Snapshot() ([]byte, error) {
	b, err := json.Marshal(struct {
		Version int    `json:"version"`
		State   *State `json:"state"`
	}{SnapshotVersion, s})
	if err != nil {
		return nil, fmt.Errorf("projections: snapshot: %w", err)
	}
	return b, nil
}

// ErrSnapshotVersion means a snapshot from another format version.
var ErrSnapshotVersion = fmt.Errorf("projections: snapshot of another version")

// Restore rebuilds a state from Snapshot's output.
func Restore(b []byte) (*State, error) {
	var v struct {
		Version int    `json:"version"`
		State   *State `json:"state"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("projections: restore: %w", err)
	}
	if v.Version != SnapshotVersion || v.State == nil {
		return nil, ErrSnapshotVersion
	}
	if v.State.Settings == nil {
		v.State.Settings = Settings{}
	}
	return v.State, nil
}

// RestoreAt is Restore of a snapshot filed under seq, refusing a state
// at another seq: ahead of it, a fold would wait for ever for records it
// already holds; behind a trimmed journal's first record, it would ask
// for records retention dropped. The agent's start and offline replay
// both take such a snapshot for unusable.
func RestoreAt(b []byte, seq uint64) (*State, error) {
	s, err := Restore(b)
	if err != nil {
		return nil, err
	}
	if s.Seq != seq {
		return nil, fmt.Errorf("projections: snapshot filed at seq %d holds the state at seq %d", seq, s.Seq)
	}
	return s, nil
}

// SnapshotName is the journal snapshot the daemon keeps of State.
const SnapshotName = "projections"
