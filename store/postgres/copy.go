package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"hail/stix"
	"hail/store"
)

var _ store.Copier = (*DB)(nil)

// CopyEntries adds entries to a collection with their own date_added, in
// one transaction; see store.Copier. It takes the locks AddObjects takes,
// in the same order, and writes through the same statements; only the
// planning differs: each entry keeps its date_added, and nothing is copied
// to filter collections.
func (db *DB) CopyEntries(ctx context.Context, collectionID string, entries []store.Entry) (int, error) {
	if err := store.CheckCopies(entries); err != nil {
		return 0, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, dbError("copy entries", err)
	}
	defer tx.Rollback(context.Background())
	objs := make([]stix.Object, len(entries))
	for i, e := range entries {
		objs[i] = e.Object
	}
	var a adder
	if err := a.start(ctx, tx, collectionID, objs); err != nil {
		return 0, dbError("copy entries", err)
	}
	a.planCopies(entries)
	if len(a.added) == 0 {
		return 0, dbError("copy entries", tx.Commit(ctx))
	}
	if err := a.insert(ctx, tx); err != nil {
		return 0, dbError("copy entries", err)
	}
	if err := afterCopy(ctx, tx, &a); err != nil {
		return 0, dbError("copy entries", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, dbError("copy entries", err)
	}
	db.noteAdded(ctx, len(a.added))
	return len(a.added), nil
}

// planCopies is plan for copies: a version the collection holds, or that
// comes earlier in entries, is skipped, and the others keep their
// date_added. a.next ends past the greatest one and the clock, so that
// insert advances the clock, never moves it back.
func (a *adder) planCopies(entries []store.Entry) {
	a.perID = make(map[string]int)
	for _, e := range entries {
		k := entryKey{e.Object.ID, versionKey(e.Object.Version)}
		if _, ok := a.existing[k]; ok {
			continue
		}
		da := e.DateAdded.UnixMicro()
		a.existing[k] = da
		a.added = append(a.added, newEntry{obj: e.Object, version: k.version, dateAdded: da})
		a.perID[k.id]++
		a.next = max(a.next, da+1)
	}
}

// afterCopy is afterAdd without the filter collections: it writes the IOC
// index rows and identity names of the entries the adder wrote.
func afterCopy(ctx context.Context, tx pgx.Tx, a *adder) error {
	w := &writer{last: a.next - 1, next: a.next}
	target := w.plan(a.seq)
	target.stored = true
	added := make(map[entryKey]bool, len(a.added))
	for _, e := range a.added {
		added[entryKey{e.obj.ID, e.version}] = true
	}
	for k, da := range a.existing {
		if !added[k] {
			target.hold(k.id, k.version, da)
		}
	}
	w.arrivals(target, a.added)
	return w.write(ctx, tx)
}

// StatusesAfter returns up to limit statuses whose id sorts after after,
// ordered by id; see store.Copier.
func (db *DB) StatusesAfter(ctx context.Context, after string, limit int) ([]store.Status, error) {
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	rows, err := db.pool.Query(ctx, `SELECT `+statusColumns+` FROM statuses WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, dbError("statuses", err)
	}
	var out []store.Status
	var r statusRow
	_, err = pgx.ForEachRow(rows, r.dest(), func() error {
		out = append(out, r.status())
		r.succ, r.fail, r.pend = nil, nil, nil
		return nil
	})
	if err != nil {
		return nil, dbError("statuses", err)
	}
	return out, nil
}
