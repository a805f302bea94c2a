package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"hail/store"
)

// pruneBatch is how many entries one read of pruneContext's scan takes.
var pruneBatch = 5000

// pruneContext deletes from filter collection fc the identities and
// marking definitions that nothing it holds names any more (see
// store.ContextUse): what a refilter leaves once the versions that brought
// them have gone. It reads what fc holds up to the clock's value when it
// starts, in batches and without locks; then, in one transaction under the
// clock lock that adders take, it reads what arrived since and deletes the
// context objects still unnamed. A version added after that transaction
// finds its context missing and brings it back, as any arrival does.
func (db *DB) pruneContext(ctx context.Context, fc filterColl) error {
	// Every entry up to the committed clock is committed: adders move the
	// clock in the transaction that adds their entries.
	var mark int64
	if err := db.pool.QueryRow(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&mark); err != nil {
		return err
	}
	u := store.NewContextUse(fc.filter, db.Now())
	if err := holdContext(ctx, db.pool, u, fc.seq, 0, mark); err != nil {
		return err
	}
	for after := int64(0); after < mark && len(u.Candidates()) > 0; {
		rows, err := db.pool.Query(ctx, `SELECT `+storedColumns+`
			FROM entries AS e JOIN objects AS o ON o.rid = e.object
			WHERE e.collection = $1 AND e.date_added > $2 AND e.date_added <= $3
			ORDER BY e.date_added LIMIT $4`, fc.seq, after, mark, pruneBatch)
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
	if err := holdContext(ctx, tx, u, fc.seq, mark, -1); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT `+storedColumns+`
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = $1 AND e.date_added > $2`, fc.seq, mark)
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
	rows, err = tx.Query(ctx, `DELETE FROM entries WHERE collection = $1 AND stix_id = ANY($2) RETURNING object`, fc.seq, unused)
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

// holdContext gives u the versions of identities and marking definitions
// that collection seq holds with date_added in (after, end], end -1 for
// no end.
func holdContext(ctx context.Context, q querier, u *store.ContextUse, seq, after, end int64) error {
	rows, err := q.Query(ctx, `SELECT `+storedColumns+`
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = $1 AND e.type IN ('identity', 'marking-definition')
			AND e.date_added > $2 AND ($3::bigint < 0 OR e.date_added <= $3::bigint)`, seq, after, end)
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
