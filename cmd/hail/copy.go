package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"hail/storecopy"
)

func runCopy(ctx context.Context, env *environ, args []string) error {
	fs := newFlagSet(env, "copy", nil)
	from := fs.String("from", "", "source store: SQLite file or postgres:// URL")
	to := fs.String("to", "", "target store: postgres:// URL or SQLite file; empty, or a copy this command began")
	batch := fs.Int("batch", storecopy.DefaultBatch, "object versions read and written per transaction")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() != 0 {
		return errors.New("usage: hail copy --from FILE|URL --to URL|FILE")
	}
	if !isPostgres(*from) {
		// Opening a missing SQLite file would create an empty store and
		// copy nothing.
		if _, err := os.Stat(strings.TrimPrefix(*from, "sqlite:")); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	src, err := dbFlags{path: *from}.open(ctx)
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	defer src.Close()
	dst, err := dbFlags{path: *to}.openBulk(ctx)
	if err != nil {
		return fmt.Errorf("open target: %w", err)
	}
	defer dst.Close()

	terminal := isTerminal(env.stderr)
	var shown time.Time
	progress := func(p storecopy.Progress) {
		if p.Copied < p.Total && time.Since(shown) < time.Second {
			return
		}
		shown = time.Now()
		end := "\n"
		if terminal {
			end = "   \r"
		}
		fmt.Fprintf(env.stderr, "collection %s (%s): %d/%d versions; %d written, %.0f/s%s", p.Collection.ID, p.Collection.Alias,
			p.Copied, p.Total, p.Written, float64(p.Written)/p.Elapsed.Seconds(), end)
	}
	res, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Batch: *batch, Progress: progress})
	if terminal {
		fmt.Fprintln(env.stderr)
	}
	if err != nil {
		return err
	}
	w := env.stdout
	fmt.Fprintf(w, "created %d API roots, %d collections, %d keys, %d statuses, %d plans, %d feeds, %d webhooks; wrote %d object versions in %s (%.0f/s)\n",
		res.APIRoots, res.Collections, res.Keys, res.Statuses, res.Plans, res.Feeds, res.Webhooks, res.Written, res.Elapsed.Round(time.Millisecond),
		float64(res.Written)/res.Elapsed.Seconds())
	fmt.Fprintln(w, "verified: every collection holds the same objects and versions in both stores")
	for _, c := range res.Counts {
		fmt.Fprintf(w, "  %s  %-10s %10d objects %10d versions\n", c.Collection.ID, c.Collection.Alias, c.Stats.Objects, c.Stats.Versions)
	}
	return nil
}

// isPostgres reports whether a store argument names a PostgreSQL database.
func isPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
