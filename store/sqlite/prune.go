package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"

	"hail/store"
)

// pruneBatch is how many entries one read of pruneContext's scan takes.
var pruneBatch = 5000

// pruneContext deletes from filter collection fc the identities and
// marking definitions that nothing it holds names any more (see
// store.ContextUse): what a refilter leaves once the versions that brought
// them have gone. It reads what fc holds up to the date_added assigned
// when it starts, in batches and without the write lock; then, in one
// write transaction, it reads what arrived since and deletes the context
// objects still unnamed. A version added after that transaction finds its
// context missing and brings it back, as any arrival does.
func (db *DB) pruneContext(ctx context.Context, fc filterColl) error {
	var mark int64
	if err := db.read.QueryRowContext(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&mark); err != nil {
		return err
	}
	u := store.NewContextUse(fc.filter, db.Now())
	if err := holdContext(ctx, db.read, u, fc.seq, 0, mark); err != nil {
		return err
	}
	for after := int64(0); after < mark && len(u.Candidates()) > 0; {
		rows, err := db.read.QueryContext(ctx, rangeQuery, fc.seq, after, mark, pruneBatch)
		if err != nil {
			return err
		}
		held, last, err := scanStored(rows)
		if err != nil {
			return err
		}
		for _, v := range held {
			u.See(v.obj, v.inspect())
		}
		if after = last; len(held) < pruneBatch {
			after = mark
		}
	}
	if len(u.Candidates()) == 0 {
		return nil
	}
	if db.pruneScanned != nil {
		db.pruneScanned()
	}

	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The arrivals since mark: new versions of the candidates themselves
	// (one may now match the filter), and versions that may name them.
	if err := holdContext(ctx, tx, u, fc.seq, mark, math.MaxInt64); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, rangeQuery, fc.seq, mark, int64(math.MaxInt64), -1)
	if err != nil {
		return err
	}
	arrived, _, err := scanStored(rows)
	if err != nil {
		return err
	}
	for _, v := range arrived {
		u.See(v.obj, v.inspect())
	}
	unused := u.Candidates()
	if len(unused) == 0 {
		return nil
	}
	list, err := json.Marshal(unused)
	if err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT e.date_added, e.object
		FROM json_each(?2) AS j CROSS JOIN objects AS o ON o.stix_id = j.value
		CROSS JOIN entries AS e ON e.object = o.rid AND e.collection = ?1`, fc.seq, string(list))
	if err != nil {
		return err
	}
	var added, rids []int64
	for rows.Next() {
		var da, rid int64
		if err := rows.Scan(&da, &rid); err != nil {
			rows.Close()
			return err
		}
		added, rids = append(added, da), append(rids, rid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	das, err := json.Marshal(added)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE date_added IN (SELECT value FROM json_each(?))`, string(das)); err != nil {
		return err
	}
	// A version only this collection held would be left unreachable.
	if err := deleteOrphans(ctx, tx, rids); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	db.boundWAL(ctx)
	return nil
}

// contextQuery reads the versions of identities and marking definitions
// with date_added in (?2, ?3] that collection ?1 holds.
const contextQuery = `SELECT ` + storedColumns + `
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = ?1 AND e.type IN ('identity', 'marking-definition')
			AND e.date_added > ?2 AND e.date_added <= ?3`

// querier is what holdContext reads through: the read pool or the
// write transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// holdContext gives u the versions of identities and marking definitions
// that collection seq holds with date_added in (after, end].
func holdContext(ctx context.Context, q querier, u *store.ContextUse, seq, after, end int64) error {
	rows, err := q.QueryContext(ctx, contextQuery, seq, after, end)
	if err != nil {
		return err
	}
	held, _, err := scanStored(rows)
	if err != nil {
		return err
	}
	for _, v := range held {
		u.Hold(v.obj, v.inspect())
	}
	return nil
}
