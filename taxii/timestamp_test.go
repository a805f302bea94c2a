package taxii

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)
	for _, s := range []string{
		"2025-01-02T03:04:05.123456Z",
		"2025-01-02T03:04:05.123456+00:00",
		"2025-01-02T03:04:05.123456 00:00", // '+' decoded as a space
		"2025-01-02t03:04:05.123456z",
		"2025-01-02T04:04:05.123456+01:00",
		" 2025-01-02T03:04:05.123456Z ",
	} {
		if got, err := ParseTimestamp(s); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	// No zone is ambiguous in a request; the client reads other servers'
	// headers more leniently (client.headerTime).
	for _, s := range []string{"", "yesterday", "2025-13-01T00:00:00Z", "2025-01-02", "2025-01-02T03:04", "2025-01-02T03:04:05.Z",
		"2025-01-02T03:04:05.123456"} {
		if got, err := ParseTimestamp(s); err == nil {
			t.Errorf("ParseTimestamp(%q) = %v, want an error", s, got)
		}
	}
}
