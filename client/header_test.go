package client

import (
	"net/http"
	"testing"
	"time"
)

func TestHeaderTime(t *testing.T) {
	want := time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)
	for v, ok := range map[string]bool{
		"2025-01-02T03:04:05.123456Z":      true,
		"2025-01-02T03:04:05.123456+00:00": true,
		"2025-01-02T03:04:05.123456":       true, // a naive datetime: UTC
		" 2025-01-02T03:04:05.123456 ":     true,
		"2025-01-02":                       false,
		"yesterday":                        false,
	} {
		got := headerTime(http.Header{"X-Taxii-Date-Added-Last": {v}}, "X-TAXII-Date-Added-Last")
		if ok && !got.Equal(want) || !ok && !got.IsZero() {
			t.Errorf("headerTime(%q) = %v, want %v (readable %v)", v, got, want, ok)
		}
	}
}
