package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"hail/store"
	"hail/store/storetest"
)

// BenchmarkSmallPoll runs what the server does for each small poll: find
// the key by its hash, find the collection, then read the last 10 versions
// added after a point 50 versions before the head, on a store of 5,000
// objects.
func BenchmarkSmallPoll(b *testing.B) {
	db := newBenchDB(b, filepath.Join(b.TempDir(), "hail.db"))
	defer db.Close()
	ctx := context.Background()
	hash := []byte("0123456789abcdef0123456789abcdef")
	if err := db.CreateKey(ctx, store.Key{Name: "poller", Hash: hash}); err != nil {
		b.Fatal(err)
	}
	const n = 5000
	fillBench(b, db, 0, n)
	var da int64
	if err := db.read.QueryRowContext(ctx, `SELECT date_added FROM entries ORDER BY date_added DESC LIMIT 1 OFFSET 50`).
		Scan(&da); err != nil {
		b.Fatal(err)
	}
	f := store.Filter{AddedAfter: fromMicros(da), Limit: 10}
	b.ResetTimer()
	cpu := storetest.CPUTime()
	for i := 0; i < b.N; i++ {
		if _, err := db.KeyByHash(ctx, hash); err != nil {
			b.Fatal(err)
		}
		c, err := db.Collection(ctx, "api", benchCollection)
		if err != nil {
			b.Fatal(err)
		}
		p, err := db.Objects(ctx, c.ID, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Entries) != 10 {
			b.Fatalf("page of %d entries, want 10", len(p.Entries))
		}
	}
	b.ReportMetric(float64(storetest.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
}
