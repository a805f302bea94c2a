package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// cachedIOCDB opens a store of n benchmark indicators in the benchmark
// collection, kept in os.TempDir() across runs like cachedBenchDB.
func cachedIOCDB(b *testing.B, n int) *DB {
	b.Helper()
	ms, err := knownMigrations()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("hail-iocbench-%d-schema%d-fixture%d.db", n, ms[len(ms)-1].version, storetest.BenchIOCFixture))
	if _, err := os.Stat(path); err != nil {
		tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
		start := time.Now()
		db := newBenchDB(b, tmp)
		storetest.FillBenchIndicators(b, db, benchCollection, 0, n, 5000)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %s in %v (%.0f indicators/s)", path, time.Since(start), float64(n)/time.Since(start).Seconds())
	}
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// reportLatency reports the median and 99th percentile of ds.
func reportLatency(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkLookupIOCs looks up values in an index of HAIL_BENCH_IOCS
// indicators: one value per call (an address held exactly, an address in
// a block, a domain, a miss, in turn) and 1000 values per call.
func BenchmarkLookupIOCs(b *testing.B) {
	n := storetest.BenchIOCCount(b)
	db := cachedIOCDB(b, n)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	value := func(i int) store.IOCValue {
		k := rng.IntN(n/20) * 20 // a multiple of 20: a block's number
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
		b.Run(fmt.Sprintf("values=%d/iocs=%d", size, n), func(b *testing.B) {
			var ds []time.Duration
			found := 0
			cpu := storetest.CPUTime()
			for i := 0; b.Loop(); i++ {
				values := make([]store.IOCValue, size)
				for j := range values {
					values[j] = value(i*size + j)
				}
				start := time.Now()
				ms, err := db.LookupIOCs(ctx, benchCollection, values, store.IOCFilter{})
				ds = append(ds, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				found += len(ms)
			}
			if found == 0 {
				b.Fatal("nothing found")
			}
			reportLatency(b, ds)
			b.ReportMetric(float64((storetest.CPUTime()-cpu).Microseconds())/float64(len(ds)), "cpu-µs/op")
		})
	}
}

// BenchmarkListIOCs walks the whole IOC listing of HAIL_BENCH_IOCS
// indicators in pages of 10,000, as an export does.
func BenchmarkListIOCs(b *testing.B) {
	n := storetest.BenchIOCCount(b)
	db := cachedIOCDB(b, n)
	ctx := context.Background()
	fifty := 50
	for _, tc := range []struct {
		name string
		f    store.IOCFilter
	}{
		{"all", store.IOCFilter{}},
		{"ipv4", store.IOCFilter{Types: []string{"ipv4"}}},
		{"ipv4+cidr,min50", store.IOCFilter{Types: []string{"ipv4", "cidr"}, MinConfidence: &fifty}},
	} {
		b.Run(fmt.Sprintf("%s/iocs=%d", tc.name, n), func(b *testing.B) {
			total := 0
			cpu := storetest.CPUTime()
			for b.Loop() {
				f := tc.f
				f.Limit = store.MaxLimit
				for {
					p, err := db.IOCs(ctx, benchCollection, f)
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
		})
	}
}

// BenchmarkAddObjectsFilterCollections adds indicators in batches of 1000
// to an explicit collection alone, and beside the six filter collections
// a fresh store gets (all, ips, hashes, domains, urls, cves).
func BenchmarkAddObjectsFilterCollections(b *testing.B) {
	filters := []string{"{}", `{"observables":["ipv4","ipv6","cidr"]}`,
		`{"observables":["md5","sha1","sha256","sha512","ssdeep","tlsh"]}`, `{"observables":["domain"]}`,
		`{"observables":["url"]}`, `{"types":["vulnerability"]}`}
	for _, nf := range []int{0, len(filters)} {
		b.Run(fmt.Sprintf("filters=%d", nf), func(b *testing.B) {
			db := newBenchDB(b, filepath.Join(b.TempDir(), "hail.db"))
			defer db.Close()
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
			for b.Loop() {
				b.StopTimer()
				objs := make([]stix.Object, size)
				for j := range objs {
					objs[j] = storetest.BenchIndicator(b, next)
					next++
				}
				b.StartTimer()
				start := storetest.CPUTime()
				if _, err := db.AddObjects(ctx, benchCollection, objs); err != nil {
					b.Fatal(err)
				}
				cpu += storetest.CPUTime() - start
			}
			b.ReportMetric(float64(cpu)/float64(next), "cpu-ns/object")
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
