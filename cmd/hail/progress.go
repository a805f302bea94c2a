package main

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"hail/ingest"
)

// countingReader counts the bytes read through it, for the progress of an
// import whose size is known.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progressWidth is the number of cells of the progress bar.
const progressWidth = 24

// progressLine is an import's progress as one terminal line: a bar, the
// share read and the time left when the input's size is known (total > 0
// bytes, done read so far), then the counts and the rate.
func progressLine(s ingest.Summary, done, total int64, elapsed time.Duration) string {
	rate := float64(s.Read) / max(elapsed.Seconds(), 1e-3)
	counts := fmt.Sprintf("%d read, %d added, %d duplicate, %d rejected (%.0f/s)", s.Read, s.Added, s.Duplicates, s.Rejected, rate)
	if total <= 0 {
		return counts
	}
	share := min(float64(done)/float64(total), 1)
	cells := int(share * progressWidth)
	eta := "ETA --"
	if done > 0 {
		left := time.Duration(float64(elapsed) * (float64(total-done) / float64(done)))
		eta = "ETA " + left.Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %3.0f%%  %s  %s", strings.Repeat("#", cells), strings.Repeat("-", progressWidth-cells),
		share*100, counts, eta)
}
