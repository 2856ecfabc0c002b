package projections

import (
	"time"

	"github.com/cwmpd/cwmpd/projections/event"
)

// Retry is the session retry state (digest §9).
type Retry struct {
	// Failures counts consecutive failed sessions; it is the Inform's
	// RetryCount and the seed's retry-count.
	Failures int `json:"failures"`
	// NextAttempt and Delay are read from the newest SessionFailed, where
	// the random wait was drawn once; replay never recomputes them.
	NextAttempt time.Time     `json:"next_attempt,omitempty"`
	Delay       time.Duration `json:"delay_ns,omitempty"`
	// LastError is the seed's last-session-error, for the operator.
	LastError string `json:"last_error,omitempty"`
}

func (r *Retry) failed(ev event.SessionFailed) {
	r.Failures = ev.RetryCount
	r.NextAttempt = ev.NextAttempt
	r.Delay = ev.Delay
	r.LastError = ev.Error
}

// reset clears the retry state. Applied on success, on reboot (digest §9
// marks it [U]; we follow the "post-reboot" heading and USP: a reboot starts
// a fresh count), and when the client is disabled or reset (seed).
func (r *Retry) reset() { *r = Retry{} }
