package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// TestIOCQueryPlans pins the index each IOC query is read through, so that
// listings cost O(page) and lookups O(log n) per value, whatever the size
// of the index (see TestQueryPlans on why the plans are stable).
func TestIOCQueryPlans(t *testing.T) {
	db := openTest(t)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	min50 := 50
	list := func(f store.IOCFilter) (string, []any) { return selectIOCs(1, f, now, 10, false) }
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
		{name: "rare type", want: []string{"SEARCH i USING INDEX iocs_value (type=?)",
			"SEARCH e USING INDEX entries_object (object=? AND collection=?", "USE TEMP B-TREE FOR ORDER BY"}},
		{name: "rare types", want: []string{"SEARCH i USING INDEX iocs_value (type=?)",
			"SEARCH e USING INDEX entries_object (object=? AND collection=?", "USE TEMP B-TREE FOR ORDER BY"}},
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
		case "rare type":
			tc.sql, tc.args = selectIOCs(1, store.IOCFilter{Types: []string{"url"}}, now, 10, true)
		case "rare types":
			tc.sql, tc.args = selectIOCs(1, store.IOCFilter{Types: []string{"url", "cve"}}, now, 10, true)
		case "exact":
			tc.sql, tc.args = exact(exactQuery(1, [][2]string{{"ipv4", "10.0.0.1"}, {"domain", "a.example"}}, store.IOCFilter{}, now))
		case "block":
			tc.sql, tc.args = exact(blockQuery(1, []block{{104, make([]byte, 16)}, {120, make([]byte, 16)}}, store.IOCFilter{}, now))
		case "block lengths":
			tc.sql, tc.args = blockLengthsSQL, []any{1}
		}
		text := explainPlan(t, db, tc.name, tc.sql, tc.args)
		if w, ok := lacking(text, tc.want); !ok {
			t.Errorf("%s: plan lacks %q:\n%s", tc.name, w, text)
		}
		// "SCAN i" alone reads the page a subquery made; a scan of the
		// table names an index or the table.
		if strings.Contains(text, "SCAN i USING") || strings.Contains(text, "SCAN iocs") ||
			strings.Contains(text, "SCAN e") || strings.Contains(text, "TEMP B-TREE") && !strings.HasPrefix(tc.name, "rare") {
			t.Errorf("%s: plan scans or sorts:\n%s", tc.name, text)
		}
	}
}

// TestIOCListingPlansAgree pages through type-filtered listings with both
// plans selectIOCs offers, which IOCs picks between by how many rows the
// types have, and checks that they return the same IOCs in the same pages.
func TestIOCListingPlansAgree(t *testing.T) {
	db := newBenchDB(t, filepath.Join(t.TempDir(), "hail.db"))
	t.Cleanup(func() { db.Close() })
	storetest.FillBenchIndicators(t, db, benchCollection, 0, 300, 100)
	ctx := context.Background()
	// Newer versions of some indicators, with other observables, so that
	// superseded versions' rows must not show.
	var newer []stix.Object
	for n := 0; n < 300; n += 7 {
		newer = append(newer, storetest.BenchNewerIndicator(t, n))
	}
	if _, err := db.AddObjects(ctx, benchCollection, newer); err != nil {
		t.Fatal(err)
	}
	seq, err := collectionSeq(ctx, db.read, benchCollection)
	if err != nil {
		t.Fatal(err)
	}
	for _, types := range [][]string{{"ipv4"}, {"cidr", "domain"}} {
		var pages [2][]string
		for i, byType := range []bool{false, true} {
			f := store.IOCFilter{Types: types, Limit: 7}
			for {
				p, err := db.iocPage(ctx, seq, f, byType)
				if err != nil {
					t.Fatal(err)
				}
				var page []string
				for _, c := range p.IOCs {
					page = append(page, c.ID)
				}
				pages[i] = append(pages[i], strings.Join(page, ","))
				if !p.More {
					break
				}
				f.After = p.IOCs[len(p.IOCs)-1].Cursor()
			}
		}
		if len(pages[0]) < 2 {
			t.Errorf("types %v: %d pages, want several", types, len(pages[0]))
		}
		if strings.Join(pages[0], "\n") != strings.Join(pages[1], "\n") {
			t.Errorf("types %v: walking entries gives pages\n%s\nreading rows by type gives\n%s", types,
				strings.Join(pages[0], "\n"), strings.Join(pages[1], "\n"))
		}
	}
}
