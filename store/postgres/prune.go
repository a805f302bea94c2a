package postgres

import (
	"context"
	"math"

	"github.com/jackc/pgx/v5"

	"hail/store"
)

// pruneContext is the last step of a refilter: the identities and marking
// definitions of filter collection fc that no version left in it names
// leave it (store.ContextUse says which). The scan up to the committed
// clock runs on the pool, 5,000 entries a read, without locks; every entry
// at or below it is committed, since adders move the clock in the
// transaction that adds their entries. What arrived after it is read, and
// the unnamed are deleted, in one transaction under the clock lock, which
// keeps adders out meanwhile; those after it bring back what they name.
func (db *DB) pruneContext(ctx context.Context, fc filterColl) error {
	var mark int64
	err := db.pool.QueryRow(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&mark)
	if err != nil {
		return err
	}
	u := store.NewContextUse(fc.filter, db.Now())
	if err = u.Scan(ctx, heldReader{db.pool, fc.seq}, 0, mark, 5000); err != nil || u.Pending() == 0 {
		return err
	}
	if db.pruneScanned != nil {
		db.pruneScanned()
	}

	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	// The clock lock keeps adders out until the deletion commits; KEY
	// SHARE on fc's row keeps a DeleteCollection out.
	if _, err := tx.Exec(ctx, `SELECT FROM clock WHERE id = 1 FOR UPDATE`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT FROM collections WHERE seq = $1 FOR KEY SHARE`, fc.seq); err != nil {
		return err
	}
	// The arrivals since mark: new versions of the candidates themselves
	// (one may now match the filter), and versions that may name them.
	if err := u.Scan(ctx, heldReader{tx, fc.seq}, mark, math.MaxInt64, 0); err != nil {
		return err
	}
	unused := u.Candidates()
	if len(unused) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `DELETE FROM entries WHERE collection = $1 AND stix_id = ANY($2) RETURNING object`, fc.seq, unused)
	if err != nil {
		return err
	}
	rids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	// A version only this collection held would be left unreachable.
	if err := deleteOrphans(ctx, tx, rids); err != nil {
		return err
	}
	return tx.Commit(ctx)
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
