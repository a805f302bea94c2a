package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"hail/store"
)

// ObjectsRaw reads the page Objects would return for f, selecting only
// date_added and raw, and hands each row to fn as it comes (see
// store.Store). raw is scanned into one buffer reused for every row: the
// driver has already copied it out of SQLite, and a page of a thousand
// objects should not cost a thousand more copies and allocations.
func (db *DB) ObjectsRaw(ctx context.Context, collectionID string, f store.Filter, fn store.RawFunc) (bool, error) {
	seq, err := db.readSeq(ctx, collectionID)
	if err != nil {
		return false, err
	}
	n := f.PageSize()
	text, args, err := pageQuery(seq, f, n+1, `e.date_added, o.raw`)
	if err != nil {
		return false, err
	}
	rows, err := db.query(ctx, text, args...)
	if err != nil {
		return false, fmt.Errorf("objects: %w", err)
	}
	defer rows.Close()
	var da int64
	var raw sql.RawBytes
	for read := 0; rows.Next(); read++ {
		if read == n {
			return true, nil
		}
		if err := rows.Scan(&da, &raw); err != nil {
			return false, fmt.Errorf("objects: %w", err)
		}
		if err := fn(fromMicros(da), raw); err != nil {
			return false, err
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("objects: %w", err)
	}
	return false, nil
}
