package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
)

// iocObject returns indicator n of the IOC benchmarks, of about 550 bytes
// and one observable: an IPv4 address (7 in 10), a block (1 in 20, of
// prefix lengths /20 to /28, none overlapping another), a domain or a
// SHA-256. The SQLite
// benchmarks use the same fixture.
func iocObject(tb testing.TB, n int) stix.Object {
	tb.Helper()
	var p string
	switch n % 20 {
	case 0:
		p = fmt.Sprintf("[ipv4-addr:value = '%s/%d']", iocBlock(n), 20+(n/20)%9)
	case 1, 2, 3:
		p = fmt.Sprintf("[domain-name:value = 'c2-%d.example.net']", n)
	case 4, 5:
		p = fmt.Sprintf("[file:hashes.'SHA-256' = '%064x']", n)
	default:
		p = fmt.Sprintf("[ipv4-addr:value = '%s']", iocAddr(n))
	}
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-3c1e-4f7a-9d2b-%012x",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"IOC %d",`+
		`"description":"Command and control server observed in a campaign.","indicator_types":["malicious-activity"],`+
		`"pattern":%q,"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z",`+
		`"labels":["c2"],"confidence":%d,"created_by_ref":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",`+
		`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`, n, n, n, p, 50+n%50)
	o, err := stix.Parse([]byte(raw))
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func iocAddr(n int) string {
	return fmt.Sprintf("%d.%d.%d.%d", 11+(n>>24)&127, (n>>16)&255, (n>>8)&255, n&255)
}

// iocBlock is the network of block n (n a multiple of 20): each block
// has a /20 of its own from 64.0.0.0 up, apart from the addresses.
func iocBlock(n int) string {
	b := 64<<24 + (n/20)<<12
	return fmt.Sprintf("%d.%d.%d.%d", b>>24&255, b>>16&255, b>>8&255, b&255)
}

// inBlock is an address that block n holds, whatever its prefix length.
func inBlock(n int) string {
	b := 64<<24 + (n/20)<<12 + 9
	return fmt.Sprintf("%d.%d.%d.%d", b>>24&255, b>>16&255, b>>8&255, b&255)
}

// fillIOCs adds indicators [from, to) to collection coll.
func fillIOCs(tb testing.TB, db *DB, coll string, from, to, batch int) {
	tb.Helper()
	for lo := from; lo < to; lo += batch {
		objs := make([]stix.Object, 0, batch)
		for n := lo; n < min(lo+batch, to); n++ {
			objs = append(objs, iocObject(tb, n))
		}
		if _, err := db.AddObjects(context.Background(), coll, objs); err != nil {
			tb.Fatal(err)
		}
	}
}

// iocBenchSize is HAIL_BENCH_IOCS, default 20,000; by hand, 1000000.
func iocBenchSize(tb testing.TB) int {
	if s := os.Getenv("HAIL_BENCH_IOCS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			tb.Fatalf("HAIL_BENCH_IOCS=%q: want a number of at least 100", s)
		}
		return n
	}
	return 20000
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// iocBenchDB returns a store holding HAIL_BENCH_IOCS benchmark indicators
// in testColl, analysed.
func iocBenchDB(b *testing.B) (*DB, int) {
	n := iocBenchSize(b)
	db := openTest(b)
	setupColls(b, db)
	start := time.Now()
	fillIOCs(b, db, testColl, 0, n, 5000)
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
			return store.IOCValue{Type: "ipv4", Value: iocAddr(k + 7)}
		case 1:
			return store.IOCValue{Type: "ipv4", Value: inBlock(k)}
		case 2:
			return store.IOCValue{Type: "domain", Value: fmt.Sprintf("c2-%d.example.net", k+1)}
		}
		return store.IOCValue{Type: "ipv4", Value: "192.0.2.1"}
	}
	for _, size := range []int{1, 1000} {
		b.Run(fmt.Sprintf("lookup/values=%d/iocs=%d", size, n), func(b *testing.B) {
			var ds []time.Duration
			found := 0
			cpu := cpuTime()
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
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(len(ds)), "client-cpu-µs/op")
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
			cpu := cpuTime()
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
			b.ReportMetric(float64(cpuTime()-cpu)/float64(total), "cpu-ns/ioc")
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
				cpu := cpuTime()
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
				b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(len(ds)), "client-cpu-µs/op")
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
					objs[j] = iocObject(b, next)
					next++
				}
				b.StartTimer()
				start := cpuTime()
				if _, err := db.AddObjects(ctx, testColl, objs); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - start
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(cpu)/float64(next), "cpu-ns/object")
			b.ReportMetric(float64(server.since(b))/float64(next), "db-cpu-ns/object")
		})
	}
}
