package storetest

import (
	"testing"

	"hail"
	"hail/store"
)

func testCollectionUpdate(t *testing.T, s store.Store) {
	for _, r := range []string{"api", "other"} {
		if err := s.CreateAPIRoot(ctx, store.APIRoot{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	c := store.Collection{ID: coll1, APIRoot: "api", Alias: "feed", Title: "Feed", Description: "Ours",
		Kind: store.KindFilter, Filter: `{"types":["indicator"]}`, Created: created}
	for _, x := range []store.Collection{c,
		{ID: coll2, APIRoot: "api", Alias: "taken", Title: "Other", Created: created},
		{ID: "5d4a8c8e-2f1e-4c59-a0a4-0a0c9f3c1a03", APIRoot: "other", Alias: "elsewhere", Title: "Elsewhere", Created: created},
	} {
		if err := s.CreateCollection(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	str := func(s string) *string { return &s }
	yes := true

	// Only the fields given change; the result is what a lookup returns.
	got, err := s.UpdateCollection(ctx, coll1, store.CollectionUpdate{Title: str("Shared feed"), Public: &yes})
	want := c
	want.Title, want.Public = "Shared feed", true
	if err != nil || !equalCollection(got, want) {
		t.Errorf("UpdateCollection(title, public) = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.Collection(ctx, "api", "feed"); err != nil || !equalCollection(got, want) {
		t.Errorf("Collection after the update = %+v, %v; want %+v", got, err, want)
	}

	// A new alias replaces the old one, which no longer resolves; the
	// same alias as another API root's collection is fine.
	got, err = s.UpdateCollection(ctx, coll1, store.CollectionUpdate{Alias: str("elsewhere"), Description: str("")})
	want.Alias, want.Description = "elsewhere", ""
	if err != nil || !equalCollection(got, want) {
		t.Errorf("UpdateCollection(alias, description) = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.Collection(ctx, "api", "feed"); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("the old alias still resolves: %v", err)
	}
	if got, err := s.Collection(ctx, "api", "elsewhere"); err != nil || got.ID != coll1 {
		t.Errorf("Collection(api, elsewhere) = %+v, %v; want %s", got, err, coll1)
	}

	// Refused updates change nothing.
	for _, tc := range []struct {
		what string
		id   string
		u    store.CollectionUpdate
		code string
	}{
		{"an alias taken in the API root", coll1, store.CollectionUpdate{Alias: str("taken"), Title: str("Changed")}, hail.ECONFLICT},
		{"an empty title", coll1, store.CollectionUpdate{Title: str(" "), Public: new(bool)}, hail.EINVALID},
		{"an alias that reads as an id", coll1, store.CollectionUpdate{Alias: str(coll2)}, hail.EINVALID},
		{"a missing collection", "5d4a8c8e-2f1e-4c59-a0a4-0a0c9f3c1aff", store.CollectionUpdate{Title: str("X")}, hail.ENOTFOUND},
	} {
		_, err := s.UpdateCollection(ctx, tc.id, tc.u)
		wantCode(t, "UpdateCollection with "+tc.what, err, tc.code)
	}
	if got, err := s.Collection(ctx, "api", coll1); err != nil || !equalCollection(got, want) {
		t.Errorf("Collection after refused updates = %+v, %v; want %+v", got, err, want)
	}

	// Removing the alias.
	got, err = s.UpdateCollection(ctx, coll1, store.CollectionUpdate{Alias: str("")})
	want.Alias = ""
	if err != nil || !equalCollection(got, want) {
		t.Errorf("UpdateCollection(no alias) = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.Collection(ctx, "api", "elsewhere"); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("a removed alias still resolves: %v", err)
	}
	// An empty update changes nothing and returns the collection.
	if got, err := s.UpdateCollection(ctx, coll1, store.CollectionUpdate{}); err != nil || !equalCollection(got, want) {
		t.Errorf("UpdateCollection({}) = %+v, %v; want %+v", got, err, want)
	}
}
