package storetest

import (
	"bytes"
	"testing"

	"hail"
	"hail/stix"
	"hail/store"
)

// sameObject reports the differences between a returned object and the one
// added; raw bytes must match byte for byte unless headersOnly.
func sameObject(t *testing.T, got, want stix.Object, headersOnly bool) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || got.SpecVersion != want.SpecVersion ||
		got.Created != want.Created || got.Modified != want.Modified || got.Revoked != want.Revoked ||
		!got.Version.Equal(want.Version) {
		t.Errorf("object header:\n got %+v\nwant %+v", header(got), header(want))
	}
	if headersOnly {
		if got.Raw != nil {
			t.Errorf("%s: Raw = %q with HeadersOnly, want nil", want.ID, got.Raw)
		}
		return
	}
	if !bytes.Equal(got.Raw, want.Raw) {
		t.Errorf("%s: raw bytes differ:\n got %q\nwant %q", want.ID, got.Raw, want.Raw)
	}
}

// header is o without its raw bytes, for messages.
func header(o stix.Object) stix.Object {
	o.Raw = nil
	return o
}

func testAddAndGet(t *testing.T, s store.Store) {
	setup(t, s)
	objs := []stix.Object{
		// Custom properties, odd spacing, escapes, non-ASCII and number
		// spellings must come back exactly as sent.
		MustObject(t, "{ \"type\" : \"x-acme-widget\",\n\t\"id\":\"x-acme-widget--6f5c2a86-a8b1-4b1e-9d4c-0d2f7c9e8a11\",\"spec_version\": \"2.1\" ,"+
			"\"created\":\"2024-03-01T10:00:00Z\", \"modified\":\"2024-03-01T10:00:00.123456789Z\",\r\n"+
			"  \"x_acme_note\" : \"caf\\u00e9 \u2615 \\\"quoted\\\"\",\"x_acme_n\": [1, 2.50, 1e3, -0], \"x_acme_obj\":{}\n}"),
		MustObject(t, `{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Poison Ivy","is_family":true,"revoked":true}`),
		// An SCO without spec_version, created or modified: unversioned.
		MustObject(t, `{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`),
	}
	res := mustAdd(t, s, coll1, objs...)
	for i, r := range res {
		if r.ID != objs[i].ID || !r.Version.Equal(objs[i].Version) || r.Duplicate || r.DateAdded.IsZero() {
			t.Errorf("result %d = %+v, want ID %s, Version %v, not a duplicate, a date_added", i, r, objs[i].ID, objs[i].Version)
		}
	}
	p, err := s.Objects(ctx, coll1, store.Filter{})
	if err != nil {
		t.Fatalf("Objects: %v", err)
	}
	if len(p.Entries) != len(objs) || p.More {
		t.Fatalf("Objects: %d entries, More %v; want %d, false", len(p.Entries), p.More, len(objs))
	}
	for i, e := range p.Entries {
		sameObject(t, e.Object, objs[i], false)
		if !e.DateAdded.Equal(res[i].DateAdded) {
			t.Errorf("%s: DateAdded %v, want %v as AddObjects said", objs[i].ID, e.DateAdded, res[i].DateAdded)
		}
		if e.DateAdded.Nanosecond()%1000 != 0 {
			t.Errorf("%s: DateAdded %v has sub-microsecond digits", objs[i].ID, e.DateAdded)
		}
	}
	if !p.Entries[1].Object.Revoked {
		t.Errorf("revoked object read back with Revoked false")
	}
	if !p.Entries[2].Object.Version.IsZero() {
		t.Errorf("unversioned object read back with Version %v, want zero", p.Entries[2].Object.Version)
	}
}

func testAddNothing(t *testing.T, s store.Store) {
	setup(t, s)
	res, err := s.AddObjects(ctx, coll1, nil)
	if err != nil || len(res) != 0 {
		t.Errorf("AddObjects(nil) = %v, %v; want no results, no error", res, err)
	}
	check(t, s, coll1, store.Filter{}, false)
}

func testDuplicateVersionIgnored(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	first := mustAdd(t, s, coll1, v1)
	// Same id and version, different bytes: still the same version.
	again := MustObject(t, `{"modified":"2024-01-01T00:00:00.000Z","id":"`+v1.ID+`","type":"indicator","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`)
	res := mustAdd(t, s, coll1, again)
	if !res[0].Duplicate || !res[0].DateAdded.Equal(first[0].DateAdded) || res[0].ID != v1.ID || !res[0].Version.Equal(v1.Version) {
		t.Errorf("re-adding a version: %+v, want Duplicate with the original DateAdded %v", res[0], first[0].DateAdded)
	}
	p := check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, v1)
	if len(p.Entries) == 1 {
		sameObject(t, p.Entries[0].Object, v1, false)
		if !p.Entries[0].DateAdded.Equal(first[0].DateAdded) {
			t.Errorf("DateAdded changed to %v, want %v", p.Entries[0].DateAdded, first[0].DateAdded)
		}
	}
}

func testDuplicateWithinCall(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	other := indicator(t, 2, "2024-01-01T00:00:00.000Z")
	res := mustAdd(t, s, coll1, v1, other, v1)
	if res[0].Duplicate || res[1].Duplicate {
		t.Errorf("first occurrences reported as duplicates: %+v", res)
	}
	if !res[2].Duplicate || !res[2].DateAdded.Equal(res[0].DateAdded) {
		t.Errorf("second occurrence in one call: %+v, want Duplicate with DateAdded %v", res[2], res[0].DateAdded)
	}
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, v1, other)
}

func testDuplicateSameInstant(t *testing.T, s store.Store) {
	setup(t, s)
	// Versions are instants: these two modified values are the same one.
	v1 := indicator(t, 1, "2024-01-01T00:00:00.100Z")
	same := indicator(t, 1, "2024-01-01T00:00:00.1Z", "2024-01-01T00:00:00.100Z")
	mustAdd(t, s, coll1, v1)
	res := mustAdd(t, s, coll1, same)
	if !res[0].Duplicate {
		t.Errorf("modified %q after %q: not a duplicate", same.Modified, v1.Modified)
	}
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, v1)
}

func testNewVersionIsNewEntry(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	v2 := indicator(t, 1, "2024-02-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	r1 := mustAdd(t, s, coll1, v1)
	r2 := mustAdd(t, s, coll1, v2)
	if r2[0].Duplicate || !r2[0].DateAdded.After(r1[0].DateAdded) {
		t.Errorf("new version: %+v, want a new entry added after %v", r2[0], r1[0].DateAdded)
	}
	if r1[0].NewVersion || !r2[0].NewVersion {
		t.Errorf("NewVersion of the first and second versions: %v, %v; want false, true", r1[0].NewVersion, r2[0].NewVersion)
	}
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, v1, v2)
	check(t, s, coll1, store.Filter{}, false, v2)

	// Within one call, in another collection: the first version met is
	// new, the next a new version; a duplicate is neither.
	r := mustAdd(t, s, coll2, v2, v1, v1)
	if r[0].NewVersion || !r[1].NewVersion || r[2].NewVersion || !r[2].Duplicate {
		t.Errorf("one call of v2, v1, v1 into another collection: %+v; want NewVersion false, true, and a duplicate", r)
	}
}

func testSameVersionInTwoCollections(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	r1 := mustAdd(t, s, coll1, v1)
	r2 := mustAdd(t, s, coll2, v1)
	if r2[0].Duplicate || !r2[0].DateAdded.After(r1[0].DateAdded) {
		t.Errorf("adding to a second collection: %+v, want a new entry added after %v", r2[0], r1[0].DateAdded)
	}
	for _, c := range []string{coll1, coll2} {
		p := check(t, s, c, store.Filter{}, false, v1)
		if len(p.Entries) == 1 {
			sameObject(t, p.Entries[0].Object, v1, false)
		}
	}
}

func testAddToMissingCollection(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	res, err := s.AddObjects(ctx, "0b0f5a5e-5b8e-4c1e-9a43-6a8b2a1f0c00", []stix.Object{v1})
	wantCode(t, "AddObjects to a missing collection", err, hail.ENOTFOUND)
	if res != nil {
		t.Errorf("AddObjects to a missing collection returned results %+v", res)
	}
	// Nothing was written: the version is new to an existing collection,
	// and no collection shows it.
	check(t, s, coll2, store.Filter{}, false)
	r := mustAdd(t, s, coll1, v1)
	if r[0].Duplicate {
		t.Errorf("version first seen by a failed add counts as a duplicate")
	}
}

func testObjectsOfMissingCollection(t *testing.T, s store.Store) {
	setup(t, s)
	_, err := s.Objects(ctx, "0b0f5a5e-5b8e-4c1e-9a43-6a8b2a1f0c00", store.Filter{})
	wantCode(t, "Objects of a missing collection", err, hail.ENOTFOUND)
	err = s.DeleteObject(ctx, "0b0f5a5e-5b8e-4c1e-9a43-6a8b2a1f0c00", id("indicator", 1), store.Filter{})
	wantCode(t, "DeleteObject in a missing collection", err, hail.ENOTFOUND)
}

func testHeadersOnly(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	sco := MustObject(t, `{"type":"domain-name","id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"example.com"}`)
	res := mustAdd(t, s, coll1, v1, sco)
	p := check(t, s, coll1, store.Filter{HeadersOnly: true}, false, v1, sco)
	for i, e := range p.Entries {
		sameObject(t, e.Object, []stix.Object{v1, sco}[i], true)
		if !e.DateAdded.Equal(res[i].DateAdded) {
			t.Errorf("DateAdded %v, want %v", e.DateAdded, res[i].DateAdded)
		}
	}
}

func testDeleteObject(t *testing.T, s store.Store) {
	setup(t, s)
	a1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	a2 := indicator(t, 1, "2024-02-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	a3 := indicator(t, 1, "2024-03-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	b := indicator(t, 2, "2024-01-01T00:00:00.000Z")
	mustAdd(t, s, coll1, a1, a2, a3, b)
	mustAdd(t, s, coll2, a1, a2)

	// One version, by timestamp.
	if err := s.DeleteObject(ctx, coll1, a2.ID, store.Filter{Versions: []string{a2.Modified}}); err != nil {
		t.Errorf("delete one version: %v", err)
	}
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, a1, a3, b)
	// The same version again: nothing matches.
	err := s.DeleteObject(ctx, coll1, a2.ID, store.Filter{Versions: []string{a2.Modified}})
	wantCode(t, "delete a deleted version", err, hail.ENOTFOUND)
	// Every version: no filter.
	if err := s.DeleteObject(ctx, coll1, a1.ID, store.Filter{}); err != nil {
		t.Errorf("delete all versions: %v", err)
	}
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, b)
	err = s.DeleteObject(ctx, coll1, a1.ID, store.Filter{})
	wantCode(t, "delete a deleted object", err, hail.ENOTFOUND)
	err = s.DeleteObject(ctx, coll1, id("indicator", 99), store.Filter{})
	wantCode(t, "delete an unknown object", err, hail.ENOTFOUND)
	// Other collections keep their entries.
	check(t, s, coll2, store.Filter{Versions: []string{"all"}}, false, a1, a2)
	// "last" and "first" delete what a read with the same filter shows.
	if err := s.DeleteObject(ctx, coll2, a1.ID, store.Filter{Versions: []string{"last"}}); err != nil {
		t.Errorf("delete last: %v", err)
	}
	check(t, s, coll2, store.Filter{Versions: []string{"all"}}, false, a1)
	if err := s.DeleteObject(ctx, coll2, a1.ID, store.Filter{Versions: []string{"first"}}); err != nil {
		t.Errorf("delete first: %v", err)
	}
	check(t, s, coll2, store.Filter{Versions: []string{"all"}}, false)
	// A deleted version can be added again, as a new entry.
	r := mustAdd(t, s, coll1, a2)
	if r[0].Duplicate {
		t.Errorf("re-adding a deleted version: reported as a duplicate")
	}
	check(t, s, coll1, store.Filter{Versions: []string{"all"}}, false, b, a2)
}
