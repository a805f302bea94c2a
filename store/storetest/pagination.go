package storetest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
)

// walk pages through coll with f, resuming each page after the last
// date_added of the previous one as a TAXII client does, and returns every
// entry seen. It reports pages that are too long, out of order, or whose
// More is wrong.
func walk(t *testing.T, s store.Store, coll string, f store.Filter) []store.Entry {
	t.Helper()
	var seen []store.Entry
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("walk %+v: no end after %d pages", f, pages)
		}
		p, err := s.Objects(ctx, coll, f)
		if err != nil {
			t.Errorf("walk %+v: %v", f, err)
			return seen
		}
		if f.Limit > 0 && len(p.Entries) > f.Limit {
			t.Errorf("walk: page of %d entries with Limit %d", len(p.Entries), f.Limit)
		}
		for _, e := range p.Entries {
			if len(seen) > 0 && !e.DateAdded.After(seen[len(seen)-1].DateAdded) {
				t.Errorf("walk: %s added %v after %v: not increasing", e.Object.ID, e.DateAdded, seen[len(seen)-1].DateAdded)
			}
			seen = append(seen, e)
		}
		if !p.More {
			return seen
		}
		if len(p.Entries) == 0 {
			t.Errorf("walk %+v: empty page with More", f)
			return seen
		}
		f.AddedAfter = p.Entries[len(p.Entries)-1].DateAdded
	}
}

// entryLabels names entries.
func entryLabels(es []store.Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, label(e.Object))
	}
	return out
}

// many returns n indicators numbered from first.
func many(t *testing.T, first, n int) []stix.Object {
	out := make([]stix.Object, n)
	for i := range out {
		out[i] = indicator(t, first+i, "2024-01-01T00:00:00.000Z")
	}
	return out
}

func testPaginationWalk(t *testing.T, s store.Store) {
	setup(t, s)
	objs := many(t, 0, 25)
	// Three calls to one collection, interleaved with another collection.
	mustAdd(t, s, coll1, objs[:10]...)
	mustAdd(t, s, coll2, many(t, 100, 5)...)
	mustAdd(t, s, coll1, objs[10:11]...)
	mustAdd(t, s, coll2, many(t, 200, 5)...)
	mustAdd(t, s, coll1, objs[11:]...)
	want := labelsOf(objs...)
	for _, limit := range []int{1, 4, 5, 24, 25, 26, 0} {
		got := entryLabels(walk(t, s, coll1, store.Filter{Limit: limit}))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("walk with Limit %d:\n got %s\nwant %s", limit, strings.Join(got, " "), strings.Join(want, " "))
		}
	}
	// Negative limits mean the maximum, as zero does.
	check(t, s, coll1, store.Filter{Limit: -1}, false, objs...)
}

func testPaginationWalkFiltered(t *testing.T, s store.Store) {
	setup(t, s)
	// Many versions of a few objects, and several types, so that a page of
	// the default view has to skip old versions and other types.
	var want, wantTyped []string
	for round := 0; round < 6; round++ {
		var batch []stix.Object
		for n := 0; n < 5; n++ {
			mod := time.Date(2024, 1, 1+round, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
			batch = append(batch, indicator(t, n, mod, "2024-01-01T00:00:00.000Z"))
			batch = append(batch, sdo(t, "malware", n, "2.1", mod))
			batch = append(batch, sdo(t, "tool", n, "2.1", mod))
		}
		mustAdd(t, s, coll1, batch...)
		if round == 5 {
			want = labelsOf(batch...)
			for _, o := range batch {
				if o.Type != "tool" {
					wantTyped = append(wantTyped, label(o))
				}
			}
		}
	}
	for _, limit := range []int{1, 2, 7} {
		got := entryLabels(walk(t, s, coll1, store.Filter{Limit: limit}))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("walk latest versions with Limit %d:\n got %s\nwant %s", limit, strings.Join(got, " "), strings.Join(want, " "))
		}
		got = entryLabels(walk(t, s, coll1, store.Filter{Limit: limit, Types: []string{"malware", "indicator"}}))
		if !reflect.DeepEqual(got, wantTyped) {
			t.Errorf("walk two types with Limit %d:\n got %s\nwant %s", limit, strings.Join(got, " "), strings.Join(wantTyped, " "))
		}
		if n := len(walk(t, s, coll1, store.Filter{Limit: limit, Versions: []string{"all"}, Types: []string{"tool", "malware"}})); n != 60 {
			t.Errorf("walk all versions of two types with Limit %d: %d entries, want 60", limit, n)
		}
	}
}

func testPaginationExactLimit(t *testing.T, s store.Store) {
	setup(t, s)
	objs := many(t, 0, 3)
	mustAdd(t, s, coll1, objs...)
	// More is false when the page holds exactly what is left.
	check(t, s, coll1, store.Filter{Limit: 3}, false, objs...)
	check(t, s, coll1, store.Filter{Limit: 2}, true, objs[:2]...)
}

func testPaginationMaxLimit(t *testing.T, s store.Store) {
	if testing.Short() {
		t.Skip("adds store.MaxLimit+1 objects; skipped with -short")
	}
	setup(t, s)
	mustAdd(t, s, coll1, many(t, 0, store.MaxLimit+1)...)
	for _, limit := range []int{0, -5, store.MaxLimit + 1, 1 << 30} {
		p, err := s.Objects(ctx, coll1, store.Filter{Limit: limit, HeadersOnly: true})
		if err != nil {
			t.Errorf("Objects with Limit %d: %v", limit, err)
			continue
		}
		if len(p.Entries) != store.MaxLimit || !p.More {
			t.Errorf("Objects with Limit %d: %d entries, More %v; want %d, true", limit, len(p.Entries), p.More, store.MaxLimit)
		}
	}
}

func testDateAddedIncreasing(t *testing.T, s store.Store) {
	setup(t, s)
	var all []store.AddResult
	for i := 0; i < 6; i++ {
		coll := []string{coll1, coll2}[i%2]
		// Duplicates keep their date_added and are left out of the order.
		objs := append(many(t, i*10, 5), indicator(t, i*10, "2024-01-01T00:00:00.000Z"))
		for _, r := range mustAdd(t, s, coll, objs...) {
			if !r.Duplicate {
				all = append(all, r)
			}
		}
	}
	if len(all) != 30 {
		t.Fatalf("%d new versions, want 30", len(all))
	}
	for i := 1; i < len(all); i++ {
		if !all[i].DateAdded.After(all[i-1].DateAdded) {
			t.Errorf("date_added %v of %s is not after %v of %s", all[i].DateAdded, all[i].ID, all[i-1].DateAdded, all[i-1].ID)
		}
	}
	// What the store returns agrees with what AddObjects said.
	var got []time.Time
	for _, c := range []string{coll1, coll2} {
		for _, e := range walk(t, s, c, store.Filter{Limit: 4}) {
			got = append(got, e.DateAdded)
		}
	}
	var want []time.Time
	for i, r := range all {
		if (i/5)%2 == 0 {
			want = append(want, r.DateAdded)
		}
	}
	for i, r := range all {
		if (i/5)%2 == 1 {
			want = append(want, r.DateAdded)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("walked %d entries, want %d", len(got), len(want))
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			t.Errorf("entry %d: DateAdded %v, want %v", i, got[i], want[i])
		}
	}
}
