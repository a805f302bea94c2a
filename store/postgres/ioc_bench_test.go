package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// iocBenchDB returns a store holding HAIL_BENCH_IOCS benchmark indicators
// in testColl, analysed.
func iocBenchDB(b *testing.B) (*DB, int) {
	n := storetest.BenchIOCCount(b)
	db := openTest(b)
	setupColls(b, db)
	start := time.Now()
	storetest.FillBenchIndicators(b, db, testColl, 0, n, 5000)
	b.Logf("loaded %d indicators in %v", n, time.Since(start))
	if _, err := db.pool.Exec(context.Background(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return db, n
}

// BenchmarkIOCs looks up values and walks the whole listing in an index of
// HAIL_BENCH_IOCS indicators (one store for all, as loading is slow).
func BenchmarkIOCs(b *testing.B) {
	db, n := iocBenchDB(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	value := func(i int) store.IOCValue {
		k := rng.IntN(n/20) * 20
		switch i % 4 {
		case 0:
			return store.IOCValue{Type: "ipv4", Value: storetest.BenchAddr(k + 7)}
		case 1:
			return store.IOCValue{Type: "ipv4", Value: storetest.BenchInBlock(k)}
		case 2:
			return store.IOCValue{Type: "domain", Value: fmt.Sprintf("c2-%d.example.net", k+1)}
		}
		return store.IOCValue{Type: "ipv4", Value: "192.0.2.1"}
	}
	for _, size := range []int{1, 1000} {
		b.Run(fmt.Sprintf("lookup/values=%d/iocs=%d", size, n), func(b *testing.B) {
			var ds []time.Duration
			found := 0
			cpu := storetest.CPUTime()
			server := startBackendCPU(b, db)
			for i := 0; b.Loop(); i++ {
				values := make([]store.IOCValue, size)
				for j := range values {
					values[j] = value(i*size + j)
				}
				start := time.Now()
				ms, err := db.LookupIOCs(ctx, testColl, values, store.IOCFilter{})
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				found += len(ms)
			}
			if found == 0 {
				b.Fatal("nothing found")
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64((storetest.CPUTime()-cpu).Microseconds())/float64(len(ds)), "client-cpu-µs/op")
			b.ReportMetric(float64(server.since(b).Microseconds())/float64(len(ds)), "db-cpu-µs/op")
		})
	}
	for _, tc := range []struct {
		name string
		f    store.IOCFilter
	}{
		{"all", store.IOCFilter{}},
		{"ipv4+cidr", store.IOCFilter{Types: []string{"ipv4", "cidr"}}},
	} {
		b.Run(fmt.Sprintf("list/%s/iocs=%d", tc.name, n), func(b *testing.B) {
			total := 0
			cpu := storetest.CPUTime()
			server := startBackendCPU(b, db)
			for b.Loop() {
				f := tc.f
				f.Limit = store.MaxLimit
				for {
					p, err := db.IOCs(ctx, testColl, f)
					if err != nil {
						b.Fatal(err)
					}
					total += len(p.IOCs)
					if !p.More {
						break
					}
					f.After = p.IOCs[len(p.IOCs)-1].Cursor()
				}
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "iocs/s")
			b.ReportMetric(float64(storetest.CPUTime()-cpu)/float64(total), "cpu-ns/ioc")
			b.ReportMetric(float64(server.since(b))/float64(total), "db-cpu-ns/ioc")
		})
	}
	// One page of a type no version holds (sha1), and of a type 1 in 20
	// rows has (cidr): IOCs, which picks its plan by counting, beside a
	// walk of the collection's entries, which reads the whole collection to
	// find that it has no sha1 row to show.
	seq, err := collectionSeq(ctx, db.pool, testColl, false)
	if err != nil {
		b.Fatal(err)
	}
	for _, typ := range []string{"sha1", "cidr"} {
		for _, plan := range []string{"walk", "chosen"} {
			b.Run(fmt.Sprintf("page/%s/%s/iocs=%d", typ, plan, n), func(b *testing.B) {
				var ds []time.Duration
				cpu := storetest.CPUTime()
				server := startBackendCPU(b, db)
				for b.Loop() {
					f := store.IOCFilter{Types: []string{typ}, Limit: 100}
					start := time.Now()
					var p store.IOCPage
					var err error
					if plan == "walk" {
						p, err = db.iocPage(ctx, seq, f, false)
					} else {
						p, err = db.IOCs(ctx, testColl, f)
					}
					ds = append(ds, time.Since(start))
					if err != nil || (len(p.IOCs) > 0) != (typ == "cidr") {
						b.Fatalf("IOCs: %d rows, %v", len(p.IOCs), err)
					}
				}
				slices.Sort(ds)
				b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64((storetest.CPUTime()-cpu).Microseconds())/float64(len(ds)), "client-cpu-µs/op")
				b.ReportMetric(float64(server.since(b).Microseconds())/float64(len(ds)), "db-cpu-µs/op")
			})
		}
	}
}

// BenchmarkAddObjectsFilterCollections adds indicators in batches of 1000
// to an explicit collection alone, and beside the six filter collections
// a fresh store gets.
func BenchmarkAddObjectsFilterCollections(b *testing.B) {
	filters := []string{"{}", `{"observables":["ipv4","ipv6","cidr"]}`,
		`{"observables":["md5","sha1","sha256","sha512","ssdeep","tlsh"]}`, `{"observables":["domain"]}`,
		`{"observables":["url"]}`, `{"types":["vulnerability"]}`}
	for _, nf := range []int{0, len(filters)} {
		b.Run(fmt.Sprintf("filters=%d", nf), func(b *testing.B) {
			db := openTest(b)
			setupColls(b, db)
			ctx := context.Background()
			for i, f := range filters[:nf] {
				if err := db.CreateCollection(ctx, store.Collection{ID: fmt.Sprintf("7f0d4c4e-9d0b-4f8e-a6a1-%012d", i),
					APIRoot: "api", Title: "F", Kind: store.KindFilter, Filter: f}); err != nil {
					b.Fatal(err)
				}
			}
			const size = 1000
			next := 0
			var cpu time.Duration
			server := startBackendCPU(b, db)
			for b.Loop() {
				b.StopTimer()
				objs := make([]stix.Object, size)
				for j := range objs {
					objs[j] = storetest.BenchIndicator(b, next)
					next++
				}
				b.StartTimer()
				start := storetest.CPUTime()
				if _, err := db.AddObjects(ctx, testColl, objs); err != nil {
					b.Fatal(err)
				}
				cpu += storetest.CPUTime() - start
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(cpu)/float64(next), "cpu-ns/object")
			b.ReportMetric(float64(server.since(b))/float64(next), "db-cpu-ns/object")
		})
	}
}
