package replay

import (
	"errors"
	"fmt"
	"io"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// Options control a replay.
type Options struct {
	// At stops after the record with this sequence (0: replay everything).
	At uint64
	// From is the state to fold onto (a snapshot); nil means empty.
	From *projections.State
	// Timeline, when set, receives one line per record.
	Timeline io.Writer
	// MaxViolations bounds how many violations are kept (default 100).
	MaxViolations int
}

// Violation is a broken invariant or a record that contradicts the state.
type Violation struct {
	Seq    uint64 `json:"seq"`
	Reason string `json:"reason"`
}

func (v Violation) String() string { return fmt.Sprintf("record %d: %s", v.Seq, v.Reason) }

// Result is what a replay found.
type Result struct {
	State      *projections.State `json:"state"`
	Records    int                `json:"records"`
	First      uint64             `json:"first_seq"`
	Last       uint64             `json:"last_seq"`
	Unknown    int                `json:"unknown_types,omitempty"`
	Violations []Violation        `json:"violations,omitempty"`
	// Truncated counts violations beyond MaxViolations.
	Truncated int `json:"violations_truncated,omitempty"`
}

// Run folds r. It fails only on a record it cannot read or decode (a
// *journal.CorruptionError carrying the sequence); everything else that is
// wrong is reported in Result.Violations, and the replay goes on.
func Run(r journal.Reader, opts Options) (*Result, error) {
	if opts.MaxViolations == 0 {
		opts.MaxViolations = 100
	}
	st := opts.From
	if st == nil {
		st = projections.New()
	}
	res := &Result{State: st}
	note := func(seq uint64, reason string) {
		if len(res.Violations) < opts.MaxViolations {
			res.Violations = append(res.Violations, Violation{Seq: seq, Reason: reason})
		} else {
			res.Truncated++
		}
	}
	for r.Next() {
		rec := r.Record()
		if opts.At != 0 && rec.Seq > opts.At {
			break
		}
		if res.Records == 0 {
			res.First = rec.Seq
			if st.Seq == 0 && rec.Seq != 1 {
				note(rec.Seq, fmt.Sprintf("journal starts at sequence %d: the records before it are not in this input", rec.Seq))
			}
		}
		if st.Seq != 0 && rec.Seq != st.Seq+1 {
			if rec.Seq <= st.Seq {
				note(rec.Seq, fmt.Sprintf("sequence goes back from %d", st.Seq))
				continue
			}
			note(rec.Seq, fmt.Sprintf("gap: records %d..%d missing", st.Seq+1, rec.Seq-1))
			st.Seq = rec.Seq - 1 // fold on; the gap is reported
		}
		ev, err := event.Decode(rec.Type, rec.Payload)
		if err != nil {
			return res, &journal.CorruptionError{Seq: rec.Seq, Err: err}
		}
		if _, ok := ev.(event.Unknown); ok {
			res.Unknown++
		}
		if opts.Timeline != nil {
			if _, err := io.WriteString(opts.Timeline, Line(rec, ev)+"\n"); err != nil {
				return res, fmt.Errorf("replay: timeline: %w", err)
			}
		}
		if err := st.ApplyEvent(rec, ev); err != nil {
			var v *projections.ViolationError
			if !errors.As(err, &v) {
				return res, err
			}
			note(v.Seq, v.Reason)
		}
		for _, err := range st.Check() {
			note(rec.Seq, err.Error())
		}
		res.Records++
		res.Last = rec.Seq
	}
	if err := r.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// Line formats one record for the timeline:
//
//	seq  time (UTC, ms)  boot  type  summary
func Line(rec journal.Record, ev event.Event) string {
	boot := rec.BootID
	if len(boot) > 8 {
		boot = boot[:8]
	}
	return fmt.Sprintf("%6d  %s  %-8s  %-25s  %s", rec.Seq,
		rec.Time.UTC().Format("2006-01-02T15:04:05.000Z"), boot, event.Type(rec.Type), ev.Summary())
}

// Timeline renders a whole reader's timeline without folding it.
func Timeline(w io.Writer, r journal.Reader) error {
	for r.Next() {
		rec := r.Record()
		ev, err := event.Decode(rec.Type, rec.Payload)
		if err != nil {
			return &journal.CorruptionError{Seq: rec.Seq, Err: err}
		}
		if _, err := fmt.Fprintln(w, Line(rec, ev)); err != nil {
			return err
		}
	}
	return r.Err()
}
