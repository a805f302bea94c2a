package storetest

import (
	"reflect"
	"strings"
	"testing"

	"hail/stix"
	"hail/store"
)

// testIOCSpecVersions pins which version of an object whose versions have
// different spec_versions gives a collection's rows: the version a poll
// without match[version] or match[spec_version] returns, the latest of the
// newest spec_version (TAXII 2.1 §3.4.1), even when a version of an older
// spec_version was modified later.
func testIOCSpecVersions(t *testing.T, s store.Store) {
	setup(t, s)
	spec20 := func(o stix.Object) stix.Object {
		t.Helper()
		return MustObject(t, strings.Replace(string(o.Raw), `"spec_version":"2.1"`, `"spec_version":"2.0"`, 1))
	}
	late20 := spec20(ind(t, 1, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.20']", ""))
	early21 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.21']", "")
	later20 := spec20(ind(t, 1, "2024-04-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.22']", ""))
	other := ind(t, 2, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'a.example']", "")
	mustAdd(t, s, coll1, late20, other)
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("ipv4", "198.51.100.20", 1), key("domain", "a.example", 2))

	// A 2.1 version hides the 2.0 one, though modified earlier, in
	// listings (either way a backend reads them), lookups and polls alike.
	res := mustAdd(t, s, coll1, early21)
	shows := func(value string, shown stix.Object) store.IOCPage {
		t.Helper()
		row := key("ipv4", value, 1)
		p := checkIOCs(t, s, coll1, store.IOCFilter{}, key("domain", "a.example", 2), row)
		checkIOCs(t, s, coll1, store.IOCFilter{Types: []string{"ipv4"}}, row)
		got, err := s.LookupIOCs(ctx, coll1, []store.IOCValue{iv("ipv4", "198.51.100.20"), iv("ipv4", "198.51.100.21"),
			iv("ipv4", "198.51.100.22")}, store.IOCFilter{})
		if g, want := matchKeys(got), []string{value + " => " + row}; err != nil || !reflect.DeepEqual(g, want) {
			t.Errorf("LookupIOCs: %v\n got %v\nwant %v", err, g, want)
		}
		check(t, s, coll1, store.Filter{IDs: []string{shown.ID}}, false, shown)
		if len(p.IOCs) == 2 {
			if c := p.IOCs[1]; !c.Version.Equal(shown.Version) || c.Modified != shown.Modified {
				t.Errorf("row %s: Version %v, Modified %s; want %v, %s", value, c.Version, c.Modified, shown.Version, shown.Modified)
			}
		}
		return p
	}
	// Its rows come with its own entry's date_added.
	if p := shows("198.51.100.21", early21); len(p.IOCs) == 2 && !p.IOCs[1].DateAdded.Equal(res[0].DateAdded) {
		t.Errorf("DateAdded %v, want %v, the 2.1 version's entry's", p.IOCs[1].DateAdded, res[0].DateAdded)
	}

	// A later 2.0 version still changes nothing.
	mustAdd(t, s, coll1, later20)
	shows("198.51.100.21", early21)

	// Without its 2.1 version, the object shows its latest 2.0 one.
	if err := s.DeleteObject(ctx, coll1, early21.ID, store.Filter{SpecVersions: []string{"2.1"}}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	shows("198.51.100.22", later20)
}
