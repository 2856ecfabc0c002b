// Package retry owns the CWMP session retry wait of TR-069 §3.2.1.1
// (cwmp-digest.md D§9): after the n-th consecutive failed session the CPE
// waits a uniformly random time in [m·rⁿ⁻¹, m·rⁿ], where
// m = ManagementServer.CWMPRetryMinimumWaitInterval (seconds) and
// r = ManagementServer.CWMPRetryIntervalMultiplier/1000; from the 10th retry
// on the range stays at [m·r⁹, m·r¹⁰].
//
// The schedule is expressed through backoff/v4's ExponentialBackOff, as the
// design asks, with
//
//	InitialInterval     = m·(1+r)/2
//	Multiplier          = r
//	RandomizationFactor = (r−1)/(r+1)
//	MaxInterval         = m·r⁹·(1+r)/2
//	MaxElapsedTime      = 0
//
// so that interval·(1±factor) spans exactly the spec's range. backoff/v4
// draws its random number from the global math/rand source and offers no way
// to inject one, yet the journal must record (and replay must reproduce) the
// chosen delay from a seeded source. So the package steps a copy of that
// ExponentialBackOff with RandomizationFactor 0 — which backoff/v4 documents as
// "no randomness is used" — to obtain the retry interval for attempt n, widens
// it by the same factor to get the range, and draws the point in that range
// from the caller's *rand.Rand.
//
// The package holds no state: the retry count lives in the projections and
// the chosen wait is journaled by the caller.
package retry
