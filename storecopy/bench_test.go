package storecopy_test

import (
	"context"
	"testing"

	"hail/storecopy"
)

// BenchmarkCopy copies a store of 1,000 indicators in two versions each
// (3,000 versions with the filter collections' copies, plus context) into
// a new store per iteration, and reports versions written per second.
func BenchmarkCopy(b *testing.B) {
	for _, tc := range targets {
		b.Run(tc.name, func(b *testing.B) {
			src := openSQLite(b)
			fill(b, src, 1000)
			var written int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dst := tc.open(b)
				b.StartTimer()
				res, err := storecopy.Copy(context.Background(), src, dst, storecopy.Options{})
				if err != nil {
					b.Fatal(err)
				}
				written += res.Written
				b.StopTimer()
				dst.(interface{ Close() error }).Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "versions/s")
		})
	}
}
