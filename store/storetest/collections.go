package storetest

import (
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/store"
)

// created is a creation time with microsecond precision, the precision
// stores keep.
var created = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

func testAPIRoots(t *testing.T, s store.Store) {
	roots := []store.APIRoot{
		{Name: "zeta", Title: "Z", MaxContentLength: 10, Created: created},
		{Name: "api", Title: "Main", Description: "The main root", MaxContentLength: 104857600, Default: true, Created: created.Add(time.Second)},
	}
	for _, r := range roots {
		if err := s.CreateAPIRoot(ctx, r); err != nil {
			t.Fatalf("create API root %s: %v", r.Name, err)
		}
	}
	got, err := s.APIRoots(ctx)
	if err != nil {
		t.Fatalf("APIRoots: %v", err)
	}
	if want := []store.APIRoot{roots[1], roots[0]}; !equalRoots(got, want) {
		t.Errorf("APIRoots:\n got %+v\nwant %+v (by name)", got, want)
	}
	r, err := s.APIRoot(ctx, "api")
	if err != nil || !equalRoots([]store.APIRoot{r}, roots[1:]) {
		t.Errorf("APIRoot(api) = %+v, %v; want %+v", r, err, roots[1])
	}
	_, err = s.APIRoot(ctx, "nope")
	wantCode(t, "APIRoot of a missing name", err, hail.ENOTFOUND)
	err = s.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "Again"})
	wantCode(t, "CreateAPIRoot with a taken name", err, hail.ECONFLICT)
	if r, _ := s.APIRoot(ctx, "api"); r.Title != "Main" {
		t.Errorf("a refused create changed the API root: title %q", r.Title)
	}
}

// equalRoots compares API roots, times as instants.
func equalRoots(got, want []store.APIRoot) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Created.Equal(w.Created) {
			return false
		}
		g.Created, w.Created = time.Time{}, time.Time{}
		if g != w {
			return false
		}
	}
	return true
}

// equalCollection compares collections, times as instants.
func equalCollection(got, want store.Collection) bool {
	if !got.Created.Equal(want.Created) {
		return false
	}
	got.Created, want.Created = time.Time{}, time.Time{}
	return got == want
}

func testCollectionCreateAndGet(t *testing.T, s store.Store) {
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Name: "api"}); err != nil {
		t.Fatal(err)
	}
	c := store.Collection{ID: coll1, APIRoot: "api", Alias: "high-value", Title: "High value", Description: "Curated",
		Public: true, Kind: store.KindFilter, Filter: `{"types":["indicator"]}`, Created: created}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	for _, key := range []string{coll1, "high-value"} {
		got, err := s.Collection(ctx, "api", key)
		if err != nil || !equalCollection(got, c) {
			t.Errorf("Collection(api, %s) = %+v, %v; want %+v", key, got, err, c)
		}
	}
	for _, tc := range []struct{ root, key string }{
		{"api", "low-value"}, {"api", "HIGH-VALUE"}, {"other", coll1}, {"other", "high-value"}, {"api", ""},
	} {
		_, err := s.Collection(ctx, tc.root, tc.key)
		wantCode(t, "Collection("+tc.root+", "+tc.key+")", err, hail.ENOTFOUND)
	}
	// Kind defaults to explicit; no alias is no alias.
	plain := store.Collection{ID: coll2, APIRoot: "api", Title: "Plain", Created: created}
	if err := s.CreateCollection(ctx, plain); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	plain.Kind = store.KindExplicit
	if got, err := s.Collection(ctx, "api", coll2); err != nil || !equalCollection(got, plain) {
		t.Errorf("Collection(api, %s) = %+v, %v; want %+v", coll2, got, err, plain)
	}
}

func testCollectionConflicts(t *testing.T, s store.Store) {
	for _, r := range []string{"api", "other"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateCollection(ctx, store.Collection{ID: coll1, APIRoot: "api", Alias: "feed", Title: "One"}); err != nil {
		t.Fatal(err)
	}
	err := s.CreateCollection(ctx, store.Collection{ID: coll1, APIRoot: "other", Title: "Same id elsewhere"})
	wantCode(t, "CreateCollection with an id taken in another API root", err, hail.ECONFLICT)
	err = s.CreateCollection(ctx, store.Collection{ID: coll2, APIRoot: "api", Alias: "feed", Title: "Same alias"})
	wantCode(t, "CreateCollection with an alias taken in the API root", err, hail.ECONFLICT)
	err = s.CreateCollection(ctx, store.Collection{ID: coll2, APIRoot: "missing", Title: "No root"})
	wantCode(t, "CreateCollection in a missing API root", err, hail.ENOTFOUND)
	// Nothing of the refused creates remains.
	if cs, err := s.Collections(ctx, "other"); err != nil || len(cs) != 0 {
		t.Errorf("Collections(other) = %+v, %v; want none", cs, err)
	}
	// The same alias in another API root, and several collections without
	// an alias, are fine.
	if err := s.CreateCollection(ctx, store.Collection{ID: coll2, APIRoot: "other", Alias: "feed", Title: "Two"}); err != nil {
		t.Errorf("CreateCollection with an alias taken in another API root: %v", err)
	}
	if got, err := s.Collection(ctx, "other", "feed"); err != nil || got.ID != coll2 {
		t.Errorf("Collection(other, feed) = %+v, %v; want %s", got, err, coll2)
	}
	for _, id := range []string{"5d4a8c8e-2f1e-4c59-a0a4-0a0c9f3c1a01", "5d4a8c8e-2f1e-4c59-a0a4-0a0c9f3c1a02"} {
		if err := s.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "api", Title: "No alias"}); err != nil {
			t.Errorf("CreateCollection without alias: %v", err)
		}
	}
}

func testCollectionList(t *testing.T, s store.Store) {
	for _, r := range []string{"api", "other"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	// Creation order, not id or title order (TAXII 2.1 §3.3 asks for a
	// consistent order).
	ids := []string{"f0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002",
		"c0000000-0000-4000-8000-000000000003"}
	for i, id := range ids {
		root := "api"
		if i == 1 {
			root = "other"
		}
		if err := s.CreateCollection(ctx, store.Collection{ID: id, APIRoot: root, Title: []string{"b", "c", "a"}[i]}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Collections(ctx, "api")
	var gotIDs []string
	for _, c := range got {
		gotIDs = append(gotIDs, c.ID)
	}
	if want := []string{ids[0], ids[2]}; err != nil || !reflect.DeepEqual(gotIDs, want) {
		t.Errorf("Collections(api) = %v, %v; want %v", gotIDs, err, want)
	}
	if got, err := s.Collections(ctx, "missing"); err != nil || len(got) != 0 {
		t.Errorf("Collections(missing) = %+v, %v; want an empty list", got, err)
	}
}

func testCollectionDelete(t *testing.T, s store.Store) {
	setup(t, s)
	shared := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	only := indicator(t, 2, "2024-01-01T00:00:00.000Z")
	mustAdd(t, s, coll1, shared, only)
	mustAdd(t, s, coll2, shared)
	if err := s.DeleteCollection(ctx, coll1); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	_, err := s.Collection(ctx, "api", coll1)
	wantCode(t, "Collection after delete", err, hail.ENOTFOUND)
	_, err = s.Objects(ctx, coll1, store.Filter{})
	wantCode(t, "Objects after delete", err, hail.ENOTFOUND)
	_, err = s.CollectionStats(ctx, coll1)
	wantCode(t, "CollectionStats after delete", err, hail.ENOTFOUND)
	err = s.DeleteCollection(ctx, coll1)
	wantCode(t, "DeleteCollection twice", err, hail.ENOTFOUND)
	if cs, err := s.Collections(ctx, "api"); err != nil || len(cs) != 1 || cs[0].ID != coll2 {
		t.Errorf("Collections after delete = %+v, %v; want only %s", cs, err, coll2)
	}
	// The other collection keeps the object they shared, bytes and all.
	p := check(t, s, coll2, store.Filter{}, false, shared)
	if len(p.Entries) == 1 {
		sameObject(t, p.Entries[0].Object, shared, false)
	}
	// The id can be used again, and starts empty.
	if err := s.CreateCollection(ctx, store.Collection{ID: coll1, APIRoot: "api", Title: "Again"}); err != nil {
		t.Fatalf("re-create: %v", err)
	}
	check(t, s, coll1, store.Filter{}, false)
	if r := mustAdd(t, s, coll1, only); r[0].Duplicate {
		t.Errorf("adding to a re-created collection: reported as a duplicate")
	}
}

func testCollectionStats(t *testing.T, s store.Store) {
	setup(t, s)
	st, err := s.CollectionStats(ctx, coll1)
	if err != nil || st != (store.CollectionStats{}) {
		t.Errorf("CollectionStats of an empty collection = %+v, %v; want zero", st, err)
	}
	_, err = s.CollectionStats(ctx, "0b0f5a5e-5b8e-4c1e-9a43-6a8b2a1f0c00")
	wantCode(t, "CollectionStats of a missing collection", err, hail.ENOTFOUND)
	if last, err := s.LastDateAdded(ctx, coll1); err != nil || !last.IsZero() {
		t.Errorf("LastDateAdded of an empty collection = %v, %v; want the zero time", last, err)
	}
	_, err = s.LastDateAdded(ctx, "0b0f5a5e-5b8e-4c1e-9a43-6a8b2a1f0c00")
	wantCode(t, "LastDateAdded of a missing collection", err, hail.ENOTFOUND)
	r1 := mustAdd(t, s, coll1, indicator(t, 1, "2024-01-01T00:00:00.000Z"), indicator(t, 2, "2024-01-01T00:00:00.000Z"))
	mustAdd(t, s, coll2, indicator(t, 3, "2024-01-01T00:00:00.000Z"))
	r2 := mustAdd(t, s, coll1, indicator(t, 1, "2024-02-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z"),
		indicator(t, 1, "2024-01-01T00:00:00.000Z"))
	st, err = s.CollectionStats(ctx, coll1)
	want := store.CollectionStats{Objects: 2, Versions: 3, FirstDateAdded: r1[0].DateAdded, LastDateAdded: r2[0].DateAdded}
	if err != nil || st.Objects != want.Objects || st.Versions != want.Versions ||
		!st.FirstDateAdded.Equal(want.FirstDateAdded) || !st.LastDateAdded.Equal(want.LastDateAdded) {
		t.Errorf("CollectionStats = %+v, %v; want %+v", st, err, want)
	}
	// coll2's entry came between r1 and r2: each collection has its own.
	if last, err := s.LastDateAdded(ctx, coll1); err != nil || !last.Equal(want.LastDateAdded) {
		t.Errorf("LastDateAdded = %v, %v; want %v", last, err, want.LastDateAdded)
	}
}
