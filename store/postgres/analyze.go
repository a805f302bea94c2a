package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// analyzeEvery is how many new entries a DB adds between two looks at
// whether the tables it writes need fresh planner statistics.
const analyzeEvery = 10000

// analyzedTables are the tables whose statistics decide the plans of pages,
// listings and lookups, in the order they are analysed.
var analyzedTables = []string{"entries", "objects", "iocs"}

// noteAdded counts n new entries and, every analyzeEvery, analyses the
// tables that have changed by more than their size at the last ANALYZE.
//
// Without statistics (a bulk load into a fresh store, before autovacuum
// analyses it, or with autovacuum off) the planner takes these tables for
// nearly empty and may sort a whole collection to fill one page: a 1,000
// row page of IOCs at 20,000 entries took 370 ms instead of 9 ms. The
// threshold, the table's size at its last ANALYZE, makes the work
// logarithmic in the store's growth (about ten ANALYZEs from empty to a
// million entries), and leaves a store autovacuum keeps analysed alone.
// An error is dropped: statistics are an optimisation, and the objects
// are committed already.
func (db *DB) noteAdded(ctx context.Context, n int) {
	if db.added.Add(int64(n)) < analyzeEvery {
		return
	}
	db.added.Store(0)
	_ = db.analyze(ctx)
}

// analyze analyses the tables of analyzedTables that need it: those whose
// rows inserted, updated or deleted since their last ANALYZE outnumber
// (plus a thousand) the rows they had then. The counters lag the writes by
// up to a few seconds, which is precise enough for this.
func (db *DB) analyze(ctx context.Context) error {
	rows, err := db.pool.Query(ctx, `SELECT s.relname FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
		WHERE s.relid = ANY(SELECT to_regclass(t) FROM unnest($1::text[]) AS t)
			AND s.n_mod_since_analyze > 1000 + greatest(c.reltuples, 0)`, analyzedTables)
	if err != nil {
		return err
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, t := range analyzedTables {
		for _, s := range stale {
			if s == t {
				// t is one of the fixed names above, never input.
				if _, err := db.pool.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
