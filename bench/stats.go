package bench

import (
	"slices"
	"time"
)

// Latency summarises a set of request durations, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// summarize sorts d and returns its percentiles.
func summarize(d []time.Duration) Latency {
	slices.Sort(d)
	return Latency{
		P50: ms(percentile(d, 50)),
		P90: ms(percentile(d, 90)),
		P99: ms(percentile(d, 99)),
		Max: ms(percentile(d, 100)),
	}
}

// percentile returns the p-th percentile of sorted by the nearest-rank
// method: the smallest value that at least p% of the values do not exceed.
// It is 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(p/100 · n), computed in integers to avoid 0.29·100 = 28.999….
	rank := (int(p*1000)*n + 100*1000 - 1) / (100 * 1000)
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
