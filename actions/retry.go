package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// ErrRetryWait is Run's error for a ScheduleDownload whose attempt failed
// and that its windows' MaxRetries let try again (D§11.9): the failure is
// journaled (TransferAttemptFailed, with the time of the next attempt),
// nothing is reported, and the transfer keeps its files and progress.
// Run called again before that time returns it too, doing nothing.
// projections.Decide makes the transfer due again at the journaled time.
var ErrRetryWait = errors.New("waiting to retry a failed download attempt")

// Back-off between the attempts of a ScheduleDownload in one window: the
// file client already retries a dropped connection or a 5xx within an
// attempt (seconds); these attempts are minutes apart.
const (
	retryInitial = time.Minute
	retryMax     = 15 * time.Minute
)

// retryDelay is the wait after the n-th failed attempt in a window.
func (r *Runner) retryDelay(n int) time.Duration {
	if r.RetryDelay != nil {
		return r.RetryDelay(n)
	}
	return DefaultRetryDelay(n)
}

// DefaultRetryDelay is the Runner's wait after the n-th failed attempt of
// a ScheduleDownload in one window: backoff/v4's exponential back-off from
// 1 min, doubling, at most 15 min, randomised ±25% (from math/rand: the
// wait is journaled, replay never draws it again).
func DefaultRetryDelay(n int) time.Duration {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(retryInitial),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0.25),
		backoff.WithMaxInterval(retryMax),
		backoff.WithMaxElapsedTime(0),
	)
	d := b.NextBackOff()
	// The interval reaches its maximum by the 5th step; a large MaxRetries
	// must not make this loop long.
	for i := 1; i < min(n, 8); i++ {
		d = b.NextBackOff()
	}
	return d
}

// retryable tells whether a failed download attempt may succeed when it is
// repeated later (a ScheduleDownload's MaxRetries, D§11.9). Retried: the
// file server unreachable (9015), the file not found or refused (9016, it
// may be published later), a download cut short (9017), a server error or
// too little free space (9010) and the agent's own files (9002). Not
// retried: a refused login (9012: the same credentials get the same
// answer, and repeated failures may lock the account), a file that is not
// what was announced or not valid (9018: the server serves what it has,
// and the fetched file would be reused), and any fault marked Permanent
// (an unsupported file type, a file over the size limit, an unusable URL).
// Failures of the install or apply step are never retried (the caller).
func retryable(err error) bool {
	var f *Fault
	if !errors.As(err, &f) || f.Permanent {
		return false
	}
	switch f.Code {
	case FaultInternal, FaultTransfer, FaultContact, FaultAccess, FaultIncomplete:
		return true
	}
	return false
}

// retryLater journals the failed attempt of a ScheduleDownload as
// TransferAttemptFailed when projections.PlanRetry finds an attempt left
// (in this window, or in a later one); the transfer's files and journaled
// progress stay for the next attempt. It reports false when no attempt is
// left: the caller finishes the transfer with this fault.
func (r *Runner) retryLater(ctx context.Context, log zerolog.Logger, tr projections.Transfer, cause error) (bool, error) {
	now := r.now().UTC()
	w := projections.WindowIndex(tr.Request, now)
	failures := tr.FailuresIn(w) + 1
	next, ok := projections.PlanRetry(&tr, w, now, r.retryDelay(failures))
	if !ok {
		return false, nil
	}
	code, msg := FaultOf(cause, FaultTransfer)
	ev := event.TransferAttemptFailed{Transfer: tr.ID, FaultCode: code, FaultString: msg, Window: w, NextAttempt: next.UTC()}
	if _, err := r.Journal.Append(ctx, ev); err != nil {
		return true, fmt.Errorf("actions: transfer %d: journal failed attempt: %w", tr.ID, err)
	}
	log.Warn().Int("fault", code).Str("reason", msg).Int("window", w+1).Int("failures_in_window", failures).
		Time("next_attempt", next).Msg("download attempt failed; it will be retried")
	return true, fmt.Errorf("actions: transfer %d: %w", tr.ID, ErrRetryWait)
}

// lastAttemptFault is what a ScheduleDownload whose windows have all
// closed before another attempt could run is reported with: the fault of
// its last failed attempt (the reason it did not finish), or nil when no
// attempt failed (then 9020).
func lastAttemptFault(tr projections.Transfer) error {
	if tr.FailedAttempts == 0 || tr.LastFaultCode == FaultNone {
		return nil
	}
	// The note goes first: a long last fault is cut at the FaultString's
	// limit, and the note must survive the cut.
	return &Fault{Code: tr.LastFaultCode, Msg: fmt.Sprintf("no time window left after %d failed attempts; the last: %s", tr.FailedAttempts, tr.LastFaultString)}
}
