package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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
	copyEntries *sql.Stmt
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
	s.copyEntries = prep(copyEntriesQuery)
	s.setFlags = prep(`UPDATE entries SET latest_spec = ?, is_first = ?, is_last = ? WHERE date_added = ?`)
	return err
}

func (s *addStmts) close() {
	for _, st := range []*sql.Stmt{s.insertObj, s.insertEntry, s.copyEntries, s.setFlags} {
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

// AddObjects adds object versions to a collection in one transaction,
// which calls made at the same time may share (see addGroup). Each
// new version's date_added is max(Now, the last one assigned + 1 µs), taken
// under the write lock, so commit order is date_added order and a poller
// that resumes after the last date_added it saw misses nothing. The new
// versions then go to the API root's filter collections that match them
// (see fanout), and the IOC index of every collection written is updated.
func (db *DB) AddObjects(ctx context.Context, collectionID string, objs []stix.Object) ([]store.AddResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return db.groups.add(ctx, collectionID, objs, nil)
}

// AddObjectsStatus is AddObjects that also stores, in the same
// transaction, the status that status makes of the results.
func (db *DB) AddObjectsStatus(ctx context.Context, collectionID string, objs []stix.Object,
	status func([]store.AddResult) store.Status) ([]store.AddResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return db.groups.add(ctx, collectionID, objs, status)
}

// addGroup runs calls, AddObjects calls that arrived together, in one
// transaction: a commit and the pages it writes cost as much for an
// envelope of 100 objects as the objects themselves. A call for a
// collection that does not exist fails alone. Any other failure undoes
// the transaction, and each call then runs in a transaction of its own,
// so that one call's failure is never another's.
func (db *DB) addGroup(calls []*addCall) {
	err := db.addTogether(calls)
	switch {
	case err == nil:
		return
	case len(calls) == 1:
		calls[0].results, calls[0].err = nil, fmt.Errorf("add objects: %w", err)
		return
	}
	for _, c := range calls {
		c.results, c.err = nil, nil
		if cerr := db.addTogether([]*addCall{c}); cerr != nil {
			c.results, c.err = nil, fmt.Errorf("add objects: %w", cerr)
		}
	}
}

// addTogether adds each call's objects in one transaction, in call order,
// setting each call's results, or its error when its collection does not
// exist. It returns the error that undid the transaction.
func (db *DB) addTogether(calls []*addCall) error {
	ctx := context.WithoutCancel(calls[0].ctx) // each call's own cancellation is checked as it runs
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	w, err := db.begin(ctx, tx)
	if err != nil {
		return err
	}
	stored := false
	for _, c := range calls {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		w.parent = c.ctx
		c.results, c.err = w.addObjects(c.collectionID, c.objs)
		if hail.ErrorCode(c.err) == hail.ENOTFOUND {
			continue // nothing written
		}
		if c.err == nil && c.status != nil {
			c.err = db.insertStatus(w.ctx, tx, c.status(c.results))
		}
		if c.err != nil {
			return c.err
		}
		stored = true
	}
	if !stored {
		return nil
	}
	if err := w.finish(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	db.boundWAL(ctx)
	return nil
}

// addObjects adds objs to collection id within w's transaction: the
// collection first, then the API root's filter collections.
func (w *writer) addObjects(collectionID string, objs []stix.Object) ([]store.AddResult, error) {
	var seq int64
	var root string
	err := w.tx.QueryRowContext(w.ctx, `SELECT seq, api_root FROM collections WHERE id = ?`, collectionID).Scan(&seq, &root)
	if err == sql.ErrNoRows {
		return nil, collectionNotFound(collectionID)
	}
	if err != nil {
		return nil, err
	}
	fcs, err := w.filterCollections(root, seq)
	if err != nil {
		return nil, err
	}
	all := make([]*arrival, len(objs))
	ids := make([]string, len(objs))
	for i, o := range objs {
		all[i] = &arrival{obj: o}
		ids[i] = o.ID
	}
	defer inspectAhead(all, len(fcs) > 0)()
	// What the collection and its root's filter collections hold of the
	// batch's objects, read at once: the fan-out would otherwise look
	// each id up again for each filter collection.
	a := w.adder(seq)
	adders := []*adder{a}
	for _, fc := range fcs {
		adders = append(adders, w.adder(fc.seq))
	}
	if err := w.preload(ids, adders...); err != nil {
		return nil, err
	}
	results, err := a.addAll(all)
	if err != nil {
		return nil, err
	}
	arrivals := make([]*arrival, 0, len(objs))
	for i, res := range results {
		if !res.Duplicate {
			arrivals = append(arrivals, all[i])
		}
	}
	if err := w.recordIdentities(arrivals); err != nil {
		return nil, err
	}
	// What the filter collections hold of the creators and markings the
	// new versions refer to, read at once: each filter collection would
	// otherwise ask for those of its own members.
	if len(fcs) > 0 {
		if err := w.preload(contextRefs(arrivals), adders[1:]...); err != nil {
			return nil, err
		}
	}
	// The context objects' newest versions were read for an earlier call
	// of the transaction: this one may have added versions of them.
	w.latest = nil
	if err := w.fanout(root, fcs, arrivals); err != nil {
		return nil, err
	}
	return results, nil
}

// writer is one write transaction that adds entries, to one collection or
// several, drawing their date_added from one sequence.
type writer struct {
	// ctx is what statements run with: the caller's context without its
	// cancellation, since modernc.org/sqlite starts a goroutine per
	// statement to watch a context that can be cancelled, a tenth of a
	// bulk import's CPU. Loops call canceled instead, and the transaction
	// itself still ends when parent does.
	ctx                              context.Context
	parent                           context.Context
	tx                               *sql.Tx
	now                              time.Time // the clock when the transaction began
	last                             int64     // the clock's last_date_added when the transaction began
	next                             int64     // the date_added of the next new entry
	insertObj, insertEntry, setFlags *sql.Stmt
	copyEntries                      *sql.Stmt
	iocs                             *iocWriter
	adders                           map[int64]*adder // by collection
	rowByRow                         bool             // see Options.RowByRow
	// latest holds the newest version in API root latestRoot of the
	// context objects the fan-out looked up (see latestVersions).
	latest     map[string]*arrival
	latestRoot string
}

// begin starts adding entries in tx, which holds the write lock.
func (db *DB) begin(ctx context.Context, tx *sql.Tx) (*writer, error) {
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&last); err != nil {
		return nil, err
	}
	now := db.Now()
	sctx := context.WithoutCancel(ctx)
	return &writer{ctx: sctx, parent: ctx, tx: tx, now: now, last: last, next: max(now.UnixMicro(), last+1),
		insertObj:   tx.StmtContext(sctx, db.add.insertObj),
		insertEntry: tx.StmtContext(sctx, db.add.insertEntry),
		copyEntries: tx.StmtContext(sctx, db.add.copyEntries),
		setFlags:    tx.StmtContext(sctx, db.add.setFlags),
		iocs:        &iocWriter{ctx: sctx, tx: tx},
		rowByRow:    db.rowByRow,
	}, nil
}

// canceled returns the caller's context error every 256th call of a loop
// (i is the loop's index), nil otherwise.
func (w *writer) canceled(i int) error {
	if i%256 != 0 {
		return nil
	}
	return w.parent.Err()
}

// finish advances the clock past every date_added the writer assigned.
func (w *writer) finish() error {
	if w.next-1 <= w.last {
		return nil
	}
	_, err := w.tx.ExecContext(w.ctx, `UPDATE clock SET last_date_added = ? WHERE id = 1`, w.next-1)
	return err
}

// adder returns the adder of entries to collection seq, the same one for
// the whole transaction, so that what it has read and written stays known.
func (w *writer) adder(seq int64) *adder {
	if a := w.adders[seq]; a != nil {
		return a
	}
	a := &adder{w: w, seq: seq, known: make(map[string][]version)}
	if w.adders == nil {
		w.adders = make(map[int64]*adder)
	}
	w.adders[seq] = a
	return a
}

// arrival is an object version being added, with its objects row once it
// has one, and its properties, decoded at most once whatever the number of
// collections it goes to.
type arrival struct {
	obj  stix.Object
	rid  int64 // 0 until stored
	info *store.ObjectInfo
	// ready, when set, is the inspectAhead chunk that decodes the
	// properties into decoded.
	ready   *inspectJob
	decoded *store.ObjectInfo
}

// inspect returns store.Inspect(v.obj), decoding it on first use unless
// inspectAhead does.
func (v *arrival) inspect() store.ObjectInfo {
	if v.info == nil {
		if v.ready != nil {
			v.ready.wait()
			v.info = v.decoded
		} else {
			info := store.Inspect(v.obj)
			v.info = &info
		}
	}
	return *v.info
}

// adder adds entries to one collection.
type adder struct {
	w   *writer
	seq int64
	// known holds the stored versions of every object preloaded, kept up
	// to date as entries are added.
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

// preloadChunk is how many ids one preload query asks for.
const preloadChunk = 2000

// preloadQuery reads the versions the collections listed in ?2 (JSON)
// hold of the objects whose ids ?1 lists (JSON), through the objects rows
// of each id (objects_stix_id) and each row's entries in those collections
// (entries_object). A JSON list rather than placeholders: SQLite sorts an
// IN list into a table of its own first, a third of the lookup's cost
// when, as in most imports, the ids are new.
const preloadQuery = `SELECT e.collection, o.stix_id, e.date_added, e.spec_version, e.version, e.latest_spec, e.is_first, e.is_last
		FROM json_each(?1) AS j CROSS JOIN objects AS o ON o.stix_id = j.value CROSS JOIN entries AS e ON e.object = o.rid
		WHERE e.collection IN (SELECT value FROM json_each(?2))`

// preload is w.preload for a's collection alone.
func (a *adder) preload(objectIDs []string) error { return a.w.preload(objectIDs, a) }

// preload reads the versions the collections of adders already hold of
// the objects ids names, with one query per preloadChunk ids for all the
// collections rather than one per object and collection. An id an adder
// has preloaded before is not read again for it.
func (w *writer) preload(objectIDs []string, adders ...*adder) error {
	if len(adders) > 64 {
		// need holds one bit per adder.
		for _, a := range adders {
			if err := w.preload(objectIDs, a); err != nil {
				return err
			}
		}
		return nil
	}
	bySeq := make(map[int64]int, len(adders))
	seqs := make([]int64, len(adders))
	for i, a := range adders {
		bySeq[a.seq], seqs[i] = i, a.seq
	}
	list, err := json.Marshal(seqs)
	if err != nil {
		return err
	}
	need := make(map[string]uint64, min(len(objectIDs), preloadChunk)) // the adders that read each id
	ids := make([]string, 0, min(len(objectIDs), preloadChunk))
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		idList, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		rows, err := w.tx.QueryContext(w.ctx, preloadQuery, string(idList), string(list))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var id string
			var v version
			if err := rows.Scan(&seq, &id, &v.dateAdded, &v.specVersion, &v.ns, &v.flags.latestSpec, &v.flags.first, &v.flags.last); err != nil {
				return err
			}
			if i, ok := bySeq[seq]; ok && need[id]&(1<<i) != 0 {
				adders[i].known[id] = append(adders[i].known[id], v)
			}
		}
		ids = ids[:0]
		clear(need)
		return rows.Err()
	}
	for _, id := range objectIDs {
		if _, queued := need[id]; queued {
			continue
		}
		var bits uint64
		for i, a := range adders {
			if _, ok := a.known[id]; !ok {
				a.known[id] = nil
				bits |= 1 << i
			}
		}
		if bits == 0 {
			continue
		}
		need[id] = bits
		ids = append(ids, id)
		if len(ids) == preloadChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// add adds v, with the next date_added, unless the collection holds that
// version; v's objects row is inserted unless it has one, and with it the
// row's IOC index rows. The object must have been preloaded.
func (a *adder) add(v *arrival) (store.AddResult, error) {
	o := v.obj
	ns := versionNanos(o.Version)
	res := store.AddResult{ID: o.ID, Version: o.Version}
	vs := a.known[o.ID]
	for _, x := range vs {
		if x.ns == ns {
			res.Duplicate = true
			res.DateAdded = fromMicros(x.dateAdded)
			return res, nil
		}
	}
	if err := a.w.store(v); err != nil {
		return res, err
	}
	res.NewVersion = len(vs) > 0
	da := a.w.next
	a.w.next++
	vs = append(vs, version{dateAdded: da, specVersion: o.SpecVersion, ns: ns})
	newFlags := computeFlags(vs)
	// Rewrite only the flags that changed; usually none, or the previous
	// last version's is_last.
	for i := range vs[:len(vs)-1] {
		if newFlags[i] != vs[i].flags {
			if _, err := a.w.setFlags.ExecContext(a.w.ctx, newFlags[i].latestSpec, newFlags[i].first, newFlags[i].last, vs[i].dateAdded); err != nil {
				return res, err
			}
			vs[i].flags = newFlags[i]
		}
	}
	f := newFlags[len(vs)-1]
	vs[len(vs)-1].flags = f
	if _, err := a.w.insertEntry.ExecContext(a.w.ctx, da, a.seq, v.rid, o.ID, o.Type, o.SpecVersion, ns,
		f.latestSpec, f.first, f.last); err != nil {
		return res, err
	}
	a.known[o.ID] = vs
	res.DateAdded = fromMicros(da)
	return res, nil
}

// store inserts v's objects row, with its IOC index rows, unless it has
// one.
func (w *writer) store(v *arrival) error {
	if v.rid != 0 {
		return nil
	}
	o := v.obj
	r, err := w.insertObj.ExecContext(w.ctx, o.ID, o.Type, o.SpecVersion, versionNanos(o.Version), o.Created, o.Modified,
		o.Revoked, string(o.Raw))
	if err != nil {
		return err
	}
	if v.rid, err = r.LastInsertId(); err != nil {
		return err
	}
	if store.Indexed(o.Type) {
		return w.iocs.index(v)
	}
	return nil
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
	rids, versions, err := deleteEntries(ctx, tx, q)
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	if len(rids) == 0 {
		return hail.Errorf(hail.ENOTFOUND, "Object %q not found.", objectID)
	}
	// The filter collections may now hold context only those versions named.
	if _, err := tx.ExecContext(ctx, markPruneQuery, seq); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	root, err := explicitRoot(ctx, tx, seq)
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	ids := make([]string, len(versions))
	for i := range ids {
		ids[i] = objectID
	}
	withdrawn, err := withdrawFromFilters(ctx, tx, seq, root, ids, versions)
	if err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	if err := deleteOrphans(ctx, tx, append(rids, withdrawn...)); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	// The flags decide which remaining version the IOC index shows; the
	// deleted objects rows took their IOC rows with them.
	if err := refreshFlags(ctx, tx, seq, objectID); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete object: %w", err)
	}
	return nil
}

// deleteEntries deletes the entries q selects and returns the objects rows
// they referred to and their versions.
func deleteEntries(ctx context.Context, tx *sql.Tx, q query) (rids, versions []int64, err error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM entries AS e WHERE `+q.cond.String()+` RETURNING object, version`, q.args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var rid, version int64
		if err := rows.Scan(&rid, &version); err != nil {
			return nil, nil, err
		}
		rids, versions = append(rids, rid), append(versions, version)
	}
	return rids, versions, rows.Err()
}

// explicitRoot returns the API root of collection seq when it is an
// explicit collection, whose versions its root's filter collections hold
// copies of; "" for a filter collection.
func explicitRoot(ctx context.Context, tx *sql.Tx, seq int64) (string, error) {
	var root, kind string
	if err := tx.QueryRowContext(ctx, `SELECT api_root, kind FROM collections WHERE seq = ?`, seq).Scan(&root, &kind); err != nil {
		return "", err
	}
	if kind == store.KindFilter {
		return "", nil
	}
	return root, nil
}

// withdrawQuery deletes from the filter collections of API root ?1 (?2
// is store.KindFilter) the versions listed in ?4, a JSON list of [id,
// version] pairs, that no explicit collection of the root but ?3 holds.
const withdrawQuery = `DELETE FROM entries AS e
	WHERE e.collection IN (SELECT seq FROM collections WHERE api_root = ?1 AND kind = ?2)
		AND e.object IN (SELECT o.rid FROM json_each(?4) AS j
			JOIN objects AS o ON o.stix_id = j.value ->> 0 AND o.version = j.value ->> 1)
		AND NOT EXISTS (SELECT 1 FROM objects AS ho CROSS JOIN entries AS h ON h.object = ho.rid
			WHERE ho.stix_id = e.stix_id AND ho.version = e.version
				AND h.collection IN (SELECT seq FROM collections WHERE api_root = ?1 AND kind <> ?2 AND seq <> ?3))
	RETURNING object, collection, stix_id`

// withdrawFromFilters deletes the object versions (ids[i], versions[i])
// that explicit collection seq of API root root lets go from the root's
// filter collections, unless another explicit collection of the root still
// holds them: a filter collection holds what the root's explicit
// collections hold. It returns the objects rows the deleted entries
// referred to. The versions left keep their flags right.
func withdrawFromFilters(ctx context.Context, tx *sql.Tx, seq int64, root string, ids []string, versions []int64) ([]int64, error) {
	if root == "" || len(ids) == 0 {
		return nil, nil
	}
	pairs := make([][2]any, len(ids))
	for i := range ids {
		pairs[i] = [2]any{ids[i], versions[i]}
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, withdrawQuery, root, store.KindFilter, seq, string(list))
	if err != nil {
		return nil, err
	}
	var rids []int64
	touched := map[int64][]string{} // ids per filter collection
	for rows.Next() {
		var rid, coll int64
		var id string
		if err := rows.Scan(&rid, &coll, &id); err != nil {
			rows.Close()
			return nil, err
		}
		rids = append(rids, rid)
		touched[coll] = append(touched[coll], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for coll, ids := range touched {
		if err := refreshFlagsOf(ctx, tx, coll, ids); err != nil {
			return nil, err
		}
	}
	return rids, nil
}

// refreshFlagsOf recomputes, in one statement, the flags of the versions
// collection seq holds of the objects ids names, after some were deleted
// (refreshFlags does it for one object).
func refreshFlagsOf(ctx context.Context, tx *sql.Tx, seq int64, ids []string) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, refreshFlagsQuery, seq, string(list))
	return err
}

// refreshFlagsQuery recomputes the flags of the versions collection ?1
// holds of the objects ?2 lists (JSON), writing those that changed.
const refreshFlagsQuery = `UPDATE entries AS e
	SET latest_spec = f.latest_spec, is_first = f.is_first, is_last = f.is_last
	FROM (SELECT x.date_added,
			x.spec_version = max(x.spec_version) OVER (PARTITION BY x.stix_id) AS latest_spec,
			x.version = min(x.version) OVER (PARTITION BY x.stix_id, x.spec_version) AS is_first,
			x.version = max(x.version) OVER (PARTITION BY x.stix_id, x.spec_version) AS is_last
		FROM entries AS x
		WHERE x.collection = ?1 AND x.object IN (SELECT o.rid FROM objects AS o
			WHERE o.stix_id IN (SELECT value FROM json_each(?2)))) AS f
	WHERE e.date_added = f.date_added
		AND (e.latest_spec <> f.latest_spec OR e.is_first <> f.is_first OR e.is_last <> f.is_last)`

// deleteOrphans deletes the objects rows among rids that no entry refers
// to any more; their IOC rows go with them.
func deleteOrphans(ctx context.Context, tx *sql.Tx, rids []int64) error {
	for _, rid := range rids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE rid = ?1 AND NOT EXISTS (
			SELECT 1 FROM entries WHERE object = ?1)`, rid); err != nil {
			return err
		}
	}
	return nil
}

// versionsOfQuery reads the versions collection ? holds of the object ?.
const versionsOfQuery = `SELECT date_added, spec_version, version, latest_spec, is_first, is_last
	FROM entries WHERE collection = ? AND object IN (SELECT rid FROM objects WHERE stix_id = ?)`

// refreshFlags recomputes the flags of the remaining versions of one object
// after some were deleted.
func refreshFlags(ctx context.Context, tx *sql.Tx, seq int64, id string) error {
	rows, err := tx.QueryContext(ctx, versionsOfQuery, seq, id)
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
