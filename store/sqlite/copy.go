package sqlite

import (
	"context"
	"fmt"

	"hail"
	"hail/store"
)

var _ store.Copier = (*DB)(nil)

// CopyEntries adds entries to a collection with their own date_added, in
// one transaction; see store.Copier. It goes through the adder AddObjects
// uses, with the writer's next date_added set to each entry's before it is
// added, so that flags, the IOC index and identity names are kept by the
// same code.
func (db *DB) CopyEntries(ctx context.Context, collectionID string, entries []store.Entry) (int, error) {
	if err := store.CheckCopies(entries); err != nil {
		return 0, err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("copy entries: %w", err)
	}
	defer tx.Rollback()
	seq, err := collectionSeq(ctx, tx, collectionID)
	if err != nil {
		return 0, err
	}
	w, err := db.begin(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("copy entries: %w", err)
	}
	a := w.adder(seq)
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.Object.ID
	}
	if err := a.preload(ids); err != nil {
		return 0, fmt.Errorf("copy entries: %w", err)
	}
	top := w.last
	var arrivals []*arrival
	for _, e := range entries {
		da := e.DateAdded.UnixMicro()
		w.next = da
		v := &arrival{obj: e.Object}
		res, err := a.add(v)
		if isUnique(err) {
			return 0, hail.Errorf(hail.ECONFLICT, "Another entry already has the date_added of %s (%s).",
				e.Object.ID, e.DateAdded.Format("2006-01-02T15:04:05.000000Z"))
		}
		if err != nil {
			return 0, fmt.Errorf("copy entries: %w", err)
		}
		if !res.Duplicate {
			arrivals = append(arrivals, v)
			top = max(top, da)
		}
	}
	if err := w.recordIdentities(arrivals); err != nil {
		return 0, fmt.Errorf("copy entries: %w", err)
	}
	w.next = top + 1
	if err := w.finish(); err != nil {
		return 0, fmt.Errorf("copy entries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("copy entries: %w", err)
	}
	db.boundWAL(ctx)
	return len(arrivals), nil
}

// StatusesAfter returns up to limit statuses whose id sorts after after,
// ordered by id; see store.Copier.
func (db *DB) StatusesAfter(ctx context.Context, after string, limit int) ([]store.Status, error) {
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+statusColumns+` FROM statuses WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("statuses: %w", err)
	}
	defer rows.Close()
	var out []store.Status
	for rows.Next() {
		s, err := scanStatus(rows)
		if err != nil {
			return nil, fmt.Errorf("statuses: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("statuses: %w", err)
	}
	return out, nil
}
