package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"hail/store"
)

// TestQueryPlans pins the index each filter shape is read through, so that
// a page costs O(page) whatever the collection size. SQLite plans without
// statistics here (hail never runs ANALYZE), so the plans are stable; a
// change of SQLite version that changes one fails this test, not a
// production poll.
func TestQueryPlans(t *testing.T) {
	db := openTest(t)
	after := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []string // substrings of the plan, in order
		not  []string
	}{
		{"default", store.Filter{}, []string{"USING COVERING INDEX entries_current (collection=?)"}, []string{"TEMP B-TREE"}},
		{"default after", store.Filter{AddedAfter: after}, []string{"USING COVERING INDEX entries_current (collection=? AND date_added>?)"}, []string{"TEMP B-TREE"}},
		{"all", store.Filter{Versions: []string{"all"}, AddedAfter: after}, []string{"USING INDEX entries_collection (collection=? AND date_added>?)"}, []string{"TEMP B-TREE"}},
		{"first", store.Filter{Versions: []string{"first"}}, []string{"USING INDEX entries_collection"}, []string{"TEMP B-TREE"}},
		{"type", store.Filter{Types: []string{"indicator"}, AddedAfter: after}, []string{"USING INDEX entries_type (collection=? AND type=? AND date_added>?)"}, []string{"TEMP B-TREE"}},
		{"types", store.Filter{Types: []string{"indicator", "malware"}}, []string{"MERGE (UNION ALL)", "entries_type (collection=? AND type=?)", "entries_type (collection=? AND type=?)"}, nil},
		{"ids", store.Filter{IDs: []string{"indicator--a", "indicator--b"}}, []string{"USING INDEX entries_object (object=? AND collection=?)", "USING COVERING INDEX objects_stix_id (stix_id=?)"}, nil},
		{"ids and types", store.Filter{IDs: []string{"indicator--a"}, Types: []string{"indicator", "malware"}}, []string{"USING INDEX entries_object (object=? AND collection=?)", "USING COVERING INDEX objects_stix_id (stix_id=?)"}, []string{"MERGE"}},
		{"spec versions", store.Filter{SpecVersions: []string{"2.0", "2.1"}}, []string{"USING INDEX entries_collection", "objects_stix_id (stix_id=? AND version>?)", "entries_object (object=? AND collection=?)"}, []string{"TEMP B-TREE"}},
	} {
		// The columns of an envelope page (ObjectsRaw) and of Objects.
		for _, columns := range []string{"e.date_added, o.raw", "e.date_added, o.stix_id, o.version, o.created, o.raw"} {
			checkPlan(t, db, tc.name, tc.f, columns, tc.want, tc.not)
		}
	}
}

// checkPlan explains the page query of f selecting columns, and reports
// a plan that lacks the substrings want, in order, or has one of not.
func checkPlan(t *testing.T, db *DB, name string, f store.Filter, columns string, want, not []string) {
	t.Helper()
	query, args, err := pageQuery(byID(benchCollection), f, 10, columns)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	text := explainPlan(t, db, name, query, args)
	if w, ok := lacking(text, want); !ok {
		t.Errorf("%s (%s): plan lacks %q:\n%s", name, columns, w, text)
	}
	for _, n := range not {
		if strings.Contains(text, n) {
			t.Errorf("%s (%s): plan has %q:\n%s", name, columns, n, text)
		}
	}
	if strings.Contains(text, "SCAN e USING") || strings.Contains(text, "SCAN entries") {
		t.Errorf("%s (%s): plan scans entries:\n%s", name, columns, text)
	}
}

// explainPlan returns SQLite's plan for query, a line per step.
func explainPlan(t *testing.T, db *DB, name, query string, args []any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return strings.Join(plan, "\n")
}

// lacking returns the first of want that text does not hold after the ones
// before it, and false; true when it holds them all in order.
func lacking(text string, want []string) (string, bool) {
	rest := text
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			return w, false
		}
		rest = rest[i+len(w):]
	}
	return "", true
}

// TestWritePlans pins how the writer's lookups find an object's versions:
// by id through objects_stix_id, then each objects row's entry through
// entries_object, never by scanning a collection's entries, which would
// make each write cost O(collection).
func TestWritePlans(t *testing.T) {
	db := openTest(t)
	pairs := `[["indicator--a", 1]]`
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  []string
	}{
		{"preload", preloadQuery, []any{`["indicator--a", "indicator--b"]`, "[1, 2]"},
			[]string{"SCAN j VIRTUAL TABLE", "objects_stix_id (stix_id=?)", "entries_object (object=? AND collection=?)"}},
		{"latest versions", latestVersionsQuery, []any{`["indicator--a", "indicator--b"]`, "api"},
			[]string{"SCAN j VIRTUAL TABLE", "objects_stix_id (stix_id=?)", "entries_object (object=? AND collection=?)"}},
		{"versions of one object", versionsOfQuery, []any{1, "indicator--a"},
			[]string{"entries_object (object=? AND collection=?)", "objects_stix_id (stix_id=?)"}},
		{"withdraw", withdrawQuery, []any{"api", store.KindFilter, 1, pairs},
			[]string{"entries_object (object=? AND collection=?)", "objects_stix_id (stix_id=? AND version=?)",
				"objects_stix_id (stix_id=? AND version=?)", "entries_object (object=? AND collection=?)"}},
		{"copy entries", copyEntriesQuery, []any{1, 2, "[1, 2]"},
			[]string{"SCAN j VIRTUAL TABLE", "SEARCH o USING INTEGER PRIMARY KEY (rowid=?)"}},
		{"refresh flags", refreshFlagsQuery, []any{1, `["indicator--a"]`},
			[]string{"entries_object (object=? AND collection=?)", "objects_stix_id (stix_id=?)"}},
	} {
		text := explainPlan(t, db, tc.name, tc.query, tc.args)
		if w, ok := lacking(text, tc.want); !ok {
			t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, text)
		}
		if strings.Contains(text, "SCAN e") || strings.Contains(text, "SCAN x") || strings.Contains(text, "SCAN h") ||
			strings.Contains(text, "SCAN entries") || strings.Contains(text, "SCAN o ") || strings.Contains(text, "SCAN objects") {
			t.Errorf("%s: plan scans entries or objects:\n%s", tc.name, text)
		}
	}
}

// TestFilterCollectionPlans pins how a backfill, a refilter and its prune
// read entries: in date_added order from where the last batch stopped,
// never sorting what is left, so that each entry is read once.
func TestFilterCollectionPlans(t *testing.T) {
	db := openTest(t)
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  []string
	}{
		{"backfill", backfillQuery, []any{0, 100, "api", "filter", 500}, []string{"SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"}},
		{"range", rangeQuery, []any{1, 0, 100, 500}, []string{"entries_collection (collection=? AND date_added>? AND date_added<?)"}},
		{"context", contextQuery, []any{1, 0, 100}, []string{"entries_type (collection=? AND type=? AND date_added>? AND date_added<?)"}},
	} {
		text := explainPlan(t, db, tc.name, tc.query, tc.args)
		if w, ok := lacking(text, tc.want); !ok {
			t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, text)
		}
		if strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "SCAN e") {
			t.Errorf("%s: plan sorts or scans:\n%s", tc.name, text)
		}
	}
}
