// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server named by HAIL_TEST_POSTGRES, dropped when the test
// ends. Tests of any package that run against PostgreSQL use it, so that
// runs never collide and the skip rules are the same everywhere.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server tests use when HAIL_TEST_POSTGRES is not set:
// the local PostgreSQL that the project's machines and CI run.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN returns HAIL_TEST_POSTGRES, or DefaultDSN when it is not set.
func DSN() string {
	if dsn := os.Getenv("HAIL_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Schema creates a schema named hail_t_<random> on the test server and
// returns a DSN whose connections use it (search_path), so that tables a
// test creates are its own. The schema is dropped, with everything in it, in
// tb.Cleanup; close the connections first (register their Close after
// calling Schema, so that it runs before).
//
// When the server cannot be reached the test is skipped with a message
// naming HAIL_TEST_POSTGRES, unless HAIL_REQUIRE_POSTGRES or CI is set:
// then it fails, so that CI never passes by skipping.
func Schema(tb testing.TB) string {
	tb.Helper()
	base := DSN()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, base)
	if err != nil {
		unreachable(tb, base, err)
	}
	defer conn.Close(context.Background())
	name := "hail_t_" + randomHex()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	tb.Cleanup(func() { drop(tb, base, name) })
	dsn, err := WithSearchPath(base, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// Check skips or fails the test, by the rules in Schema's comment, unless
// the test server can be reached. Suites that open many stores call it
// first, so that an absent server gives one message rather than one per
// subtest.
func Check(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, DSN())
	if err != nil {
		unreachable(tb, DSN(), err)
	}
	conn.Close(context.Background())
}

// WithSearchPath returns dsn with its search_path set to schema. It reads
// both forms pgx accepts: a postgres:// URL and keyword/value pairs.
func WithSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}

// connect opens one connection with a bounded wait.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// drop removes the schema. A failure is reported but does not fail the
// test: the schema's name is unique, so a leftover harms no later run.
func drop(tb testing.TB, dsn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, dsn)
	if err != nil {
		tb.Logf("pgtest: drop schema %s: %v", name, err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
		tb.Logf("pgtest: drop schema %s: %v", name, err)
	}
}

// unreachable skips or fails the test, by the rules in Schema's comment.
func unreachable(tb testing.TB, dsn string, err error) {
	tb.Helper()
	msg := "PostgreSQL at " + redact(dsn) + " is unreachable (" + err.Error() + "). " +
		"Set HAIL_TEST_POSTGRES to the DSN of a server where tests may create schemas."
	if os.Getenv("HAIL_REQUIRE_POSTGRES") != "" || os.Getenv("CI") != "" {
		tb.Fatal("pgtest: " + msg + " (HAIL_REQUIRE_POSTGRES or CI is set, so this fails.)")
	}
	tb.Skip("pgtest: SKIPPING: " + msg)
}

// redact hides the password of a URL DSN.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		if strings.Contains(dsn, "password") {
			return "HAIL_TEST_POSTGRES"
		}
		return dsn
	}
	return u.Redacted()
}

// randomHex is 8 random bytes in hex: enough that concurrent runs on one
// server never pick the same schema.
func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
