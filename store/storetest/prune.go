package storetest

import (
	"reflect"
	"slices"
	"testing"

	"hail"
	"hail/stix"
	"hail/store"
)

// testFilterCollectionPrune deletes indicators from an explicit collection:
// the creator only a deleted one named stays in the filter collection
// until PruneCollection, which leaves alone the creator a remaining one
// names and what the filter matches itself.
func testFilterCollectionPrune(t *testing.T, s store.Store) {
	setupFilters(t, s)
	org := acme(t, "2020-01-01T00:00:00.000Z", "ACME")
	other := MustObject(t, `{"type":"identity","spec_version":"2.1","id":"identity--0f0e0d0c-0b0a-4909-8807-060504030201",`+
		`"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"Other"}`)
	by := func(id string) string { return `,"created_by_ref":"` + id + `"` }
	ip1 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", by(acmeID))
	ip2 := ind(t, 2, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2']", by(acmeID))
	ip3 := ind(t, 3, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.3']", by(other.ID))
	mustAdd(t, s, coll1, org, other, ip1, ip2, ip3)
	checkSameVersions(t, s, collIPs, "ips", []stix.Object{org, other, ip1, ip2, ip3})

	del := func(o stix.Object) {
		t.Helper()
		if err := s.DeleteObject(ctx, coll1, o.ID, store.Filter{}); err != nil {
			t.Fatalf("DeleteObject(%s): %v", o.ID, err)
		}
	}
	prune := func(coll string, want int) {
		t.Helper()
		if n, err := s.PruneCollection(ctx, coll); err != nil || n != want {
			t.Errorf("PruneCollection(%s) = %d, %v; want %d", coll, n, err, want)
		}
	}
	del(ip3)
	checkSameVersions(t, s, collIPs, "ips after a deletion", []stix.Object{org, other, ip1, ip2})
	prune(collIPs, 1)
	checkSameVersions(t, s, collIPs, "ips pruned", []stix.Object{org, ip1, ip2})
	// "all" matches the identity itself.
	prune(collAll, 0)
	checkSameVersions(t, s, collAll, "all pruned", []stix.Object{org, other, ip1, ip2})

	del(ip1)
	prune(collIPs, 0)
	checkSameVersions(t, s, collIPs, "ips pruned with the creator still named", []stix.Object{org, ip2})
	del(ip2)
	prune(collIPs, 1)
	checkSameVersions(t, s, collIPs, "ips pruned of everything", nil)

	// The identities are still in the explicit collection.
	checkSameVersions(t, s, coll1, "coll1", []stix.Object{org, other})
	for _, tc := range []struct{ what, id, code string }{
		{"an explicit collection", coll1, hail.EINVALID},
		{"a missing collection", "7b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", hail.ENOTFOUND},
	} {
		_, err := s.PruneCollection(ctx, tc.id)
		wantCode(t, "PruneCollection of "+tc.what, err, tc.code)
	}
}

// testPruneDue deletes from the collections of API root "api": each
// deletion leaves the root due a prune, with a new mark; a prune that
// began before a deletion leaves the root due; store.PruneDue prunes the
// roots due and ends their due prunes.
func testPruneDue(t *testing.T, s store.Store) {
	setupFilters(t, s)
	due := func(what string, want ...string) map[string]int64 {
		t.Helper()
		marks, err := s.PrunesDue(ctx)
		if err != nil {
			t.Fatalf("PrunesDue: %v", err)
		}
		var got []string
		for root, mark := range marks {
			got = append(got, root)
			if mark <= 0 {
				t.Errorf("%s: root %q is due with mark %d, want a mark above 0", what, root, mark)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the roots due a prune are %q, want %q", what, got, want)
		}
		return marks
	}
	due("a new store")

	org := acme(t, "2020-01-01T00:00:00.000Z", "ACME")
	by := `,"created_by_ref":"` + acmeID + `"`
	ip1 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", by)
	ip2 := ind(t, 2, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2']", by)
	mustAdd(t, s, coll1, org, ip1, ip2)
	due("after adding")
	err := s.DeleteObject(ctx, coll1, ind(t, 9, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.9']", "").ID, store.Filter{})
	wantCode(t, "DeleteObject of an object the collection does not hold", err, hail.ENOTFOUND)
	due("after a deletion that deleted nothing")

	if err := s.DeleteObject(ctx, coll1, ip1.ID, store.Filter{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	first := due("after a deletion", "api")["api"]
	// A prune that read the mark before this deletion does not end it.
	if err := s.DeleteObject(ctx, coll1, ip2.ID, store.Filter{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	second := due("after a second deletion", "api")["api"]
	if second == first {
		t.Errorf("the mark stayed %d after a second deletion; want a new one", first)
	}
	if err := s.PruneDone(ctx, "api", first); err != nil {
		t.Fatalf("PruneDone: %v", err)
	}
	due("after PruneDone with the mark before the last deletion", "api")
	checkSameVersions(t, s, collIPs, "ips before the prune", []stix.Object{org})

	pruned, err := store.PruneDue(ctx, s)
	if err != nil {
		t.Fatalf("PruneDue: %v", err)
	}
	if !reflect.DeepEqual(pruned, map[string]int{"api": 1}) {
		t.Errorf("PruneDue pruned %v, want the creator from api's ips", pruned)
	}
	checkSameVersions(t, s, collIPs, "ips pruned", nil)
	due("after PruneDue")
	if pruned, err := store.PruneDue(ctx, s); err != nil || len(pruned) != 0 {
		t.Errorf("PruneDue again = %v, %v; want nothing pruned", pruned, err)
	}

	// A deletion from a filter collection leaves context in it too.
	ip3 := ind(t, 3, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.3']", by)
	mustAdd(t, s, coll1, ip3)
	if err := s.DeleteObject(ctx, collIPs, ip3.ID, store.Filter{}); err != nil {
		t.Fatalf("DeleteObject from a filter collection: %v", err)
	}
	due("after a deletion from a filter collection", "api")
	if n, err := store.PruneAPIRoot(ctx, s, "api"); err != nil || n != 1 {
		t.Errorf("PruneAPIRoot = %d, %v; want the creator pruned from ips", n, err)
	}
	due("after PruneAPIRoot")

	// Two roots due at once are both pruned.
	const otherColl = "5a0e9f7d-4b6c-4d3e-9c0b-b0c9d8e7f6a5"
	if err := s.CreateCollection(ctx, store.Collection{ID: otherColl, APIRoot: "other", Title: "Other"}); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	ip4 := ind(t, 4, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.4']", by)
	mustAdd(t, s, otherColl, ip4)
	mustAdd(t, s, coll1, ip4)
	for _, c := range []string{otherColl, coll1} {
		if err := s.DeleteObject(ctx, c, ip4.ID, store.Filter{}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
	}
	due("after deletions in two API roots", "api", "other")
	pruned, err = store.PruneDue(ctx, s)
	if err != nil {
		t.Fatalf("PruneDue: %v", err)
	}
	if !reflect.DeepEqual(pruned, map[string]int{"api": 1, "other": 0}) {
		t.Errorf("PruneDue pruned %v, want the creator from api's ips and nothing from other", pruned)
	}
	due("after PruneDue of two roots")

	// Deleting a filter collection leaves nothing to prune; deleting an
	// explicit one may.
	if err := s.DeleteCollection(ctx, collNone); err != nil {
		t.Fatalf("DeleteCollection of a filter collection: %v", err)
	}
	due("after deleting a filter collection")
	if err := s.DeleteCollection(ctx, coll1); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	due("after deleting an explicit collection", "api")
}
