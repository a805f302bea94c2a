package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgTimeout bounds each administrative statement on PostgreSQL.
const pgTimeout = time.Minute

// createSchema creates a schema of the run's own on the server dsn names
// and returns its name and a DSN whose connections use it, so that a run
// never touches other data and leaves nothing behind once dropSchema has
// run.
func createSchema(ctx context.Context, dsn string) (name, schemaDSN string, err error) {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	name = "hail_bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create schema %s: %w", name, err)
	}
	schemaDSN, err = withSearchPath(dsn, name)
	if err != nil {
		dropSchema(dsn, name)
		return "", "", err
	}
	return name, schemaDSN, nil
}

// dropSchema drops the schema and everything in it.
func dropSchema(dsn, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", name, err)
	}
	return nil
}

// analyzeSchema refreshes the planner statistics of the schema's tables,
// as autovacuum does within a minute or so of a large load on a default
// install. Without them the planner takes a freshly loaded table for an
// empty one: on a server with autovacuum off, a 1,000-object page of a
// 100,000-object collection then took 195 ms instead of 3 ms. Only this
// schema's tables are analysed, never the whole database.
func analyzeSchema(ctx context.Context, dsn, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, name)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := conn.Exec(ctx, "ANALYZE "+pgx.Identifier{name, t}.Sanitize()); err != nil {
			return fmt.Errorf("analyze %s.%s: %w", name, t, err)
		}
	}
	return nil
}

// schemaSize returns the bytes the schema's tables take, indexes and TOAST
// included.
func schemaSize(ctx context.Context, dsn, name string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var size int64
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r'`, name).Scan(&size)
	return size, err
}

// withSearchPath returns dsn with its search_path set to schema, in either
// of the forms pgx reads: a postgres:// URL or keyword/value pairs.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("PostgreSQL URL: %w", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}
