package sqlite

import (
	"context"
	"fmt"
	"strings"

	"hail/store"
)

// query is the WHERE clause of a selection of entries (aliased e), built
// from a Filter. Values are always bound; only placeholders are written.
type query struct {
	cond strings.Builder
	args []any
}

// and adds one condition.
func (q *query) and(cond string, args ...any) {
	if q.cond.Len() > 0 {
		q.cond.WriteString(" AND ")
	}
	q.cond.WriteString(cond)
	q.args = append(q.args, args...)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// strings2any converts for binding.
func strings2any(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// collection is how a query names the collection it reads: the condition
// on e.collection and its argument.
type collection struct {
	cond string
	arg  any
}

// bySeq names the collection by its row key, for callers that have it.
func bySeq(seq int64) collection { return collection{"e.collection = ?", seq} }

// byID names the collection by its id, resolved inside the statement, so
// that a page is one statement, not a lookup and then a page. The subquery
// is uncorrelated: SQLite runs it once and uses its value as the index
// range's key. The seq is not cached across calls: SQLite may reuse the
// rowid of a deleted collection for a new one.
func byID(id string) collection {
	return collection{"e.collection = (SELECT seq FROM collections WHERE id = ?)", id}
}

// where selects the entries of collection seq that f matches. anySpec
// drops the default restriction to each object's newest spec_version (for
// DeleteObject without filters).
func (q *query) where(seq int64, f store.Filter, anySpec bool) error {
	return q.whereIn(bySeq(seq), f, anySpec)
}

// whereIn is where with the collection named by c.
func (q *query) whereIn(c collection, f store.Filter, anySpec bool) error {
	vs, err := store.ParseVersions(f.Versions)
	if err != nil {
		return err
	}
	q.and(c.cond, c.arg)
	if !f.AddedAfter.IsZero() {
		// date_added is whole microseconds: > t is > t truncated.
		q.and("e.date_added > ?", f.AddedAfter.UnixMicro())
	}
	if len(f.IDs) > 0 {
		// Through objects_stix_id, then entries_object (object, collection).
		q.and("e.object IN (SELECT rid FROM objects WHERE stix_id IN ("+placeholders(len(f.IDs))+"))", strings2any(f.IDs)...)
	}
	if len(f.Types) > 0 {
		q.and("e.type IN ("+placeholders(len(f.Types))+")", strings2any(f.Types)...)
	}
	switch {
	case len(f.SpecVersions) > 0:
		q.and("e.spec_version IN ("+placeholders(len(f.SpecVersions))+")", strings2any(f.SpecVersions)...)
	case !anySpec:
		// TAXII 2.1 §3.4.1: without match[spec_version], only the latest
		// spec version the server holds for each object.
		q.and("e.latest_spec = 1")
	}
	if !vs.All {
		q.versions(vs, f.SpecVersions)
	}
	return nil
}

// versions adds the version selection. The is_first/is_last flags are kept
// per spec_version, so they are exact when one spec_version of an object is
// admitted; when several are requested, a version only counts as first or
// last if no admitted version of the object is earlier or later.
func (q *query) versions(vs store.VersionSelection, specs []string) {
	var terms []string
	var args []any
	edge := func(flag, cmp string) {
		if len(specs) <= 1 {
			terms = append(terms, "e."+flag+" = 1")
			return
		}
		terms = append(terms, "(e."+flag+" = 1 AND NOT EXISTS (SELECT 1 FROM objects AS xo"+
			" CROSS JOIN entries AS x ON x.object = xo.rid AND x.collection = e.collection"+
			" WHERE xo.stix_id = e.stix_id AND xo.version "+cmp+" e.version"+
			" AND x.spec_version IN ("+placeholders(len(specs))+")))")
		args = append(args, strings2any(specs)...)
	}
	if vs.Last {
		edge("is_last", ">")
	}
	if vs.First {
		edge("is_first", "<")
	}
	if len(vs.Instants) > 0 {
		terms = append(terms, "e.version IN ("+placeholders(len(vs.Instants))+")")
		var unversioned []any
		for _, t := range vs.Instants {
			args = append(args, versionNanos(t))
			if t.Nanosecond()%1000 == 0 {
				unversioned = append(unversioned, t.UnixMicro())
			}
		}
		// An object with neither modified nor created has date_added as
		// its version (TAXII 2.1 §3.4.1: "a server-consistent value").
		if len(unversioned) > 0 {
			terms = append(terms, "(e.version = 0 AND e.date_added IN ("+placeholders(len(unversioned))+"))")
			args = append(args, unversioned...)
		}
	}
	if len(terms) == 1 {
		q.and(terms[0], args...)
		return
	}
	q.and("("+strings.Join(terms, " OR ")+")", args...)
}

// Objects returns one page of the collection's entries matching f.
//
// Without f.SpecVersions it keeps, per object, only the versions whose
// spec_version is the greatest (as a string) among that object's versions
// in the collection; for a collection of 2.1 objects that keeps everything.
// "first" and "last" are then taken among the kept versions of each object.
func (db *DB) Objects(ctx context.Context, collectionID string, f store.Filter) (store.Page, error) {
	n := f.PageSize()
	raw := "o.raw"
	if f.HeadersOnly {
		raw = "NULL"
	}
	// The object's columns come from its objects row, which holds the
	// same values as the entry, so that a page of the default view is
	// read from entries_current and objects alone (see pageQuery).
	text, args, err := pageQuery(byID(collectionID), f, n+1, `e.date_added, o.stix_id, o.type, o.spec_version, o.version,
		o.created, o.modified, o.revoked, `+raw)
	if err != nil {
		return store.Page{}, db.orNotFound(ctx, collectionID, err)
	}
	rows, err := db.query(ctx, text, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("objects: %w", err)
	}
	defer rows.Close()
	var p store.Page
	p.Entries = make([]store.Entry, 0, min(n, 1024))
	for rows.Next() {
		if len(p.Entries) == n {
			p.More = true
			break
		}
		var e store.Entry
		var da, ns int64
		o := &e.Object
		if err := rows.Scan(&da, &o.ID, &o.Type, &o.SpecVersion, &ns, &o.Created, &o.Modified, &o.Revoked, (*[]byte)(&o.Raw)); err != nil {
			return store.Page{}, fmt.Errorf("objects: %w", err)
		}
		e.DateAdded = fromMicros(da)
		o.Version = objectVersion(ns, o.Created, o.Modified)
		p.Entries = append(p.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("objects: %w", err)
	}
	if len(p.Entries) == 0 {
		if _, err := db.readSeq(ctx, collectionID); err != nil {
			return store.Page{}, err
		}
	}
	return p, nil
}

// orNotFound returns ENOTFOUND if the collection does not exist, else err:
// a missing collection is reported before a bad filter, as when the
// collection was looked up first.
func (db *DB) orNotFound(ctx context.Context, collectionID string, err error) error {
	if _, serr := db.readSeq(ctx, collectionID); serr != nil {
		return serr
	}
	return err
}

// pageQuery returns the query of the first limit entries of collection
// c that f matches, joined to their objects rows (aliased e and o), in
// date_added order, selecting columns. One range scan is a plain join, so
// that SQLite walks the index and fetches each objects row as it goes;
// the other shapes (see selectEntries) join the page they select.
func pageQuery(c collection, f store.Filter, limit int, columns string) (string, []any, error) {
	if len(f.IDs) == 0 && !mergedTypes(f.Types) {
		var q query
		if err := q.whereIn(c, f, false); err != nil {
			return "", nil, err
		}
		return `SELECT ` + columns + ` FROM entries AS e JOIN objects AS o ON o.rid = e.object
			WHERE ` + q.cond.String() + ` ORDER BY e.date_added LIMIT ?`, append(q.args, limit), nil
	}
	from, args, err := selectEntries(c, f, limit)
	if err != nil {
		return "", nil, err
	}
	return `SELECT ` + columns + ` FROM ` + from + ` JOIN objects AS o ON o.rid = e.object
		ORDER BY e.date_added`, args, nil
}

// entryColumns are what a page needs from entries besides the objects row.
const entryColumns = `e.date_added AS date_added, e.object AS object, e.stix_id AS stix_id, e.type AS type,
	e.spec_version AS spec_version, e.version AS version`

// selectEntries returns a FROM item, aliased e, holding the first limit
// entries of collection c that f matches, in date_added order, and its
// arguments. Each shape is planned so that the work is proportional to the
// page, not the collection:
//   - with IDs, the versions of those objects are found through their
//     objects rows (objects_stix_id) and each row's entry in the
//     collection (entries_object), and sorted: few rows, however large the
//     collection;
//   - with several Types (up to maxMergedTypes), one ordered range scan
//     per type is merged
//     (UNION ALL with ORDER BY merges ordered inputs), since one index
//     cannot serve "type IN (...) ORDER BY date_added";
//   - otherwise one range scan of an index ending in date_added.
func selectEntries(c collection, f store.Filter, limit int) (string, []any, error) {
	if types := distinct(f.Types); mergedTypes(types) && len(f.IDs) == 0 {
		var arms []string
		var args []any
		for _, typ := range types {
			g := f
			g.Types = []string{typ}
			var q query
			if err := q.whereIn(c, g, false); err != nil {
				return "", nil, err
			}
			arms = append(arms, `SELECT * FROM (SELECT `+entryColumns+` FROM entries AS e WHERE `+q.cond.String()+
				` ORDER BY e.date_added LIMIT ?)`)
			args = append(append(args, q.args...), limit)
		}
		return "(" + strings.Join(arms, " UNION ALL ") + " ORDER BY 1 LIMIT ?) AS e", append(args, limit), nil
	}
	var q query
	if err := q.whereIn(c, f, false); err != nil {
		return "", nil, err
	}
	index := ""
	if len(f.IDs) > 0 {
		// Without statistics the planner would rather scan the collection
		// in date_added order than sort the few versions of a few ids.
		index = " INDEXED BY entries_object"
	}
	return `(SELECT ` + entryColumns + ` FROM entries AS e` + index + ` WHERE ` + q.cond.String() +
		` ORDER BY e.date_added LIMIT ?) AS e`, append(q.args, limit), nil
}

// maxMergedTypes bounds the scans merged for one page, well under SQLite's
// limit of 500 terms in a compound SELECT; longer type lists are read with
// one scan that skips other types.
const maxMergedTypes = 64

// mergedTypes reports whether a page of these types is read as one ordered
// scan per type, merged.
func mergedTypes(types []string) bool {
	if len(types) < 2 {
		return false
	}
	n := len(distinct(types))
	return n > 1 && n <= maxMergedTypes
}

// distinct returns ss without repeated values, in first-seen order.
func distinct(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
