package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"hail/bootstrap"
	"hail/store"
	"hail/store/sqlite"
)

// dbFlags are the store options every subcommand takes.
type dbFlags struct {
	path     string
	postgres string
}

// newFlagSet returns a flag set whose errors go to env.stderr and that knows
// the store flags.
func newFlagSet(env *environ, name string, db *dbFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	if db != nil {
		fs.StringVar(&db.path, "db", "hail.db", "SQLite database file (env HAIL_DB)")
		fs.StringVar(&db.postgres, "postgres", "", "PostgreSQL URL, instead of --db (env HAIL_POSTGRES)")
	}
	return fs
}

// envNames maps flag names to the environment variables that set their
// default. A flag given on the command line wins over the environment.
var envNames = map[string]string{
	"db":                 "HAIL_DB",
	"postgres":           "HAIL_POSTGRES",
	"addr":               "HAIL_ADDR",
	"public-url":         "HAIL_PUBLIC_URL",
	"max-content-length": "HAIL_MAX_CONTENT_LENGTH",
	"metrics-addr":       "HAIL_METRICS_ADDR",
}

// parse applies environment defaults, then the command line.
func parse(fs *flag.FlagSet, env *environ, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if name, ok := envNames[f.Name]; ok {
			if v := env.getenv(name); v != "" && err == nil {
				if e := f.Value.Set(v); e != nil {
					err = fmt.Errorf("%s=%q: %v", name, v, e)
				}
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}

// open opens the store the flags name and makes sure its parent directory
// exists for SQLite.
func (d dbFlags) open(ctx context.Context) (store.Store, error) {
	return d.openWith(ctx, sqlite.Options{})
}

// openBulk opens the store for a command that only writes in bulk
// (pull, feed run, copy): on SQLite with a larger writer cache and the
// temporary store in memory (sqlite.BulkOptions).
func (d dbFlags) openBulk(ctx context.Context) (store.Store, error) {
	return d.openWith(ctx, sqlite.BulkOptions)
}

// openImport is openBulk for hail import, which on SQLite also adds
// entries row by row (sqlite.Options.RowByRow).
func (d dbFlags) openImport(ctx context.Context) (store.Store, error) {
	return d.openWith(ctx, sqlite.ImportOptions)
}

func (d dbFlags) openWith(ctx context.Context, o sqlite.Options) (store.Store, error) {
	if d.postgres != "" {
		return openPostgres(ctx, d.postgres)
	}
	path := strings.TrimPrefix(d.path, "sqlite:")
	if path == "" {
		return nil, fmt.Errorf("--db is empty")
	}
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		return openPostgres(ctx, path)
	}
	if _, err := os.Stat(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return sqlite.OpenWith(path, o)
}

// describe names the store for log lines without leaking a password.
func (d dbFlags) describe() string {
	if d.postgres != "" || strings.HasPrefix(d.path, "postgres") {
		return "postgresql"
	}
	return "sqlite:" + strings.TrimPrefix(d.path, "sqlite:")
}

// ensure prepares a fresh store as `hail serve` would, for commands that may
// be the first to touch it, and shows the admin key if it made one: the key
// is never stored in clear, so this is the only chance to see it.
func ensure(ctx context.Context, env *environ, st store.Store) error {
	res, err := bootstrap.Ensure(ctx, st, time.Now())
	if err != nil {
		return err
	}
	if res.AdminKey != "" {
		fmt.Fprintf(env.stderr, "created API root %q, its collections and the admin API key %q (shown once):\n  %s\n",
			bootstrap.APIRootName, bootstrap.AdminKeyName, res.AdminKey)
	}
	return nil
}
