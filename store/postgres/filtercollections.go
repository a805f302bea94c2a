package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hail/stix"
	"hail/store"
)

// filterColl is a filter collection of the API root being written.
type filterColl struct {
	seq    int64
	filter store.CollectionFilter
}

// arrival is an object version being added, with its objects row once it
// has one, and its properties, decoded at most once whatever the number of
// collections it goes to.
type arrival struct {
	obj     stix.Object
	version string // versionKey(obj.Version)
	rid     int64  // 0 until stored
	info    *store.ObjectInfo
}

// inspect returns store.Inspect(v.obj), decoding it on first use.
func (v *arrival) inspect() store.ObjectInfo {
	if v.info == nil {
		info := store.Inspect(v.obj)
		v.info = &info
	}
	return *v.info
}

// writer plans the entries that a transaction adds to filter collections,
// and the IOC index rows of the objects rows it inserted, and sends them in
// one batch at the end. It draws date_added from the same sequence as the
// adder, after it.
type writer struct {
	now   time.Time
	last  int64 // the clock when the writer started
	next  int64 // the date_added of the next new entry
	plans []*plan
	// identities are the arrivals whose names identity_names may need.
	identities []*arrival
	// inserted are the arrivals whose objects rows the transaction
	// inserted; their IOC rows are written with them.
	inserted []*arrival
}

// plan is what a writer adds to one collection.
type plan struct {
	seq int64
	// stored is true when the entries were written already (by the
	// adder); only their IOC rows are left to write.
	stored   bool
	existing map[entryKey]int64 // date_added of the versions held or planned
	newest   map[string]string  // the greatest version held or planned, by id
	prior    map[string]bool    // ids with versions held before the transaction, until their flags are queued
	perID    map[string]int     // versions planned, by id
	added    []planned
}

// planned is one new entry.
type planned struct {
	v         *arrival
	dateAdded int64
}

// plan returns a new, empty plan for collection seq.
func (w *writer) plan(seq int64) *plan {
	p := &plan{seq: seq, existing: make(map[entryKey]int64), newest: make(map[string]string),
		prior: make(map[string]bool), perID: make(map[string]int)}
	w.plans = append(w.plans, p)
	return p
}

// hold records a version the collection held before the transaction.
func (p *plan) hold(id, version string, dateAdded int64) {
	p.existing[entryKey{id, version}] = dateAdded
	p.prior[id] = true
	if newest, ok := p.newest[id]; !ok || version > newest {
		p.newest[id] = version
	}
}

// holds reports whether the collection holds, or will, a version of id.
func (p *plan) holds(id string) bool { _, ok := p.newest[id]; return ok }

// place records v as a new entry with date_added da.
func (p *plan) place(v *arrival, da int64) {
	id := v.obj.ID
	p.existing[entryKey{id, v.version}] = da
	p.perID[id]++
	if newest, ok := p.newest[id]; !ok || v.version > newest {
		p.newest[id] = v.version
	}
	p.added = append(p.added, planned{v: v, dateAdded: da})
}

// add plans v with the next date_added unless the collection holds that
// version.
func (p *plan) add(w *writer, v *arrival) {
	if _, ok := p.existing[entryKey{v.obj.ID, v.version}]; ok {
		return
	}
	p.place(v, w.next)
	w.next++
}

// afterAdd completes an AddObjects whose adder has written the target
// collection's entries: it plans the target's IOC rows and the copies to
// the API root's filter collections, and writes them.
func (db *DB) afterAdd(ctx context.Context, tx pgx.Tx, a *adder) error {
	w := &writer{now: db.Now(), last: a.next - 1, next: a.next}
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
	arrivals := w.arrivals(target, a.added)
	fcs, err := filterCollections(ctx, tx, a.seq)
	if err != nil {
		return err
	}
	if err := w.fanout(ctx, tx, a.seq, arrivals, fcs); err != nil {
		return err
	}
	return w.write(ctx, tx)
}

// arrivals places the entries the adder wrote in the target's plan, and
// returns them as arrivals, noting those whose IOC rows are to be written.
func (w *writer) arrivals(target *plan, added []newEntry) []*arrival {
	arrivals := make([]*arrival, len(added))
	for i, e := range added {
		v := &arrival{obj: e.obj, version: e.version, rid: e.rid}
		arrivals[i] = v
		target.place(v, e.dateAdded)
		if e.inserted {
			w.inserted = append(w.inserted, v)
		}
	}
	w.identities = arrivals
	return arrivals
}

// filterCollections returns, locked FOR KEY SHARE so that they are not
// deleted under the transaction, the filter collections of the API root of
// collection seq, but that collection.
func filterCollections(ctx context.Context, tx pgx.Tx, seq int64) ([]filterColl, error) {
	rows, err := tx.Query(ctx, `SELECT seq, filter FROM collections
		WHERE api_root = (SELECT api_root FROM collections WHERE seq = $1) AND kind = $2 AND seq <> $1
		ORDER BY seq FOR KEY SHARE`, seq, store.KindFilter)
	if err != nil {
		return nil, err
	}
	var out []filterColl
	var fc filterColl
	var text string
	_, err = pgx.ForEachRow(rows, []any{&fc.seq, &text}, func() error {
		f, err := store.ParseCollectionFilter(text)
		if err != nil {
			return fmt.Errorf("stored filter of collection %d: %w", fc.seq, err)
		}
		fc.filter = f
		out = append(out, fc)
		return nil
	})
	return out, err
}

// fanout plans the copies of arrivals, which came to collection from, to
// the filter collections fcs of its API root: in each, the versions its
// filter matches; the new versions of context objects (identities and
// marking definitions) it holds a version of; then the context objects the
// matched versions refer to that it lacks, in their newest version in the
// API root, so that a poller can resolve an indicator's creator and
// markings. One round trip reads what the filter collections hold.
func (w *writer) fanout(ctx context.Context, tx pgx.Tx, from int64, arrivals []*arrival, fcs []filterColl) error {
	if len(arrivals) == 0 || len(fcs) == 0 {
		return nil
	}
	seqs := make([]int64, len(fcs))
	for i, fc := range fcs {
		seqs[i] = fc.seq
	}
	var ids, refs []string
	seenRef := make(map[string]bool)
	for _, v := range arrivals {
		ids = append(ids, v.obj.ID)
		info := v.inspect()
		for _, r := range info.ContextRefs() {
			if !seenRef[r] {
				seenRef[r] = true
				refs = append(refs, r)
			}
		}
	}
	plans := make(map[int64]*plan, len(fcs))
	for _, fc := range fcs {
		plans[fc.seq] = w.plan(fc.seq)
	}
	var b pgx.Batch
	// One probe of entries_object_version per filter collection and id,
	// fenced as in adder.start: without statistics the planner read every
	// entry of the filter collections and tested each against the list of
	// ids, O(filter collections) per batch (1.4 s per batch of 1,000 at
	// 24,000 entries).
	b.Queue(`SELECT c.seq, x.stix_id, x.version, x.date_added
		FROM unnest($1::bigint[]) AS c(seq) CROSS JOIN unnest($2::text[]) AS u(id)
		CROSS JOIN LATERAL (SELECT stix_id, version, date_added FROM entries AS e
			WHERE e.collection = c.seq AND e.stix_id = u.id OFFSET 0) AS x`, seqs, append(ids, refs...))
	if len(refs) > 0 {
		// Locked FOR KEY SHARE, as insertObjects locks the rows it reuses,
		// so that deleteOrphans cannot remove them before the copies refer
		// to them.
		b.Queue(`SELECT o.rid, e.stix_id, e.type, e.spec_version, e.version, o.created, o.modified, o.revoked
			FROM entries AS e JOIN objects AS o ON o.rid = e.object
			WHERE e.collection IN (SELECT seq FROM collections
				WHERE api_root = (SELECT api_root FROM collections WHERE seq = $1))
			AND e.stix_id = ANY($2)
			FOR KEY SHARE OF o`, from, refs)
	}
	latest := make(map[string]*arrival)
	err := func() error {
		br := tx.SendBatch(ctx, &b)
		defer br.Close()
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var seq, da int64
		var id, version string
		if _, err := pgx.ForEachRow(rows, []any{&seq, &id, &version, &da}, func() error {
			plans[seq].hold(id, version, da)
			return nil
		}); err != nil {
			return err
		}
		if len(refs) == 0 {
			return br.Close()
		}
		if rows, err = br.Query(); err != nil {
			return err
		}
		v := &arrival{}
		o := &v.obj
		if _, err := pgx.ForEachRow(rows, []any{&v.rid, &o.ID, &o.Type, &o.SpecVersion, &v.version, &o.Created, &o.Modified, &o.Revoked}, func() error {
			if l := latest[o.ID]; l == nil || v.version > l.version {
				c := *v
				latest[o.ID] = &c
			}
			return nil
		}); err != nil {
			return err
		}
		return br.Close()
	}()
	if err != nil {
		return err
	}
	for _, l := range latest {
		t, err := parseVersionKey(l.version)
		if err != nil {
			return fmt.Errorf("stored version %q: %w", l.version, err)
		}
		l.obj.Version = t
	}
	// A context object that arrives in this batch may be newer than any
	// version stored before.
	for _, v := range arrivals {
		if l := latest[v.obj.ID]; seenRef[v.obj.ID] && (l == nil || v.version > l.version) {
			latest[v.obj.ID] = v
		}
	}
	for _, fc := range fcs {
		w.fill(plans[fc.seq], fc.filter, arrivals, latest)
	}
	return nil
}

// fill plans the copies of arrivals to one filter collection; see fanout.
func (w *writer) fill(p *plan, f store.CollectionFilter, arrivals []*arrival, latest map[string]*arrival) {
	var updates []*arrival
	var refs []string
	seen := make(map[string]bool)
	for _, v := range arrivals {
		switch info := v.inspect(); {
		case f.Match(v.obj, info, w.now):
			p.add(w, v)
			for _, r := range info.ContextRefs() {
				if !seen[r] {
					seen[r] = true
					refs = append(refs, r)
				}
			}
		case store.IsContextType(v.obj.Type):
			updates = append(updates, v)
		}
	}
	for _, v := range updates {
		if p.holds(v.obj.ID) {
			p.add(w, v)
		}
	}
	for _, r := range refs {
		if l := latest[r]; l != nil && !p.holds(r) {
			p.add(w, l)
		}
	}
}

// write sends, in one pipelined batch, the entries the plans add, the
// flags they change, the IOC index rows, the identity names and the clock.
func (w *writer) write(ctx context.Context, tx pgx.Tx) error {
	var das, rids, colls []int64
	var ids, types, specs, versions []string
	type refresh struct {
		seq int64
		ids []string
	}
	var refreshes []refresh
	for _, p := range w.plans {
		if p.stored {
			continue
		}
		r := refresh{seq: p.seq}
		for _, e := range p.added {
			o := e.v.obj
			colls, das, rids = append(colls, p.seq), append(das, e.dateAdded), append(rids, e.v.rid)
			ids, types, specs, versions = append(ids, o.ID), append(types, o.Type), append(specs, o.SpecVersion), append(versions, e.v.version)
			if p.prior[o.ID] || p.perID[o.ID] > 1 {
				r.ids = append(r.ids, o.ID)
				p.perID[o.ID] = 0 // listed once
				p.prior[o.ID] = false
			}
		}
		if len(r.ids) > 0 {
			refreshes = append(refreshes, r)
		}
	}
	var b pgx.Batch
	if len(das) > 0 {
		// A version alone in its object is first, last and of the latest
		// spec; the others are corrected by refreshFlagsSQL.
		b.Queue(`INSERT INTO entries
			(date_added, collection, object, stix_id, type, spec_version, version, latest_spec, is_first, is_last)
			SELECT u.d, u.c, u.r, u.i, u.t, u.s, u.v, true, true, true
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
				AS u(d, c, r, i, t, s, v)`,
			das, colls, rids, ids, types, specs, versions)
	}
	for _, r := range refreshes {
		b.Queue(refreshFlagsSQL, r.seq, r.ids)
	}
	w.queueIOCs(&b)
	queueIdentityNames(&b, w.identities)
	if w.next-1 > w.last {
		b.Queue(`UPDATE clock SET last_date_added = $1 WHERE id = 1`, w.next-1)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, &b).Close()
}

// backfillBatch is how many entries of the API root one backfill
// transaction reads; it bounds how long writers wait for one.
var backfillBatch = 500

// backfill adds to the new filter collection fc the object versions the
// explicit collections of its API root hold (what a filter collection
// holds, one of them holds too), oldest date_added first, one
// batch per transaction. It stops at the last date_added assigned when it
// starts, read under the clock lock: every adder that committed before
// then is included, and every later one saw fc and filled it itself.
func (db *DB) backfill(ctx context.Context, fc filterColl) error {
	var after int64
	end := int64(-1)
	for end < 0 || after < end {
		var err error
		if after, end, err = db.backfillBatch(ctx, fc, after, end); err != nil {
			return dbError("fill collection", err)
		}
	}
	return nil
}

// backfillBatch adds one batch of entries with date_added in (after, end]
// and returns the date_added to resume after (end when done) and end; an
// end below 0 is read from the clock.
func (db *DB) backfillBatch(ctx context.Context, fc filterColl, after, end int64) (int64, int64, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(context.Background())
	var last int64
	if err := tx.QueryRow(ctx, `SELECT last_date_added FROM clock WHERE id = 1 FOR UPDATE`).Scan(&last); err != nil {
		return 0, 0, err
	}
	if end < 0 {
		end = last
	}
	// entries is keyed by (collection, date_added), so the batch is the
	// first rows of each source collection's range, merged: O(batch ×
	// collections) per batch, where a range on date_added across
	// collections would sort every entry left to copy. The objects rows
	// are joined to the merged batch only: joined to every collection's
	// rows, they were read for six entries out of seven left unused (80 ms
	// against 9 ms a batch in a 200,000-version store's root).
	rows, err := tx.Query(ctx, `SELECT `+storedColumns+`
		FROM (SELECT e.* FROM collections AS c
			CROSS JOIN LATERAL (SELECT * FROM entries
				WHERE collection = c.seq AND date_added > $1 AND date_added <= $2
				ORDER BY date_added LIMIT $4) AS e
			WHERE c.api_root = (SELECT api_root FROM collections WHERE seq = $3) AND c.kind <> $5
			ORDER BY e.date_added LIMIT $4) AS e
		JOIN objects AS o ON o.rid = e.object
		ORDER BY e.date_added
		FOR KEY SHARE OF o`, after, end, fc.seq, backfillBatch, store.KindFilter)
	if err != nil {
		return 0, 0, err
	}
	arrivals, read, err := scanStored(rows)
	if err != nil {
		return 0, 0, err
	}
	if len(arrivals) < backfillBatch {
		after = end
	} else {
		after = read
	}
	w := &writer{now: db.Now(), last: last, next: max(db.Now().UnixMicro(), last+1)}
	// FOR KEY SHARE on fc's row, as adders take, keeps a concurrent
	// DeleteCollection out until the batch commits.
	if _, err := tx.Exec(ctx, `SELECT FROM collections WHERE seq = $1 FOR KEY SHARE`, fc.seq); err != nil {
		return 0, 0, err
	}
	if err := w.fanout(ctx, tx, fc.seq, arrivals, []filterColl{fc}); err != nil {
		return 0, 0, err
	}
	if err := w.write(ctx, tx); err != nil {
		return 0, 0, err
	}
	return after, end, tx.Commit(ctx)
}

// storedColumns are the columns scanStored reads, of entries e joined to
// their objects o.
const storedColumns = `e.date_added, o.rid, e.stix_id, e.type, e.spec_version, e.version,
	o.created, o.modified, o.revoked, o.raw`

// scanStored reads stored versions as arrivals, to be matched against a
// filter, and returns them with the last date_added read.
func scanStored(rows pgx.Rows) ([]*arrival, int64, error) {
	var arrivals []*arrival
	var last int64
	v := &arrival{}
	o := &v.obj
	var raw []byte
	if _, err := pgx.ForEachRow(rows, []any{&last, &v.rid, &o.ID, &o.Type, &o.SpecVersion, &v.version,
		&o.Created, &o.Modified, &o.Revoked, &raw}, func() error {
		c := *v
		c.obj.Raw = raw
		arrivals = append(arrivals, &c)
		return nil
	}); err != nil {
		return nil, 0, err
	}
	for _, a := range arrivals {
		var err error
		if a.obj.Version, err = parseVersionKey(a.version); err != nil {
			return nil, 0, fmt.Errorf("stored version %q: %w", a.version, err)
		}
	}
	return arrivals, last, nil
}
