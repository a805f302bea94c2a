package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"hail/store"
)

// ObjectsRaw reads the page Objects would return for f, selecting only
// date_added and raw, and hands each row to fn as it comes (see
// store.Store). raw is passed as pgx received it, without a copy: in the
// binary format a bytea value is its bytes.
func (db *DB) ObjectsRaw(ctx context.Context, collectionID string, f store.Filter, fn store.RawFunc) (bool, error) {
	seq, err := collectionSeq(ctx, db.pool, collectionID, false)
	if err != nil {
		return false, err
	}
	var q query
	if err := q.where(seq, f, false); err != nil {
		return false, err
	}
	n := f.PageSize()
	rows, err := db.pool.Query(ctx, `SELECT e.date_added, o.raw
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE `+q.cond.String()+`
		ORDER BY e.date_added LIMIT `+q.arg(n+1), q.args...)
	if err != nil {
		return false, dbError("objects", err)
	}
	defer rows.Close()
	var da int64
	var buf []byte
	for read := 0; rows.Next(); read++ {
		if read == n {
			return true, nil
		}
		raw := rows.RawValues()[1]
		if rows.FieldDescriptions()[1].Format == pgx.BinaryFormatCode {
			err = rows.Scan(&da, nil)
		} else {
			// The text format escapes bytea; let pgx decode it.
			err = rows.Scan(&da, &buf)
			raw = buf
		}
		if err != nil {
			return false, dbError("objects", err)
		}
		if err := fn(fromMicros(da), raw); err != nil {
			return false, err
		}
	}
	if err := rows.Err(); err != nil {
		return false, dbError("objects", err)
	}
	return false, nil
}
