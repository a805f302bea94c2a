package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"hail/store"
)

// filterColl is a filter collection of the API root being written.
type filterColl struct {
	seq    int64
	filter store.CollectionFilter
}

// filterCollections returns the filter collections of API root root, but
// the collection except.
func (w *writer) filterCollections(root string, except int64) ([]filterColl, error) {
	rows, err := w.tx.QueryContext(w.ctx, `SELECT seq, filter FROM collections
		WHERE api_root = ? AND kind = ? AND seq <> ? ORDER BY seq`, root, store.KindFilter, except)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []filterColl
	for rows.Next() {
		var fc filterColl
		var text string
		if err := rows.Scan(&fc.seq, &text); err != nil {
			return nil, err
		}
		if fc.filter, err = store.ParseCollectionFilter(text); err != nil {
			return nil, fmt.Errorf("stored filter of collection %d: %w", fc.seq, err)
		}
		out = append(out, fc)
	}
	return out, rows.Err()
}

// fanout adds the versions that just arrived in a collection of API root
// root to fcs, the root's other filter collections.
func (w *writer) fanout(root string, fcs []filterColl, arrivals []*arrival) error {
	if len(arrivals) == 0 {
		return nil
	}
	for _, fc := range fcs {
		if err := w.parent.Err(); err != nil {
			return err
		}
		if err := w.fill(root, fc, arrivals); err != nil {
			return err
		}
	}
	return nil
}

// fill adds to filter collection fc, in order: the versions among arrivals
// its filter matches; the new versions of context objects (identities and
// marking definitions) it holds a version of; and the context objects the
// matched versions refer to that it lacks, in their newest version in API
// root root, so that a poller of fc can resolve an indicator's creator and
// markings.
func (w *writer) fill(root string, fc filterColl, arrivals []*arrival) error {
	var members, updates []*arrival
	var ids, refs []string
	seen := make(map[string]bool)
	for _, v := range arrivals {
		switch info := v.inspect(); {
		case fc.filter.Match(v.obj, info, w.now):
			members = append(members, v)
			for _, r := range info.ContextRefs() {
				if !seen[r] {
					seen[r] = true
					refs = append(refs, r)
				}
			}
		case store.IsContextType(v.obj.Type):
			updates = append(updates, v)
		default:
			continue
		}
		ids = append(ids, v.obj.ID)
	}
	if len(members) == 0 && len(updates) == 0 {
		return nil
	}
	a := w.adder(fc.seq)
	if err := a.preload(append(ids, refs...)); err != nil {
		return err
	}
	if _, err := a.addAll(members); err != nil {
		return err
	}
	for _, v := range updates {
		if len(a.known[v.obj.ID]) == 0 {
			continue
		}
		if _, err := a.add(v); err != nil {
			return err
		}
	}
	var missing []string
	for _, r := range refs {
		if len(a.known[r]) == 0 {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	ctxObjs, err := w.latestVersions(root, missing)
	if err != nil {
		return err
	}
	// Versions the collection lacks, as a run, as addAll stores them.
	_, err = a.addAll(ctxObjs)
	return err
}

// contextRefs returns the context objects that the versions vs refer to
// as creator or marking, each once.
func contextRefs(vs []*arrival) []string {
	var refs []string
	seen := make(map[string]bool)
	for _, v := range vs {
		for _, r := range v.inspect().ContextRefs() {
			if !seen[r] {
				seen[r] = true
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// latestVersionsQuery reads the versions of the objects whose ids ?1
// lists (JSON) that the collections of API root ?2 hold, newest first. A
// JSON list, not placeholders: a batch may refer to more context objects
// than SQLite takes bound values in one statement.
const latestVersionsQuery = `SELECT e.object, e.stix_id, e.type, e.spec_version, e.version, o.created, o.modified, o.revoked
		FROM json_each(?1) AS j CROSS JOIN objects AS o ON o.stix_id = j.value CROSS JOIN entries AS e ON e.object = o.rid
		WHERE e.collection IN (SELECT seq FROM collections WHERE api_root = ?2)
		ORDER BY e.stix_id, e.version DESC, e.date_added`

// latestVersions returns the newest version held anywhere in API root root
// of each object ids names, with its objects row; objects the root does not
// hold are left out. Raw is not read: context objects have no IOCs.
//
// Answers are kept for the rest of the transaction: each filter collection
// of the fan-out asks for the same creators and markings, and what the
// root holds of them does not change while the fan-out only copies
// entries.
func (w *writer) latestVersions(root string, ids []string) ([]*arrival, error) {
	if w.latest == nil || w.latestRoot != root {
		w.latest, w.latestRoot = make(map[string]*arrival), root
	}
	var ask []string
	for _, id := range ids {
		if _, ok := w.latest[id]; !ok {
			ask = append(ask, id)
		}
	}
	if len(ask) > 0 {
		if err := w.readLatestVersions(root, ask); err != nil {
			return nil, err
		}
	}
	// In the order of ids: the order in which the batch refers to them.
	out := make([]*arrival, 0, len(ids))
	for _, id := range ids {
		if v := w.latest[id]; v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// readLatestVersions reads into w.latest the newest version in root of
// each object ids names, nil for those the root does not hold.
func (w *writer) readLatestVersions(root string, ids []string) error {
	for _, id := range ids {
		w.latest[id] = nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := w.tx.QueryContext(w.ctx, latestVersionsQuery, string(list), root)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v := &arrival{}
		var ns int64
		o := &v.obj
		if err := rows.Scan(&v.rid, &o.ID, &o.Type, &o.SpecVersion, &ns, &o.Created, &o.Modified, &o.Revoked); err != nil {
			return err
		}
		if w.latest[o.ID] != nil {
			continue // newest first
		}
		o.Version = objectVersion(ns, o.Created, o.Modified)
		w.latest[o.ID] = v
	}
	return rows.Err()
}

// backfillBatch is how many entries of the API root one backfill
// transaction reads; it bounds how long writers wait for one.
var backfillBatch = 500

// backfill adds to the new filter collection fc the object versions the
// explicit collections of API root root hold, oldest date_added first, one
// batch per transaction. It stops at the last date_added assigned when it
// starts: later versions went through AddObjects, which saw fc.
func (db *DB) backfill(ctx context.Context, root string, fc filterColl) error {
	var end int64
	if err := db.write.QueryRowContext(ctx, `SELECT last_date_added FROM clock WHERE id = 1`).Scan(&end); err != nil {
		return fmt.Errorf("fill collection: %w", err)
	}
	var after int64
	for after < end {
		var err error
		if after, err = db.backfillBatch(ctx, root, fc, after, end); err != nil {
			return fmt.Errorf("fill collection: %w", err)
		}
	}
	return nil
}

// backfillBatch adds one batch of entries with date_added in (after, end]
// and returns the date_added to resume after (end when done).
func (db *DB) backfillBatch(ctx context.Context, root string, fc filterColl, after, end int64) (int64, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, backfillQuery, after, end, root, store.KindFilter, backfillBatch)
	if err != nil {
		return 0, err
	}
	arrivals, last, err := scanStored(rows)
	if err != nil {
		return 0, err
	}
	if last != 0 {
		after = last
	}
	if len(arrivals) < backfillBatch {
		after = end
	}
	w, err := db.begin(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := w.fill(root, fc, arrivals); err != nil {
		return 0, err
	}
	if err := w.finish(); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	db.boundWAL(ctx)
	return after, nil
}

// storedColumns are the columns scanStored reads, of entries e joined to
// their objects o.
const storedColumns = `e.date_added, e.object, e.stix_id, e.type, e.spec_version, e.version,
	o.created, o.modified, o.revoked, o.raw`

// backfillQuery reads the next ?5 entries with date_added in (?1, ?2] of
// the collections of API root ?3 not of kind ?4 (store.KindFilter): what a
// filter collection holds, an explicit collection of its root holds too,
// so reading the others' entries would only find the same versions again
// (a refilter of a 200,000-version store's ips collection read 2.8 times
// as many entries).
//
// NOT INDEXED walks date_added, the rowid, from ?1: with the index on
// (collection, date_added) for the IN list, SQLite read and sorted every
// entry left to copy for each batch, which made a backfill quadratic (a
// refilter of a 200,000-version store took 5 minutes, 11 s without).
const backfillQuery = `SELECT ` + storedColumns + `
		FROM entries AS e NOT INDEXED JOIN objects AS o ON o.rid = e.object
		WHERE e.date_added > ?1 AND e.date_added <= ?2
			AND e.collection IN (SELECT seq FROM collections WHERE api_root = ?3 AND kind <> ?4)
		ORDER BY e.date_added LIMIT ?5`

// rangeQuery reads the next ?4 entries with date_added in (?2, ?3] that
// collection ?1 holds.
const rangeQuery = `SELECT ` + storedColumns + `
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = ?1 AND e.date_added > ?2 AND e.date_added <= ?3
		ORDER BY e.date_added LIMIT ?4`

// scanStored reads stored versions as arrivals, to be matched against a
// filter, and returns them with the last date_added read (0 for none).
// It closes rows.
func scanStored(rows *sql.Rows) ([]*arrival, int64, error) {
	defer rows.Close()
	var arrivals []*arrival
	var last int64
	for rows.Next() {
		v := &arrival{}
		var ns int64
		o := &v.obj
		if err := rows.Scan(&last, &v.rid, &o.ID, &o.Type, &o.SpecVersion, &ns, &o.Created, &o.Modified, &o.Revoked,
			(*[]byte)(&o.Raw)); err != nil {
			return nil, 0, err
		}
		o.Version = objectVersion(ns, o.Created, o.Modified)
		arrivals = append(arrivals, v)
	}
	return arrivals, last, rows.Err()
}
