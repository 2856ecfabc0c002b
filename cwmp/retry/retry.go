package retry

import (
	"math"
	"math/rand"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Defaults and limits of Device.ManagementServer.CWMPRetryMinimumWaitInterval
// and CWMPRetryIntervalMultiplier (TR-181).
const (
	DefaultMinWait    uint32 = 5
	DefaultMultiplier uint32 = 2000

	minMinWait    uint32 = 1
	maxMinWait    uint32 = 65535
	minMultiplier uint32 = 1000
	maxMultiplier uint32 = 65535

	// maxRetry is the retry number from which the range stops growing.
	maxRetry = 10
)

// MaxWait caps every range. Extreme but legal parameters (m = k = 65535)
// would otherwise ask for m·r¹⁰ ≈ 10²⁴ s, which overflows time.Duration; a
// wait of a year is as good as forever for a router and keeps arithmetic sane.
const MaxWait = 365 * 24 * time.Hour

// clamp brings the data-model parameters into their legal ranges, so a bad
// value that slipped past validation degrades to the nearest legal schedule
// instead of a zero or negative wait (a retry storm against the ACS).
func clamp(n int, m, k uint32) (int, uint32, uint32) {
	if n < 1 {
		n = 1
	}
	if n > maxRetry {
		n = maxRetry
	}
	m = min(max(m, minMinWait), maxMinWait)
	k = min(max(k, minMultiplier), maxMultiplier)
	return n, m, k
}

// schedule builds the ExponentialBackOff of the package comment. factor is the
// randomization factor the spec's range needs; the returned backoff has its
// own factor set to 0 so stepping it consumes no randomness.
func schedule(m, k uint32) (b *backoff.ExponentialBackOff, factor float64) {
	r := float64(k) / 1000
	mw := float64(m) * float64(time.Second)
	factor = (r - 1) / (r + 1)
	maxInterval := mw * math.Pow(r, maxRetry-1) * (1 + r) / 2
	// Saturate so that the widened range never exceeds MaxWait.
	if limit := float64(MaxWait) / (1 + factor); maxInterval > limit {
		maxInterval = limit
	}
	initial := mw * (1 + r) / 2
	if initial > maxInterval {
		initial = maxInterval
	}
	b = backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(time.Duration(initial)),
		backoff.WithMultiplier(r),
		backoff.WithRandomizationFactor(0),
		backoff.WithMaxInterval(time.Duration(maxInterval)),
		backoff.WithMaxElapsedTime(0),
	)
	return b, factor
}

// Range returns the interval [lo, hi] from which the wait before retry n
// (1 for the first retry after a failure) is drawn, for minimum wait m in
// seconds and multiplier k in thousandths. Out-of-range inputs are clamped to
// the data model's limits (n to 1…10, m to 1…65535, k to 1000…65535).
func Range(n int, m, k uint32) (lo, hi time.Duration) {
	n, m, k = clamp(n, m, k)
	b, factor := schedule(m, k)
	var interval time.Duration
	for range n {
		interval = b.NextBackOff()
	}
	delta := factor * float64(interval)
	return time.Duration(math.Round(float64(interval) - delta)), time.Duration(math.Round(float64(interval) + delta))
}

// Wait returns the wait before retry n, drawn uniformly from Range(n, m, k)
// using rnd only (it must not be nil), so that the same seed yields the
// same wait on replay. The caller journals the result.
func Wait(n int, minWait uint32, multiplier uint32, rnd *rand.Rand) time.Duration {
	lo, hi := Range(n, minWait, multiplier)
	return lo + time.Duration(rnd.Float64()*float64(hi-lo))
}
