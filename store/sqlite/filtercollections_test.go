package sqlite

import (
	"context"
	"fmt"
	"testing"

	"hail/stix"
	"hail/store"
)

// TestFanoutManyContextRefs adds, in one call, more objects than SQLite
// takes bound values in a statement (32,766), each created by an identity
// of its own that the store does not hold: the fan-out looks every creator
// up for the filter collection, and must do so however many there are.
func TestFanoutManyContextRefs(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 33,000 objects")
	}
	db := openTest(t)
	a, _, all := groupCollections(t, db)
	const n = 33000
	objs := make([]stix.Object, n)
	for i := range objs {
		raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-3c1e-4f7a-9d2b-0a8b2c4d6e8f",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",`+
			`"pattern":"[domain-name:value = 'c2-%d.example.net']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z",`+
			`"created_by_ref":"identity--%08x-2f0b-4f7a-9d1e-0a8b2c4d6e8f"}`, i, i, i)
		o, err := stix.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = o
	}
	ctx := context.Background()
	res, err := db.AddObjects(ctx, a, objs)
	if err != nil {
		t.Fatalf("AddObjects of %d objects with %d creators: %v", n, n, err)
	}
	if len(res) != n {
		t.Fatalf("%d results, want %d", len(res), n)
	}
	for _, id := range []string{a, all} {
		st, err := db.CollectionStats(ctx, id)
		if err != nil || st.Objects != n {
			t.Errorf("collection %s holds %d objects (%v), want %d", id, st.Objects, err, n)
		}
	}
	page, err := db.Objects(ctx, all, store.Filter{Limit: 1, Types: []string{"identity"}})
	if err != nil || len(page.Entries) != 0 {
		t.Errorf("filter collection lists %d identities (%v); the store holds none", len(page.Entries), err)
	}
}
