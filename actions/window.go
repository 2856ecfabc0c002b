package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/projections"
)

// ErrOutsideWindow is Run's error for a ScheduleDownload whose time window
// is not open (D§11.9): it did not start, or it was stopped when its window
// closed and a later window remains. Nothing is reported; the transfer
// stays as the journal says (its progress kept) and resumes when
// projections.Decide finds a window open again.
var ErrOutsideWindow = errors.New("outside the transfer's time windows")

// windowPoll bounds how long the window guard trusts a timer before it
// reads the injected clock again, so a clock that is stepped (NTP at boot)
// or simulated still closes the window within about this long.
const windowPoll = time.Second

// windowGuard cancels a ScheduleDownload's fetch when its window closes by
// the Runner's clock. A zero guard (no windows, or applying) never fires.
type windowGuard struct {
	end    time.Time
	now    func() time.Time
	cancel context.CancelFunc
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once
	fired  atomic.Bool
}

// guardWindow returns ctx bounded by tr's open window. When no window is
// open (closed, or not yet open: a race with Decide), the guard has
// already fired.
func (r *Runner) guardWindow(ctx context.Context, tr projections.Transfer) (context.Context, *windowGuard) {
	g := &windowGuard{now: r.now}
	if tr.State == projections.TransferApplyingState {
		return ctx, g
	}
	phase, end := projections.WindowAt(tr.Request, r.now())
	switch phase {
	case projections.NoWindows:
		return ctx, g
	case projections.InWindow:
		if end.IsZero() {
			return ctx, g
		}
	default:
		g.fired.Store(true)
		return ctx, g
	}
	g.end = end
	ctx, g.cancel = context.WithCancel(ctx)
	g.quit, g.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(g.done)
		for {
			left := g.end.Sub(g.now())
			if left <= 0 {
				g.fired.Store(true)
				g.cancel()
				return
			}
			t := time.NewTimer(min(left, windowPoll))
			select {
			case <-g.quit:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return ctx, g
}

// ended reports whether the window closed (the fetch's ctx was cancelled
// for it, or no window was open to begin with).
func (g *windowGuard) ended() bool { return g.fired.Load() }

// disarm stops the guard before the transfer commits to applying, and
// reports whether the window had closed by then: a fetch that finished
// after the window's end by the clock is not applied. After it, ctx is
// no longer bounded by the window: an install is never cut short.
func (g *windowGuard) disarm() bool {
	if g.quit == nil {
		return g.fired.Load()
	}
	g.once.Do(func() { close(g.quit) })
	<-g.done
	if !g.fired.Load() && !g.now().Before(g.end) {
		g.fired.Store(true)
	}
	return g.fired.Load()
}

// stop releases the guard.
func (g *windowGuard) stop() {
	if g.quit == nil {
		return
	}
	g.disarm()
	g.cancel()
}

// windowClosed handles a ScheduleDownload whose window closed before it
// could be applied: with a later window to come (or one open again by
// now), it waits for it (ErrOutsideWindow, nothing journaled beyond its
// progress); when every window has closed, it is reported with 9020 —
// or, when no attempt ran in this Run (attempted false: the windows ended
// while the transfer waited to retry a failed attempt, or while the agent
// was down) and an earlier attempt failed, with that attempt's fault,
// which says more than 9020 about why it never finished.
func (r *Runner) windowClosed(ctx context.Context, log zerolog.Logger, tr projections.Transfer, start time.Time, attempted bool) (Outcome, error) {
	phase, at := projections.WindowAt(tr.Request, r.now())
	if phase != projections.WindowsOver {
		log.Info().Time("next", at).Str("phase", windowPhaseName(phase)).Msg("time window closed: the transfer resumes in its next window")
		return Outcome{}, fmt.Errorf("actions: transfer %d: %w", tr.ID, ErrOutsideWindow)
	}
	if last := lastAttemptFault(tr); last != nil && !attempted {
		return r.finish(ctx, log, tr, start, last, FaultTransfer, nil, false)
	}
	return r.finish(ctx, log, tr, start, faultf(FaultWindow, nil, "the time windows ended before the download could complete"), FaultTransfer, nil, false)
}

func windowPhaseName(p projections.WindowPhase) string {
	switch p {
	case projections.InWindow:
		return "in window"
	case projections.BeforeWindow:
		return "before window"
	}
	return "windows over"
}
