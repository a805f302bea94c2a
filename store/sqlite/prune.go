package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"hail"
	"hail/store"
)

// pruneBatch is how many entries one read of pruneContext's scan takes.
var pruneBatch = 5000

// PruneCollection deletes the context objects that nothing in filter
// collection id names any more (see store.Store).
func (db *DB) PruneCollection(ctx context.Context, id string) (int, error) {
	var seq int64
	var kind, filter string
	err := db.read.QueryRowContext(ctx, `SELECT seq, kind, filter FROM collections WHERE id = ?`, id).Scan(&seq, &kind, &filter)
	if err == sql.ErrNoRows {
		return 0, collectionNotFound(id)
	}
	if err != nil {
		return 0, fmt.Errorf("prune collection: %w", err)
	}
	f, err := store.StoredFilter(id, kind, filter)
	if err != nil {
		return 0, err
	}
	n, err := db.pruneContext(ctx, filterColl{seq: seq, filter: f})
	if err != nil {
		return n, fmt.Errorf("prune collection: %w", err)
	}
	return n, nil
}

// pruneContext deletes from filter collection fc the identities and
// marking definitions that nothing it holds names any more (see
// store.ContextUse): what a refilter leaves once the versions that brought
// them have gone. It reads what fc holds up to the date_added assigned
// when it starts, in batches and without the write lock; then, in one
// write transaction, it reads what arrived since and deletes the context
// objects still unnamed. A version added after that transaction finds its
// context missing and brings it back, as any arrival does. It returns how
// many objects left.
func (db *DB) pruneContext(ctx context.Context, fc filterColl) (int, error) {
	var mark int64
	if err := db.read.QueryRowContext(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&mark); err != nil {
		return 0, err
	}
	u := store.NewContextUse(fc.filter, db.Now())
	if err := u.Scan(ctx, heldReader{db.read, fc.seq}, 0, mark, pruneBatch); err != nil || u.Pending() == 0 {
		return 0, err
	}
	if db.pruneScanned != nil {
		db.pruneScanned()
	}

	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// The arrivals since mark: new versions of the candidates themselves
	// (one may now match the filter), and versions that may name them.
	if err := u.Scan(ctx, heldReader{tx, fc.seq}, mark, math.MaxInt64, 0); err != nil {
		return 0, err
	}
	unused := u.Candidates()
	if len(unused) == 0 {
		return 0, nil
	}
	list, err := json.Marshal(unused)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM entries WHERE date_added IN (
		SELECT e.date_added FROM json_each(?2) AS j CROSS JOIN objects AS o ON o.stix_id = j.value
			CROSS JOIN entries AS e ON e.object = o.rid AND e.collection = ?1)
		RETURNING object`, fc.seq, string(list))
	if err != nil {
		return 0, err
	}
	var rids []int64
	for rows.Next() {
		var rid int64
		if err := rows.Scan(&rid); err != nil {
			rows.Close()
			return 0, err
		}
		rids = append(rids, rid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	// A version only this collection held would be left unreachable.
	if err := deleteOrphans(ctx, tx, rids); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	db.boundWAL(ctx)
	return len(unused), nil
}

// contextQuery reads the versions of identities and marking definitions
// with date_added in (?2, ?3] that collection ?1 holds.
const contextQuery = `SELECT ` + storedColumns + `
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = ?1 AND e.type IN ('identity', 'marking-definition')
			AND e.date_added > ?2 AND e.date_added <= ?3`

// heldReader is a store.ContextReader of collection seq.
type heldReader struct {
	q   queryer // the read pool or the write transaction
	seq int64
}

func (r heldReader) Context(ctx context.Context, after, end int64) ([]store.HeldVersion, error) {
	rows, err := r.q.QueryContext(ctx, contextQuery, r.seq, after, end)
	if err != nil {
		return nil, err
	}
	vs, _, err := scanHeld(rows)
	return vs, err
}

func (r heldReader) Range(ctx context.Context, after, end int64, limit int) ([]store.HeldVersion, int64, error) {
	if limit == 0 {
		limit = -1 // SQLite's no limit
	}
	rows, err := r.q.QueryContext(ctx, rangeQuery, r.seq, after, end, limit)
	if err != nil {
		return nil, 0, err
	}
	return scanHeld(rows)
}

// scanHeld reads stored versions with their properties, and the last
// date_added read.
func scanHeld(rows *sql.Rows) ([]store.HeldVersion, int64, error) {
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

// markPruneQuery makes the API root of collection ?1 due a prune (see
// store.Store.PrunesDue), in the transaction of a deletion from it.
const markPruneQuery = `UPDATE api_roots SET prune_due = prune_due + 1
	WHERE name = (SELECT api_root FROM collections WHERE seq = ?1)`

// PrunesDue returns the API roots due a prune, with their marks.
func (db *DB) PrunesDue(ctx context.Context) (map[string]int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, prune_due FROM api_roots WHERE prune_due > 0`)
	if err != nil {
		return nil, fmt.Errorf("prunes due: %w", err)
	}
	defer rows.Close()
	due := make(map[string]int64)
	for rows.Next() {
		var root string
		var mark int64
		if err := rows.Scan(&root, &mark); err != nil {
			return nil, fmt.Errorf("prunes due: %w", err)
		}
		due[root] = mark
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("prunes due: %w", err)
	}
	return due, nil
}

// PruneDone ends root's due prune if its mark is still mark.
func (db *DB) PruneDone(ctx context.Context, root string, mark int64) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE api_roots SET prune_due = 0 WHERE name = ? AND prune_due = ?`,
		root, mark); err != nil {
		return fmt.Errorf("prune done: %w", err)
	}
	return nil
}

// MarkPruneDue makes root due a prune.
func (db *DB) MarkPruneDue(ctx context.Context, root string) error {
	r, err := db.write.ExecContext(ctx, `UPDATE api_roots SET prune_due = prune_due + 1 WHERE name = ?`, root)
	if err != nil {
		return fmt.Errorf("mark prune due: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("mark prune due: %w", err)
		}
		return hail.Errorf(hail.ENOTFOUND, "API root %q not found.", root)
	}
	return nil
}
