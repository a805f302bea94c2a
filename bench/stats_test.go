package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p0 is the min", hundred, 0, time.Millisecond},
		{"p50 of 4 is the 2nd", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"p51 of 4 is the 3rd", []time.Duration{1, 2, 3, 4}, 51, 3},
		{"p99 of 10 is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p29 of 100 is exact", hundred, 29, 29 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p=%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	d := []time.Duration{9 * time.Millisecond, time.Millisecond, 5 * time.Millisecond, 3 * time.Millisecond}
	got := summarize(d)
	want := Latency{P50: 3, P90: 9, P99: 9, Max: 9}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
	if d[0] != time.Millisecond {
		t.Errorf("summarize left its input unsorted: %v", d)
	}
}
