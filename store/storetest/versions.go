package storetest

import (
	"testing"

	"hail/stix"
	"hail/store"
	"hail/taxii"
)

// threeVersions adds versions 2, 3, 1 of indicator 1 (date_added order is
// not version order), then indicator 2, and returns the versions in version
// order and indicator 2.
func threeVersions(t *testing.T, s store.Store) (v1, v2, v3, other stix.Object) {
	v1 = indicator(t, 1, "2024-01-01T00:00:00.000Z")
	v2 = indicator(t, 1, "2024-02-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	v3 = indicator(t, 1, "2024-03-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	other = indicator(t, 2, "2024-01-15T00:00:00.000Z")
	mustAdd(t, s, coll1, v2, v3)
	mustAdd(t, s, coll1, v1, other)
	return
}

func testVersionsSelect(t *testing.T, s store.Store) {
	setup(t, s)
	v1, v2, v3, other := threeVersions(t, s)
	for _, tc := range []struct {
		versions []string
		want     []stix.Object
	}{
		{nil, []stix.Object{v3, other}},
		{[]string{"last"}, []stix.Object{v3, other}},
		{[]string{"first"}, []stix.Object{v1, other}},
		{[]string{"all"}, []stix.Object{v2, v3, v1, other}},
		{[]string{"first", "last"}, []stix.Object{v3, v1, other}},
		{[]string{"last", "all"}, []stix.Object{v2, v3, v1, other}},
		{[]string{v2.Modified}, []stix.Object{v2}},
		// Timestamps are instants, whatever their spelling.
		{[]string{"2024-02-01T00:00:00Z"}, []stix.Object{v2}},
		{[]string{"2024-02-01T00:00:00.000000000Z"}, []stix.Object{v2}},
		{[]string{v1.Modified, v2.Modified}, []stix.Object{v2, v1}},
		{[]string{"first", v2.Modified}, []stix.Object{v2, v1, other}},
		{[]string{v2.Modified, "last"}, []stix.Object{v2, v3, other}},
		{[]string{other.Modified}, []stix.Object{other}},
		{[]string{"2023-01-01T00:00:00.000Z"}, nil},
	} {
		check(t, s, coll1, store.Filter{Versions: tc.versions}, false, tc.want...)
	}
	check(t, s, coll1, store.Filter{IDs: []string{v1.ID}, Versions: []string{"first", "last"}}, false, v3, v1)
}

func testVersionsUnversioned(t *testing.T, s store.Store) {
	setup(t, s)
	// Neither modified nor created: the object has one version, and its
	// date_added stands for the version (TAXII 2.1 §3.4.1, "a
	// server-consistent value").
	sco := MustObject(t, `{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)
	created := MustObject(t, `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}`)
	res := mustAdd(t, s, coll1, sco, created)
	again := mustAdd(t, s, coll1, sco)
	if !again[0].Duplicate || !again[0].DateAdded.Equal(res[0].DateAdded) {
		t.Errorf("re-adding an unversioned object: %+v, want a duplicate added at %v", again[0], res[0].DateAdded)
	}
	for _, vs := range [][]string{nil, {"first"}, {"last"}, {"all"}} {
		check(t, s, coll1, store.Filter{Versions: vs}, false, sco, created)
	}
	// An object with only created is versioned by it.
	check(t, s, coll1, store.Filter{Versions: []string{"2017-01-20T00:00:00Z"}}, false, created)
	check(t, s, coll1, store.Filter{Versions: []string{taxii.FormatTimestamp(res[0].DateAdded)}}, false, sco)
}

func testVersionsAfterDeletes(t *testing.T, s store.Store) {
	setup(t, s)
	v1, v2, v3, other := threeVersions(t, s)
	// Deleting the last version makes the previous one last.
	if err := s.DeleteObject(ctx, coll1, v3.ID, store.Filter{Versions: []string{v3.Modified}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	check(t, s, coll1, store.Filter{}, false, v2, other)
	check(t, s, coll1, store.Filter{Versions: []string{"first"}}, false, v1, other)
	// Deleting the first makes the next one first, and it is now also last.
	if err := s.DeleteObject(ctx, coll1, v1.ID, store.Filter{Versions: []string{"first"}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	check(t, s, coll1, store.Filter{Versions: []string{"first"}}, false, v2, other)
	check(t, s, coll1, store.Filter{Versions: []string{"last"}}, false, v2, other)
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, v2, other)
	// A version older than every remaining one becomes first, not last.
	mustAdd(t, s, coll1, v1)
	check(t, s, coll1, store.Filter{Versions: []string{"first"}}, false, other, v1)
	check(t, s, coll1, store.Filter{}, false, v2, other)
	// A newer version becomes last.
	mustAdd(t, s, coll1, v3)
	check(t, s, coll1, store.Filter{Versions: []string{"first", "last"}}, false, other, v1, v3)
}

func testSpecVersions(t *testing.T, s store.Store) {
	setup(t, s)
	// Object 1: two 2.0 versions, then a 2.1 version. Object 2: its 2.0
	// version is later than its 2.1 one. Object 3: 2.1 only.
	a1 := sdo(t, "malware", 1, "2.0", "2024-01-01T00:00:00.000Z")
	a2 := sdo(t, "malware", 1, "2.0", "2024-02-01T00:00:00.000Z")
	a3 := sdo(t, "malware", 1, "2.1", "2024-03-01T00:00:00.000Z")
	b1 := sdo(t, "malware", 2, "2.1", "2024-01-01T00:00:00.000Z")
	b2 := sdo(t, "malware", 2, "2.0", "2024-02-01T00:00:00.000Z")
	c1 := sdo(t, "malware", 3, "2.1", "2024-01-01T00:00:00.000Z")
	mustAdd(t, s, coll1, a1, a2, b1)
	mustAdd(t, s, coll1, a3, b2, c1)
	both := []string{"2.0", "2.1"}
	for _, tc := range []struct {
		specs, versions []string
		want            []stix.Object
	}{
		// Without match[spec_version], only each object's newest spec
		// version is visible (TAXII 2.1 §3.4.1).
		{nil, nil, []stix.Object{b1, a3, c1}},
		{nil, []string{"first"}, []stix.Object{b1, a3, c1}},
		{nil, []string{"all"}, []stix.Object{b1, a3, c1}},
		{nil, []string{a2.Modified}, nil},
		{[]string{"2.0"}, nil, []stix.Object{a2, b2}},
		{[]string{"2.0"}, []string{"first"}, []stix.Object{a1, b2}},
		{[]string{"2.0"}, []string{"all"}, []stix.Object{a1, a2, b2}},
		{[]string{"2.0"}, []string{a2.Modified}, []stix.Object{a2, b2}},
		{[]string{"2.1"}, []string{"all"}, []stix.Object{b1, a3, c1}},
		// Several spec versions: first and last are taken over all of them.
		{both, nil, []stix.Object{a3, b2, c1}},
		{both, []string{"first"}, []stix.Object{a1, b1, c1}},
		{both, []string{"first", "last"}, []stix.Object{a1, b1, a3, b2, c1}},
		{both, []string{"all"}, []stix.Object{a1, a2, b1, a3, b2, c1}},
		{[]string{"2.2"}, []string{"all"}, nil},
	} {
		check(t, s, coll1, store.Filter{SpecVersions: tc.specs, Versions: tc.versions}, false, tc.want...)
	}
}

func testSpecVersionsAfterDelete(t *testing.T, s store.Store) {
	setup(t, s)
	a1 := sdo(t, "malware", 1, "2.0", "2024-01-01T00:00:00.000Z")
	a2 := sdo(t, "malware", 1, "2.1", "2024-02-01T00:00:00.000Z")
	mustAdd(t, s, coll1, a1, a2)
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, a2)
	// Once the 2.1 version is gone, 2.0 is the newest spec version held.
	if err := s.DeleteObject(ctx, coll1, a2.ID, store.Filter{SpecVersions: []string{"2.1"}}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	check(t, s, coll1, store.Filter{}, false, a1)
	// And a 2.1 version hides it again.
	mustAdd(t, s, coll1, a2)
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, a2)
	check(t, s, coll1, store.Filter{SpecVersions: []string{"2.0"}}, false, a1)
}
