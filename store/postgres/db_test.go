package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"hail"
	"hail/stix"
	"hail/store"
	"hail/store/postgres/pgtest"
	"hail/store/storetest"
)

// openTest opens a new store in a schema of its own, closed at cleanup
// before the schema is dropped.
func openTest(tb testing.TB) *DB {
	tb.Helper()
	return openDSN(tb, pgtest.Schema(tb))
}

// openDSN opens a store on dsn, closed at cleanup.
func openDSN(tb testing.TB, dsn string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	pgtest.Check(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) }, storetest.Options{Concurrent: true,
		PruneScanned: func(s store.Store, hook func()) { s.(*DB).pruneScanned = hook }})
}

const (
	testColl  = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	testColl2 = "0b1c9f3e-6a55-4b0e-8d7a-5f2e9c3d1a20"
)

// setupColls creates API root "api" with testColl and testColl2.
func setupColls(tb testing.TB, db *DB) {
	tb.Helper()
	ctx := context.Background()
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API"}); err != nil {
		tb.Fatal(err)
	}
	for _, id := range []string{testColl, testColl2} {
		if err := db.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "api", Title: "C"}); err != nil {
			tb.Fatal(err)
		}
	}
}

// testIndicator is indicator number n, version modified.
func testIndicator(tb testing.TB, n int, modified string) stix.Object {
	tb.Helper()
	return storetest.MustObject(tb, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1",`+
		`"id":"indicator--%08x-8e2e-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":%q,`+
		`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`,
		n, modified, n%256))
}

// count runs a counting query on db.
func count(tb testing.TB, db *DB, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestConcurrentMigrations opens one fresh schema from several processes'
// worth of pools at once, as replicas starting together do: every Open
// succeeds and each migration is recorded once.
func TestConcurrentMigrations(t *testing.T) {
	dsn := pgtest.Schema(t)
	const replicas = 5
	dbs := make([]*DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(context.Background(), dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open: %v", i, err)
			continue
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	if t.Failed() {
		return
	}
	ms, err := knownMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, dbs[0], `SELECT count(*) FROM schema_migrations`); got != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", got, len(ms))
	}
	if got := count(t, dbs[0], `SELECT count(*) FROM clock`); got != 1 {
		t.Errorf("clock has %d rows, want 1 (the init migration ran more than once?)", got)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	setupColls(t, db)
	obj := testIndicator(t, 1, "2024-01-01T00:00:00.000Z")
	res, err := db.AddObjects(ctx, testColl, []stix.Object{obj})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openDSN(t, dsn)
	p, err := db.Objects(ctx, testColl, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 1 || string(p.Entries[0].Object.Raw) != string(obj.Raw) ||
		!p.Entries[0].DateAdded.Equal(res[0].DateAdded) {
		t.Errorf("after reopening: %+v, want the one object added at %v", p.Entries, res[0].DateAdded)
	}
	// A later add must still get a later date_added: the clock survived.
	res2, err := db.AddObjects(ctx, testColl, []stix.Object{testIndicator(t, 2, "2024-01-01T00:00:00.000Z")})
	if err != nil {
		t.Fatal(err)
	}
	if !res2[0].DateAdded.After(res[0].DateAdded) {
		t.Errorf("date_added after reopen %v, want after %v", res2[0].DateAdded, res[0].DateAdded)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	db := openDSN(t, dsn)
	if _, err := db.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(ctx, dsn)
	if err == nil {
		db2.Close()
		t.Fatal("Open of a database with schema version 9999 succeeded, want an error")
	}
	if hail.ErrorCode(err) != hail.EINTERNAL {
		t.Errorf("Open: %v (code %s), want an internal error naming the version", err, hail.ErrorCode(err))
	}
}

// closedPort returns a local port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestOpenUnreachable(t *testing.T) {
	_, err := Open(context.Background(), "postgres://postgres@"+closedPort(t)+"/test?sslmode=disable")
	if code := hail.ErrorCode(err); code != hail.EUNAVAILABLE {
		t.Errorf("Open on a closed port: %v (code %q), want %q", err, code, hail.EUNAVAILABLE)
	}
	if msg := hail.ErrorMessage(err); msg != "Database unavailable." {
		t.Errorf("message %q, want %q", msg, "Database unavailable.")
	}
}

// TestOpenSilentServer checks that a server that accepts connections and
// never answers gives EUNAVAILABLE once the connect timeout passes, rather
// than a hang.
func TestOpenSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	_, err = Open(context.Background(), "postgres://postgres@"+l.Addr().String()+"/test?sslmode=disable&connect_timeout=1")
	if code := hail.ErrorCode(err); code != hail.EUNAVAILABLE {
		t.Errorf("Open on a silent server: %v (code %q), want %q", err, code, hail.EUNAVAILABLE)
	}
}

// proxy forwards TCP connections to a PostgreSQL server until Close, which
// cuts every connection, as a network failure or a server crash would.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go io.Copy(s, c)
			go io.Copy(c, s)
		}
	}()
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) Close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// viaProxy returns dsn with its host and port replaced by the proxy's.
func viaProxy(t *testing.T, dsn string) (string, *proxy) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " host=127.0.0.1 port=" + fmt.Sprint(p.l.Addr().(*net.TCPAddr).Port), p
	}
	u.Host = p.l.Addr().String()
	return u.String(), p
}

// TestConnectionLost cuts the connection under an open store: calls then
// fail with EUNAVAILABLE, which the HTTP layer answers with 503.
func TestConnectionLost(t *testing.T) {
	ctx := context.Background()
	dsn, p := viaProxy(t, pgtest.Schema(t))
	db := openDSN(t, dsn)
	setupColls(t, db)
	if _, err := db.Objects(ctx, testColl, store.Filter{}); err != nil {
		t.Fatalf("Objects before the cut: %v", err)
	}
	p.Close()
	_, err := db.Objects(ctx, testColl, store.Filter{})
	if code := hail.ErrorCode(err); code != hail.EUNAVAILABLE {
		t.Errorf("Objects after the cut: %v (code %q), want %q", err, code, hail.EUNAVAILABLE)
	}
	_, err = db.AddObjects(ctx, testColl, []stix.Object{testIndicator(t, 1, "2024-01-01T00:00:00.000Z")})
	if code := hail.ErrorCode(err); code != hail.EUNAVAILABLE {
		t.Errorf("AddObjects after the cut: %v (code %q), want %q", err, code, hail.EUNAVAILABLE)
	}
}

func TestDBErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"unique violation", &pgconn.PgError{Code: "23505", ConstraintName: "collections_id_key"}, hail.ECONFLICT},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, hail.EUNAVAILABLE},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, hail.EUNAVAILABLE},
		{"connection failure", &pgconn.PgError{Code: "08006"}, hail.EUNAVAILABLE},
		{"too many connections", &pgconn.PgError{Code: "53300"}, hail.EUNAVAILABLE},
		{"syntax error", &pgconn.PgError{Code: "42601"}, hail.EINTERNAL},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, hail.EUNAVAILABLE},
		{"eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), hail.EUNAVAILABLE},
		{"cancelled", fmt.Errorf("query: %w", context.Canceled), hail.EINTERNAL},
		{"hail error", hail.Errorf(hail.ENOTFOUND, "x"), hail.ENOTFOUND},
		{"other", errors.New("boom"), hail.EINTERNAL},
	} {
		if got := hail.ErrorCode(dbError("op", tc.err)); got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.want)
		}
	}
	if dbError("op", nil) != nil {
		t.Errorf("dbError(nil) != nil")
	}
	if err := dbError("op", context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("dbError(context.Canceled) = %v, want it in the chain", err)
	}
}

// TestObjectsSharedAcrossCollections checks the stored state behind
// "objects can belong to several collections": one objects row per exact
// body, removed with its last entry.
func TestObjectsSharedAcrossCollections(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	setupColls(t, db)
	a := testIndicator(t, 1, "2024-01-01T00:00:00.000Z")
	b := testIndicator(t, 2, "2024-01-01T00:00:00.000Z")
	if _, err := db.AddObjects(ctx, testColl, []stix.Object{a, b}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddObjects(ctx, testColl2, []stix.Object{a}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT count(*) FROM objects`); got != 2 {
		t.Errorf("%d objects rows for 2 bodies in 2 collections, want 2", got)
	}
	// Same id and version, other bytes, other collection: kept apart.
	a2 := storetest.MustObject(t, string(a.Raw[:len(a.Raw)-1])+`,"x_note":"other"}`)
	res, err := db.AddObjects(ctx, testColl2, []stix.Object{a2})
	if err != nil || !res[0].Duplicate {
		t.Fatalf("re-adding a's version with other bytes: %+v, %v; want a duplicate", res, err)
	}
	if got := count(t, db, `SELECT count(*) FROM objects`); got != 2 {
		t.Errorf("%d objects rows after a duplicate, want 2 (nothing stored)", got)
	}
	if err := db.DeleteCollection(ctx, testColl); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT count(*) FROM objects`); got != 1 {
		t.Errorf("%d objects rows after deleting the collection, want 1 (a, still in the other)", got)
	}
	p, err := db.Objects(ctx, testColl2, store.Filter{})
	if err != nil || len(p.Entries) != 1 || string(p.Entries[0].Object.Raw) != string(a.Raw) {
		t.Errorf("other collection after the delete: %+v, %v; want a with its bytes", p.Entries, err)
	}
	if err := db.DeleteObject(ctx, testColl2, a.ID, store.Filter{}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT count(*) FROM objects`); got != 0 {
		t.Errorf("%d objects rows after deleting the last entry, want 0", got)
	}
}

// TestSharedObjectsUnderDeletes races adds of the same bodies to one
// collection against add-then-delete in another: deleting an entry must
// never take the objects row the other collection is about to refer to.
func TestSharedObjectsUnderDeletes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	setupColls(t, db)
	const n = 40
	objs := make([]stix.Object, n)
	for i := range objs {
		objs[i] = testIndicator(t, i, "2024-01-01T00:00:00.000Z")
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for _, o := range objs {
			if _, err := db.AddObjects(ctx, testColl2, []stix.Object{o}); err != nil {
				t.Errorf("add to the other collection: %v", err)
				return
			}
			if err := db.DeleteObject(ctx, testColl2, o.ID, store.Filter{}); err != nil {
				t.Errorf("delete from the other collection: %v", err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for _, o := range objs {
			if _, err := db.AddObjects(ctx, testColl, []stix.Object{o}); err != nil {
				t.Errorf("add: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	p, err := db.Objects(ctx, testColl, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != n {
		t.Errorf("%d entries, want %d", len(p.Entries), n)
	}
	for i, e := range p.Entries {
		if string(e.Object.Raw) != string(objs[i].Raw) {
			t.Errorf("entry %d: raw %q, want %q", i, e.Object.Raw, objs[i].Raw)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM objects`); got != n {
		t.Errorf("%d objects rows, want %d", got, n)
	}
}

// TestDeleteLargeCollection deletes a collection in several slices (the
// slice size is lowered) and checks that exactly the objects rows no other
// collection holds are gone.
func TestDeleteLargeCollection(t *testing.T) {
	defer func(n int) { orphanBatch = n }(orphanBatch)
	orphanBatch = 7
	ctx := context.Background()
	db := openTest(t)
	setupColls(t, db)
	objs := benchObjects(t, 0, 30)
	if _, err := db.AddObjects(ctx, testColl, objs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddObjects(ctx, testColl2, objs[10:20]); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCollection(ctx, testColl); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT count(*) FROM entries`); got != 10 {
		t.Errorf("%d entries left, want the other collection's 10", got)
	}
	if got := count(t, db, `SELECT count(*) FROM objects`); got != 10 {
		t.Errorf("%d objects rows left, want the 10 the other collection holds", got)
	}
	_, err := db.Objects(ctx, testColl, store.Filter{})
	if code := hail.ErrorCode(err); code != hail.ENOTFOUND {
		t.Errorf("Objects of the deleted collection: %v, want %s", err, hail.ENOTFOUND)
	}
}
