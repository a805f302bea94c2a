package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/stix"
	"hail/store"
)

// AddObjects adds object versions to a collection in one transaction.
//
// date_added must be unique and increasing in commit order across every
// replica, or a poller resuming after the last date_added it saw could skip
// an entry whose transaction committed late. Two designs give that: assign
// date_added in commit order under one lock, or serve reads only up to a
// watermark below every open transaction. hail takes the lock: every adding
// transaction locks the single clock row (SELECT … FOR UPDATE) before it
// reads anything it decides on, assigns each new version max(Now, the last
// date_added assigned + 1 µs), and writes the clock back before committing.
// The next writer cannot read the clock until this one has committed and
// become visible, so any snapshot holds a prefix of the date_added order.
// The cost is that adds are serialised store-wide, as they are in SQLite;
// each one is a few set-based statements (unnest arrays), so bulk loads stay
// fast. A watermark would let writers overlap but make readers wait and
// needs a heartbeat to advance when the store is idle.
//
// The statements are sent in two pipelined batches around the objects
// insert, so a call costs five round trips whatever its size (six when some
// bodies are stored already, in another collection). afterAdd then copies
// the new versions to the API root's filter collections and writes the IOC
// rows of the objects rows inserted: two round trips more, three when there
// are filter collections. Every analyzeEvery entries, one more call looks
// at the tables' statistics (see noteAdded).
func (db *DB) AddObjects(ctx context.Context, collectionID string, objs []stix.Object) ([]store.AddResult, error) {
	return db.addObjects(ctx, collectionID, objs, nil)
}

// AddObjectsStatus is AddObjects that also stores, in the same
// transaction, the status that status makes of the results.
func (db *DB) AddObjectsStatus(ctx context.Context, collectionID string, objs []stix.Object,
	status func([]store.AddResult) store.Status) ([]store.AddResult, error) {
	return db.addObjects(ctx, collectionID, objs, status)
}

// addObjects is AddObjects, storing the status that status makes of the
// results before the commit when status is not nil.
func (db *DB) addObjects(ctx context.Context, collectionID string, objs []stix.Object,
	status func([]store.AddResult) store.Status) ([]store.AddResult, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, dbError("add objects", err)
	}
	defer tx.Rollback(context.Background())
	var a adder
	if err := a.start(ctx, tx, collectionID, objs); err != nil {
		return nil, dbError("add objects", err)
	}
	a.next = max(db.Now().UnixMicro(), a.next)
	results := a.plan(objs)
	if len(a.added) > 0 {
		if err := a.insert(ctx, tx); err != nil {
			return nil, dbError("add objects", err)
		}
		if err := db.afterAdd(ctx, tx, &a); err != nil {
			return nil, dbError("add objects", err)
		}
	}
	if status != nil {
		if err := db.insertStatus(ctx, tx, status(results)); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, dbError("add objects", err)
	}
	if len(a.added) > 0 {
		db.noteAdded(ctx, len(a.added))
	}
	return results, nil
}

// entryKey identifies a version of an object within a collection.
type entryKey struct{ id, version string }

// adder adds a batch of objects to one collection inside one transaction.
type adder struct {
	seq      int64
	next     int64              // the date_added of the next new version
	existing map[entryKey]int64 // date_added of versions already held
	prior    map[string]bool    // ids with versions already held
	added    []newEntry
	perID    map[string]int // new versions per id
}

// newEntry is a version the batch adds.
type newEntry struct {
	obj       stix.Object
	version   string
	dateAdded int64
	rid       int64 // the objects row, once stored
	inserted  bool  // whether this transaction inserted that row
}

// start locks the collection row (KEY SHARE, so it is not deleted under
// the transaction) and the clock row, in that order, and then reads the
// last date_added and the versions the collection already holds of the
// batch's objects. Returns ENOTFOUND if the collection does not exist.
func (a *adder) start(ctx context.Context, tx pgx.Tx, collectionID string, objs []stix.Object) error {
	ids := make([]string, 0, len(objs))
	seen := make(map[string]bool, len(objs))
	for _, o := range objs {
		if !seen[o.ID] {
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
	}
	var b pgx.Batch
	b.Queue(`SELECT seq FROM collections WHERE id = $1 FOR KEY SHARE`, collectionID)
	b.Queue(`SELECT last_date_added FROM clock WHERE id = 1 FOR UPDATE`)
	// One probe of entries_object_version per id. The lateral subquery is
	// fenced (OFFSET 0) because, left to itself, the planner may scan the
	// whole collection and filter when the table's statistics are young
	// (a first bulk import, before autovacuum analyses it), which makes
	// every add cost O(collection).
	b.Queue(`SELECT u.id, x.version, x.date_added FROM unnest($2::text[]) AS u(id)
		CROSS JOIN LATERAL (SELECT version, date_added FROM entries AS e
			WHERE e.collection = (SELECT seq FROM collections WHERE id = $1) AND e.stix_id = u.id
			OFFSET 0) AS x`, collectionID, ids)
	br := tx.SendBatch(ctx, &b)
	err := a.readStart(br, collectionID)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// readStart reads the results of the batch start sent.
func (a *adder) readStart(br pgx.BatchResults, collectionID string) error {
	err := br.QueryRow().Scan(&a.seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return collectionNotFound(collectionID)
	}
	if err != nil {
		return err
	}
	var last int64
	if err := br.QueryRow().Scan(&last); err != nil {
		return err
	}
	a.next = last + 1
	a.existing = make(map[entryKey]int64)
	a.prior = make(map[string]bool)
	rows, err := br.Query()
	if err != nil {
		return err
	}
	var k entryKey
	var da int64
	_, err = pgx.ForEachRow(rows, []any{&k.id, &k.version, &da}, func() error {
		a.existing[k] = da
		a.prior[k.id] = true
		return nil
	})
	return err
}

// plan decides, object by object, whether it is a new version or a
// duplicate (of a held version or of an earlier object in the batch), and
// assigns date_added to new ones in batch order.
func (a *adder) plan(objs []stix.Object) []store.AddResult {
	results := make([]store.AddResult, len(objs))
	a.perID = make(map[string]int)
	for i, o := range objs {
		k := entryKey{o.ID, versionKey(o.Version)}
		res := store.AddResult{ID: o.ID, Version: o.Version}
		if da, ok := a.existing[k]; ok {
			res.Duplicate = true
			res.DateAdded = fromMicros(da)
		} else {
			da := a.next
			a.next++
			a.existing[k] = da
			a.added = append(a.added, newEntry{obj: o, version: k.version, dateAdded: da})
			res.NewVersion = a.prior[o.ID] || a.perID[o.ID] > 0
			a.perID[o.ID]++
			res.DateAdded = fromMicros(da)
		}
		results[i] = res
	}
	return results
}

// insert writes the objects rows and the entries of the new versions,
// brings the flags of objects that now have several versions up to date,
// and advances the clock.
func (a *adder) insert(ctx context.Context, tx pgx.Tx) error {
	rids, inserted, err := insertObjects(ctx, tx, a.added)
	if err != nil {
		return err
	}
	for i := range a.added {
		a.added[i].rid, a.added[i].inserted = rids[i], inserted[i]
	}
	n := len(a.added)
	das := make([]int64, n)
	ids, types, specs, versions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	var refresh []string
	for i, e := range a.added {
		das[i], ids[i], types[i], specs[i], versions[i] = e.dateAdded, e.obj.ID, e.obj.Type, e.obj.SpecVersion, e.version
		if c := a.perID[e.obj.ID]; a.prior[e.obj.ID] || c > 1 {
			refresh = append(refresh, e.obj.ID)
			a.perID[e.obj.ID] = 0 // listed once
			a.prior[e.obj.ID] = false
		}
	}
	var b pgx.Batch
	// A version alone in its object is first, last and of the latest spec;
	// the others are corrected by refreshFlagsSQL.
	b.Queue(`INSERT INTO entries
		(date_added, collection, object, stix_id, type, spec_version, version, latest_spec, is_first, is_last)
		SELECT u.d, $1, u.r, u.i, u.t, u.s, u.v, true, true, true
		FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(d, r, i, t, s, v)`,
		a.seq, das, rids, ids, types, specs, versions)
	if len(refresh) > 0 {
		b.Queue(refreshFlagsSQL, a.seq, refresh)
	}
	b.Queue(`UPDATE clock SET last_date_added = $1 WHERE id = 1`, a.next-1)
	return tx.SendBatch(ctx, &b).Close()
}

// refreshFlagsSQL recomputes the flags (see 0001_init.sql) of every
// version of the objects $2 in collection $1, rewriting only those that
// change. The versions are read one id at a time through a fenced lateral
// subquery, for the reason given in adder.start.
const refreshFlagsSQL = `UPDATE entries AS e
	SET latest_spec = f.latest_spec, is_first = f.is_first, is_last = f.is_last
	FROM (SELECT x.date_added,
			x.spec_version = max(x.spec_version) OVER (PARTITION BY x.stix_id) AS latest_spec,
			x.version = min(x.version) OVER (PARTITION BY x.stix_id, x.spec_version) AS is_first,
			x.version = max(x.version) OVER (PARTITION BY x.stix_id, x.spec_version) AS is_last
		FROM (SELECT DISTINCT unnest($2::text[]) AS id) AS u
		CROSS JOIN LATERAL (SELECT date_added, stix_id, spec_version, version FROM entries AS v
			WHERE v.collection = $1 AND v.stix_id = u.id OFFSET 0) AS x) AS f
	WHERE e.collection = $1 AND e.date_added = f.date_added
		AND (e.latest_spec, e.is_first, e.is_last) IS DISTINCT FROM (f.latest_spec, f.is_first, f.is_last)`

// explicitRoot returns the API root of collection seq when it is an
// explicit collection, whose versions its root's filter collections hold
// copies of; "" for a filter collection.
func explicitRoot(ctx context.Context, tx pgx.Tx, seq int64) (string, error) {
	var root, kind string
	if err := tx.QueryRow(ctx, `SELECT api_root, kind FROM collections WHERE seq = $1`, seq).Scan(&root, &kind); err != nil {
		return "", err
	}
	if kind == store.KindFilter {
		return "", nil
	}
	return root, nil
}

// withdrawFromFilters deletes the object versions (ids[i], versions[i])
// that explicit collection seq of API root root lets go from the root's
// filter collections, unless another explicit collection of the root still
// holds them: a filter collection holds what the root's explicit
// collections hold. It returns the objects rows the deleted entries
// referred to; the versions left keep their flags right. The caller holds
// the clock lock, so no add of the same versions to another collection
// runs meanwhile.
func withdrawFromFilters(ctx context.Context, tx pgx.Tx, seq int64, root string, ids, versions []string) ([]int64, error) {
	if root == "" || len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `DELETE FROM entries AS e USING unnest($4::text[], $5::text[]) AS d(id, version)
		WHERE e.collection IN (SELECT seq FROM collections WHERE api_root = $1 AND kind = $2)
			AND e.stix_id = d.id AND e.version = d.version
			AND NOT EXISTS (SELECT 1 FROM entries AS h
				WHERE h.collection IN (SELECT seq FROM collections WHERE api_root = $1 AND kind <> $2 AND seq <> $3)
					AND h.stix_id = d.id AND h.version = d.version)
		RETURNING e.object, e.collection, e.stix_id`, root, store.KindFilter, seq, ids, versions)
	if err != nil {
		return nil, err
	}
	type withdrawn struct {
		rid, coll int64
		id        string
	}
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (withdrawn, error) {
		var w withdrawn
		return w, r.Scan(&w.rid, &w.coll, &w.id)
	})
	if err != nil {
		return nil, err
	}
	rids := make([]int64, len(ws))
	touched := map[int64][]string{} // ids per filter collection
	for i, w := range ws {
		rids[i] = w.rid
		touched[w.coll] = append(touched[w.coll], w.id)
	}
	for coll, ids := range touched {
		if _, err := tx.Exec(ctx, refreshFlagsSQL, coll, ids); err != nil {
			return nil, err
		}
	}
	return rids, nil
}

// insertObjectsAttempts bounds the retries of insertObjects; each retry
// needs a concurrent delete of the same row, so two are already rare.
const insertObjectsAttempts = 4

// insertObjects returns the objects row of each entry, inserting the rows
// not stored yet, and which of them it inserted. Rows that exist are locked
// FOR KEY SHARE so that deleteOrphans in another transaction cannot remove
// them before this one refers to them; a row deleted between the insert and
// the lock is inserted again.
func insertObjects(ctx context.Context, tx pgx.Tx, es []newEntry) ([]int64, []bool, error) {
	digests := make([][]byte, len(es))
	index := make(map[string]int, len(es))
	for i, e := range es {
		digests[i] = digest(e.obj)
		index[string(digests[i])] = i
	}
	rids := make([]int64, len(es))
	inserted := make([]bool, len(es))
	found := 0
	record := func(ins bool, rows pgx.Rows, err error) error {
		if err != nil {
			return err
		}
		var rid int64
		var d []byte
		_, err = pgx.ForEachRow(rows, []any{&rid, &d}, func() error {
			if i, ok := index[string(d)]; ok && rids[i] == 0 {
				rids[i], inserted[i] = rid, ins
				found++
			}
			return nil
		})
		return err
	}
	for attempt := 0; attempt < insertObjectsAttempts; attempt++ {
		var missing []newEntry
		var missingDigests [][]byte
		for i, e := range es {
			if rids[i] == 0 {
				missing = append(missing, e)
				missingDigests = append(missingDigests, digests[i])
			}
		}
		rows, err := insertObjectRows(ctx, tx, missing, missingDigests)
		if err := record(true, rows, err); err != nil {
			return nil, nil, err
		}
		if found == len(es) {
			return rids, inserted, nil
		}
		rows, err = tx.Query(ctx, `SELECT rid, digest FROM objects WHERE digest = ANY($1) FOR KEY SHARE`, missingDigests)
		if err := record(false, rows, err); err != nil {
			return nil, nil, err
		}
		if found == len(es) {
			return rids, inserted, nil
		}
	}
	return nil, nil, fmt.Errorf("objects rows kept disappearing under concurrent deletes")
}

// insertObjectRows inserts the rows not stored yet; the rows returned hold
// (rid, digest) of those it inserted.
func insertObjectRows(ctx context.Context, tx pgx.Tx, es []newEntry, digests [][]byte) (pgx.Rows, error) {
	n := len(es)
	ids, types, specs, created, modified := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	revoked := make([]bool, n)
	raws := make([][]byte, n)
	for i, e := range es {
		o := e.obj
		ids[i], types[i], specs[i], created[i], modified[i] = o.ID, o.Type, o.SpecVersion, o.Created, o.Modified
		revoked[i], raws[i] = o.Revoked, o.Raw
	}
	return tx.Query(ctx, `INSERT INTO objects (digest, stix_id, type, spec_version, created, modified, revoked, raw)
		SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::bytea[])
		ON CONFLICT (digest) DO NOTHING
		RETURNING rid, digest`, digests, ids, types, specs, created, modified, revoked, raws)
}

// digest identifies an objects row: SHA-256 over every stored column and
// the version, each length-prefixed so that no two different rows share an
// input.
func digest(o stix.Object) []byte {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{o.ID, o.Type, o.SpecVersion, o.Created, o.Modified, versionKey(o.Version)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	if o.Revoked {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	h.Write(o.Raw)
	return h.Sum(nil)
}

// Objects returns one page of the collection's entries matching f, oldest
// date_added first. The page is read with LIMIT on an index range that
// starts after f.AddedAfter, so its cost does not grow with the collection.
// Returns ENOTFOUND if the collection does not exist.
func (db *DB) Objects(ctx context.Context, collectionID string, f store.Filter) (store.Page, error) {
	seq, err := collectionSeq(ctx, db.pool, collectionID, false)
	if err != nil {
		return store.Page{}, err
	}
	var q query
	if err := q.where(seq, f, false); err != nil {
		return store.Page{}, err
	}
	raw := "o.raw"
	if f.HeadersOnly {
		raw = "NULL::bytea"
	}
	n := f.PageSize()
	rows, err := db.pool.Query(ctx, `SELECT e.date_added, e.stix_id, e.type, e.spec_version, e.version,
		o.created, o.modified, o.revoked, `+raw+`
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE `+q.cond.String()+`
		ORDER BY e.date_added LIMIT `+q.arg(n+1), q.args...)
	if err != nil {
		return store.Page{}, dbError("objects", err)
	}
	defer rows.Close()
	p := store.Page{Entries: make([]store.Entry, 0, min(n, 1024))}
	var da int64
	var version string
	var e store.Entry
	o := &e.Object
	for rows.Next() {
		if len(p.Entries) == n {
			p.More = true
			break
		}
		var raw []byte
		if err := rows.Scan(&da, &o.ID, &o.Type, &o.SpecVersion, &version, &o.Created, &o.Modified, &o.Revoked, &raw); err != nil {
			return store.Page{}, dbError("objects", err)
		}
		if o.Version, err = parseVersionKey(version); err != nil {
			return store.Page{}, fmt.Errorf("objects: stored version %q: %w", version, err)
		}
		e.DateAdded = fromMicros(da)
		o.Raw = raw
		p.Entries = append(p.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, dbError("objects", err)
	}
	return p, nil
}

// DeleteObject removes the versions of one object that f selects. With
// neither Versions nor SpecVersions it removes every version; otherwise it
// removes what Objects would return for the same filter restricted to that
// object, with Versions defaulting to "all". Returns ENOTFOUND if the
// collection does not exist or nothing matched.
func (db *DB) DeleteObject(ctx context.Context, collectionID, objectID string, f store.Filter) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("delete object", err)
	}
	defer tx.Rollback(context.Background())
	seq, err := collectionSeq(ctx, tx, collectionID, true)
	if err != nil {
		return err
	}
	// The flags of an object's versions are recomputed from a snapshot; a
	// concurrent add or delete of another version of the same object would
	// make that snapshot stale. Holding the clock lock, as adders do, puts
	// this delete in line with them.
	if _, err := tx.Exec(ctx, `SELECT FROM clock WHERE id = 1 FOR UPDATE`); err != nil {
		return dbError("delete object", err)
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
	rows, err := tx.Query(ctx, `DELETE FROM entries AS e WHERE `+q.cond.String()+` RETURNING object, version`, q.args...)
	if err != nil {
		return dbError("delete object", err)
	}
	type deleted struct {
		rid     int64
		version string
	}
	gone, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (deleted, error) {
		var d deleted
		return d, r.Scan(&d.rid, &d.version)
	})
	if err != nil {
		return dbError("delete object", err)
	}
	if len(gone) == 0 {
		return hail.Errorf(hail.ENOTFOUND, "Object %q not found.", objectID)
	}
	rids := make([]int64, len(gone))
	versions := make([]string, len(gone))
	for i, d := range gone {
		rids[i], versions[i] = d.rid, d.version
	}
	if _, err := tx.Exec(ctx, refreshFlagsSQL, seq, []string{objectID}); err != nil {
		return dbError("delete object", err)
	}
	// The filter collections may now hold context only those versions named.
	if _, err := tx.Exec(ctx, markPruneSQL, seq); err != nil {
		return dbError("delete object", err)
	}
	root, err := explicitRoot(ctx, tx, seq)
	if err != nil {
		return dbError("delete object", err)
	}
	ids := make([]string, len(versions))
	for i := range ids {
		ids[i] = objectID
	}
	withdrawn, err := withdrawFromFilters(ctx, tx, seq, root, ids, versions)
	if err != nil {
		return dbError("delete object", err)
	}
	rids = append(rids, withdrawn...)
	if err := deleteOrphans(ctx, tx, rids); err != nil {
		return dbError("delete object", err)
	}
	return dbError("delete object", tx.Commit(ctx))
}
