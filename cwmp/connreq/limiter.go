package connreq

import (
	"sync"
	"time"
)

// bucket is a token bucket: burst tokens, one more every interval.
type bucket struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	tokens   float64
	last     time.Time
	now      func() time.Time
}

func newBucket(burst int, interval time.Duration, now func() time.Time) *bucket {
	return &bucket{burst: float64(burst), interval: interval, tokens: float64(burst), last: now(), now: now}
}

// take spends a token if one is there.
func (b *bucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+float64(d)/float64(b.interval))
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// wait is how long until the next token, for Retry-After.
func (b *bucket) wait() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Duration((1 - b.tokens) * float64(b.interval))
}
