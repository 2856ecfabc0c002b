package projections

import (
	"time"

	"github.com/cwmpd/cwmpd/projections/event"
)

// DefaultWindowRetries is how many times a window whose MaxRetries is -1
// ("the CPE decides", D§11.9) retries a failed download after its first
// failed attempt: four attempts per window, spaced by the Runner's
// back-off (minutes), on top of the file client's own quick retries
// within each attempt.
const DefaultWindowRetries = 3

// WindowRetries is the number of retries window w allows after its first
// failed attempt: its MaxRetries, or DefaultWindowRetries for -1. (Values
// below -1 are refused with 9003 by cwmp/requests; any other negative
// value is taken as -1.)
func WindowRetries(w event.TimeWindow) int {
	if w.MaxRetry < 0 {
		return DefaultWindowRetries
	}
	return w.MaxRetry
}

// WindowIndex is the window an attempt that fails at now counts against:
// the last of req's windows that has started by now — the open one, or
// the one that has just closed (a failure noticed a moment after the
// end). It is -1 before the first window and for a request without
// windows. Touching windows keep their own budgets: the one that has
// started last counts.
func WindowIndex(req event.TransferQueued, now time.Time) int {
	if req.Kind != event.KindScheduleDownload {
		return -1
	}
	idx := -1
	for i, w := range req.Windows {
		if w.Start.After(now) {
			break
		}
		idx = i
	}
	return idx
}

// FailuresIn is the number of failed attempts of tr counted against
// window w so far.
func (tr *Transfer) FailuresIn(w int) int {
	if tr.WindowFailures > 0 && tr.RetryWindow == w {
		return tr.WindowFailures
	}
	return 0
}

// PlanRetry decides what follows a failed attempt of the ScheduleDownload
// tr that failed at now, counted against window w (WindowIndex), given the
// back-off delay the Runner drew for it. It is the whole MaxRetries rule
// (D§11.9), pure so that it is table-tested; its answer is journaled
// (TransferAttemptFailed.NextAttempt), never recomputed.
//
//   - While w's budget lasts (FailuresIn(w) retries used of
//     WindowRetries) the next attempt is now+delay, if that is before w's
//     end.
//   - Otherwise — budget spent, or the back-off would end after the
//     window — the transfer waits for the first later window still open
//     at its start or at now+delay, whichever is later (attempts are never
//     closer than the back-off, also across the seam of two touching
//     windows). That window's budget starts afresh.
//   - No such window: ok is false, no attempt is left, and the transfer
//     finishes with this attempt's fault.
func PlanRetry(tr *Transfer, w int, now time.Time, delay time.Duration) (next time.Time, ok bool) {
	ws := tr.Request.Windows
	if tr.Request.Kind != event.KindScheduleDownload || w < 0 || w >= len(ws) {
		return time.Time{}, false
	}
	at := now.Add(max(delay, 0))
	if tr.FailuresIn(w) < WindowRetries(ws[w]) && (ws[w].End.IsZero() || at.Before(ws[w].End)) {
		return at, true
	}
	for _, later := range ws[w+1:] {
		start := later.Start
		if start.Before(at) {
			start = at
		}
		if later.End.IsZero() || start.Before(later.End) {
			return start, true
		}
	}
	return time.Time{}, false
}
