package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"hail/store"
)

// TestIOCQueryPlans pins the index each IOC query is read through, so that
// listings cost O(page) and lookups O(log n) per value, whatever the size
// of the index (see TestQueryPlans on why the plans are stable).
func TestIOCQueryPlans(t *testing.T) {
	db := openTest(t)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	min50 := 50
	list := func(f store.IOCFilter) (string, []any) { return selectIOCs(1, f, now, 10) }
	exact := func(q query) (string, []any) { return lookupSQL(q), q.args }
	for _, tc := range []struct {
		name string
		sql  string
		args []any
		want []string // substrings of the plan, in order
	}{
		{name: "list", want: []string{"SEARCH e USING INDEX entries_current (collection=? AND date_added>?)",
			"SEARCH i USING PRIMARY KEY (object=?)", "SEARCH n USING PRIMARY KEY"}},
		{name: "list since, confident", want: []string{"SEARCH e USING INDEX entries_current (collection=? AND date_added>?)",
			"SEARCH i USING PRIMARY KEY (object=?)"}},
		{name: "type", want: []string{"SEARCH e USING INDEX entries_current (collection=? AND date_added>?)",
			"SEARCH i USING PRIMARY KEY (object=?)"}},
		{name: "types", want: []string{"SEARCH e USING INDEX entries_current (collection=? AND date_added>?)",
			"SEARCH i USING PRIMARY KEY (object=?)"}},
		{name: "exact", want: []string{"SEARCH i USING INDEX iocs_value (type=? AND value=?)",
			"SEARCH e USING INDEX entries_object (object=? AND collection=?)"}},
		{name: "block", want: []string{"SEARCH i USING INDEX iocs_cidr (plen=? AND net=?)",
			"SEARCH e USING INDEX entries_object (object=? AND collection=?)"}},
		{name: "block lengths", want: []string{"iocs_cidr (plen>?)", "iocs_cidr (plen>?)"}},
	} {
		switch tc.name {
		case "list":
			tc.sql, tc.args = list(store.IOCFilter{})
		case "list since, confident":
			tc.sql, tc.args = list(store.IOCFilter{Since: now, MinConfidence: &min50, IncludeRevoked: true})
		case "type":
			tc.sql, tc.args = list(store.IOCFilter{Types: []string{"ipv4"}, After: store.IOCCursor{DateAdded: now, Ordinal: 2}})
		case "types":
			tc.sql, tc.args = list(store.IOCFilter{Types: []string{"ipv4", "ipv6", "cidr"}})
		case "exact":
			tc.sql, tc.args = exact(exactQuery(1, [][2]string{{"ipv4", "10.0.0.1"}, {"domain", "a.example"}}, store.IOCFilter{}, now))
		case "block":
			tc.sql, tc.args = exact(blockQuery(1, []block{{104, make([]byte, 16)}, {120, make([]byte, 16)}}, store.IOCFilter{}, now))
		case "block lengths":
			tc.sql, tc.args = blockLengthsSQL, []any{1}
		}
		rows, err := db.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+tc.sql, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		rest := text
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, text)
				break
			}
			rest = rest[i+len(w):]
		}
		// "SCAN i" alone reads the page a subquery made; a scan of the
		// table names an index or the table.
		if strings.Contains(text, "SCAN i USING") || strings.Contains(text, "SCAN iocs") ||
			strings.Contains(text, "SCAN e") || strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s: plan scans or sorts:\n%s", tc.name, text)
		}
	}
}
