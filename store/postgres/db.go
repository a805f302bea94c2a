// Package postgres is hail's PostgreSQL store, for installs that run several
// replicas against one database or outgrow a single SQLite file. It
// implements store.Store with pgx.
//
// Every replica opens the same database; they agree on date_added through a
// row lock in the database (see DB.AddObjects), so a poller may be served by
// any replica from one page to the next.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hail"
	"hail/store"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the pg_advisory_xact_lock key every migration
// transaction takes, so that replicas starting together apply each
// migration once. The value is arbitrary ("hail" in ASCII).
const migrationLock int64 = 0x6861696c

// connectTimeout bounds each connection attempt when the DSN sets none, so
// that an unreachable server gives EUNAVAILABLE instead of a hang.
const connectTimeout = 5 * time.Second

// DB is a store.Store kept in a PostgreSQL database.
type DB struct {
	// Now is the clock that date_added, and Created and Revoked times the
	// caller leaves zero, are read from. It defaults to time.Now; tests may
	// replace it before the first call.
	Now func() time.Time

	pool *pgxpool.Pool
	// added counts the entries added since analyze last looked at the
	// tables' statistics; see noteAdded.
	added atomic.Int64

	pruneScanned func() // tests: called between pruneContext's scan and its transaction
}

// Open connects to the database dsn names (a postgres:// URL or a
// keyword/value string, as pgx reads them) and applies the migrations it
// lacks. It refuses a database whose schema is newer than this binary knows.
// Returns EUNAVAILABLE if the server cannot be reached.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, hail.Errorf(hail.EINVALID, "Invalid PostgreSQL connection string: %v", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, dbError("open postgres", err)
	}
	db := &DB{Now: time.Now, pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Pool returns the connection pool, for uses beyond store.Store such as
// LISTEN/NOTIFY.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes every connection of the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// goMigrations are steps that SQL cannot express, run by version after
// that migration's file, in its transaction.
var goMigrations = map[int]func(context.Context, pgx.Tx) error{
	7: indexStoredVersions,
}

// migration is one file of migrations/.
type migration struct {
	version int
	name    string
}

// knownMigrations lists migrations/NNNN_name.sql in order.
func knownMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		num, _, ok := strings.Cut(strings.TrimPrefix(f, "migrations/"), "_")
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
// transaction.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := knownMigrations()
	if err != nil {
		return err
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
// the newest version the binary knows. The advisory lock is taken before
// anything is read, so a replica waiting on it sees what the holder applied.
func (db *DB) applyMigration(ctx context.Context, m migration, latest int) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("migrate", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return dbError("migrate", err)
	}
	// Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can
	// still fail on the catalog's unique indexes.
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return dbError("migrate", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return dbError("migrate", err)
	}
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than this hail supports (%d): upgrade hail", current, latest)
	}
	var applied bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
		m.version).Scan(&applied); err != nil {
		return dbError("migrate", err)
	}
	if applied {
		return nil
	}
	body, err := migrations.ReadFile(m.name)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Without arguments pgx uses the simple protocol, which runs a file of
	// several statements.
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return dbError("migrate "+m.name, err)
	}
	if step := goMigrations[m.version]; step != nil {
		if err := step(ctx, tx); err != nil {
			return dbError("migrate "+m.name, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
		return dbError("migrate "+m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return dbError("migrate "+m.name, err)
	}
	return nil
}

// uniqueViolation is the SQLSTATE of a unique violation (PostgreSQL
// Appendix A).
const uniqueViolation = "23505"

// dbError translates a driver error into the store's vocabulary: a unique
// violation is ECONFLICT, a server that cannot be reached (or is shutting
// down, or refuses connections) is EUNAVAILABLE, and anything else is
// wrapped with op so that it maps to EINTERNAL. *hail.Error values pass
// through. The cause stays in the chain for logs.
func dbError(op string, err error) error {
	var he *hail.Error
	if err == nil || errors.As(err, &he) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == uniqueViolation:
			return hail.Errorf(hail.ECONFLICT, "%s", conflictMessage(pe))
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "57P"), // shutdown, cannot connect now
			pe.Code == "53300":                // too many connections
			return unavailable(op, err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return unavailable(op, err)
	}
	// A cancelled request surfaces as a timeout on the connection; it is
	// the caller's doing, not the database's.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return unavailable(op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unavailable is EUNAVAILABLE with the cause kept for logs.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w (%s: %w)", hail.Errorf(hail.EUNAVAILABLE, "Database unavailable."), op, err)
}

// conflictMessage names what a unique violation was about.
func conflictMessage(pe *pgconn.PgError) string {
	switch pe.ConstraintName {
	case "collections_id_key":
		return "A collection with that id already exists."
	case "collections_api_root_alias_key":
		return "A collection with that alias already exists in this API root."
	case "api_roots_pkey":
		return "An API root with that name already exists."
	case "statuses_pkey":
		return "A status with that id already exists."
	case "keys_pkey":
		return "A key with that name already exists."
	case "keys_id_key", "keys_hash_key":
		return "That key already exists."
	}
	return "Already exists."
}

// nowOr returns t, or the store's clock when t is zero.
func (db *DB) nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return db.Now()
	}
	return t
}

// utc normalises a time read from a timestamptz column.
func utc(t time.Time) time.Time { return t.UTC() }

// fromMicros converts a stored date_added back to a time; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// querier is what a pool and a transaction share.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// collectionSeq returns the row key of the collection with that id. lock
// takes a KEY SHARE lock on the row, so that the collection cannot be
// deleted before the transaction ends.
func collectionSeq(ctx context.Context, q querier, id string, lock bool) (int64, error) {
	sql := `SELECT seq FROM collections WHERE id = $1`
	if lock {
		sql += ` FOR KEY SHARE`
	}
	var seq int64
	err := q.QueryRow(ctx, sql, id).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, collectionNotFound(id)
	}
	if err != nil {
		return 0, dbError("find collection", err)
	}
	return seq, nil
}

// collectionNotFound is the error for a missing collection.
func collectionNotFound(id string) error {
	return hail.Errorf(hail.ENOTFOUND, "Collection %q not found.", id)
}
