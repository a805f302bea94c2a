package postgres

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"hail/stix/pattern"
	"hail/store"
)

// IOCs returns one page of the collection's IOC index matching f, through
// one of two plans. It walks the collection's current entries from the
// position f gives, in date_added order, and completes each with its
// version's rows (the primary key of iocs), so that a page costs O(page)
// however large the collection; but a type filter that few entries match
// would read the collection to its end to fill a page. So, for types the
// store holds few rows of (see rareTypes), it reads those rows instead,
// keeps the ones the collection shows and sorts them.
func (db *DB) IOCs(ctx context.Context, collectionID string, f store.IOCFilter) (store.IOCPage, error) {
	seq, err := collectionSeq(ctx, db.pool, collectionID, false)
	if err != nil {
		return store.IOCPage{}, err
	}
	byType := false
	if len(f.Types) > 0 {
		var rows int64
		if rows, byType, err = db.rareTypes(ctx, seq, f); err != nil {
			return store.IOCPage{}, dbError("IOCs", err)
		}
		if rows == 0 {
			return store.IOCPage{IOCs: []store.IOC{}}, nil
		}
	}
	return db.iocPage(ctx, seq, f, byType)
}

// iocPage reads one page of collection seq's IOC index through the plan
// byType selects (see listSQL).
func (db *DB) iocPage(ctx context.Context, seq int64, f store.IOCFilter, byType bool) (store.IOCPage, error) {
	n := f.PageSize()
	sql, args := listSQL(seq, f, db.nowOr(f.Now), n+1, byType)
	if byType {
		args = append([]any{customPlan}, args...)
	}
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return store.IOCPage{}, dbError("IOCs", err)
	}
	defer rows.Close()
	p := store.IOCPage{IOCs: make([]store.IOC, 0, min(n, 1024))}
	for rows.Next() {
		if len(p.IOCs) == n {
			p.More = true
			break
		}
		c, err := scanIOC(rows)
		if err != nil {
			return store.IOCPage{}, dbError("IOCs", err)
		}
		p.IOCs = append(p.IOCs, c)
	}
	if err := rows.Err(); err != nil {
		return store.IOCPage{}, dbError("IOCs", err)
	}
	return p, nil
}

// customPlan, passed before a query's arguments, has the server plan it
// for those arguments each time. Queries whose best plan hangs on how many
// rows their types have need it: a statement prepared once (pgx's default)
// is soon run with a generic plan, which knows no type and reads iocs by
// a scan, O(store) for a type it holds no row of.
const customPlan = pgx.QueryExecModeCacheDescribe

// rareTypeRows is the most rows of a listing's types, or the page size
// when larger, that rareTypes lets a page read by type: each costs a probe
// of entries, two or three times what the walk spends on an entry (at
// 20,000 indicators, a page of a type 1 in 20 rows has took 4.4 ms by
// type, 3.7 ms walking), so that a page costs a few milliseconds at worst,
// where walking for a type the collection lacks reads all of it.
const rareTypeRows = 1000

// rareTypes decides how a page of f in collection seq is read: it returns
// the number of rows of f's types in the store, counted through iocs_value
// up to max(rareTypeRows, page size) + 1, and whether reading those rows
// by type visits fewer than walking entries would. When they are few, it
// counts the entries the walk would visit, up to their number + 1, in the
// same statement: the walk costs at most the entries left after the
// position, the other plan the rows of the types, wherever they are. A
// type the collection lacks thus costs the counts, not a read of the whole
// collection. A type common in the store but rare in this collection is
// still walked: telling how rare it is here would take the read itself.
func (db *DB) rareTypes(ctx context.Context, seq int64, f store.IOCFilter) (rows int64, byType bool, err error) {
	sql, args := rareTypesSQL(seq, f)
	var entries *int64
	if err := db.pool.QueryRow(ctx, sql, append([]any{customPlan}, args...)...).Scan(&rows, &entries); err != nil {
		return 0, false, err
	}
	return rows, entries != nil && *entries > rows, nil
}

// rareTypesSQL is rareTypes' statement and its arguments. It returns the
// count of rows of the types and, when at most the bound, of the entries
// to walk, else NULL.
func rareTypesSQL(seq int64, f store.IOCFilter) (string, []any) {
	bound := max(rareTypeRows, f.PageSize())
	after, _ := startOf(f)
	var q query
	walkEntries(&q, seq, distinct(f.Types), after)
	// The types go in as a constant, not joined from a list, so that the
	// planner judges each by its statistics: a rare one is counted in
	// iocs_value, a common one by a scan that stops at the bound. The
	// entries are counted in the walk's order, so through the index it
	// walks, not by a scan of every collection's entries that stops when
	// it has seen enough of this one's.
	return `WITH t AS (SELECT count(*) AS n FROM (SELECT FROM iocs WHERE type = ANY(` + q.arg(distinct(f.Types)) + `)
			LIMIT ` + strconv.Itoa(bound+1) + `) AS r)
		SELECT t.n, CASE WHEN t.n <= ` + strconv.Itoa(bound) + ` THEN
			(SELECT count(*) FROM (SELECT FROM entries AS e WHERE ` + q.cond.String() + ` ORDER BY e.date_added LIMIT t.n + 1) AS w) END
		FROM t`, q.args
}

// startOf is the position a listing starts after: the cursor, or the end
// of the Since microsecond, whichever is later.
func startOf(f store.IOCFilter) (dateAdded, ordinal int64) {
	dateAdded, ordinal = math.MinInt64, math.MaxInt32
	if !f.After.DateAdded.IsZero() {
		dateAdded, ordinal = f.After.DateAdded.UnixMicro(), int64(f.After.Ordinal)
	}
	if !f.Since.IsZero() && f.Since.UnixMicro() >= dateAdded {
		dateAdded, ordinal = f.Since.UnixMicro(), math.MaxInt32
	}
	return dateAdded, ordinal
}

// walkEntries adds the conditions on the entries (aliased e) a walk of
// collection seq visits from date_added after for rows of types: its
// current entries, of the one object type that has such rows when there
// is one (see entryType).
func walkEntries(q *query, seq int64, types []string, after int64) {
	q.and("e.collection = " + q.arg(seq))
	q.and(iocShown)
	if typ := entryType(types); typ != "" {
		q.and("e.type = " + q.arg(typ))
	}
	q.and("e.date_added >= " + q.arg(after))
}

// listSQL returns the query of the first limit rows of collection seq that
// f matches at now, in (date_added, ordinal) order, and its arguments.
// byType reads the rows of f's types through iocs_value and sorts them,
// rather than walking the collection's entries.
func listSQL(seq int64, f store.IOCFilter, now time.Time, limit int, byType bool) (string, []any) {
	after, ordinal := startOf(f)
	types := distinct(f.Types)
	byType = byType && len(types) > 0
	var q query
	if !byType {
		walkEntries(&q, seq, types, after)
	}
	q.and("(e.date_added, i.ordinal) > (" + q.arg(after) + ", " + q.arg(ordinal) + ")")
	if len(types) > 0 {
		q.and("i.type = ANY(" + q.arg(types) + ")")
	}
	iocConditions(&q, f, now)
	if !byType {
		// The rows of one version come from a LATERAL subquery fenced by
		// OFFSET 0, which the planner neither flattens nor pushes
		// conditions into, so that each entry is completed by one probe
		// of the primary key: given a type condition, it would AND the
		// probe with a scan of every row of that type in iocs_value.
		return `SELECT ` + iocColumns + ` FROM entries AS e
			CROSS JOIN LATERAL (SELECT * FROM iocs AS i WHERE i.object = e.object ORDER BY i.ordinal OFFSET 0) AS i` +
			iocJoins + ` WHERE ` + q.cond.String() + ` ORDER BY e.date_added, i.ordinal LIMIT ` + strconv.Itoa(limit), q.args
	}
	// Each row of the types is kept when the collection shows its version,
	// found by a probe of entries_object as lookups do; the page is sorted
	// and cut before its rows are completed, so that the rows left out
	// cost no probes of ioc_meta and identity_names. The outer query sees
	// the entry's columns it needs under iocColumns' alias e.
	return `SELECT ` + iocColumns + ` FROM (SELECT i.*, e.date_added, e.stix_id FROM iocs AS i
			CROSS JOIN LATERAL (SELECT * FROM entries AS e
				WHERE e.object = i.object AND e.collection = ` + q.arg(seq) + ` AND ` + iocShown + ` LIMIT 1) AS e
			WHERE ` + q.cond.String() + ` ORDER BY e.date_added, i.ordinal LIMIT ` + strconv.Itoa(limit) + `) AS i
		CROSS JOIN LATERAL (SELECT i.date_added, i.stix_id) AS e` +
		iocJoins + ` ORDER BY e.date_added, i.ordinal`, q.args
}

// entryType is the one object type whose versions can have rows of the
// IOC types types, or "" when both indexed types can (or types is empty):
// CVE ids come from vulnerabilities only, every other type from indicators
// only (see store.Inspect). With one type, a listing walks entries_type,
// which is in date_added order for one type, and never the other kind's
// entries. Both types are not asked for as a condition: entries_type would
// then need a sort of the whole collection, which a planner without
// statistics (a fresh bulk load) chooses over walking entries_current.
func entryType(types []string) string {
	if len(types) == 0 {
		return ""
	}
	cve, other := false, false
	for _, t := range types {
		if t == pattern.TypeCVE {
			cve = true
		} else {
			other = true
		}
	}
	switch {
	case cve && other:
		return ""
	case cve:
		return "vulnerability"
	}
	return "indicator"
}
