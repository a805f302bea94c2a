package sqlite

import (
	"strconv"

	"hail/store"
)

// copyEntriesQuery adds to collection ?2 an entry for each objects row
// listed in ?3 (a JSON list of rowids), with date_added ?1, ?1 + 1 … in
// list order, as the only version of its object there: flags all set.
// The entries' columns come from the objects rows, so that nothing is
// bound per row: binding an entry's ten values was a third of the cost of
// inserting it.
const copyEntriesQuery = `INSERT INTO entries (date_added, collection, object, stix_id, type, spec_version, version,
		latest_spec, is_first, is_last)
	SELECT ?1 + j.key, ?2, o.rid, o.stix_id, o.type, o.spec_version, o.version, 1, 1, 1
	FROM json_each(?3) AS j JOIN objects AS o ON o.rid = j.value`

// addAll adds vs in order, as add does one by one, and returns their
// results. A run of versions of objects the collection holds no version of
// yet, the usual case, gets its objects rows as it goes and its entries
// with one copyEntriesQuery; the others go through add, as every version
// does for a writer opened with Options.RowByRow (the statement journal of
// a long run outweighs what it saves as a store grows).
func (a *adder) addAll(vs []*arrival) ([]store.AddResult, error) {
	results := make([]store.AddResult, len(vs))
	var rids []byte // the run, as a JSON list
	var first int64 // its first date_added
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		rids = append(rids, ']')
		_, err := a.w.copyEntries.ExecContext(a.w.ctx, first, a.seq, string(rids))
		rids, n = rids[:0], 0
		return err
	}
	for i, v := range vs {
		if err := a.w.canceled(i); err != nil {
			return nil, err
		}
		o := v.obj
		if a.w.rowByRow || len(a.known[o.ID]) > 0 {
			// Other versions to compare with, or a duplicate: the run
			// goes in first, so that date_added follows vs.
			if err := flush(); err != nil {
				return nil, err
			}
			res, err := a.add(v)
			if err != nil {
				return nil, err
			}
			results[i] = res
			continue
		}
		if err := a.w.store(v); err != nil {
			return nil, err
		}
		da := a.w.next
		a.w.next++
		if n == 0 {
			first = da
			rids = append(rids, '[')
		} else {
			rids = append(rids, ',')
		}
		rids = strconv.AppendInt(rids, v.rid, 10)
		n++
		a.known[o.ID] = []version{{dateAdded: da, specVersion: o.SpecVersion, ns: versionNanos(o.Version),
			flags: flags{latestSpec: true, first: true, last: true}}}
		results[i] = store.AddResult{ID: o.ID, Version: o.Version, DateAdded: fromMicros(da)}
	}
	return results, flush()
}
