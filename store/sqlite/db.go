// Package sqlite is hail's embedded store: one SQLite file, no server, the
// default for a single-node install. It implements store.Store.
//
// SQLite allows one writer at a time, so the DB keeps one write connection
// (every write is a BEGIN IMMEDIATE transaction on it) and a separate pool of
// read connections, which WAL mode lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"hail"
	"hail/store"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a store.Store kept in one SQLite file.
type DB struct {
	// Now is the clock that date_added, and Created and Revoked times the
	// caller leaves zero, are read from. It defaults to time.Now; tests may
	// replace it before the first call.
	Now func() time.Time

	write *sql.DB // one connection: SQLite has a single writer
	// rowByRow inserts each new entry with a statement of its own
	// (Options.RowByRow).
	rowByRow bool
	walPath  string // the WAL file (see boundWAL)
	read     *sql.DB
	add      addStmts
	groups   groups    // AddObjects calls, gathered into shared transactions
	reads    stmtCache // prepared read queries, by text (see ioc.go)
	ckpt     *checkpointer

	pruneScanned func() // tests: called between pruneContext's scan and its transaction

	closeOnce sync.Once // Close may be called more than once (deferred and explicit)
	closeErr  error
}

// Pragmas every connection gets, in the form modernc.org/sqlite reads
// (it does not read mattn-style _busy_timeout keys in this form).
//
// WAL with synchronous=NORMAL syncs the WAL at checkpoints, not at every
// commit: a committed transaction survives the process being killed (the
// WAL is in the OS page cache and replayed on open) but the last commits
// may be lost if the machine loses power. That is the trade-off hail makes
// for import speed; FULL would sync every commit.
var pragmas = []string{
	"busy_timeout(5000)",
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"foreign_keys(1)",
}

// dsn builds the connection string for path. write selects BEGIN IMMEDIATE
// for transactions, so that a transaction takes the write lock when it
// starts and waits under busy_timeout, rather than failing with SQLITE_BUSY
// when it upgrades from a read lock mid-way.
func dsn(path string, write bool, o Options) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if write {
		q.Set("_txlock", "immediate")
		// A larger page cache for the writer keeps the random-order index
		// (stix id) of a big store in memory during imports.
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", o.writeCache()>>10))
		if o.Bulk {
			q.Add("_pragma", "temp_store(MEMORY)")
		}
		// Checkpoints run in the background (see checkpointer).
		q.Add("_pragma", "wal_autocheckpoint(0)")
		q.Add("_pragma", "journal_size_limit(67108864)")
	} else {
		q.Add("_pragma", "query_only(1)")
		// No mmap_size: mapped pages a full poll touches count in the
		// server's resident set, once per connection's mapping. At
		// 256 MiB a full poll of 100,000 objects took the server's peak
		// RSS from 124 to 655 MiB, for about 12% less CPU per object.
	}
	return fileURI(path) + "?" + q.Encode()
}

// fileURI is the file: URI of path. Clean also keeps a path starting with
// "//" from reading as a URI authority.
func fileURI(path string) string {
	return "file:" + (&url.URL{Path: filepath.Clean(path)}).EscapedPath()
}

// pageSize is the page size of a new store. SQLite's default of 4 KiB
// makes deeper B-trees; with 16 KiB pages a bulk import of 1,000,000
// versions took 7% less time, and the random-order indexes (objects by
// STIX id, IOCs by value) dirty fewer pages per commit.
const pageSize = 16384

// createFile gives the database at path, when it does not exist yet or is
// empty, its page size and WAL mode. SQLite fixes the page size when it
// writes the first page, which WAL mode does, so this runs on a connection
// of its own before the pools, whose pragmas include WAL mode, connect.
func createFile(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	c, err := sql.Open("sqlite", fileURI(path)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	// A second process creating the same file sets the same values.
	if _, err := c.Exec(fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return err
	}
	_, err = c.Exec("PRAGMA journal_mode = WAL")
	return err
}

// Options tune a store for the process that opens it.
type Options struct {
	// WriteCache is the writer's page cache in bytes (DefaultWriteCache
	// when 0). Most of a large import's page reads are of the
	// random-order indexes, which outgrow 64 MiB past about 500,000
	// objects.
	WriteCache int64
	// Bulk tunes the writer for a process that does nothing but write in
	// bulk (`hail import`, `hail pull`, `hail feed run`, `hail copy`): it
	// keeps its temporary store in memory (temp_store=MEMORY), the
	// statement journals of its multi-row statements above all. On disk
	// (SQLite's default, which keeps the first 64 KiB in memory), they
	// doubled a bulk import's system time; in `hail serve` they cost
	// nothing measurable there, and in memory they took the peak RSS of a
	// hail-bench run at 1,000,000 from 123–126 MiB to 167–171.
	Bulk bool
	// RowByRow inserts each new entry with a statement of its own. The
	// writer otherwise inserts the entries of a run of new objects with
	// one INSERT … SELECT, which binds nothing per row
	// (BenchmarkAddObjects: 16–18 ms of CPU for 1,000 objects, against
	// 19–24 row by row; `hail pull` of 165,830 objects into a new store:
	// 5.9–6.0 s against 6.6–6.8). But a statement that writes many rows
	// into a table with foreign keys needs a statement journal, where each
	// index page it changes is first copied: 10.6 GB for a bulk import of
	// 200,000 versions. Kept in memory, as Bulk keeps it, that took the
	// peak RSS of `hail import` of 1,000,000 versions to 490–635 MiB; row
	// by row it is 344–349 MiB, in the same 44–50 s.
	RowByRow bool
}

// BulkOptions are the options of a process that does nothing but write in
// bulk.
var BulkOptions = Options{WriteCache: BulkWriteCache, Bulk: true}

// ImportOptions are the options of `hail import`, whose bulk writes grow a
// large store.
var ImportOptions = Options{WriteCache: BulkWriteCache, Bulk: true, RowByRow: true}

// DefaultWriteCache is the writer's page cache of a server: with the
// readers' caches, it keeps the resident set of `hail serve` under 200 MiB.
const DefaultWriteCache = 64 << 20

// BulkWriteCache is the writer's page cache for processes that do nothing
// but write in bulk (`hail import`, `hail pull`). Measured with `hail
// import` of hail-bench's 1,000,000 versions as a bundle, alternating
// runs: 64 MiB took 53.0–54.4 s at a peak RSS of 366–392 MiB, 128 MiB
// 48.2–50.9 s at 541–634 MiB, 256 MiB 47.7–53.4 s at 877–1,089 MiB. The
// resident set grew by three to four times what the cache grew by, most
// of it the statement journals Options.RowByRow now avoids.
const BulkWriteCache = 128 << 20

func (o Options) writeCache() int64 {
	if o.WriteCache <= 0 {
		return DefaultWriteCache
	}
	return o.WriteCache
}

// Open opens the SQLite database at path, creating it if needed, and
// applies the migrations it lacks. It refuses a database whose schema is
// newer than this binary knows.
func Open(path string) (*DB, error) { return OpenWith(path, Options{}) }

// OpenWith opens the database at path as Open does, tuned by o.
func OpenWith(path string, o Options) (*DB, error) {
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", dsn(path, true, o))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{Now: time.Now, write: w, walPath: path + "-wal", rowByRow: o.RowByRow}
	db.groups = newGroups(db.addGroup)
	if err := db.migrate(context.Background()); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, false, o))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.read = r
	if err := db.add.prepare(context.Background(), w); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if db.ckpt, err = startCheckpointer(path); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	ckerr := db.ckpt.close()
	db.add.close()
	db.reads.close()
	err := db.write.Close()
	if db.read != nil {
		if rerr := db.read.Close(); err == nil {
			err = rerr
		}
	}
	if err == nil {
		err = ckerr
	}
	return err
}

// migration is one file of migrations/.
type migration struct {
	version int
	name    string
}

// migrationSteps are the parts of migrations that SQL cannot do, by
// version: each runs after that migration's SQL, in its transaction.
var migrationSteps = map[int]func(context.Context, *sql.Tx) error{
	7: indexVersions,
}

// knownMigrations lists migrations/NNNN_name.sql in order.
func knownMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", f)
		}
		ms = append(ms, migration{version: v, name: f})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction. The version is re-read inside each transaction, under the
// write lock, so two processes opening the same new file do not both apply
// a migration.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := knownMigrations()
	if err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	latest := ms[len(ms)-1].version
	for _, m := range ms {
		if err := db.applyMigration(ctx, m, latest); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration applies m unless the database already has it. latest is
// the newest version the binary knows.
func (db *DB) applyMigration(ctx context.Context, m migration, latest int) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than this hail supports (%d): upgrade hail", current, latest)
	}
	var applied bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.version).Scan(&applied); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if applied {
		return nil
	}
	body, err := migrations.ReadFile(m.name)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if step := migrationSteps[m.version]; step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	return nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// micros converts a time to the stored form; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts the stored form back; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// nowOr returns t, or the store's clock when t is zero.
func (db *DB) nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return db.Now()
	}
	return t
}

// notFound is the error for a missing collection.
func collectionNotFound(id string) error {
	return hail.Errorf(hail.ENOTFOUND, "Collection %q not found.", id)
}
