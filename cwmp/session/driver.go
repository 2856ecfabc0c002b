package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/retry"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/cwmp/transport"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

// Journal is where a session's events go: Append returns once they are
// durable (and folded into the agent's state).
type Journal interface {
	Append(ctx context.Context, evs ...event.Event) ([]journal.Record, error)
}

// Handler serves the ACS's requests. Contract: before Handle returns a
// response that promises something (a parameter set, a reboot, a
// download), the intent is durable in the journal — Handle journals it
// itself — so a crash right after the response loses nothing. A request it
// does not support gets a *soap.Fault 9000.
type Handler interface {
	Handle(ctx context.Context, req soap.Message) soap.Message
}

// Poster is one session's transport (transport.Client implements it).
type Poster interface {
	Post(ctx context.Context, body []byte, kind transport.Message) (int, []byte, error)
}

// RetryPolicy is CWMPRetryMinimumWaitInterval and
// CWMPRetryIntervalMultiplier (digest §9).
type RetryPolicy struct {
	MinWait    uint32
	Multiplier uint32
}

// Driver carries out a Core's steps: journal first, then act.
type Driver struct {
	Journal Journal
	Handler Handler
	Log     zerolog.Logger
	Clock   func() time.Time
	// Rand draws the retry wait; the draw is journaled in SessionFailed and
	// never recomputed. Nil seeds one from Clock when a session fails: the
	// daemon leaves it nil, so a successful session does not pay for seeding
	// a 4.9 KB source it never draws from.
	Rand  *rand.Rand
	Retry RetryPolicy
	// Failures is the count of consecutive failures before this session.
	Failures int
}

// Outcome of a session.
type Outcome struct {
	ID      uint64
	Served  int
	Failure *Failure // nil on success
	Failed  *event.SessionFailed
}

// Run runs one session over p. It returns an error only when the journal
// itself fails (nothing else is safe to do then); a failed session is an
// Outcome with Failure set, already journaled with its retry decision.
func (d *Driver) Run(ctx context.Context, core *Core, p Poster) (Outcome, error) {
	// The journal outlives a cancelled session: an interrupted session is
	// still journaled as failed, so ctx only stops the exchanges.
	jctx := context.WithoutCancel(ctx)
	step := core.Start()
	recs, err := d.Journal.Append(jctx, step.Journal...)
	if err != nil {
		return Outcome{}, fmt.Errorf("session: journal SessionStarted: %w", err)
	}
	core.SetID(recs[len(recs)-1].Seq) // SessionStarted comes after the triggers
	log := d.Log.With().Uint64("session", core.ID()).Logger()
	log.Info().Int("retry", core.in.RetryCount).Interface("events", core.in.Events).Msg("session start")
	step.Journal = nil

	// held are acknowledgements waiting for the session's next durable
	// append (Step.JournalWithNext).
	var held []event.Event
	flush := func(evs ...event.Event) error {
		evs = append(held, evs...)
		held = nil
		if len(evs) == 0 {
			return nil
		}
		_, err := d.Journal.Append(jctx, evs...)
		return err
	}
	for {
		if step.JournalWithNext {
			held = append(held, step.Journal...)
		} else if len(step.Journal) > 0 {
			if err := flush(step.Journal...); err != nil {
				return Outcome{}, fmt.Errorf("session %d: journal: %w", core.ID(), err)
			}
		}
		switch {
		case step.Done:
			out := Outcome{ID: core.ID(), Served: core.Served(), Failure: step.Failed}
			if step.Failed == nil {
				log.Info().Int("rpcs", core.Served()).Msg("session end: success")
				return out, nil
			}
			failed := d.failure(core.ID(), step.Failed.Message)
			if err := flush(failed); err != nil {
				return Outcome{}, fmt.Errorf("session %d: journal failure: %w", core.ID(), err)
			}
			out.Failed = &failed
			log.Warn().Str("error", failed.Error).Int("retry_count", failed.RetryCount).
				Dur("retry_in", failed.Delay).Time("next_attempt", failed.NextAttempt).Msg("session end: failed")
			return out, nil
		case step.Request != nil:
			// The handler journals its own intents: what the ACS has
			// acknowledged goes first, in journal order.
			if err := flush(); err != nil {
				return Outcome{}, fmt.Errorf("session %d: journal: %w", core.ID(), err)
			}
			method := step.Request.MethodName()
			resp := d.Handler.Handle(jctx, step.Request)
			ev := log.Info().Str("rpc", method)
			if f, ok := resp.(*soap.Fault); ok && f.Detail != nil {
				ev = log.Warn().Str("rpc", method).Int("fault", int(f.Detail.FaultCode)).Str("fault_string", f.Detail.FaultString)
			}
			ev.Msg("ACS request served")
			step = core.Answer(resp)
		case step.Send != nil:
			step = d.post(ctx, core, p, step.Send)
		default:
			return Outcome{}, errors.New("session: core returned an empty step")
		}
	}
}

func (d *Driver) post(ctx context.Context, core *Core, p Poster, s *Send) Step {
	var body []byte
	kind := transport.Empty
	if s.Envelope != nil {
		var buf bytes.Buffer
		if err := soap.Encode(&buf, s.Envelope); err != nil {
			return core.fail("cannot encode "+s.Method+": "+err.Error(), err)
		}
		body = buf.Bytes()
		kind = transport.Request
		if s.Response {
			kind = transport.Response
		}
	}
	status, reply, err := p.Post(ctx, body, kind)
	if err != nil && ctx.Err() != nil {
		return core.TransportFailed("session interrupted: agent stopping", false, err)
	}
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) {
			if te.Kind == transport.KindHTTPStatus {
				return core.Received(status, reply)
			}
			return core.TransportFailed(te.UserMessage(), te.Kind == transport.KindTimeout, err)
		}
		return core.TransportFailed(err.Error(), false, err)
	}
	return core.Received(status, reply)
}

// failure builds the journaled failure: the retry number, the wait drawn
// once from the spec's range, and the absolute next attempt.
func (d *Driver) failure(id uint64, msg string) event.SessionFailed {
	return Failed(id, msg, d.Failures, d.Retry, d.now(), d.Rand)
}

// Failed is the SessionFailed of session id after failures consecutive
// failures before it: the wait drawn once from the spec's range (rnd, or a
// source seeded from now when nil) and the absolute next attempt. The
// daemon also journals one for a session its stopped process left open.
func Failed(id uint64, msg string, failures int, policy RetryPolicy, now time.Time, rnd *rand.Rand) event.SessionFailed {
	n := failures + 1
	m, k := policy.MinWait, policy.Multiplier
	if m == 0 {
		m = retry.DefaultMinWait
	}
	if k == 0 {
		k = retry.DefaultMultiplier
	}
	if rnd == nil {
		rnd = rand.New(rand.NewSource(now.UnixNano()))
	}
	delay := retry.Wait(n, m, k, rnd)
	return event.SessionFailed{Session: id, Error: msg, RetryCount: n, Delay: delay, NextAttempt: now.Add(delay)}
}

func (d *Driver) now() time.Time {
	if d.Clock != nil {
		return d.Clock()
	}
	return time.Now()
}
