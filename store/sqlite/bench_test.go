package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// benchCollection is the collection benchmarks fill.
const benchCollection = "7f0d4c4e-9d0b-4f8e-a6a1-2b3c4d5e6f70"

// benchFixture changes when benchObject changes, so that a cached store
// built from older objects is not reused.
const benchFixture = 1

// benchObject returns object n of the benchmark fixture: mostly
// indicators of about 600 bytes, with some malware, attack patterns and
// relationships.
func benchObject(tb testing.TB, n int) stix.Object {
	tb.Helper()
	id := fmt.Sprintf("%08x-3c1e-4f7a-9d2b-%012x", n, n)
	var raw string
	switch n % 10 {
	case 7:
		raw = fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":"malware--%s","created":"2024-01-01T00:00:00.000Z",`+
			`"modified":"2024-01-01T00:00:00.000Z","name":"Family %d","is_family":true,"malware_types":["trojan"],`+
			`"description":"A malware family seen in benchmark data, described at moderate length to approach the size of real objects."}`, id, n)
	case 8:
		raw = fmt.Sprintf(`{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--%s","created":"2024-01-01T00:00:00.000Z",`+
			`"modified":"2024-01-01T00:00:00.000Z","name":"Technique %d","external_references":[{"source_name":"mitre-attack","external_id":"T%04d"}]}`, id, n, n%10000)
	case 9:
		raw = fmt.Sprintf(`{"type":"relationship","spec_version":"2.1","id":"relationship--%s","created":"2024-01-01T00:00:00.000Z",`+
			`"modified":"2024-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"indicator--%s","target_ref":"malware--%s"}`, id, id, id)
	default:
		raw = fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2024-01-01T00:00:00.000Z",`+
			`"modified":"2024-01-01T00:00:00.000Z","name":"Host %d","description":"Command and control server observed in a campaign.",`+
			`"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.%d.%d.%d'] OR [domain-name:value = 'c2-%d.example.net']",`+
			`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","labels":["c2"],"confidence":80,`+
			`"external_references":[{"source_name":"benchmark","url":"https://example.org/reports/%d"}],"x_hail_bench":true}`,
			id, n, (n>>16)&255, (n>>8)&255, n&255, n, n)
	}
	o, err := stix.Parse([]byte(raw))
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// fillBench adds objects numbered [from, to) to the benchmark collection.
func fillBench(tb testing.TB, db *DB, from, to int) {
	tb.Helper()
	const batch = 5000
	for lo := from; lo < to; lo += batch {
		objs := make([]stix.Object, 0, batch)
		for n := lo; n < min(lo+batch, to); n++ {
			objs = append(objs, benchObject(tb, n))
		}
		if _, err := db.AddObjects(context.Background(), benchCollection, objs); err != nil {
			tb.Fatal(err)
		}
	}
}

// newBenchDB creates the benchmark collection in a new store at path.
func newBenchDB(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api"}); err != nil {
		tb.Fatal(err)
	}
	if err := db.CreateCollection(ctx, store.Collection{ID: benchCollection, APIRoot: "api", Title: "Bench"}); err != nil {
		tb.Fatal(err)
	}
	return db
}

// cachedBenchDB opens a store of n fixture objects kept in os.TempDir()
// across runs, keyed by schema and fixture versions; it is built (in a
// temporary file, renamed when complete) only when missing.
func cachedBenchDB(b *testing.B, n int) *DB {
	b.Helper()
	ms, err := knownMigrations()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("hail-bench-%d-schema%d-fixture%d.db", n, ms[len(ms)-1].version, benchFixture))
	if _, err := os.Stat(path); err != nil {
		tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
		start := time.Now()
		db := newBenchDB(b, tmp)
		fillBench(b, db, 0, n)
		if err := db.Close(); err != nil { // the last close checkpoints and removes the WAL
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %s in %v", path, time.Since(start))
	}
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkObjectsPage reads pages of 1000 latest versions, from starting
// points spread over the collection, at 1k and 1M objects. The 1M store is
// built once (minutes) and cached; -short skips it.
func BenchmarkObjectsPage(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1000}, {"1M", 1000000}} {
		b.Run(size.name, func(b *testing.B) {
			if size.n > 100000 && testing.Short() {
				b.Skip("1M-object store skipped with -short")
			}
			var db *DB
			if size.n > 100000 {
				db = cachedBenchDB(b, size.n)
			} else {
				db = newBenchDB(b, filepath.Join(b.TempDir(), "hail.db"))
				fillBench(b, db, 0, size.n)
			}
			for _, f := range []struct {
				name string
				f    store.Filter
			}{
				{"latest", store.Filter{}},
				{"type", store.Filter{Types: []string{"indicator"}}},
				{"headers", store.Filter{HeadersOnly: true}},
			} {
				b.Run(f.name, func(b *testing.B) { benchPages(b, db, f.f, size.n, false) })
			}
			// What Get Objects reads: the same pages through ObjectsRaw.
			b.Run("raw", func(b *testing.B) { benchPages(b, db, store.Filter{}, size.n, true) })
			b.Run("raw-type", func(b *testing.B) { benchPages(b, db, store.Filter{Types: []string{"indicator"}}, size.n, true) })
		})
	}
}

// benchPages reads full pages of 1000 from up to 64 starting points
// spread over the collection, in turn, with Objects or, when raw is true,
// with ObjectsRaw copying each object into one buffer as the server does.
func benchPages(b *testing.B, db *DB, f store.Filter, n int, raw bool) {
	ctx := context.Background()
	starts := []time.Time{{}}
	for i := 1; i < 64 && n > 2000; i++ {
		// Setup only: OFFSET is fine here, never in the product.
		var da int64
		if err := db.read.QueryRowContext(ctx, `SELECT date_added FROM entries ORDER BY date_added LIMIT 1 OFFSET ?`,
			i*(n-2000)/64).Scan(&da); err != nil {
			b.Fatal(err)
		}
		starts = append(starts, fromMicros(da))
	}
	f.Limit = 1000
	got := 0
	var buf []byte
	b.ResetTimer()
	cpu := storetest.CPUTime()
	for i := 0; i < b.N; i++ {
		f.AddedAfter = starts[i%len(starts)]
		read, err := readPage(ctx, db, f, raw, &buf)
		if err != nil {
			b.Fatal(err)
		}
		if read == 0 {
			b.Fatal("empty page")
		}
		got += read
	}
	b.ReportMetric(float64(storetest.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "objects/s")
}

// readPage reads one page with Objects, or with ObjectsRaw into buf, and
// returns its length.
func readPage(ctx context.Context, db *DB, f store.Filter, raw bool, buf *[]byte) (int, error) {
	if !raw {
		p, err := db.Objects(ctx, benchCollection, f)
		return len(p.Entries), err
	}
	n := 0
	*buf = (*buf)[:0]
	_, err := db.ObjectsRaw(ctx, benchCollection, f, func(_ time.Time, raw []byte) error {
		*buf = append(*buf, raw...)
		n++
		return nil
	})
	return n, err
}

// BenchmarkAddObjects adds new objects in batches of 100 and 1000 to a
// store that grows as the benchmark runs.
func BenchmarkAddObjects(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			db := newBenchDB(b, filepath.Join(b.TempDir(), "hail.db"))
			defer db.Close()
			ctx := context.Background()
			next := 0
			b.ResetTimer()
			var cpu time.Duration
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				objs := make([]stix.Object, size)
				for j := range objs {
					objs[j] = benchObject(b, next)
					next++
				}
				b.StartTimer()
				start, t0 := storetest.CPUTime(), time.Now()
				if _, err := db.AddObjects(ctx, benchCollection, objs); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				cpu += storetest.CPUTime() - start
			}
			reportLatency(b, lat)
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkPreload looks up, in one write transaction, what a collection
// and six filter collections hold of 2,000 ids, as AddObjects does for
// each batch before adding it: the ids are new (an import's usual case)
// or all held (a re-import).
func BenchmarkPreload(b *testing.B) {
	db := newBenchDB(b, filepath.Join(b.TempDir(), "hail.db"))
	defer db.Close()
	ctx := context.Background()
	for i := range 6 {
		if err := db.CreateCollection(ctx, store.Collection{ID: fmt.Sprintf("7f0d4c4e-9d0b-4f8e-a6a1-%012d", i),
			APIRoot: "api", Title: "F", Kind: store.KindFilter, Filter: "{}"}); err != nil {
			b.Fatal(err)
		}
	}
	const held, size = 10000, 2000
	objs := make([]stix.Object, held)
	for i := range objs {
		objs[i] = benchObject(b, i)
	}
	if _, err := db.AddObjects(ctx, benchCollection, objs); err != nil {
		b.Fatal(err)
	}
	var seqs []int64
	rows, err := db.read.QueryContext(ctx, `SELECT seq FROM collections`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var s int64
		rows.Scan(&s)
		seqs = append(seqs, s)
	}
	rows.Close()
	for _, bc := range []struct {
		name  string
		first int
		want  int
	}{{"new", held, 0}, {"held", 0, size * len(seqs)}} {
		ids := make([]string, size)
		for i := range ids {
			ids[i] = benchObject(b, bc.first+i).ID
		}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				tx, err := db.write.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				w, err := db.begin(ctx, tx)
				if err != nil {
					b.Fatal(err)
				}
				var adders []*adder
				for _, s := range seqs {
					adders = append(adders, w.adder(s))
				}
				if err := w.preload(ids, adders...); err != nil {
					b.Fatal(err)
				}
				n := 0
				for _, a := range adders {
					for _, vs := range a.known {
						n += len(vs)
					}
				}
				tx.Rollback()
				if n != bc.want {
					b.Fatalf("preloaded %d versions, want %d", n, bc.want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/id")
		})
	}
}

// BenchmarkCollectionStats counts a collection of 100,000 objects, as the
// stream does for a client that gives no position and the dashboard and
// metrics do for every collection.
func BenchmarkCollectionStats(b *testing.B) {
	db := newBenchDB(b, filepath.Join(b.TempDir(), "hail.db"))
	b.Cleanup(func() { db.Close() })
	fillBench(b, db, 0, 100000)
	ctx := context.Background()
	for b.Loop() {
		s, err := db.CollectionStats(ctx, benchCollection)
		if err != nil {
			b.Fatal(err)
		}
		if s.Objects != 100000 {
			b.Fatalf("counted %d objects, want 100000", s.Objects)
		}
	}
}
