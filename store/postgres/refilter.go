package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"hail/store"
)

// RefilterCollection gives filter collection id a new filter, then makes
// what it holds follow, one batch per transaction: first the versions the
// new filter does not match leave it, then the versions of the API root's
// other collections it now matches join it, as CreateCollection fills a
// new one, and last the identities and marking definitions that nothing
// left in it names leave too.
func (db *DB) RefilterCollection(ctx context.Context, id, filter string) error {
	f, err := store.ParseCollectionFilter(filter)
	if err != nil {
		return err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("refilter collection", err)
	}
	defer tx.Rollback(context.Background())
	// FOR UPDATE waits for the adders filling the collection, which read
	// its filter under KEY SHARE, and keeps new ones out until the new
	// filter is committed: every adder after that matches against it.
	var seq int64
	var kind string
	err = tx.QueryRow(ctx, `SELECT seq, kind FROM collections WHERE id = $1 FOR UPDATE`, id).Scan(&seq, &kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return collectionNotFound(id)
	}
	if err != nil {
		return dbError("refilter collection", err)
	}
	if kind != store.KindFilter {
		return store.NotFilterCollection(id)
	}
	var end int64
	if err := tx.QueryRow(ctx, `UPDATE collections SET filter = $1 WHERE seq = $2
		RETURNING (SELECT last_date_added FROM clock WHERE id = 1)`, f.String(), seq).Scan(&end); err != nil {
		return dbError("refilter collection", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return dbError("refilter collection", err)
	}
	fc := filterColl{seq: seq, filter: f}
	for after := int64(0); after < end; {
		if after, err = db.unfillBatch(ctx, fc, after, end); err != nil {
			return dbError("refilter collection", err)
		}
	}
	if err := db.backfill(ctx, fc); err != nil {
		return err
	}
	if _, err := db.pruneContext(ctx, fc); err != nil {
		return dbError("refilter collection", err)
	}
	return nil
}

// unfillBatch deletes, from one batch of filter collection fc's entries
// with date_added in (after, end], the versions its filter does not match,
// and returns the date_added to resume after (end when done). Identities
// and marking definitions stay until pruneContext: the versions that
// matched may name them.
func (db *DB) unfillBatch(ctx context.Context, fc filterColl, after, end int64) (int64, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	if err := lockFilterChange(ctx, tx, fc.seq); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT `+storedColumns+`
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = $1 AND e.date_added > $2 AND e.date_added <= $3
		ORDER BY e.date_added LIMIT $4`, fc.seq, after, end, backfillBatch)
	if err != nil {
		return 0, err
	}
	held, last, err := scanStored(rows)
	if err != nil {
		return 0, err
	}
	if len(held) < backfillBatch {
		last = end
	}
	now := db.Now()
	var rids []int64
	var ids []string
	for _, v := range held {
		if !fc.filter.Keeps(v.obj, v.inspect(), now) {
			rids = append(rids, v.rid)
			ids = append(ids, v.obj.ID)
		}
	}
	if len(rids) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM entries WHERE collection = $1 AND object = ANY($2)`, fc.seq, rids); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, refreshFlagsSQL, fc.seq, ids); err != nil {
			return 0, err
		}
		// A version only this collection held would be left unreachable.
		if err := deleteOrphans(ctx, tx, rids); err != nil {
			return 0, err
		}
	}
	return last, tx.Commit(ctx)
}

// lockFilterChange takes, for a transaction that deletes from filter
// collection seq, the clock lock that adders hold, which keeps new versions
// out until it commits (none can be added while the flags of its versions
// are redone, or name a context object being deleted), and KEY SHARE on
// the collection's row, which keeps a DeleteCollection out.
func lockFilterChange(ctx context.Context, tx pgx.Tx, seq int64) error {
	if _, err := tx.Exec(ctx, `SELECT FROM clock WHERE id = 1 FOR UPDATE`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `SELECT FROM collections WHERE seq = $1 FOR KEY SHARE`, seq)
	return err
}
