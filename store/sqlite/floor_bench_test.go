package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var floorRows = flag.Int("floor.rows", 100_000, "rows BenchmarkEngineFloor inserts")

// BenchmarkEngineFloor measures what this machine's SQLite, with the
// store's writer settings, page size and background checkpoints, takes to
// insert rows carrying the two random-order keys every stored indicator
// has: its STIX id (to find an object's versions) and its observable's
// value (to look an IOC up). The rows hold nothing else and there is no
// other index, so no schema that keeps both lookups can write faster:
// the figure is the floor under the bulk import's rate.
//
//	go test -run '^$' -bench EngineFloor -benchtime 1x -timeout 30m ./store/sqlite -args -floor.rows=1000000
//
// -benchtime 1x matters: the cost grows with the table, so each run must
// start from an empty file and insert -floor.rows rows.
func BenchmarkEngineFloor(b *testing.B) {
	for _, idx := range []struct {
		name string
		ddl  []string
	}{
		{"no-index", nil},
		{"id", []string{`CREATE INDEX t_id ON t (stix_id, version)`}},
		{"id+value", []string{`CREATE INDEX t_id ON t (stix_id, version)`, `CREATE INDEX t_value ON t (type, value)`}},
	} {
		b.Run(idx.name, func(b *testing.B) {
			n := *floorRows
			ids := make([]string, n)
			values := make([]string, n)
			for i := range ids {
				var u [16]byte
				rand.Read(u[:])
				ids[i] = "indicator--" + hex.EncodeToString(u[:])
				rand.Read(u[:8])
				values[i] = hex.EncodeToString(u[:8]) + ".example.com"
			}
			var elapsed time.Duration
			for b.Loop() {
				elapsed += floorRun(b, n, idx.ddl, ids, values)
			}
			b.ReportMetric(0, "ns/op") // the setup's, not the inserts'
			b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(elapsed.Microseconds())/float64(n*b.N), "µs/row")
		})
	}
}

// floorRun inserts n rows into a new file in transactions of the bulk
// import's size, bounding the WAL as the store does, and returns how long
// the inserts took.
func floorRun(b *testing.B, n int, ddl, ids, values []string) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	path := filepath.Join(b.TempDir(), "floor.db")
	if err := createFile(path); err != nil {
		b.Fatal(err)
	}
	w, err := sql.Open("sqlite", dsn(path, true, Options{}))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	ckpt, err := startCheckpointer(path)
	if err != nil {
		b.Fatal(err)
	}
	defer ckpt.close()
	ctx := context.Background()
	for _, s := range append([]string{`CREATE TABLE t (rid INTEGER PRIMARY KEY, stix_id TEXT NOT NULL, type TEXT NOT NULL, version INTEGER NOT NULL, value TEXT NOT NULL)`}, ddl...) {
		if _, err := w.ExecContext(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 20_000 // hail import's default transaction
	start := time.Now()
	for i := 0; i < n; i += batch {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO t (stix_id, type, version, value) VALUES (?, 'ipv4', ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for j := i; j < min(i+batch, n); j++ {
			if _, err := st.ExecContext(ctx, ids[j], int64(j+1), values[j]); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		// As boundWAL does after the bulk writers' commits.
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > walLimit {
			w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		}
	}
	return time.Since(start)
}
