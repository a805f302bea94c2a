package storetest

import (
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
