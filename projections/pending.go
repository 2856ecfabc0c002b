package projections

import "github.com/cwmpd/cwmpd/projections/event"

// PendingEvent is one undelivered CWMP event.
type PendingEvent struct {
	Code       string `json:"code"`
	CommandKey string `json:"ck,omitempty"`
	// Raised is the sequence of the newest record that raised (or, for a
	// single event, re-raised) it. An InformAccepted removes an entry only
	// when the entry was raised before its session's Inform was composed,
	// so an event raised during a session is never lost.
	Raised uint64 `json:"raised"`
	// Transfer ties "M Download"/"M Upload"/"M ScheduleDownload" to the
	// transfer whose TransferComplete it announces; such entries leave only
	// when that TransferComplete is acknowledged.
	Transfer uint64 `json:"transfer,omitempty"`
}

// ChangedValue is a parameter whose value change is owed to the ACS.
type ChangedValue struct {
	Value  string `json:"value"`
	Type   string `json:"type,omitempty"`
	Hidden bool   `json:"hidden,omitempty"`
	Active bool   `json:"active,omitempty"`
	Raised uint64 `json:"raised"`
}

// Pending is the set of CWMP events owed to the ACS, in the order raised,
// and the changed parameters that ride with "4 VALUE CHANGE".
type Pending struct {
	Events  []PendingEvent          `json:"events"`
	Changed map[string]ChangedValue `json:"changed,omitempty"`
	// ActiveChange is set by an active-notification change not yet
	// delivered: it alone justifies a session (throttled).
	ActiveChange bool `json:"active_change,omitempty"`
}

// Has reports whether an event with that code (and, for M codes, command
// key) is pending.
func (p *Pending) Has(code, ck string) bool { return p.index(code, ck) >= 0 }

func (p *Pending) index(code, ck string) int {
	for i, e := range p.Events {
		if e.Code == code && (!isMultiple(code) || e.CommandKey == ck) {
			return i
		}
	}
	return -1
}

// InformEvents is the Event array of the next Inform: every pending event,
// in the order raised (the ACS must not give the order meaning).
func (p *Pending) InformEvents() []event.InformEvent {
	out := make([]event.InformEvent, len(p.Events))
	for i, e := range p.Events {
		out[i] = event.InformEvent{Code: e.Code, CommandKey: e.CommandKey}
	}
	return out
}

// raise adds an event. Single codes keep one entry (its Raised moves on);
// M codes keep one entry per command key. Raising BOOTSTRAP when it is not
// already pending discards every other undelivered event (digest §8.1),
// including the value changes that ride with VALUE CHANGE.
func (p *Pending) raise(code, ck string, seq, transfer uint64) {
	if !isMultiple(code) {
		ck = ""
	}
	if code == EventBootstrap && !p.Has(EventBootstrap, "") {
		p.clear()
	}
	if i := p.index(code, ck); i >= 0 && transfer == 0 {
		p.Events[i].Raised = seq
		return
	}
	p.Events = append(p.Events, PendingEvent{Code: code, CommandKey: ck, Raised: seq, Transfer: transfer})
	p.cap()
}

// raisedBy reports whether the single event code is pending and was last
// raised at or before seq.
func (p *Pending) raisedBy(code string, seq uint64) bool {
	i := p.index(code, "")
	return i >= 0 && p.Events[i].Raised <= seq
}

// cap keeps at most MaxInformEvents entries by discarding the oldest M
// events first (digest §7). Decision: M entries tied to a TransferComplete
// still owed go last — the TransferComplete itself is still sent (the
// Transfers projection owns it), but we prefer to drop an announcement whose
// work is done. Single codes are at most a dozen, so M entries always exist
// when the cap is exceeded.
func (p *Pending) cap() {
	for len(p.Events) > MaxInformEvents {
		victim := -1
		for pass := 0; pass < 2 && victim < 0; pass++ {
			for i, e := range p.Events {
				if isMultiple(e.Code) && (pass == 1 || e.Transfer == 0) {
					victim = i
					break
				}
			}
		}
		if victim < 0 {
			return
		}
		p.remove(victim)
	}
}

func (p *Pending) remove(i int) {
	p.Events = append(p.Events[:i:i], p.Events[i+1:]...)
}

func (p *Pending) removeWhere(drop func(PendingEvent) bool) {
	kept := p.Events[:0]
	for _, e := range p.Events {
		if !drop(e) {
			kept = append(kept, e)
		}
	}
	p.Events = kept
}

func (p *Pending) clear() {
	p.Events = nil
	p.Changed = nil
	p.ActiveChange = false
}

// onBoot drops what does not survive a reboot.
func (p *Pending) onBoot() {
	p.removeWhere(func(e PendingEvent) bool { return droppedOnBoot[e.Code] })
	p.Changed = nil
	p.ActiveChange = false
}

// forget drops the owed changes of the parameters gone selects: the ACS
// wrote them itself (the current value, which "4 VALUE CHANGE" would
// report, is its own), their object was deleted (nothing to report), or
// the ACS turned their notification off (SetParameterAttributes 0).
// With no change left, the event goes too, and with no active change the
// session one would have asked for.
func (p *Pending) forget(gone func(name string) bool) {
	if len(p.Changed) == 0 {
		return
	}
	p.ActiveChange = false
	for name, c := range p.Changed {
		if gone(name) {
			delete(p.Changed, name)
			continue
		}
		p.ActiveChange = p.ActiveChange || c.Active
	}
	if len(p.Changed) == 0 {
		p.Changed = nil
		p.removeWhere(func(e PendingEvent) bool { return e.Code == EventValueChange })
	}
}

func (p *Pending) valueChanged(seq uint64, ev event.ValueChanged) {
	if len(ev.Changes) == 0 {
		return
	}
	if p.Changed == nil {
		p.Changed = map[string]ChangedValue{}
	}
	for _, c := range ev.Changes {
		p.Changed[c.Name] = ChangedValue{Value: c.Value, Type: c.Type, Hidden: c.Hidden, Active: ev.Active, Raised: seq}
	}
	if ev.Active {
		p.ActiveChange = true
	}
	p.raise(EventValueChange, "", seq, 0)
}

// delivered applies an InformResponse for the session session, whose
// Inform was composed at sequence composed (at most session). Delivered
// events are never sent again (digest §8.2) — except the TransferComplete
// announcements, which stay until their TransferComplete is acknowledged
// ([U]; the "safe, common reading" of §8.2, as the Thomson manual
// describes). A changed value is delivered only when raised by composed:
// one journaled between the composition and SessionStarted was not in the
// ParameterList (or with an older value), so it stays owed.
func (p *Pending) delivered(session, composed uint64, evs []event.InformEvent, transferOwed bool) {
	sent := map[event.InformEvent]bool{}
	for _, e := range evs {
		sent[e] = true
	}
	p.removeWhere(func(e PendingEvent) bool {
		if e.Raised > session || !sent[event.InformEvent{Code: e.Code, CommandKey: e.CommandKey}] {
			return false
		}
		if e.Transfer != 0 || (e.Code == EventTransferComplete && transferOwed) {
			return false
		}
		return true
	})
	if sent[event.InformEvent{Code: EventValueChange}] {
		for name, c := range p.Changed {
			if c.Raised <= composed {
				delete(p.Changed, name)
			}
		}
		if len(p.Changed) > 0 {
			// Changes that arrived during the session are still owed; they
			// justify a session of their own only if one of them is active.
			p.raise(EventValueChange, "", maxRaised(p.Changed), 0)
			p.ActiveChange = false
			for _, c := range p.Changed {
				p.ActiveChange = p.ActiveChange || c.Active
			}
		} else {
			p.Changed = nil
			p.ActiveChange = false
		}
	}
}

func maxRaised(m map[string]ChangedValue) uint64 {
	var max uint64
	for _, c := range m {
		if c.Raised > max {
			max = c.Raised
		}
	}
	return max
}

// failed applies a failed session attempt: "6 CONNECTION REQUEST" offered
// in it is never retried (digest §8.1: the ACS re-sends the request if it
// still wants a session). Every other undelivered event stays.
func (p *Pending) failed(session uint64) {
	p.removeWhere(func(e PendingEvent) bool {
		return e.Code == EventConnectionRequest && e.Raised <= session
	})
}

// transferAcked removes the announcements of one acknowledged transfer, and
// "7 TRANSFER COMPLETE" once no TransferComplete is owed any more.
func (p *Pending) transferAcked(id uint64, stillOwed bool) {
	p.removeWhere(func(e PendingEvent) bool {
		return e.Transfer == id || (e.Code == EventTransferComplete && !stillOwed)
	})
}
