package sqlite

import (
	"context"
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var floorStore = flag.String("floor.store", "", "a store BenchmarkStoreFloor copies (hail-bench -dir leaves one)")

// BenchmarkStoreFloor measures the fastest this machine's SQLite, through
// this driver and with the bulk writer's settings, can write a given
// store's content into a new file: each object's rows copied by INSERT …
// SELECT in transactions of hail import's 20,000 objects, the WAL bounded
// as the store bounds it (no JSON, no validation, no lookups, no Go values
// per row), the secondary indexes built afterwards from sorted runs, then
// the WAL checkpointed into the file. An import writing that content with
// its indexes kept up to date as it goes cannot be faster.
//
// It copies a store left by hail-bench, twice: whole, and with only the
// entries of the first explicit collection (hail-bench's), the bound of a
// store whose filter collections cost nothing.
//
//	go run ./cmd/hail-bench -n 1000000 -indicators -import-only -dir /tmp/floor
//	go test -run '^$' -bench StoreFloor -benchtime 1x -timeout 30m ./store/sqlite -args -floor.store=/tmp/floor/hail.db
func BenchmarkStoreFloor(b *testing.B) {
	if *floorStore == "" {
		b.Skip("-floor.store names no store to copy")
	}
	src, err := filepath.Abs(*floorStore)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(src); err != nil {
		b.Skip(err)
	}
	for _, c := range []struct{ name, entries string }{
		{"whole", `INSERT INTO entries SELECT * FROM src.entries WHERE object > ?1 AND object <= ?2 ORDER BY date_added`},
		{"own-collection", `INSERT INTO entries SELECT * FROM src.entries WHERE object > ?1 AND object <= ?2
			AND collection = (SELECT seq FROM src.collections WHERE kind = 'explicit' ORDER BY seq LIMIT 1) ORDER BY date_added`},
	} {
		b.Run(c.name, func(b *testing.B) {
			var elapsed time.Duration
			var objects, size int64
			for b.Loop() {
				d, n, sz := storeFloorRun(b, src, c.entries)
				elapsed += d
				objects += n
				size = sz
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(objects)/elapsed.Seconds(), "objects/s")
			b.ReportMetric(float64(elapsed.Microseconds())/float64(objects), "µs/object")
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
}

// storeFloorRun copies src into a new store as BenchmarkStoreFloor says
// and returns how long it took, how many objects rows it wrote and the
// new file's size.
func storeFloorRun(b *testing.B, src, entries string) (time.Duration, int64, int64) {
	b.StopTimer()
	defer b.StartTimer()
	path := filepath.Join(b.TempDir(), "floor.db")
	db, err := Open(path) // the schema, by the migrations
	if err != nil {
		b.Fatal(err)
	}
	db.Close()
	w, err := sql.Open("sqlite", dsn(path, true, BulkOptions))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := w.ExecContext(ctx, `ATTACH DATABASE ? AS src`, fileURI(src)+"?mode=ro"); err != nil {
		b.Fatal(err)
	}
	// The secondary indexes of the tables copied: dropped here, built again
	// once the rows are in. The count below keeps the list whole when the
	// schema gains one.
	drops := []string{
		`DROP INDEX objects_stix_id`, `DROP INDEX iocs_value`, `DROP INDEX iocs_cidr`,
		`DROP INDEX entries_type`, `DROP INDEX entries_object`, `DROP INDEX entries_collection`,
		`DROP INDEX entries_current`,
	}
	var indexes []string
	rows, err := w.QueryContext(ctx, `SELECT sql FROM main.sqlite_master WHERE type = 'index'
		AND tbl_name IN ('objects', 'ioc_meta', 'iocs', 'entries') AND sql IS NOT NULL`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var ddl string
		if err := rows.Scan(&ddl); err != nil {
			b.Fatal(err)
		}
		indexes = append(indexes, ddl)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if len(indexes) != len(drops) {
		b.Fatalf("the copied tables have %d indexes, the benchmark drops %d", len(indexes), len(drops))
	}
	for _, s := range drops {
		if _, err := w.ExecContext(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	// The rows entries refer to, outside the timing.
	for _, s := range []string{
		`INSERT OR REPLACE INTO api_roots SELECT * FROM src.api_roots`,
		`INSERT OR REPLACE INTO collections SELECT * FROM src.collections`,
	} {
		if _, err := w.ExecContext(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	// Each object's rows, in transactions of hail import's 20,000 objects,
	// the WAL bounded after each as the store's bulk writers bound it.
	copies := []string{
		`INSERT INTO objects SELECT * FROM src.objects WHERE rid > ?1 AND rid <= ?2`,
		`INSERT INTO ioc_meta SELECT * FROM src.ioc_meta WHERE object > ?1 AND object <= ?2`,
		`INSERT INTO iocs SELECT * FROM src.iocs WHERE object > ?1 AND object <= ?2`,
		entries,
	}
	var last int64
	if err := w.QueryRowContext(ctx, `SELECT coalesce(max(rid), 0) FROM src.objects`).Scan(&last); err != nil {
		b.Fatal(err)
	}
	const batch = 20_000
	start := time.Now()
	for lo := int64(0); lo < last; lo += batch {
		floorTx(b, w, copies, lo, lo+batch)
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > walLimit {
			if _, err := w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, ddl := range indexes {
		floorTx(b, w, []string{ddl})
	}
	if _, err := w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	var n int64
	if err := w.QueryRowContext(ctx, `SELECT count(*) FROM objects`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return elapsed, n, fi.Size()
}

// floorTx runs stmts with args in one transaction.
func floorTx(b *testing.B, w *sql.DB, stmts []string, args ...any) {
	ctx := context.Background()
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s, args...); err != nil {
			b.Fatal(s, ": ", err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
