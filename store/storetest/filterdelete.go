package storetest

import (
	"testing"

	"hail/store"
)

// testFilterCollectionDelete checks that a version deleted from an explicit
// collection leaves the API root's filter collections too, unless another
// explicit collection of the root still holds it: a producer withdrawing a
// false positive must see it leave the "ips" feed that firewalls read, in
// its envelope and in its IOC index.
func testFilterCollectionDelete(t *testing.T, s store.Store) {
	setupFilters(t, s)
	ip1 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", "")
	ip1b := ind(t, 1, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.9']", "")
	ip2 := ind(t, 2, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2']", "")
	mustAdd(t, s, coll1, ip1, ip1b, ip2)
	mustAdd(t, s, coll2, ip2)
	checkContents(t, s, collIPs, "ips", ip1, ip1b, ip2)
	checkIOCs(t, s, collIPs, store.IOCFilter{}, key("ipv4", "198.51.100.9", 1), key("ipv4", "198.51.100.2", 2))
	del := func(coll, id string, f store.Filter) {
		t.Helper()
		if err := s.DeleteObject(ctx, coll, id, f); err != nil {
			t.Fatalf("DeleteObject(%s): %v", id, err)
		}
	}

	// The newer version is withdrawn: the filter collections show the
	// older one again.
	del(coll1, ip1.ID, store.Filter{Versions: []string{"2024-03-01T00:00:00.000Z"}})
	checkContents(t, s, collIPs, "ips after withdrawing a version", ip1, ip2)
	checkContents(t, s, collAll, "all after withdrawing a version", ip1, ip2)
	checkIOCs(t, s, collIPs, store.IOCFilter{}, key("ipv4", "198.51.100.1", 1), key("ipv4", "198.51.100.2", 2))
	if ms, err := s.LookupIOCs(ctx, collIPs, []store.IOCValue{iv("ipv4", "198.51.100.9")}, store.IOCFilter{}); err != nil || len(ms) != 0 {
		t.Errorf("lookup of the withdrawn version's value in ips: %v, %v; want nothing", matchKeys(ms), err)
	}

	// coll2 holds ip2 too: deleting it from coll1 keeps it in the filter
	// collections, which hold what the root's explicit collections hold.
	del(coll1, ip2.ID, store.Filter{})
	checkContents(t, s, collIPs, "ips while coll2 holds ip2", ip1, ip2)

	// Gone from every explicit collection, gone from the filter ones.
	del(coll2, ip2.ID, store.Filter{})
	del(coll1, ip1.ID, store.Filter{})
	checkContents(t, s, collIPs, "ips after deleting everything")
	checkContents(t, s, collAll, "all after deleting everything")
	checkIOCs(t, s, collIPs, store.IOCFilter{})
	checkContents(t, s, collNone, "the other API root's collection")
}

// testFilterCollectionDeleteCollection checks that deleting an explicit
// collection withdraws its versions from the filter collections, but not
// the versions another explicit collection holds too.
func testFilterCollectionDeleteCollection(t *testing.T, s store.Store) {
	setupFilters(t, s)
	ip1 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", "")
	ip1b := ind(t, 1, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.9']", "")
	ip2 := ind(t, 2, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2']", "")
	ip3 := ind(t, 3, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.3']", "")
	mustAdd(t, s, coll2, ip1)
	mustAdd(t, s, coll1, ip1b, ip2, ip3)
	mustAdd(t, s, coll2, ip3)
	checkContents(t, s, collIPs, "ips", ip1, ip1b, ip2, ip3)
	if err := s.DeleteCollection(ctx, coll1); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	// coll2 holds the older version of ip1 and ip3: they stay, and ip1's
	// older version is the current one again.
	checkContents(t, s, collIPs, "ips after deleting coll1", ip1, ip3)
	checkContents(t, s, collAll, "all after deleting coll1", ip1, ip3)
	checkIOCs(t, s, collIPs, store.IOCFilter{}, key("ipv4", "198.51.100.1", 1), key("ipv4", "198.51.100.3", 3))
	if err := s.DeleteCollection(ctx, coll2); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	checkContents(t, s, collIPs, "ips after deleting both")
	checkIOCs(t, s, collIPs, store.IOCFilter{})
}
