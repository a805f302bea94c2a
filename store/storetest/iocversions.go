package storetest

import (
	"reflect"
	"testing"

	"hail/store"
)

// testIOCSharedVersions follows one indicator whose versions are held by
// two collections at once: each collection lists and finds the rows of
// the version it holds as current, whatever the other holds, adds or
// deletes.
func testIOCSharedVersions(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '203.0.113.0/24']", "")
	v2 := ind(t, 1, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2']", "")
	other := ind(t, 2, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'a.example']", "")
	mustAdd(t, s, coll1, v1, other)
	res := mustAdd(t, s, coll2, v1)
	old := []string{key("ipv4", "198.51.100.1", 1), key("cidr", "203.0.113.0/24", 1)}
	checkIOCs(t, s, coll1, store.IOCFilter{}, append(old, key("domain", "a.example", 2))...)
	p := checkIOCs(t, s, coll2, store.IOCFilter{}, old...)
	for _, c := range p.IOCs {
		if !c.DateAdded.Equal(res[0].DateAdded) {
			t.Errorf("%s in %s: DateAdded %v, want %v, its entry's there", c.Value, coll2, c.DateAdded, res[0].DateAdded)
		}
	}
	lookup := func(coll string, want ...string) {
		t.Helper()
		q := []store.IOCValue{iv("ipv4", "198.51.100.1"), iv("ipv4", "198.51.100.2"), iv("ipv4", "203.0.113.9"),
			iv("domain", "a.example")}
		got, err := s.LookupIOCs(ctx, coll, q, store.IOCFilter{})
		if want == nil {
			want = []string{}
		}
		if g := matchKeys(got); err != nil || !reflect.DeepEqual(g, want) {
			t.Errorf("LookupIOCs in %s: %v\n got %v\nwant %v", coll, err, g, want)
		}
	}
	oldMatches := []string{"198.51.100.1 => " + key("ipv4", "198.51.100.1", 1), "203.0.113.9 => " + key("cidr", "203.0.113.0/24", 1)}
	lookup(coll2, oldMatches...)

	// A newer version in one collection hides the older one's rows there
	// only.
	mustAdd(t, s, coll1, v2)
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("domain", "a.example", 2), key("ipv4", "198.51.100.2", 1))
	checkIOCs(t, s, coll2, store.IOCFilter{}, old...)
	lookup(coll1, "198.51.100.2 => "+key("ipv4", "198.51.100.2", 1), "a.example => "+key("domain", "a.example", 2))
	lookup(coll2, oldMatches...)

	// Deleting the object from one collection leaves the other's rows.
	if err := s.DeleteObject(ctx, coll2, v1.ID, store.Filter{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	checkIOCs(t, s, coll2, store.IOCFilter{})
	lookup(coll2)
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("domain", "a.example", 2), key("ipv4", "198.51.100.2", 1))

	// The older version, still held by coll1, comes back there when the
	// newer one is deleted, though the other collection let it go.
	if err := s.DeleteObject(ctx, coll1, v1.ID, store.Filter{Versions: []string{"2024-03-01T00:00:00.000Z"}}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	checkIOCs(t, s, coll1, store.IOCFilter{}, append(old, key("domain", "a.example", 2))...)
	lookup(coll1, append(oldMatches, "a.example => "+key("domain", "a.example", 2))...)

	// Deleting a collection leaves the rows another one shows.
	mustAdd(t, s, coll2, v1)
	if err := s.DeleteCollection(ctx, coll1); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	checkIOCs(t, s, coll2, store.IOCFilter{}, old...)
	lookup(coll2, oldMatches...)
}
