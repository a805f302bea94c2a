package storetest

import (
	"fmt"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
)

// mixed adds, in this order: indicator 1 (two versions), malware 2,
// indicator 3, tool 4, malware 5, and returns them in date_added order.
func mixed(t *testing.T, s store.Store) (i1a, i1b, m2, i3, t4, m5 stix.Object) {
	i1a = indicator(t, 1, "2024-01-01T00:00:00.000Z")
	m2 = sdo(t, "malware", 2, "2.1", "2024-01-02T00:00:00.000Z")
	i3 = indicator(t, 3, "2024-01-03T00:00:00.000Z")
	t4 = sdo(t, "tool", 4, "2.1", "2024-01-04T00:00:00.000Z")
	i1b = indicator(t, 1, "2024-01-05T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	m5 = sdo(t, "malware", 5, "2.1", "2024-01-06T00:00:00.000Z")
	mustAdd(t, s, coll1, i1a, m2)
	mustAdd(t, s, coll2, i3) // another collection in between
	mustAdd(t, s, coll1, i3, t4, i1b, m5)
	return
}

func testFilterIDs(t *testing.T, s store.Store) {
	setup(t, s)
	i1a, i1b, m2, i3, _, m5 := mixed(t, s)
	check(t, s, coll1, store.Filter{IDs: []string{m5.ID, i3.ID}}, false, i3, m5)
	check(t, s, coll1, store.Filter{IDs: []string{i1a.ID}}, false, i1b)
	check(t, s, coll1, store.Filter{IDs: []string{i1a.ID}, Versions: []string{"all"}}, false, i1a, i1b)
	check(t, s, coll1, store.Filter{IDs: []string{m2.ID, id("malware", 99)}}, false, m2)
	check(t, s, coll1, store.Filter{IDs: []string{id("malware", 99)}}, false)
	check(t, s, coll2, store.Filter{IDs: []string{m2.ID, i3.ID}}, false, i3)
}

func testFilterTypes(t *testing.T, s store.Store) {
	setup(t, s)
	_, i1b, m2, i3, t4, m5 := mixed(t, s)
	check(t, s, coll1, store.Filter{Types: []string{"malware"}}, false, m2, m5)
	check(t, s, coll1, store.Filter{Types: []string{"indicator"}}, false, i3, i1b)
	check(t, s, coll1, store.Filter{Types: []string{"tool", "malware"}}, false, m2, t4, m5)
	check(t, s, coll1, store.Filter{Types: []string{"malware", "indicator", "tool"}}, false, m2, i3, t4, i1b, m5)
	check(t, s, coll1, store.Filter{Types: []string{"campaign"}}, false)
	check(t, s, coll1, store.Filter{Types: []string{"malware", "malware"}}, false, m2, m5)
	// Long lists, as a client may send.
	var types, ids []string
	for i := 0; i < 1000; i++ {
		types = append(types, fmt.Sprintf("x-type-%d", i))
		ids = append(ids, id("indicator", 1000+i))
	}
	check(t, s, coll1, store.Filter{Types: append(types, "tool")}, false, t4)
	check(t, s, coll1, store.Filter{Types: append(types[:70], "tool", "malware")}, false, m2, t4, m5)
	check(t, s, coll1, store.Filter{IDs: append(ids, m5.ID)}, false, m5)
	check(t, s, coll1, store.Filter{Types: []string{"campaign", "tool"}}, false, t4)
}

func testFilterCombined(t *testing.T, s store.Store) {
	setup(t, s)
	i1a, i1b, m2, i3, t4, m5 := mixed(t, s)
	all := []string{"all"}
	check(t, s, coll1, store.Filter{Types: []string{"indicator"}, Versions: all}, false, i1a, i3, i1b)
	check(t, s, coll1, store.Filter{Types: []string{"indicator", "tool"}, Versions: []string{"first"}}, false, i1a, i3, t4)
	check(t, s, coll1, store.Filter{Types: []string{"malware"}, IDs: []string{m5.ID, i3.ID}}, false, m5)
	check(t, s, coll1, store.Filter{Types: []string{"tool"}, IDs: []string{m5.ID}}, false)
	check(t, s, coll1, store.Filter{IDs: []string{i1a.ID, m2.ID}, Versions: all, Limit: 2}, true, i1a, m2)
	check(t, s, coll1, store.Filter{IDs: []string{i1a.ID}, Versions: []string{i1a.Modified}}, false, i1a)
	check(t, s, coll1, store.Filter{Types: []string{"indicator"}, SpecVersions: []string{"2.1"}, Versions: all}, false, i1a, i3, i1b)
	check(t, s, coll1, store.Filter{Types: []string{"indicator"}, SpecVersions: []string{"2.0"}, Versions: all}, false)
	p := check(t, s, coll1, store.Filter{Versions: all, Limit: 2}, true, i1a, m2)
	if len(p.Entries) == 2 {
		after := p.Entries[1].DateAdded
		check(t, s, coll1, store.Filter{Types: []string{"indicator", "malware"}, Versions: all, AddedAfter: after}, false, i3, i1b, m5)
		check(t, s, coll1, store.Filter{Types: []string{"indicator"}, IDs: []string{i1a.ID}, Versions: all, AddedAfter: after}, false, i1b)
		check(t, s, coll1, store.Filter{Types: []string{"indicator", "malware"}, AddedAfter: after, HeadersOnly: true, Limit: 1}, true, i3)
	}
}

func testFilterAddedAfter(t *testing.T, s store.Store) {
	setup(t, s)
	a := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	b := indicator(t, 2, "2024-01-01T00:00:00.000Z")
	c := indicator(t, 3, "2024-01-01T00:00:00.000Z")
	res := mustAdd(t, s, coll1, a, b, c)
	check(t, s, coll1, store.Filter{AddedAfter: res[0].DateAdded.Add(-time.Microsecond)}, false, a, b, c)
	// Exclusive (TAXII 2.1 §3.4: added after).
	check(t, s, coll1, store.Filter{AddedAfter: res[0].DateAdded}, false, b, c)
	check(t, s, coll1, store.Filter{AddedAfter: res[2].DateAdded}, false)
	// Instants between microseconds.
	check(t, s, coll1, store.Filter{AddedAfter: res[1].DateAdded.Add(-500 * time.Nanosecond)}, false, b, c)
	check(t, s, coll1, store.Filter{AddedAfter: res[1].DateAdded.Add(500 * time.Nanosecond)}, false, c)
	// Far past and far future.
	check(t, s, coll1, store.Filter{AddedAfter: time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC)}, false, a, b, c)
	check(t, s, coll1, store.Filter{AddedAfter: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, false)
	// Not UTC: compared as an instant.
	est := time.FixedZone("EST", -5*3600)
	check(t, s, coll1, store.Filter{AddedAfter: res[0].DateAdded.In(est)}, false, b, c)
}

func testFilterInvalidVersion(t *testing.T, s store.Store) {
	setup(t, s)
	mustAdd(t, s, coll1, indicator(t, 1, "2024-01-01T00:00:00.000Z"))
	for _, v := range []string{"yesterday", "2024-13-01T00:00:00Z", ""} {
		_, err := s.Objects(ctx, coll1, store.Filter{Versions: []string{"last", v}})
		wantCode(t, "Objects with match[version] "+v, err, hail.EINVALID)
	}
}
