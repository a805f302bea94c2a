package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// benchObjects returns n new indicator versions numbered from first, about
// 400 bytes each. They are built as stix.Parse would build them, without
// parsing, so that making them costs little beside what is measured.
func benchObjects(tb testing.TB, first, n int) []stix.Object {
	tb.Helper()
	const ts = "2024-01-01T00:00:00.000Z"
	version, err := stix.ParseTimestamp(ts)
	if err != nil {
		tb.Fatal(err)
	}
	objs := make([]stix.Object, n)
	for i := range objs {
		k := first + i
		id := fmt.Sprintf("indicator--%08x-%04x-4cbf-938f-98ee46b3cd3f", k, k>>32&0xffff)
		objs[i] = stix.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: ts, Modified: ts, Version: version,
			Raw: fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":%q,"modified":%q,`+
				`"name":"Malicious IP %d","indicator_types":["malicious-activity"],`+
				`"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z",`+
				`"labels":["benchmark"],"confidence":80}`, id, ts, ts, k, k>>16&0xff, k>>8&0xff, k&0xff)}
	}
	return objs
}

// load adds n objects to testColl in batches of 1000.
func load(tb testing.TB, db *DB, n int) {
	tb.Helper()
	for done := 0; done < n; done += 1000 {
		if _, err := db.AddObjects(context.Background(), testColl, benchObjects(tb, done, min(1000, n-done))); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkObjectsPage reads pages of 1000 objects (raw bytes included)
// from collections of several sizes, walking them by AddedAfter as a poller
// does. The time per page should not grow with the collection. Set
// HAIL_BENCH_1M=1 to add a collection of a million objects (slow to load).
func BenchmarkObjectsPage(b *testing.B) {
	sizes := []int{1000, 100000}
	if os.Getenv("HAIL_BENCH_1M") != "" {
		sizes = append(sizes, 1000000)
	}
	ctx := context.Background()
	for _, n := range sizes {
		db := openTest(b)
		setupColls(b, db)
		load(b, db, n)
		if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
		for _, headersOnly := range []bool{false, true} {
			name := fmt.Sprintf("objects=%d/envelope", n)
			if headersOnly {
				name = fmt.Sprintf("objects=%d/manifest", n)
			}
			b.Run(name, func(b *testing.B) {
				f := store.Filter{Limit: 1000, HeadersOnly: headersOnly}
				read := 0
				for b.Loop() {
					p, err := db.Objects(ctx, testColl, f)
					if err != nil {
						b.Fatal(err)
					}
					read += len(p.Entries)
					if p.More {
						f.AddedAfter = p.Entries[len(p.Entries)-1].DateAdded
					} else {
						f.AddedAfter = f.AddedAfter.AddDate(-100, 0, 0)
					}
				}
				b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "objects/s")
			})
		}
		// What Get Objects reads: the same pages through ObjectsRaw,
		// copying each object into one buffer as the server does.
		b.Run(fmt.Sprintf("objects=%d/raw", n), func(b *testing.B) {
			f := store.Filter{Limit: 1000}
			var buf []byte
			read := 0
			for b.Loop() {
				buf = buf[:0]
				var last time.Time
				more, err := db.ObjectsRaw(ctx, testColl, f, func(da time.Time, raw []byte) error {
					buf = append(buf, raw...)
					last = da
					read++
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if more {
					f.AddedAfter = last
				} else {
					f.AddedAfter = f.AddedAfter.AddDate(-100, 0, 0)
				}
			}
			b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkAddObjects adds batches of new objects to a growing collection.
func BenchmarkAddObjects(b *testing.B) {
	ctx := context.Background()
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db := openTest(b)
			setupColls(b, db)
			next := 0
			var cpu time.Duration
			server := startBackendCPU(b, db)
			for b.Loop() {
				objs := benchObjects(b, next, batch)
				next += batch
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
