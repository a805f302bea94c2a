package postgres

import (
	"context"
	"errors"
	"math"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/store"
)

// PruneCollection deletes the context objects that nothing in filter
// collection id names any more (see store.Store).
func (db *DB) PruneCollection(ctx context.Context, id string) (int, error) {
	var seq int64
	var kind, filter string
	err := db.pool.QueryRow(ctx, `SELECT seq, kind, filter FROM collections WHERE id = $1`, id).Scan(&seq, &kind, &filter)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, collectionNotFound(id)
	}
	if err != nil {
		return 0, dbError("prune collection", err)
	}
	f, err := store.StoredFilter(id, kind, filter)
	if err != nil {
		return 0, err
	}
	n, err := db.pruneContext(ctx, filterColl{seq: seq, filter: f})
	if err != nil {
		return n, dbError("prune collection", err)
	}
	return n, nil
}

// pruneContext is the last step of a refilter, and PruneCollection's
// work: the identities and marking definitions of filter collection fc
// that no version left in it names leave it (store.ContextUse says which);
// it returns how many. The scan up to the committed clock runs on the
// pool, 5,000 entries a read, without locks; every entry
// at or below it is committed, since adders move the clock in the
// transaction that adds their entries. What arrived after it is read, and
// the unnamed are deleted, in one transaction under the clock lock, which
// keeps adders out meanwhile; those after it bring back what they name.
func (db *DB) pruneContext(ctx context.Context, fc filterColl) (int, error) {
	var mark int64
	err := db.pool.QueryRow(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&mark)
	if err != nil {
		return 0, err
	}
	u := store.NewContextUse(fc.filter, db.Now())
	if err = u.Scan(ctx, heldReader{db.pool, fc.seq}, 0, mark, 5000); err != nil || u.Pending() == 0 {
		return 0, err
	}
	if db.pruneScanned != nil {
		db.pruneScanned()
	}

	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	if err := lockFilterChange(ctx, tx, fc.seq); err != nil {
		return 0, err
	}
	// The arrivals since mark: new versions of the candidates themselves
	// (one may now match the filter), and versions that may name them.
	if err := u.Scan(ctx, heldReader{tx, fc.seq}, mark, math.MaxInt64, 0); err != nil {
		return 0, err
	}
	unused := u.Candidates()
	if len(unused) == 0 {
		return 0, nil
	}
	rows, err := tx.Query(ctx, `DELETE FROM entries WHERE collection = $1 AND stix_id = ANY($2) RETURNING object`, fc.seq, unused)
	if err != nil {
		return 0, err
	}
	rids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	// A version only this collection held would be left unreachable.
	if err := deleteOrphans(ctx, tx, rids); err != nil {
		return 0, err
	}
	return len(unused), tx.Commit(ctx)
}

// heldReader is a store.ContextReader of collection seq.
type heldReader struct {
	q   querier
	seq int64
}

func (r heldReader) Context(ctx context.Context, after, end int64) ([]store.HeldVersion, error) {
	rows, err := r.q.Query(ctx, `SELECT `+storedColumns+`
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = $1 AND e.type IN ('identity', 'marking-definition')
			AND e.date_added > $2 AND e.date_added <= $3`, r.seq, after, end)
	if err != nil {
		return nil, err
	}
	vs, _, err := scanHeld(rows)
	return vs, err
}

func (r heldReader) Range(ctx context.Context, after, end int64, limit int) ([]store.HeldVersion, int64, error) {
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := r.q.Query(ctx, `SELECT `+storedColumns+`
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = $1 AND e.date_added > $2 AND e.date_added <= $3
		ORDER BY e.date_added LIMIT $4`, r.seq, after, end, lim)
	if err != nil {
		return nil, 0, err
	}
	return scanHeld(rows)
}

// scanHeld reads stored versions with their properties, and the last
// date_added read.
func scanHeld(rows pgx.Rows) ([]store.HeldVersion, int64, error) {
	vs, last, err := scanStored(rows)
	if err != nil {
		return nil, 0, err
	}
	held := make([]store.HeldVersion, len(vs))
	for i, v := range vs {
		held[i] = store.HeldVersion{Object: v.obj, Info: v.inspect()}
	}
	return held, last, nil
}

// markPruneSQL makes the API root of collection $1 due a prune (see
// store.Store.PrunesDue), in the transaction of a deletion from it.
const markPruneSQL = `UPDATE api_roots SET prune_due = prune_due + 1
	WHERE name = (SELECT api_root FROM collections WHERE seq = $1)`

// PrunesDue returns the API roots due a prune, with their marks.
func (db *DB) PrunesDue(ctx context.Context) (map[string]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, prune_due FROM api_roots WHERE prune_due > 0`)
	if err != nil {
		return nil, dbError("prunes due", err)
	}
	due := make(map[string]int64)
	var root string
	var mark int64
	_, err = pgx.ForEachRow(rows, []any{&root, &mark}, func() error {
		due[root] = mark
		return nil
	})
	if err != nil {
		return nil, dbError("prunes due", err)
	}
	return due, nil
}

// PruneDone ends root's due prune if its mark is still mark.
func (db *DB) PruneDone(ctx context.Context, root string, mark int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE api_roots SET prune_due = 0 WHERE name = $1 AND prune_due = $2`, root, mark)
	return dbError("prune done", err)
}

// MarkPruneDue makes root due a prune.
func (db *DB) MarkPruneDue(ctx context.Context, root string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE api_roots SET prune_due = prune_due + 1 WHERE name = $1`, root)
	if err != nil {
		return dbError("mark prune due", err)
	}
	if tag.RowsAffected() == 0 {
		return hail.Errorf(hail.ENOTFOUND, "API root %q not found.", root)
	}
	return nil
}
