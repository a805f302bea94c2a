package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// openAtSchema creates a store at path with the migrations up to version
// applied, and no later ones, as an older hail left it.
func openAtSchema(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	w, err := sql.Open("sqlite", dsn(path, true, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	t.Cleanup(func() { w.Close() })
	ms, err := knownMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	old := &DB{write: w}
	for _, m := range ms {
		if m.version <= version {
			if err := old.applyMigration(context.Background(), m, version); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// TestMigrateIOCVersions converts a store of schema 6, where only the
// current version of an object had IOC rows, one set per entry, and checks
// what listings and lookups show after, and after a deletion makes the
// older version current again.
func TestMigrateIOCVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hail.db")
	w := openAtSchema(t, path, 6)
	const id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	version := func(modified, addr string) stix.Object {
		return storetest.MustObject(t, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,`+
			`"created":"2024-01-01T00:00:00.000Z","modified":%q,"pattern":"[ipv4-addr:value = '%s']",`+
			`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, id, modified, addr))
	}
	v1 := version("2024-01-01T00:00:00.000Z", "198.51.100.1")
	v2 := version("2024-02-01T00:00:00.000Z", "198.51.100.2")
	const c1, c2 = "91a7b528-80eb-42ed-a74d-c6fbd5a26116", "4e4f1c1a-2b7d-4f4e-9c57-6a0d8f1e2b3c"
	// v1 and v2 in c1, v2 alone in c2 through the same objects row; the
	// IOC rows of schema 6 are v2's, once per entry.
	for _, stmt := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO api_roots VALUES ('api', 'API', '', 0, 1, 0)`, nil},
		{`INSERT INTO collections (seq, id, api_root, title, description, public, kind, filter, created)
			VALUES (1, ?, 'api', 'C1', '', 0, 'explicit', '', 0), (2, ?, 'api', 'C2', '', 0, 'explicit', '', 0)`, []any{c1, c2}},
		{`INSERT INTO objects VALUES (1, ?, 'indicator', '2.1', ?, ?, ?, 0, ?), (2, ?, 'indicator', '2.1', ?, ?, ?, 0, ?)`,
			[]any{id, versionNanos(v1.Version), v1.Created, v1.Modified, string(v1.Raw),
				id, versionNanos(v2.Version), v2.Created, v2.Modified, string(v2.Raw)}},
		{`INSERT INTO entries VALUES (100, 1, 1, ?1, 'indicator', '2.1', ?2, 1, 1, 0),
			(200, 1, 2, ?1, 'indicator', '2.1', ?3, 1, 0, 1), (300, 2, 2, ?1, 'indicator', '2.1', ?3, 1, 1, 1)`,
			[]any{id, versionNanos(v1.Version), versionNanos(v2.Version)}},
		{`UPDATE clock SET last_date_added = 300`, nil},
		{`INSERT INTO iocs VALUES (200, 0, 1, ?1, 2, 'ipv4', '198.51.100.2', NULL, NULL, NULL, 0, 0),
			(300, 0, 2, ?1, 2, 'ipv4', '198.51.100.2', NULL, NULL, NULL, 0, 0)`, []any{id}},
		{`INSERT INTO ioc_meta VALUES (1, '', '', '', '[]', '', '', 0, ?1, ?2, ?3), (2, '', '', '', '[]', '', '', 0, ?1, ?4, ?5)`,
			[]any{v1.Created, v1.Modified, versionNanos(v1.Version), v2.Modified, versionNanos(v2.Version)}},
	} {
		if _, err := w.Exec(stmt.q, stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.q, err)
		}
	}
	w.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.read.QueryRow(`SELECT count(*) FROM iocs`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("iocs holds %d rows after migration, want 2: one per objects row", rows)
	}
	listed := func(coll string) []string {
		t.Helper()
		p, err := db.IOCs(ctx, coll, store.IOCFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range p.IOCs {
			out = append(out, fmt.Sprintf("%s@%d", c.Value, c.DateAdded.UnixMicro()))
		}
		return out
	}
	check := func(when, coll string, want ...string) {
		t.Helper()
		if got := listed(coll); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: IOCs of %s = %v, want %v", when, coll, got, want)
		}
	}
	check("after migration", c1, "198.51.100.2@200")
	check("after migration", c2, "198.51.100.2@300")
	ms, err := db.LookupIOCs(ctx, c1, []store.IOCValue{{Type: "ipv4", Value: "198.51.100.1"}}, store.IOCFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 0 {
		t.Errorf("lookup of the superseded version's address found %+v, want nothing", ms)
	}
	if err := db.DeleteObject(ctx, c1, id, store.Filter{Versions: []string{"2024-02-01T00:00:00.000Z"}}); err != nil {
		t.Fatal(err)
	}
	check("after deleting the newer version", c1, "198.51.100.1@100")
	check("after deleting the newer version", c2, "198.51.100.2@300")
}
