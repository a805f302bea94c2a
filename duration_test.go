package hail

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30d", 30 * day},
		{"2w", 14 * day},
		{"0d", 0},
		{"720h", 30 * day},
		{"1h30m", 90 * time.Minute},
		{"0", 0},
		{"-1h", -time.Hour},
	} {
		if got, err := ParseDuration(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "d", "w", "1.5d", "-2d", "+2d", "30 d", "100001d", "a month", "3y"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}
