package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// TestIOCListingPlansAgree pages through type-filtered listings with both
// plans listSQL offers, which IOCs picks between by counting, and checks
// that they return the same IOCs in the same pages.
func TestIOCListingPlansAgree(t *testing.T) {
	db := openTest(t)
	setupColls(t, db)
	ctx := context.Background()
	storetest.FillBenchIndicators(t, db, testColl, 0, 300, 100)
	// Newer versions of some indicators, with other observables, so that
	// superseded versions' rows must not show; and versions in another
	// collection, which this one must not show either.
	var newer []stix.Object
	for n := 0; n < 300; n += 7 {
		newer = append(newer, storetest.BenchNewerIndicator(t, n))
	}
	if _, err := db.AddObjects(ctx, testColl, newer); err != nil {
		t.Fatal(err)
	}
	storetest.FillBenchIndicators(t, db, testColl2, 300, 400, 100)
	seq, err := collectionSeq(ctx, db.pool, testColl, false)
	if err != nil {
		t.Fatal(err)
	}
	since := time.UnixMicro(0)
	for _, tc := range []struct {
		types []string
		since *time.Time
	}{{types: []string{"ipv4"}}, {types: []string{"cidr", "domain"}}, {types: []string{"sha256"}, since: &since}} {
		var pages [2][]string
		for i, byType := range []bool{false, true} {
			f := store.IOCFilter{Types: tc.types, Limit: 7}
			if tc.since != nil {
				f.Since = *tc.since
			}
			for {
				p, err := db.iocPage(ctx, seq, f, byType)
				if err != nil {
					t.Fatal(err)
				}
				var page []string
				for _, c := range p.IOCs {
					page = append(page, c.ID+" "+c.Value+" "+c.Modified)
				}
				pages[i] = append(pages[i], strings.Join(page, ","))
				if !p.More {
					break
				}
				f.After = p.IOCs[len(p.IOCs)-1].Cursor()
			}
		}
		if len(pages[0]) < 2 {
			t.Errorf("types %v: %d pages, want several", tc.types, len(pages[0]))
		}
		if strings.Join(pages[0], "\n") != strings.Join(pages[1], "\n") {
			t.Errorf("types %v: walking entries gives pages\n%s\nreading rows by type gives\n%s", tc.types,
				strings.Join(pages[0], "\n"), strings.Join(pages[1], "\n"))
		}
	}
}

// TestIOCListingPlanChoice checks which plan IOCs takes: by type when the
// store holds few rows of the types and the walk has more entries than
// that to visit, else the walk.
func TestIOCListingPlanChoice(t *testing.T) {
	db := openTest(t)
	setupColls(t, db)
	ctx := context.Background()
	// 1,600 indicators: 1,120 addresses (7 in 10), 160 SHA-256, 80 blocks.
	storetest.FillBenchIndicators(t, db, testColl, 0, 1600, 800)
	storetest.FillBenchIndicators(t, db, testColl2, 1600, 1610, 10)
	seq, err := collectionSeq(ctx, db.pool, testColl, false)
	if err != nil {
		t.Fatal(err)
	}
	last, err := db.IOCs(ctx, testColl, store.IOCFilter{Types: []string{"cidr"}, After: store.IOCCursor{DateAdded: time.UnixMicro(1)}})
	if err != nil || len(last.IOCs) == 0 {
		t.Fatalf("IOCs: %v, %d rows", err, len(last.IOCs))
	}
	end := last.IOCs[len(last.IOCs)-1].Cursor()
	for _, tc := range []struct {
		name string
		f    store.IOCFilter
		want bool
	}{
		{"absent type", store.IOCFilter{Types: []string{"sha1"}}, true},
		{"rare type", store.IOCFilter{Types: []string{"cidr"}}, true},
		{"rare types", store.IOCFilter{Types: []string{"cidr", "sha256"}}, true},
		{"common type", store.IOCFilter{Types: []string{"ipv4"}, Limit: 100}, false},
		{"common with a rare type", store.IOCFilter{Types: []string{"ipv4", "cidr"}, Limit: 100}, false},
		// A page that the type's rows cannot fill.
		{"common type, large page", store.IOCFilter{Types: []string{"ipv4"}, Limit: 2000}, true},
		// Fewer entries left than rows of the type: the walk reads less.
		{"rare type near the end", store.IOCFilter{Types: []string{"cidr"}, After: end}, false},
	} {
		_, got, err := db.rareTypes(ctx, seq, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: by type = %v, want %v", tc.name, got, tc.want)
		}
	}
}
