package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"hail"
	"hail/store"
)

// rawEntry is what ObjectsRaw hands over for one entry.
type rawEntry struct {
	DateAdded time.Time
	Raw       []byte
}

// readRaw runs ObjectsRaw and returns the entries it handed over, copied.
func readRaw(s store.Store, coll string, f store.Filter) ([]rawEntry, bool, error) {
	var got []rawEntry
	more, err := s.ObjectsRaw(ctx, coll, f, func(da time.Time, raw []byte) error {
		got = append(got, rawEntry{da, bytes.Clone(raw)})
		return nil
	})
	return got, more, err
}

// sameAsObjects checks that ObjectsRaw hands over, in order, the
// date_added and stored bytes of the entries Objects returns for f, and
// the same More. HeadersOnly makes no difference to ObjectsRaw.
func sameAsObjects(t *testing.T, s store.Store, coll string, f store.Filter) store.Page {
	t.Helper()
	withRaw := f
	withRaw.HeadersOnly = false
	p, err := s.Objects(ctx, coll, withRaw)
	if err != nil {
		t.Fatalf("Objects(%+v): %v", f, err)
	}
	got, more, err := readRaw(s, coll, f)
	if err != nil {
		t.Errorf("ObjectsRaw(%+v): %v", f, err)
		return p
	}
	want := make([]rawEntry, len(p.Entries))
	for i, e := range p.Entries {
		want[i] = rawEntry{e.DateAdded, e.Object.Raw}
	}
	if len(got) != len(want) {
		t.Errorf("ObjectsRaw(%+v): %d entries, want %d", f, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !got[i].DateAdded.Equal(want[i].DateAdded) || !bytes.Equal(got[i].Raw, want[i].Raw) {
			t.Errorf("ObjectsRaw(%+v): entry %d is %v %s, want %v %s", f, i, got[i].DateAdded, got[i].Raw, want[i].DateAdded, want[i].Raw)
		}
	}
	if more != p.More {
		t.Errorf("ObjectsRaw(%+v): more = %v, want %v", f, more, p.More)
	}
	return p
}

// testRawPageFilters reads every filter shape through ObjectsRaw and
// Objects, on a collection with several versions, types and spec
// versions, an unversioned object and custom properties.
func testRawPageFilters(t *testing.T, s store.Store) {
	setup(t, s)
	i1a, i1b, m2, i3, _, _ := mixed(t, s)
	old := sdo(t, "malware", 2, "2.0", "2024-03-01T00:00:00.000Z")
	sco := MustObject(t, `{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3",  "x_custom" : {"b":1,"a":[2, 3]}}`)
	mustAdd(t, s, coll1, old, sco)
	first, err := s.Objects(ctx, coll1, store.Filter{Versions: []string{"all"}, Limit: 2})
	if err != nil || len(first.Entries) != 2 {
		t.Fatalf("Objects: %v, %d entries", err, len(first.Entries))
	}
	after := first.Entries[1].DateAdded
	all := []string{"all"}
	for _, f := range []store.Filter{
		{},
		{Limit: 1},
		{Limit: 2, AddedAfter: after},
		{Limit: 6},
		{Limit: 7},
		{AddedAfter: after},
		{AddedAfter: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{HeadersOnly: true},
		{Versions: all},
		{Versions: []string{"first"}},
		{Versions: []string{i1a.Modified, "last"}},
		{Versions: []string{"first"}, SpecVersions: []string{"2.0", "2.1"}},
		{SpecVersions: []string{"2.0"}},
		{Types: []string{"indicator"}},
		{Types: []string{"malware", "malware"}},
		{Types: []string{"indicator", "ipv4-addr"}, Versions: all, Limit: 3},
		{Types: []string{"malware", "tool"}, AddedAfter: after},
		{IDs: []string{i1b.ID, m2.ID, sco.ID}, Versions: all},
		{IDs: []string{i3.ID}, Types: []string{"indicator", "malware"}},
		{IDs: []string{id("malware", 99)}},
	} {
		sameAsObjects(t, s, coll1, f)
	}
	sameAsObjects(t, s, coll2, store.Filter{})
}

// testRawPageWalk pages through a collection with ObjectsRaw, resuming
// after the last date_added as a TAXII client follows next, and checks
// that every version comes once, in order, byte for byte.
func testRawPageWalk(t *testing.T, s store.Store) {
	setup(t, s)
	objs := many(t, 1, 25)
	mustAdd(t, s, coll1, objs...)
	var got [][]byte
	f := store.Filter{Limit: 4}
	for pages := 0; ; pages++ {
		if pages > len(objs) {
			t.Fatalf("no end after %d pages", pages)
		}
		es, more, err := readRaw(s, coll1, f)
		if err != nil {
			t.Fatalf("ObjectsRaw(%+v): %v", f, err)
		}
		if len(es) > f.Limit || (more && len(es) < f.Limit) {
			t.Errorf("page of %d entries with Limit %d and more %v", len(es), f.Limit, more)
		}
		for _, e := range es {
			if !e.DateAdded.After(f.AddedAfter) {
				t.Errorf("date_added %v not after %v", e.DateAdded, f.AddedAfter)
			}
			f.AddedAfter = e.DateAdded
			got = append(got, e.Raw)
		}
		if !more {
			break
		}
	}
	if len(got) != len(objs) {
		t.Fatalf("walk read %d objects, want %d", len(got), len(objs))
	}
	for i, o := range objs {
		if !bytes.Equal(got[i], o.Raw) {
			t.Errorf("object %d: got %s, want %s", i, got[i], o.Raw)
		}
	}
}

// testRawPageErrors checks the codes of ObjectsRaw and that an error
// from fn ends the read and comes back unchanged.
func testRawPageErrors(t *testing.T, s store.Store) {
	setup(t, s)
	mustAdd(t, s, coll1, many(t, 1, 3)...)
	fn := func(time.Time, []byte) error { return nil }
	_, err := s.ObjectsRaw(ctx, "8e2b3f1c-0000-4000-8000-000000000000", store.Filter{}, fn)
	wantCode(t, "ObjectsRaw of a missing collection", err, hail.ENOTFOUND)
	_, err = s.ObjectsRaw(ctx, coll1, store.Filter{Versions: []string{"yesterday"}}, fn)
	wantCode(t, "ObjectsRaw with a bad match[version]", err, hail.EINVALID)
	stop := errors.New("client gone")
	calls := 0
	more, err := s.ObjectsRaw(ctx, coll1, store.Filter{}, func(time.Time, []byte) error {
		calls++
		return stop
	})
	if err != stop || more || calls != 1 {
		t.Errorf("ObjectsRaw with fn failing: more %v, err %v, %d calls; want false, %v, 1 call", more, err, calls, stop)
	}
}
