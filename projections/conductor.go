package projections

import (
	"sort"
	"strconv"
	"time"

	"github.com/cwmpd/cwmpd/projections/event"
)

// Journal-backed ManagementServer parameters the conductor reads.
const (
	ParamPeriodicInformTime   = "Device.ManagementServer.PeriodicInformTime"
	ParamActiveNotifyThrottle = "Device.ManagementServer.DefaultActiveNotificationThrottle"
	ParamRetryMinimumWait     = "Device.ManagementServer.CWMPRetryMinimumWaitInterval"
	ParamRetryMultiplier      = "Device.ManagementServer.CWMPRetryIntervalMultiplier"
)

// DefaultPeriodicInterval applies when periodic-inform-interval is unset.
const DefaultPeriodicInterval = time.Hour

// Decision is what the conductor should do now.
type Decision struct {
	// Raise are trigger events due now. When Start is also set, the
	// session starts on them: the conductor journals them in the same
	// durable append as SessionStarted (one sync, not two), the Inform
	// carrying what they raise (State.InformEventsAfter). Otherwise (a
	// failed session's retry wait) it journals them alone and decides
	// again.
	Raise []event.Event
	// Start means a session should start now.
	Start bool
	// Transfer is a transfer to carry forward now (its ID), when no
	// session is needed: one queued whose time has come, or one a crash
	// left in progress.
	Transfer uint64
	// Reasons explain Start (or what Wake waits for), for the logs.
	Reasons []string
	// Wake is when to decide again at the latest (zero: only when a new
	// record arrives).
	Wake time.Time
}

// Decide is the conductor's rule: given the state and the current time,
// what happens next. It is a pure function, table-tested without a clock.
//
// Rules (decisions on [U] points of digest §9/§10 are marked):
//   - nothing runs while the client is disabled or has no ACS URL;
//   - a periodic inform is due at PeriodicInformTime + n·Interval (phase
//     given) or, when the time is unknown, one interval after the last
//     successful session or the boot — the seed's "timer is started after
//     every successful session";
//   - a ScheduleInform fires at its due time;
//   - a session is needed while any event is pending or a TransferComplete
//     is owed;
//   - after a failure the session waits for the journaled NextAttempt. A
//     connection request arriving during that wait starts a session at
//     once (QA Cafe's reading; the ACS is asking now, and connection
//     requests are rate-limited anyway); every other new trigger waits and
//     rides in the retry ([U], decided);
//   - a session whose only reason is an active value change waits until
//     DefaultActiveNotificationThrottle seconds after the last successful
//     session (digest §9).
func Decide(s *State, now time.Time) Decision {
	var d Decision
	if s.Status().Status != StatusRunning {
		return d
	}
	if s.Boot.FactoryResetPending || s.Boot.RebootPending || s.Boot.RestartPending {
		// The daemon carries these intents out first; no new session.
		return d
	}
	wake := func(t time.Time) {
		if !t.IsZero() && (d.Wake.IsZero() || t.Before(d.Wake)) {
			d.Wake = t
		}
	}

	// Due triggers.
	if due, ok := s.NextPeriodic(); ok {
		if !due.After(now) {
			d.Raise = append(d.Raise, event.PeriodicInformDue{Due: due})
		} else {
			wake(due)
		}
	}
	for _, id := range s.ScheduleIDs() {
		sch := s.Schedules[id]
		if !sch.Due.After(now) {
			d.Raise = append(d.Raise, event.ScheduledInformDue{Schedule: id})
		} else {
			wake(sch.Due)
		}
	}
	if len(d.Raise) > 0 {
		// Would the state with the triggers folded start a session? Only
		// the pending events differ for what follows: the triggers' other
		// effects (the last periodic time, the fired schedules) matter to
		// the trigger part above, which they make not due.
		after := s.pendingAfter(d.Raise)
		var then Decision
		s.decideSession(&then, after, now, func(time.Time) {})
		d.Start, d.Reasons = then.Start, then.Reasons
		d.Wake = time.Time{}
		return d
	}
	s.decideSession(&d, &s.Pending, now, wake)
	return d
}

// decideSession is the second half of Decide: is a session needed with
// pending events p, and why; else what transfer or wake-up.
func (s *State) decideSession(d *Decision, p *Pending, now time.Time, wake func(time.Time)) {
	var reasons []string
	onlyActive := true
	for _, e := range p.Events {
		reasons = append(reasons, e.Code)
		if e.Code != EventValueChange || !p.ActiveChange {
			onlyActive = false
		}
	}
	if s.Transfers.HasOwed() {
		reasons = append(reasons, "TransferComplete owed")
		onlyActive = false
	}
	retrying := s.Retry.Failures > 0
	if retrying {
		// A session that failed after its InformResponse delivered every
		// event still failed: D§9 keeps retrying until one succeeds, with
		// an empty Event array if nothing is left (D§7). And a retry is
		// not a session "only for active notifications": the throttle
		// below does not hold it back (D§9).
		reasons = append(reasons, "retry")
		onlyActive = false
	}
	passiveOnly := len(p.Events) == 1 && p.Events[0].Code == EventValueChange && !p.ActiveChange
	if len(reasons) == 0 || (passiveOnly && !retrying && !s.Transfers.HasOwed()) {
		// Passive changes alone ride with the next session, they do not
		// start one; a transfer that is due still goes ahead meanwhile.
		d.Transfer = s.dueTransfer(now, wake)
		return
	}
	d.Reasons = dedupe(reasons)

	if s.Retry.Failures > 0 && now.Before(s.Retry.NextAttempt) {
		if p.Has(EventConnectionRequest, "") && raisedAfterFailure(s, p) {
			d.Start = true
			d.Reasons = append(d.Reasons, "connection request during retry wait")
			return
		}
		wake(s.Retry.NextAttempt)
		d.Transfer = s.dueTransfer(now, wake)
		return
	}
	if onlyActive {
		throttle := time.Duration(s.paramUint(ParamActiveNotifyThrottle, 0)) * time.Second
		if next := s.Session.LastSuccess.Add(throttle); throttle > 0 && !s.Session.LastSuccess.IsZero() && now.Before(next) {
			wake(next)
			d.Transfer = s.dueTransfer(now, wake)
			return
		}
	}
	d.Start = true
}

// pendingAfter is a copy of the pending events with the triggers raise
// folded in, as the fold will do when they are journaled next (their
// sequence numbers following s.Seq). s is not changed.
func (s *State) pendingAfter(raise []event.Event) *Pending {
	p := &Pending{Events: append([]PendingEvent(nil), s.Pending.Events...), Changed: s.Pending.Changed, ActiveChange: s.Pending.ActiveChange}
	seq := s.Seq
	for _, ev := range raise {
		seq++
		switch e := ev.(type) {
		case event.PeriodicInformDue:
			raisePeriodic(p, seq)
		case event.ScheduledInformDue:
			if sch, ok := s.Schedules[e.Schedule]; ok {
				raiseScheduled(p, sch, seq)
			}
		}
	}
	return p
}

// LiveTriggers is triggers without those the state no longer backs: a
// schedule removed since Decide (a settings reset, a new ACS URL) would be
// folded as a violation and announce an event nothing raised.
func (s *State) LiveTriggers(triggers []event.Event) []event.Event {
	var out []event.Event
	for _, ev := range triggers {
		if e, ok := ev.(event.ScheduledInformDue); ok {
			if _, known := s.Schedules[e.Schedule]; !known {
				continue
			}
		}
		out = append(out, ev)
	}
	return out
}

// InformEventsAfter is the Event array of an Inform sent once the triggers
// raise are journaled: what Pending.InformEvents will return then.
func (s *State) InformEventsAfter(raise []event.Event) []event.InformEvent {
	return s.pendingAfter(raise).InformEvents()
}

// dueTransfer returns the oldest transfer to carry forward now: one a
// crash left applying, else one in progress or queued whose time has come;
// a later time becomes a wake-up. Finished ones wait for their
// TransferComplete, which is a session's business.
//
// A ScheduleDownload's time is its windows (D§11.9, WindowAt): queued or in
// progress, it is carried forward only while a window is open — after a
// restart too — and between windows it waits for the next one's start
// (the Runner stops it at a window's end). Once every window has closed it
// is due again, and the Runner reports it with 9020. One applying goes on
// at once: its install was committed inside a window, and the platform is
// asked again whether it happened (actions/doc.go). A failed attempt that
// is to be retried (TransferAttemptFailed, the windows' MaxRetries) waits
// for its journaled NextAttempt as well.
func (s *State) dueTransfer(now time.Time, wake func(time.Time)) uint64 {
	list := s.Transfers.List()
	// An install or apply a crash cut short goes first, whatever its
	// age: its outcome is settled by asking the platform, and no other
	// transfer may change the device before that.
	for _, tr := range list {
		if tr.State == TransferApplyingState {
			return tr.ID
		}
	}
	for _, tr := range list {
		switch tr.State {
		case TransferInProgressState, TransferQueuedState:
			phase, at := WindowAt(tr.Request, now)
			if phase != WindowsOver && now.Before(tr.NextAttempt) {
				// A failed attempt is retried at its journaled time
				// (TransferAttemptFailed); once every window has closed
				// nothing is left to wait for: the Runner reports it.
				wake(tr.NextAttempt)
				continue
			}
			switch phase {
			case InWindow, WindowsOver:
				return tr.ID
			case BeforeWindow:
				wake(at)
				continue
			}
			if tr.State == TransferInProgressState || !tr.Request.NotBefore.After(now) {
				return tr.ID
			}
			wake(tr.Request.NotBefore)
		}
	}
	return 0
}

// raisedAfterFailure: the pending connection request came after the last
// failed session (an old one was already dropped by that failure).
func raisedAfterFailure(s *State, p *Pending) bool {
	for _, e := range p.Events {
		if e.Code == EventConnectionRequest {
			return e.Raised > s.Session.LastFailedSession
		}
	}
	return false
}

// NextPeriodic returns when the next periodic inform is due, if periodic
// informs are enabled.
func (s *State) NextPeriodic() (time.Time, bool) {
	if !s.Settings.Bool(SettingPeriodicInformEnabled, true) {
		return time.Time{}, false
	}
	interval := time.Duration(s.Settings.Uint(SettingPeriodicInformInterval, uint64(DefaultPeriodicInterval/time.Second))) * time.Second
	if interval <= 0 {
		return time.Time{}, false
	}
	// The reference: the newest of boot, last success and last periodic
	// fire. Using the last fire keeps one PERIODIC per interval even while
	// sessions fail.
	ref := s.Boot.Time
	for _, t := range []time.Time{s.Session.LastSuccess, s.Session.LastPeriodic} {
		if t.After(ref) {
			ref = t
		}
	}
	if ref.IsZero() {
		return time.Time{}, false
	}
	phase, ok := s.periodicPhase()
	if !ok {
		return ref.Add(interval), true
	}
	// The first phase + n·interval strictly after ref, in whole seconds:
	// time.Duration saturates at ±292 years, and the ACS may set any year.
	iv := int64(interval / time.Second)
	diff := ref.Unix() - phase.Unix()
	n := diff / iv
	if diff < 0 && diff%iv != 0 {
		n-- // floor division
	}
	next := time.Unix(phase.Unix()+(n+1)*iv, int64(phase.Nanosecond())).UTC()
	if !next.After(ref) {
		next = next.Add(interval)
	}
	return next, true
}

func (s *State) periodicPhase() (time.Time, bool) {
	v, ok := s.Params.Values[ParamPeriodicInformTime]
	if !ok || v.Value == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v.Value)
	if err != nil || t.Year() <= 1 {
		return time.Time{}, false // Unknown Time: the CPE picks the reference
	}
	return t, true
}

func (s *State) paramUint(name string, def uint64) uint64 {
	v, ok := s.Params.Values[name]
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(v.Value, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// RetryPolicy returns CWMPRetryMinimumWaitInterval and
// CWMPRetryIntervalMultiplier (0 when unset: the defaults apply).
func (s *State) RetryPolicy() (minWait, multiplier uint32) {
	return uint32(s.paramUint(ParamRetryMinimumWait, 0)), uint32(s.paramUint(ParamRetryMultiplier, 0))
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
