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
	n := f.PageSize()
	text, args, err := pageQuery(byID(collectionID), f, n+1, `e.date_added, o.raw`)
	if err != nil {
		return false, db.orNotFound(ctx, collectionID, err)
	}
	rows, err := db.query(ctx, text, args...)
	if err != nil {
		return false, fmt.Errorf("objects: %w", err)
	}
	defer rows.Close()
	var da int64
	var raw sql.RawBytes
	read := 0
	for ; rows.Next(); read++ {
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
	if read == 0 {
		// An empty page may be a missing collection (see byID).
		if _, err := db.readSeq(ctx, collectionID); err != nil {
			return false, err
		}
	}
	return false, nil
}
