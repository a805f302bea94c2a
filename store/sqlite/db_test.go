package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// openTest opens a new store in a temporary directory, closed at cleanup.
func openTest(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(filepath.Join(tb.TempDir(), "hail.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) }, storetest.Options{Concurrent: true,
		PruneScanned: func(s store.Store, hook func()) { s.(*DB).pruneScanned = hook }})
}

// TestConformanceBulk runs the suite on stores opened as hail import opens
// them, which add entries by another path (Options.RowByRow).
func TestConformanceBulk(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := OpenWith(filepath.Join(t.TempDir(), "hail.db"), ImportOptions)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}, storetest.Options{})
}

// TestPragmas checks that both pools got their pragmas: modernc ignores
// settings it does not recognise, so a typo would go unnoticed.
func TestPragmas(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	want := map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "5000",
		"synchronous":  "1", // NORMAL
		"foreign_keys": "1",
	}
	for name, pool := range map[string]*sql.DB{"write": db.write, "read": db.read} {
		for pragma, w := range want {
			var got string
			if err := pool.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s pool: PRAGMA %s: %v", name, pragma, err)
			}
			if got != w {
				t.Errorf("%s pool: PRAGMA %s = %q, want %q", name, pragma, got, w)
			}
		}
	}
	var q string
	if err := db.read.QueryRowContext(ctx, "PRAGMA query_only").Scan(&q); err != nil {
		t.Fatal(err)
	}
	if q != "1" {
		t.Errorf("read pool: PRAGMA query_only = %q, want 1", q)
	}
	if _, err := db.read.ExecContext(ctx, "DELETE FROM keys"); err == nil {
		t.Errorf("read pool accepted a write")
	}
}

func TestWriteCache(t *testing.T) {
	// The writer's page cache is the server's by default and a bulk
	// writer's when asked, and only a bulk writer keeps its temporary
	// store in memory; the readers' are SQLite's own either way.
	path := filepath.Join(t.TempDir(), "hail.db")
	for _, tc := range []struct {
		o                   Options
		wantCache, wantTemp string
	}{
		{Options{}, "-65536", "0"},
		{BulkOptions, "-131072", "2"},
	} {
		db, err := OpenWith(path, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		var w, temp, r string
		err = db.write.QueryRow("PRAGMA cache_size").Scan(&w)
		if err == nil {
			err = db.write.QueryRow("PRAGMA temp_store").Scan(&temp)
		}
		if err == nil {
			err = db.read.QueryRow("PRAGMA cache_size").Scan(&r)
		}
		db.Close()
		if err != nil || w != tc.wantCache || temp != tc.wantTemp || r != "-2000" {
			t.Errorf("%+v: cache_size %s and temp_store %s for the writer, cache_size %s for readers (%v); want %s, %s and SQLite's -2000",
				tc.o, w, temp, r, err, tc.wantCache, tc.wantTemp)
		}
	}
}

// TestPageSize checks that a new store gets 16 KiB pages and that a store
// made with SQLite's default 4 KiB pages keeps them and opens.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	pageSizeOf := func(db *DB) int {
		t.Helper()
		var n int
		if err := db.read.QueryRowContext(ctx, "PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := pageSizeOf(openTest(t)); got != pageSize {
		t.Errorf("new store: page_size %d, want %d", got, pageSize)
	}

	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", fileURI(path)+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec("CREATE TABLE before_hail (a)"); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := pageSizeOf(db); got != 4096 {
		t.Errorf("existing store: page_size %d, want 4096", got)
	}
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api"}); err != nil {
		t.Errorf("existing store: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hail.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API"}); err != nil {
		t.Fatal(err)
	}
	coll := store.Collection{ID: "91a7b528-80eb-42ed-a74d-c6fbd5a26116", APIRoot: "api", Title: "C"}
	if err := db.CreateCollection(ctx, coll); err != nil {
		t.Fatal(err)
	}
	obj := storetest.MustObject(t, `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`)
	res, err := db.AddObjects(ctx, coll.ID, []stix.Object{obj})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.Objects(ctx, coll.ID, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 1 || string(p.Entries[0].Object.Raw) != string(obj.Raw) || !p.Entries[0].DateAdded.Equal(res[0].DateAdded) {
		t.Errorf("after reopen: entries %+v, want the one object added at %v", p.Entries, res[0].DateAdded)
	}
	// A clock that went back must not make date_added go back.
	db.Now = func() time.Time { return time.Unix(0, 0) }
	obj2 := storetest.MustObject(t, `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-02-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`)
	res2, err := db.AddObjects(ctx, coll.ID, []stix.Object{obj2})
	if err != nil {
		t.Fatal(err)
	}
	if !res2[0].DateAdded.After(res[0].DateAdded) {
		t.Errorf("date_added after reopen with a clock in the past = %v, want after %v", res2[0].DateAdded, res[0].DateAdded)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hail.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a database with schema version 9999 succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "9999") {
		t.Errorf("error %q does not name the database's version", err)
	}
}

func TestMigrationsRecorded(t *testing.T) {
	db := openTest(t)
	ms, err := knownMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, top int
	if err := db.read.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &top); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || top != ms[len(ms)-1].version {
		t.Errorf("schema_migrations holds %d rows up to version %d, want %d up to %d", n, top, len(ms), ms[len(ms)-1].version)
	}
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir #1", "100% ?x=y")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hail.db")
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer db.Close()
	if err := db.CreateAPIRoot(context.Background(), store.APIRoot{Name: "api"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at %q: %v", path, err)
	}
}
