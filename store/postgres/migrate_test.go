package postgres

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hail/stix"
	"hail/store"
	"hail/store/postgres/pgtest"
	"hail/store/storetest"
)

// migrateTo applies the migrations up to version last to the database dsn
// names, as a binary of that time would have.
func migrateTo(t *testing.T, dsn string, last int) *DB {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := &DB{Now: time.Now, pool: pool}
	t.Cleanup(pool.Close)
	ms, err := knownMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version <= last {
			if err := db.applyMigration(ctx, m, last); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// TestMigrateIOCsToVersions fills a store as hail did before migration 7
// (IOC rows per collection entry, for the current version only) and checks
// that, once migrated, the current version's rows are listed, and the
// older version's, indexed by the migration, come back when the current
// one is deleted.
func TestMigrateIOCsToVersions(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	old := migrateTo(t, dsn, 6)
	const id = "indicator--0000beef-8e2e-4cbf-938f-98ee46b3cd3f"
	version := func(modified, ip string) stix.Object {
		return storetest.MustObject(t, `{"type":"indicator","spec_version":"2.1","id":"`+id+`",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"`+modified+`","name":"`+ip+`",`+
			`"pattern":"[ipv4-addr:value = '`+ip+`']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`)
	}
	v1, v2 := version("2024-02-01T00:00:00.000Z", "198.51.100.1"), version("2024-03-01T00:00:00.000Z", "198.51.100.2")
	plain := storetest.MustObject(t, `{"type":"indicator","spec_version":"2.1","id":"indicator--0000cafe-8e2e-4cbf-938f-98ee46b3cd3f",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",`+
		`"pattern":"[file:size > 10]","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := old.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO api_roots VALUES ('api', 'API', '', 1000000, true, now())`)
	exec(`INSERT INTO collections (id, api_root, title, description, public, kind, filter, created)
		VALUES ($1, 'api', 'C', '', false, 'explicit', '', now())`, testColl)
	for i, o := range []stix.Object{v1, v2, plain} {
		exec(`INSERT INTO objects (digest, stix_id, type, spec_version, created, modified, revoked, raw)
			VALUES ($1, $2, 'indicator', '2.1', $3, $4, false, $5)`, digest(o), o.ID, o.Created, o.Modified, o.Raw)
		exec(`INSERT INTO entries (collection, date_added, object, stix_id, type, spec_version, version,
				latest_spec, is_first, is_last)
			SELECT 1, $1, rid, stix_id, type, spec_version, $2, true, $3, $4 FROM objects WHERE digest = $5`,
			1000+i, versionKey(o.Version), i != 1, i != 0, digest(o))
	}
	exec(`UPDATE clock SET last_date_added = 1002`)
	exec(`INSERT INTO iocs (collection, date_added, ordinal, stix_id, object, type, value, valid_until, revoked)
		SELECT 1, 1001, 0, stix_id, rid, 'ipv4', '198.51.100.2', 0, false FROM objects WHERE digest = $1`, digest(v2))
	exec(`INSERT INTO ioc_meta (object, name, description, threat_type, labels, tlp, created_by, valid_from,
			created, modified, version)
		SELECT rid, '198.51.100.2', '', '', '{}', '', '', 0, created, modified, $2 FROM objects WHERE digest = $1`,
		digest(v2), versionKey(v2.Version))
	old.pool.Close()

	db := openDSN(t, dsn)
	list := func(want ...string) {
		t.Helper()
		p, err := db.IOCs(ctx, testColl, store.IOCFilter{})
		var got []string
		for _, c := range p.IOCs {
			got = append(got, c.Value+"@"+c.DateAdded.Format(time.RFC3339Nano)+" "+c.Name)
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("IOCs: %v\n got %v\nwant %v", err, got, want)
		}
	}
	list("198.51.100.2@1970-01-01T00:00:00.001001Z 198.51.100.2")
	if n := count(t, db, `SELECT count(*) FROM iocs`); n != 2 {
		t.Errorf("%d IOC rows, want 2: one per version with observables", n)
	}
	if err := db.DeleteObject(ctx, testColl, id, store.Filter{Versions: []string{"2024-03-01T00:00:00.000Z"}}); err != nil {
		t.Fatal(err)
	}
	list("198.51.100.1@1970-01-01T00:00:00.001Z 198.51.100.1")
	if err := db.DeleteObject(ctx, testColl, id, store.Filter{}); err != nil {
		t.Fatal(err)
	}
	list()
	if n := count(t, db, `SELECT count(*) FROM iocs`) + count(t, db, `SELECT count(*) FROM ioc_meta`); n != 0 {
		t.Errorf("%d IOC and ioc_meta rows left after the versions were deleted, want 0", n)
	}
}
