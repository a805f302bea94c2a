package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hail/ingest"
)

func TestProgressLine(t *testing.T) {
	s := ingest.Summary{Read: 3000, Added: 2990, Duplicates: 6, Rejected: 4}
	for _, tc := range []struct {
		name        string
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{"unknown size", 500, 0, 2 * time.Second, "3000 read, 2990 added, 6 duplicate, 4 rejected (1500/s)"},
		{"a quarter", 250, 1000, 10 * time.Second,
			"[######------------------]  25%  3000 read, 2990 added, 6 duplicate, 4 rejected (300/s)  ETA 30s"},
		{"all read", 1000, 1000, 10 * time.Second,
			"[########################] 100%  3000 read, 2990 added, 6 duplicate, 4 rejected (300/s)  ETA 0s"},
		{"nothing read yet", 0, 1000, time.Second,
			"[------------------------]   0%  3000 read, 2990 added, 6 duplicate, 4 rejected (3000/s)  ETA --"},
	} {
		if got := progressLine(s, tc.done, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestInputSize(t *testing.T) {
	p := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(p, []byte("203.0.113.7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := inputSize(f); got != 12 {
		t.Errorf("inputSize(file) = %d, want 12", got)
	}
	if got := inputSize(strings.NewReader("x")); got != 0 {
		t.Errorf("inputSize(reader) = %d, want 0", got)
	}
}
