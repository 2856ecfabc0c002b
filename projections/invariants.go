package projections

import (
	"fmt"
	"strings"
)

// Check returns every invariant the state violates. Every prefix of every
// journal must yield a state with none.
func (s *State) Check() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if n := len(s.Pending.Events); n > MaxInformEvents {
		bad("pending: %d events, more than %d", n, MaxInformEvents)
	}
	type id struct {
		code, ck string
		transfer uint64
	}
	seen := map[id]bool{}
	for _, e := range s.Pending.Events {
		k := id{e.Code, e.CommandKey, e.Transfer}
		if !isMultiple(e.Code) {
			k = id{code: e.Code}
			if e.CommandKey != "" {
				bad("pending: single event %q carries command key %q", e.Code, e.CommandKey)
			}
		}
		if seen[k] {
			bad("pending: %q (%q) twice", e.Code, e.CommandKey)
		}
		seen[k] = true
		if e.Raised > s.Seq {
			bad("pending: %q raised at %d, after the state's sequence %d", e.Code, e.Raised, s.Seq)
		}
		if e.Transfer != 0 {
			tr := s.Transfers.get(e.Transfer)
			if tr == nil || tr.State != TransferFinishedState {
				bad("pending: %q announces transfer #%d, which owes no TransferComplete", e.Code, e.Transfer)
			}
		}
		if !isMultiple(e.Code) && !strings.ContainsRune(e.Code, ' ') {
			bad("pending: malformed event code %q", e.Code)
		}
	}
	owed := s.Transfers.HasOwed()
	if owed != s.Pending.Has(EventTransferComplete, "") {
		bad("pending: TransferComplete owed=%v but \"7 TRANSFER COMPLETE\" pending=%v", owed, !owed)
	}
	if (len(s.Pending.Changed) > 0) != s.Pending.Has(EventValueChange, "") {
		bad("pending: %d changed values but \"4 VALUE CHANGE\" pending=%v",
			len(s.Pending.Changed), s.Pending.Has(EventValueChange, ""))
	}
	if s.Pending.ActiveChange && len(s.Pending.Changed) == 0 {
		bad("pending: active change flagged with no changed value")
	}
	if s.Retry.Failures < 0 {
		bad("retry: negative failure count %d", s.Retry.Failures)
	}
	if s.Retry.Failures == 0 && (s.Retry.LastError != "" || !s.Retry.NextAttempt.IsZero()) {
		bad("retry: no failure but last error %q / next attempt %v", s.Retry.LastError, s.Retry.NextAttempt)
	}
	if s.Boot.BootstrapDelivered && s.Pending.Has(EventBootstrap, "") {
		bad("boot: BOOTSTRAP both delivered and pending")
	}
	for name, t := range s.Params.Tables {
		for i, n := range t.Live {
			if n == 0 || n > t.Highest || (i > 0 && t.Live[i-1] >= n) {
				bad("params: table %s: bad instance list %v (highest %d)", name, t.Live, t.Highest)
				break
			}
		}
	}
	for _, tr := range s.Transfers.ByID {
		switch {
		case tr.WindowFailures < 0 || tr.WindowFailures > tr.FailedAttempts:
			bad("transfers: #%d: %d failed attempts in window %d of %d in all", tr.ID, tr.WindowFailures, tr.RetryWindow, tr.FailedAttempts)
		case tr.State == TransferQueuedState && tr.FailedAttempts > 0:
			bad("transfers: #%d: queued with %d failed attempts", tr.ID, tr.FailedAttempts)
		case tr.State == TransferFinishedState && !tr.NextAttempt.IsZero():
			bad("transfers: #%d: finished with a next attempt at %v", tr.ID, tr.NextAttempt)
		}
	}
	if s.Session.Open > s.Seq {
		bad("session: open session #%d after sequence %d", s.Session.Open, s.Seq)
	}
	return errs
}
