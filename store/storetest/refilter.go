package storetest

import (
	"fmt"
	"testing"

	"hail"
	"hail/stix"
	"hail/store"
)

func testFilterCollectionRefilter(t *testing.T, s store.Store) {
	setupFilters(t, s)
	by := `,"created_by_ref":"` + acmeID + `"`
	org := acme(t, "2020-01-01T00:00:00.000Z", "ACME")
	d1 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'old.example']", by)
	d2 := ind(t, 1, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", by) // a new version of d1
	dom := ind(t, 2, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'evil.example']", "")
	v6 := ind(t, 3, "2024-02-01T00:00:00.000Z", "[ipv6-addr:value = '2001:db8::1']", by)
	cve := vuln(t, 4, "CVE-2024-3094")
	amber := amberMarking(t)
	lone := ind(t, 5, "2024-02-01T00:00:00.000Z", "[url:value = 'http://lone.example/']",
		`,"labels":["lonely"],"object_marking_refs":["`+tlpAmber2+`"]`)
	// More than one batch of versions to leave.
	var many []stix.Object
	for n := 10; n < 610; n++ {
		many = append(many, ind(t, n, "2024-02-01T00:00:00.000Z", fmt.Sprintf("[ipv4-addr:value = '10.0.%d.%d']", n/256, n%256), ""))
	}
	mustAdd(t, s, coll1, org, amber, d1, dom, v6, cve, lone)
	mustAdd(t, s, coll2, d2)
	mustAdd(t, s, coll2, many...)
	mine := store.Collection{ID: "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", APIRoot: "api", Title: "Mine", Kind: store.KindFilter, Filter: "{}"}
	if err := s.CreateCollection(ctx, mine); err != nil {
		t.Fatal(err)
	}
	checkSameVersions(t, s, collIPs, "ips", append([]stix.Object{org, d2, v6}, many...))
	dateAdded := func(coll string, o stix.Object) string {
		for _, e := range walk(t, s, coll, store.Filter{Versions: []string{"all"}}) {
			if label(e.Object) == label(o) {
				return e.DateAdded.String()
			}
		}
		return "absent"
	}
	orgAdded := dateAdded(collIPs, org)

	// ips now holds domains: the addresses leave, the identity they
	// named stays where it was, and the domains join.
	if err := s.RefilterCollection(ctx, collIPs, "observables=domain"); err != nil {
		t.Fatalf("RefilterCollection: %v", err)
	}
	checkSameVersions(t, s, collIPs, "ips refiltered to domains", []stix.Object{org, d1, dom})
	if c, err := s.Collection(ctx, "api", "ips"); err != nil || c.Filter != `{"observables":["domain"]}` {
		t.Errorf("stored filter after refilter: %+v, %v", c, err)
	}
	if got := dateAdded(collIPs, org); got != orgAdded {
		t.Errorf("the identity that stayed has date_added %s, was %s", got, orgAdded)
	}
	checkIOCs(t, s, collIPs, store.IOCFilter{}, key("domain", "old.example", 1), key("domain", "evil.example", 2))

	// A collection holding both versions of d1 lets the newer go: the
	// older is then the object's latest. The marking definition it held
	// for the empty filter goes too: no domain names it.
	if err := s.RefilterCollection(ctx, mine.ID, `{"observables":["domain"]}`); err != nil {
		t.Fatalf("RefilterCollection: %v", err)
	}
	checkSameVersions(t, s, mine.ID, "mine refiltered to domains", []stix.Object{org, d1, dom})
	if got := entryLabels(walk(t, s, mine.ID, store.Filter{IDs: []string{d1.ID}})); len(got) != 1 || got[0] != label(d1) {
		t.Errorf("latest version of %s in mine: %v, want %s", d1.ID, got, label(d1))
	}

	// The identity goes once nothing left names it; the marking the new
	// member names comes back.
	if err := s.RefilterCollection(ctx, mine.ID, "labels=lonely"); err != nil {
		t.Fatalf("RefilterCollection: %v", err)
	}
	checkSameVersions(t, s, mine.ID, "mine refiltered to a label", []stix.Object{lone, amber})
	// An identity the filter matches stays although nothing names it.
	if err := s.RefilterCollection(ctx, mine.ID, "types=identity"); err != nil {
		t.Fatalf("RefilterCollection: %v", err)
	}
	checkSameVersions(t, s, mine.ID, "mine refiltered to identities", []stix.Object{org})

	// Arrivals are matched against the new filter.
	late := ind(t, 700, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'late.example']", "")
	addr := ind(t, 701, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.7']", "")
	mustAdd(t, s, coll1, late, addr)
	checkSameVersions(t, s, collIPs, "ips after arrivals", []stix.Object{org, d1, dom, late})

	// Refused: nothing changes.
	before := contents(t, s, collIPs)
	for _, tc := range []struct {
		what, id, filter, code string
	}{
		{"an explicit collection", coll1, "{}", hail.EINVALID},
		{"a missing collection", "7b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "{}", hail.ENOTFOUND},
		{"a bad filter", collIPs, "observables=ip", hail.EINVALID},
	} {
		wantCode(t, "RefilterCollection of "+tc.what, s.RefilterCollection(ctx, tc.id, tc.filter), tc.code)
	}
	if c, _ := s.Collection(ctx, "api", coll1); c.Kind != store.KindExplicit || c.Filter != "" {
		t.Errorf("a refused refilter changed coll1: %+v", c)
	}
	if got := contents(t, s, collIPs); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("a refused refilter changed ips:\n got %v\nwant %v", got, before)
	}
}

// testFilterCollectionRefilterConcurrent refilters a collection while
// writers add to its API root: it ends holding every version the new
// filter matches, once, and none of the others, and the identity that
// the versions leaving it and the versions arriving name.
func testFilterCollectionRefilterConcurrent(t *testing.T, s store.Store) {
	setup(t, s)
	const before, writers, batches, perBatch = 1200, 3, 10, 20
	org := acme(t, "2020-01-01T00:00:00.000Z", "ACME")
	mustAdd(t, s, coll1, org)
	by := `,"created_by_ref":"` + acmeID + `"`
	obj := func(n int) stix.Object {
		if n%2 == 0 {
			extra := ""
			if n >= before {
				extra = by
			}
			return ind(t, n, "2024-02-01T00:00:00.000Z", fmt.Sprintf("[domain-name:value = 'd%d.example']", n), extra)
		}
		return ind(t, n, "2024-02-01T00:00:00.000Z", fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.%d']", n>>16&255, n>>8&255, n&255), by)
	}
	var objs []stix.Object
	for n := 0; n < before; n++ {
		objs = append(objs, obj(n))
	}
	mustAdd(t, s, coll1, objs...)
	if err := s.CreateCollection(ctx, filterColls[1]); err != nil { // ips
		t.Fatal(err)
	}
	whileWriting(t, s, writers, batches, perBatch, func(n int) stix.Object { return obj(before + n) }, func() error {
		return s.RefilterCollection(ctx, collIPs, "observables=domain")
	})
	total := before + writers*batches*perBatch
	count := map[string]int{}
	for _, l := range contents(t, s, collIPs) {
		count[l]++
	}
	for n := 0; n < total; n++ {
		want := 1 - n%2
		if l := label(obj(n)); count[l] != want {
			t.Errorf("ips holds %s %d times, want %d", l, count[l], want)
		}
	}
	if l := label(org); count[l] != 1 {
		t.Errorf("ips holds %s %d times, want once: the arrivals name it", l, count[l])
	}
	if p := listIOCs(t, s, collIPs, store.IOCFilter{Limit: 10000}); len(p.IOCs) != total/2 {
		t.Errorf("ips has %d IOC rows, want %d", len(p.IOCs), total/2)
	}
}

// testFilterCollectionRefilterArrival refilters a collection whose creator
// only the versions leaving it name, while a version naming it arrives
// between the store's scan of what the collection holds and its deletion
// of what nothing names: the creator stays.
func testFilterCollectionRefilterArrival(t *testing.T, s store.Store, hook func(store.Store, func())) {
	setupFilters(t, s)
	by := `,"created_by_ref":"` + acmeID + `"`
	org := acme(t, "2020-01-01T00:00:00.000Z", "ACME")
	ip := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", by)
	mustAdd(t, s, coll1, org, ip)
	checkSameVersions(t, s, collIPs, "ips", []stix.Object{org, ip})

	late := ind(t, 2, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'late.example']", by)
	called := false
	hook(s, func() {
		called = true
		mustAdd(t, s, coll1, late)
	})
	if err := s.RefilterCollection(ctx, collIPs, "observables=domain"); err != nil {
		t.Fatalf("RefilterCollection: %v", err)
	}
	if !called {
		t.Fatalf("the store did not call the hook: it found nothing to prune")
	}
	checkSameVersions(t, s, collIPs, "ips refiltered to domains, with an arrival naming the creator", []stix.Object{org, late})

	// Nothing arrives: the creator goes with what named it.
	hook(s, nil)
	if err := s.RefilterCollection(ctx, collIPs, "observables=url"); err != nil {
		t.Fatalf("RefilterCollection: %v", err)
	}
	checkSameVersions(t, s, collIPs, "ips refiltered to URLs", nil)
}
