package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"hail/store"
)

// RefilterCollection gives filter collection id a new filter, then makes
// what it holds follow, one batch per transaction: first the versions the
// new filter does not match leave it, then the versions of the API root's
// other collections it now matches join it, as CreateCollection fills a
// new one, and last the identities and marking definitions that nothing
// left in it names leave too. Versions arriving meanwhile are matched
// against the new filter.
func (db *DB) RefilterCollection(ctx context.Context, id, filter string) error {
	f, err := store.ParseCollectionFilter(filter)
	if err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("refilter collection: %w", err)
	}
	defer tx.Rollback()
	var seq, end int64
	var root, kind string
	err = tx.QueryRowContext(ctx, `SELECT seq, api_root, kind, (SELECT last_date_added FROM clock WHERE id = 1)
		FROM collections WHERE id = ?`, id).Scan(&seq, &root, &kind, &end)
	if err == sql.ErrNoRows {
		return collectionNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("refilter collection: %w", err)
	}
	if kind != store.KindFilter {
		return store.NotFilterCollection(id)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE collections SET filter = ? WHERE seq = ?`, f.String(), seq); err != nil {
		return fmt.Errorf("refilter collection: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("refilter collection: %w", err)
	}
	fc := filterColl{seq: seq, filter: f}
	for after := int64(0); after < end; {
		if after, err = db.unfillBatch(ctx, fc, after, end); err != nil {
			return fmt.Errorf("refilter collection: %w", err)
		}
	}
	if err := db.backfill(ctx, root, fc); err != nil {
		return err
	}
	if _, err := db.pruneContext(ctx, fc); err != nil {
		return fmt.Errorf("refilter collection: %w", err)
	}
	return nil
}

// unfillBatch deletes, from one batch of filter collection fc's entries
// with date_added in (after, end], the versions its filter does not match,
// and returns the date_added to resume after (end when done). Identities
// and marking definitions stay until pruneContext: the versions that
// matched may name them.
func (db *DB) unfillBatch(ctx context.Context, fc filterColl, after, end int64) (int64, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, rangeQuery, fc.seq, after, end, backfillBatch)
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
	var dropped []int64
	var ids []string
	for _, v := range held {
		if !fc.filter.Keeps(v.obj, v.inspect(), now) {
			dropped = append(dropped, v.rid)
			ids = append(ids, v.obj.ID)
		}
	}
	if len(dropped) > 0 {
		list, err := json.Marshal(dropped)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM entries
			WHERE collection = ?1 AND object IN (SELECT value FROM json_each(?2))`, fc.seq, string(list)); err != nil {
			return 0, err
		}
		if err := refreshFlagsOf(ctx, tx, fc.seq, ids); err != nil {
			return 0, err
		}
		// A version only this collection held would be left unreachable.
		if err := deleteOrphans(ctx, tx, dropped); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	db.boundWAL(ctx)
	return last, nil
}
