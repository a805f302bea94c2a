package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"hail/store"
)

// BenchmarkBackfill creates a filter collection over a store of n fixture
// objects held in the benchmark collection and in an "all" filter
// collection, and reports the source entries read per second. The cost per
// entry must not grow with n: a backfill that sorted what is left to copy
// for every batch read each entry once per batch.
func BenchmarkBackfill(b *testing.B) {
	for _, n := range []int{10000, 40000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			db := filterBenchDB(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("5e1a2b3c-4d5e-4f60-8a7b-%012x", i)
				if err := db.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "api", Title: "IPs",
					Kind: store.KindFilter, Filter: "observables=ipv4"}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := db.DeleteCollection(ctx, id); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(2*n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkRefilter refilters a filter collection over n fixture objects
// back and forth between two filters that each match most of them: every
// round drops what the collection holds, copies in what the other filter
// matches and looks for context objects nothing names.
func BenchmarkRefilter(b *testing.B) {
	const n = 20000
	db := filterBenchDB(b, n)
	ctx := context.Background()
	const id = "5e1a2b3c-4d5e-4f60-8a7b-ffffffffffff"
	if err := db.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "api", Title: "F",
		Kind: store.KindFilter, Filter: "observables=ipv4"}); err != nil {
		b.Fatal(err)
	}
	filters := []string{"observables=domain", "observables=ipv4"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := db.RefilterCollection(ctx, id, filters[i%2]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// filterBenchDB returns a new store of n fixture objects in the benchmark
// collection, each also in an "all" filter collection.
func filterBenchDB(b *testing.B, n int) *DB {
	b.Helper()
	db := newBenchDB(b, filepath.Join(b.TempDir(), "hail.db"))
	b.Cleanup(func() { db.Close() })
	if err := db.CreateCollection(context.Background(), store.Collection{ID: "6f2b3c4d-5e6f-4071-9b8c-000000000001",
		APIRoot: "api", Title: "All", Kind: store.KindFilter, Filter: "{}"}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	fillBench(b, db, 0, n)
	b.Logf("filled %d objects in %v", n, time.Since(start))
	return db
}
