package main

import (
	"time"

	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/cwmpd/cwmpd/actions"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// transfers carries transfers forward, one at a time, in a worker beside
// the conductor: a long download must not hold up connection requests or
// periodic informs. The conductor starts one only between sessions and
// journals its TransferStarted itself, so a CancelTransfer being served in a
// session never races with a start.
type transfers struct {
	d      *daemon
	runner *actions.Runner
	mu     sync.Mutex
	busy   uint64 // the transfer being carried forward (0: none)
	// A transfer stopped by an error (not a fault: the journal refused a
	// record) waits before it is tried again, instead of spinning.
	pauseID    uint64
	pauseUntil time.Time
	wg         sync.WaitGroup
}

func newTransfers(d *daemon) *transfers {
	r := &actions.Runner{
		Journal:  d.store,
		Platform: d.platform,
		Dir:      d.cfg.state,
		// Downloads share the journal's filesystem: one that ate into the
		// journal's reserve would leave its own outcome unrecordable.
		Files:  &actions.FileClient{Reserve: d.minFree + actions.DefaultReserve},
		Now:    d.clock,
		Config: d.paramsCopy,
		JournalExport: func(ctx context.Context, w io.Writer) error {
			rd := d.j.NewReader(0)
			defer rd.Close()
			_, err := journal.ExportJSONL(w, rd, journal.ExportOptions{Name: event.Name, Redact: redactRecord})
			return err
		},
		Log: d.log.With().Str("component", "transfer").Logger(),
	}
	t := &transfers{d: d, runner: r}
	// Leftover files of transfers the journal no longer holds.
	r.Sweep(func(id uint64) bool {
		active := false
		d.store.View(func(s *projections.State) { active = s.Transfers.ByID[id] != nil })
		return active
	})
	return t
}

// start carries transfer id forward in the background unless one runs.
func (t *transfers) start(ctx context.Context, id uint64) error {
	t.mu.Lock()
	if t.busy != 0 {
		t.mu.Unlock()
		return nil
	}
	t.busy = id
	t.mu.Unlock()
	var tr projections.Transfer
	var ok bool
	t.d.store.View(func(s *projections.State) {
		if p := s.Transfers.ByID[id]; p != nil {
			tr, ok = copyTransfer(*p), true
		}
	})
	if ok && tr.State == projections.TransferQueuedState {
		now := t.d.clock().UTC()
		if phase, _ := projections.WindowAt(tr.Request, now); phase == projections.WindowsOver {
			// A ScheduleDownload whose windows all closed before it could
			// start (the agent was down): the Runner reports it (9020,
			// Unknown StartTime) without starting it, so nothing may be
			// journaled as started. It only appends its outcome, so it runs
			// here, where no CancelTransfer can race with it.
			_, err := t.runner.Run(ctx, tr)
			t.done()
			return err
		}
		if _, err := t.d.store.Append(ctx, event.TransferStarted{Transfer: id, StartTime: now}); err != nil {
			t.done()
			return err
		}
		tr.State, tr.StartTime = projections.TransferInProgressState, now
	}
	if !ok {
		t.done()
		return nil
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		out, err := t.runner.Run(ctx, tr)
		// Free the worker before waking the conductor: a restart the
		// transfer asked for waits for the worker to be idle.
		t.done()
		t.d.kickConductor()
		if errors.Is(err, actions.ErrOutsideWindow) {
			// Not a failure: the conductor wakes it at its next window.
			t.d.log.Info().Uint64("transfer", id).Msg("transfer waits for its next time window")
			return
		}
		if errors.Is(err, actions.ErrRetryWait) {
			// A failed attempt journaled with its retry time (MaxRetries):
			// the conductor wakes it then.
			t.d.log.Info().Uint64("transfer", id).Msg("transfer waits to retry its download")
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				t.d.noteJournalError(err)
				t.mu.Lock()
				t.pauseID, t.pauseUntil = id, t.d.clock().Add(30*time.Second)
				t.mu.Unlock()
				t.d.log.Error().Err(err).Uint64("transfer", id).Msg("transfer stopped; it resumes in 30 s")
			}
			return
		}
		t.d.log.Info().Uint64("transfer", id).Int("fault", out.Finished.FaultCode).Bool("restart", out.RebootNeeded).Msg("transfer finished")
	}()
	return nil
}

// mayStart reports whether transfer id may start now (not paused).
func (t *transfers) mayStart(id uint64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pauseID != id || !now.Before(t.pauseUntil)
}

// retryAt is when a paused transfer may start again (zero: none paused).
func (t *transfers) retryAt() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pauseID == 0 {
		return time.Time{}
	}
	return t.pauseUntil
}

func (t *transfers) done() {
	t.mu.Lock()
	t.busy = 0
	t.mu.Unlock()
}

func (t *transfers) running() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy != 0
}

// wait waits for the worker (after its context was cancelled).
func (t *transfers) wait() { t.wg.Wait() }

// copyTransfer gives the worker its own copy of the maps.
func copyTransfer(tr projections.Transfer) projections.Transfer {
	files := map[int]projections.FileProgress{}
	for k, v := range tr.Files {
		files[k] = v
	}
	tr.Files = files
	return tr
}

// paramsCopy is a deep copy of the journal-backed configuration.
func (d *daemon) paramsCopy() projections.Params {
	var b []byte
	d.store.View(func(s *projections.State) { b, _ = json.Marshal(s.Params) })
	var p projections.Params
	json.Unmarshal(b, &p)
	return p
}
