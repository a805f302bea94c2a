package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
)

// addStmts are the statements AddObjects runs per object, prepared once on
// the write connection.
type addStmts struct {
	insertObj   *sql.Stmt
	insertEntry *sql.Stmt
	setFlags    *sql.Stmt
}

func (s *addStmts) prepare(ctx context.Context, db *sql.DB) error {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, q)
		return st
	}
	s.insertObj = prep(`INSERT INTO objects (stix_id, type, spec_version, version, created, modified, revoked, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	s.insertEntry = prep(`INSERT INTO entries (date_added, collection, object, stix_id, type, spec_version, version,
		latest_spec, is_first, is_last) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	s.setFlags = prep(`UPDATE entries SET latest_spec = ?, is_first = ?, is_last = ? WHERE date_added = ?`)
	return err
}

func (s *addStmts) close() {
	for _, st := range []*sql.Stmt{s.insertObj, s.insertEntry, s.setFlags} {
		if st != nil {
			st.Close()
		}
	}
}

// Bounds of the instants time.Time.UnixNano represents (years 1678–2262).
var (
	minNanoTime = time.Unix(0, math.MinInt64+1)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// versionNanos is the stored form of an object version: 0 for an
// unversioned object, nanoseconds since the epoch otherwise. STIX allows
// years up to 9999; versions outside what int64 nanoseconds hold are
// clamped, so two such versions of one object would count as one.
func versionNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minNanoTime):
		return math.MinInt64 + 1
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// objectVersion rebuilds Object.Version from the stored columns as
// stix.Parse computed it.
func objectVersion(ns int64, created, modified string) time.Time {
	switch ns {
	case 0:
		return time.Time{}
	case math.MinInt64 + 1, math.MaxInt64:
		s := modified
		if s == "" {
			s = created
		}
		t, _ := stix.ParseTimestamp(s)
		return t
	}
	return time.Unix(0, ns).UTC()
}

// collectionSeq returns the row key of the collection with that id.
func collectionSeq(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT seq FROM collections WHERE id = ?`, id).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, collectionNotFound(id)
	}
	if err != nil {
		return 0, fmt.Errorf("find collection: %w", err)
	}
	return seq, nil
}

// AddObjects adds object versions to a collection in one transaction. Each
// new version's date_added is max(Now, the last one assigned + 1 µs), taken
// under the write lock, so commit order is date_added order and a poller
// that resumes after the last date_added it saw misses nothing.
func (db *DB) AddObjects(ctx context.Context, collectionID string, objs []stix.Object) ([]store.AddResult, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	defer tx.Rollback()
	seq, err := collectionSeq(ctx, tx, collectionID)
	if err != nil {
		return nil, err
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&last); err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	next := max(db.Now().UnixMicro(), last+1)
	a := adder{ctx: ctx, tx: tx, seq: seq,
		insertObj:   tx.StmtContext(ctx, db.add.insertObj),
		insertEntry: tx.StmtContext(ctx, db.add.insertEntry),
		setFlags:    tx.StmtContext(ctx, db.add.setFlags),
	}
	if err := a.preload(objs); err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	results := make([]store.AddResult, len(objs))
	for i, o := range objs {
		res, err := a.add(o, next)
		if err != nil {
			return nil, fmt.Errorf("add objects: %w", err)
		}
		if !res.Duplicate {
			next++
		}
		results[i] = res
	}
	if next-1 > last {
		if _, err := tx.ExecContext(ctx, `UPDATE clock SET last_date_added = ? WHERE id = 1`, next-1); err != nil {
			return nil, fmt.Errorf("add objects: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("add objects: %w", err)
	}
	return results, nil
}

// adder adds objects to one collection inside one transaction.
type adder struct {
	ctx                              context.Context
	tx                               *sql.Tx
	seq                              int64
	insertObj, insertEntry, setFlags *sql.Stmt
	// known holds the stored versions of every object of the batch, kept
	// up to date as the batch is added.
	known map[string][]version
}

// version is one stored version of an object, with its flags.
type version struct {
	dateAdded   int64
	specVersion string
	ns          int64
	flags       flags
}

// flags are the per-entry selection flags described in 0001_init.sql.
type flags struct {
	latestSpec, first, last bool
}

// preloadChunk is how many ids one preload query asks for, well under
// SQLite's limit on bound parameters.
const preloadChunk = 500

// preload reads the versions the collection already holds of the objects
// in objs, with one query per preloadChunk ids rather than one per object.
func (a *adder) preload(objs []stix.Object) error {
	a.known = make(map[string][]version, len(objs))
	ids := make([]any, 0, min(len(objs), preloadChunk))
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		rows, err := a.tx.QueryContext(a.ctx, `SELECT stix_id, date_added, spec_version, version, latest_spec, is_first, is_last
			FROM entries WHERE collection = ? AND stix_id IN (`+placeholders(len(ids))+`)`, append([]any{a.seq}, ids...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var v version
			if err := rows.Scan(&id, &v.dateAdded, &v.specVersion, &v.ns, &v.flags.latestSpec, &v.flags.first, &v.flags.last); err != nil {
				return err
			}
			a.known[id] = append(a.known[id], v)
		}
		ids = ids[:0]
		return rows.Err()
	}
	for _, o := range objs {
		if _, ok := a.known[o.ID]; ok {
			continue
		}
		a.known[o.ID] = nil
		ids = append(ids, o.ID)
		if len(ids) == preloadChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// add adds o with date_added da unless the collection holds that version.
func (a *adder) add(o stix.Object, da int64) (store.AddResult, error) {
	ns := versionNanos(o.Version)
	res := store.AddResult{ID: o.ID, Version: o.Version}
	vs := a.known[o.ID]
	for _, v := range vs {
		if v.ns == ns {
			res.Duplicate = true
			res.DateAdded = fromMicros(v.dateAdded)
			return res, nil
		}
	}
	r, err := a.insertObj.ExecContext(a.ctx, o.ID, o.Type, o.SpecVersion, ns, o.Created, o.Modified, o.Revoked, string(o.Raw))
	if err != nil {
		return res, err
	}
	rid, err := r.LastInsertId()
	if err != nil {
		return res, err
	}
	vs = append(vs, version{dateAdded: da, specVersion: o.SpecVersion, ns: ns})
	newFlags := computeFlags(vs)
	// Rewrite only the flags that changed; usually none, or the previous
	// last version's is_last.
	for i := range vs[:len(vs)-1] {
		if newFlags[i] != vs[i].flags {
			if _, err := a.setFlags.ExecContext(a.ctx, newFlags[i].latestSpec, newFlags[i].first, newFlags[i].last, vs[i].dateAdded); err != nil {
				return res, err
			}
			vs[i].flags = newFlags[i]
		}
	}
	f := newFlags[len(vs)-1]
	vs[len(vs)-1].flags = f
	if _, err := a.insertEntry.ExecContext(a.ctx, da, a.seq, rid, o.ID, o.Type, o.SpecVersion, ns,
		f.latestSpec, f.first, f.last); err != nil {
		return res, err
	}
	a.known[o.ID] = vs
	res.DateAdded = fromMicros(da)
	return res, nil
}

// computeFlags returns the flags each of the versions of one object should
// carry, in O(len(vs)). Spec versions compare as strings, which orders
// "2.0" before "2.1". Versions of one object have distinct instants.
func computeFlags(vs []version) []flags {
	fs := make([]flags, len(vs))
	if len(vs) == 1 {
		fs[0] = flags{latestSpec: true, first: true, last: true}
		return fs
	}
	type bounds struct{ lo, hi int64 }
	groups := make(map[string]bounds, 2)
	newest := ""
	for _, v := range vs {
		newest = max(newest, v.specVersion)
		b, ok := groups[v.specVersion]
		if !ok {
			b = bounds{v.ns, v.ns}
		}
		groups[v.specVersion] = bounds{min(b.lo, v.ns), max(b.hi, v.ns)}
	}
	for i, v := range vs {
		b := groups[v.specVersion]
		fs[i] = flags{latestSpec: v.specVersion == newest, first: v.ns == b.lo, last: v.ns == b.hi}
	}
	return fs
}

// DeleteObject removes the versions of one object that f selects. With
// neither Versions nor SpecVersions it removes every version; otherwise it
// removes what Objects would return for the same filter restricted to that
// object, with Versions defaulting to "all".
func (db *DB) DeleteObject(ctx context.Context, collectionID, objectID string, f store.Filter) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	defer tx.Rollback()
	seq, err := collectionSeq(ctx, tx, collectionID)
	if err != nil {
		return err
	}
	sel := store.Filter{IDs: []string{objectID}, Versions: f.Versions, SpecVersions: f.SpecVersions}
	if len(sel.Versions) == 0 {
		sel.Versions = []string{"all"}
	}
	anySpec := len(f.Versions) == 0 && len(f.SpecVersions) == 0
	var q query
	if err := q.where(seq, sel, anySpec); err != nil {
		return err
	}
	rids, err := deleteEntries(ctx, tx, q)
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	if len(rids) == 0 {
		return hail.Errorf(hail.ENOTFOUND, "Object %q not found.", objectID)
	}
	for _, rid := range rids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE rid = ?1 AND NOT EXISTS (
			SELECT 1 FROM entries WHERE object = ?1)`, rid); err != nil {
			return fmt.Errorf("delete object: %w", err)
		}
	}
	if err := refreshFlags(ctx, tx, seq, objectID); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	return nil
}

// deleteEntries deletes the entries q selects and returns the objects rows
// they referred to.
func deleteEntries(ctx context.Context, tx *sql.Tx, q query) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM entries AS e WHERE `+q.cond.String()+` RETURNING object`, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rids []int64
	for rows.Next() {
		var rid int64
		if err := rows.Scan(&rid); err != nil {
			return nil, err
		}
		rids = append(rids, rid)
	}
	return rids, rows.Err()
}

// refreshFlags recomputes the flags of the remaining versions of one object
// after some were deleted.
func refreshFlags(ctx context.Context, tx *sql.Tx, seq int64, id string) error {
	rows, err := tx.QueryContext(ctx, `SELECT date_added, spec_version, version, latest_spec, is_first, is_last
		FROM entries WHERE collection = ? AND stix_id = ?`, seq, id)
	if err != nil {
		return err
	}
	var vs []version
	for rows.Next() {
		var v version
		if err := rows.Scan(&v.dateAdded, &v.specVersion, &v.ns, &v.flags.latestSpec, &v.flags.first, &v.flags.last); err != nil {
			rows.Close()
			return err
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i, f := range computeFlags(vs) {
		if f != vs[i].flags {
			if _, err := tx.ExecContext(ctx, `UPDATE entries SET latest_spec = ?, is_first = ?, is_last = ? WHERE date_added = ?`,
				f.latestSpec, f.first, f.last, vs[i].dateAdded); err != nil {
				return err
			}
		}
	}
	return nil
}
