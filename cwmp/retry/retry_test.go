package retry

import (
	"math"
	"math/rand"
	"testing"
	"time"
)

// near allows for the float rounding of backoff/v4's interval arithmetic:
// one part in 10⁹ is far below anything a timer can resolve.
func near(got, want time.Duration) bool {
	d := math.Abs(float64(got - want))
	return d <= math.Max(1000, float64(want)*1e-9)
}

func TestRangeDefaultTable(t *testing.T) {
	// The default table of D§9 (TR-069 Amd 2 wording), in seconds.
	table := []struct {
		n      int
		lo, hi int64
	}{
		{1, 5, 10}, {2, 10, 20}, {3, 20, 40}, {4, 40, 80}, {5, 80, 160},
		{6, 160, 320}, {7, 320, 640}, {8, 640, 1280}, {9, 1280, 2560},
		{10, 2560, 5120}, {11, 2560, 5120}, {100, 2560, 5120},
	}
	for _, tc := range table {
		lo, hi := Range(tc.n, DefaultMinWait, DefaultMultiplier)
		wlo, whi := time.Duration(tc.lo)*time.Second, time.Duration(tc.hi)*time.Second
		if !near(lo, wlo) || !near(hi, whi) {
			t.Errorf("Range(%d, 5, 2000) = [%v, %v], want [%v, %v]", tc.n, lo, hi, wlo, whi)
		}
	}
}

func TestRangeNonDefault(t *testing.T) {
	// m = 30 s, k = 1500 (×1.5): retry n spans [30·1.5ⁿ⁻¹, 30·1.5ⁿ].
	for n := 1; n <= 12; n++ {
		e := min(n, 10)
		wlo := time.Duration(30 * math.Pow(1.5, float64(e-1)) * float64(time.Second))
		whi := time.Duration(30 * math.Pow(1.5, float64(e)) * float64(time.Second))
		lo, hi := Range(n, 30, 1500)
		if !near(lo, wlo) || !near(hi, whi) {
			t.Errorf("Range(%d, 30, 1500) = [%v, %v], want [%v, %v]", n, lo, hi, wlo, whi)
		}
	}
	// k = 1000 means no growth and no randomness.
	lo, hi := Range(7, 60, 1000)
	if lo != time.Minute || hi != time.Minute {
		t.Errorf("Range(7, 60, 1000) = [%v, %v], want [1m, 1m]", lo, hi)
	}
}

func TestRangeClampsBadInput(t *testing.T) {
	cases := []struct {
		n    int
		m, k uint32
		want [2]time.Duration
	}{
		{0, 5, 2000, [2]time.Duration{5 * time.Second, 10 * time.Second}},             // n < 1 → 1
		{-3, 5, 2000, [2]time.Duration{5 * time.Second, 10 * time.Second}},            // n < 1 → 1
		{1, 0, 2000, [2]time.Duration{1 * time.Second, 2 * time.Second}},              // m = 0 → 1
		{1, 10, 500, [2]time.Duration{10 * time.Second, 10 * time.Second}},            // k < 1000 → 1000
		{2, 10, 0, [2]time.Duration{10 * time.Second, 10 * time.Second}},              // k = 0 → 1000
		{1, 100000, 1000, [2]time.Duration{65535 * time.Second, 65535 * time.Second}}, // m > 65535
	}
	for _, c := range cases {
		lo, hi := Range(c.n, c.m, c.k)
		if !near(lo, c.want[0]) || !near(hi, c.want[1]) {
			t.Errorf("Range(%d, %d, %d) = [%v, %v], want %v", c.n, c.m, c.k, lo, hi, c.want)
		}
	}
}

func TestRangeSaturatesWithoutOverflow(t *testing.T) {
	for n := 1; n <= 11; n++ {
		lo, hi := Range(n, 65535, 65535)
		if lo <= 0 || hi <= 0 || lo > hi || hi > MaxWait {
			t.Fatalf("Range(%d, 65535, 65535) = [%v, %v]: want 0 < lo ≤ hi ≤ %v", n, lo, hi, MaxWait)
		}
	}
	// The first retry is still exact: 65535 s … 65535·65.535 s < MaxWait.
	lo, hi := Range(1, 65535, 65535)
	if !near(lo, 65535*time.Second) || !near(hi, 65535*65535*time.Millisecond) {
		t.Errorf("Range(1, 65535, 65535) = [%v, %v]", lo, hi)
	}
}

func TestWaitStaysInRangeAndSpreads(t *testing.T) {
	rnd := rand.New(rand.NewSource(42))
	for _, p := range []struct{ m, k uint32 }{{5, 2000}, {30, 1500}, {1, 65535}} {
		for n := 1; n <= 11; n++ {
			lo, hi := Range(n, p.m, p.k)
			const draws = 2000
			var buckets [10]int
			for range draws {
				w := Wait(n, p.m, p.k, rnd)
				if w < lo || w > hi {
					t.Fatalf("Wait(%d, %d, %d) = %v outside [%v, %v]", n, p.m, p.k, w, lo, hi)
				}
				b := int(float64(w-lo) / float64(hi-lo) * 10)
				buckets[min(b, 9)]++
			}
			// Uniform: each tenth expects 200 draws; 100 is > 7σ below that.
			for i, c := range buckets {
				if c < 100 {
					t.Errorf("Wait(%d, %d, %d): tenth %d got %d of %d draws; not spread over the range: %v",
						n, p.m, p.k, i, c, draws, buckets)
					break
				}
			}
		}
	}
}

func TestWaitIsDeterministicForASeed(t *testing.T) {
	a := rand.New(rand.NewSource(7))
	b := rand.New(rand.NewSource(7))
	for n := 1; n <= 12; n++ {
		if x, y := Wait(n, 5, 2000, a), Wait(n, 5, 2000, b); x != y {
			t.Fatalf("retry %d: same seed gave %v and %v", n, x, y)
		}
	}
}
