package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
)

// runCopy runs the store.Copier tests; a store without it skips them.
func runCopy(t *testing.T, open func(t *testing.T) store.Store) {
	sub := func(name string, f func(*testing.T, store.Store, store.Copier)) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			c, ok := s.(store.Copier)
			if !ok {
				t.Skipf("%T does not implement store.Copier", s)
			}
			f(t, s, c)
		})
	}
	sub("KeepsDateAdded", testCopyKeepsDateAdded)
	sub("Resume", testCopyResume)
	sub("NoFanout", testCopyNoFanout)
	sub("IOCIndex", testCopyIOCIndex)
	sub("Errors", testCopyErrors)
	sub("StatusesAfter", testStatusesAfter)
	sub("MarkPruneDue", testMarkPruneDue)
}

// testMarkPruneDue: a copy makes a root due as a deletion does, and a
// prune ends it.
func testMarkPruneDue(t *testing.T, s store.Store, c store.Copier) {
	setup(t, s)
	if err := c.MarkPruneDue(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	due, err := s.PrunesDue(ctx)
	if err != nil || due["api"] == 0 {
		t.Fatalf("PrunesDue after MarkPruneDue = %v, %v; want api due", due, err)
	}
	if _, err := store.PruneAPIRoot(ctx, s, "api"); err != nil {
		t.Fatal(err)
	}
	if due, err = s.PrunesDue(ctx); err != nil || due["api"] != 0 {
		t.Errorf("PrunesDue after the prune = %v, %v; want api not due", due, err)
	}
	wantCode(t, "MarkPruneDue of a missing root", c.MarkPruneDue(ctx, "nowhere"), hail.ENOTFOUND)
}

// copyBase is a date_added in the past of any test's clock.
var copyBase = time.Date(2023, 3, 4, 5, 6, 7, 0, time.UTC)

// at returns the entry o with date_added copyBase + n µs.
func at(o stix.Object, n int) store.Entry {
	return store.Entry{Object: o, DateAdded: copyBase.Add(time.Duration(n) * time.Microsecond)}
}

// entryTimes is "label date_added" per entry, for comparisons.
func entryTimes(es []store.Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, label(e.Object)+" "+e.DateAdded.UTC().Format(time.RFC3339Nano))
	}
	return out
}

// mustCopy copies entries and fails the test on error.
func mustCopy(tb testing.TB, c store.Copier, coll string, want int, entries ...store.Entry) {
	tb.Helper()
	n, err := c.CopyEntries(ctx, coll, entries)
	if err != nil {
		tb.Fatalf("CopyEntries(%s, %d entries): %v", coll, len(entries), err)
	}
	if n != want {
		tb.Errorf("CopyEntries(%s, %d entries) copied %d, want %d", coll, len(entries), n, want)
	}
}

func testCopyKeepsDateAdded(t *testing.T, s store.Store, c store.Copier) {
	setup(t, s)
	v1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	v2 := indicator(t, 1, "2024-02-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	other := sdo(t, "malware", 2, "2.1", "2024-01-01T00:00:00.000Z")
	// The newer version was added first, as a poller that backfills can do.
	entries := []store.Entry{at(v2, 10), at(other, 20), at(v1, 30)}
	mustCopy(t, c, coll1, 3, entries...)
	p, err := s.Objects(ctx, coll1, store.Filter{Versions: []string{"all"}})
	if err != nil {
		t.Fatalf("Objects: %v", err)
	}
	if got, want := entryTimes(p.Entries), entryTimes(entries); !reflect.DeepEqual(got, want) {
		t.Errorf("copied entries:\n got %v\nwant %v", got, want)
	}
	for i, e := range p.Entries {
		if string(e.Object.Raw) != string(entries[i].Object.Raw) {
			t.Errorf("entry %d: raw %s, want %s", i, e.Object.Raw, entries[i].Object.Raw)
		}
	}
	check(t, s, coll1, store.Filter{}, false, v2, other)
	check(t, s, coll1, store.Filter{Versions: []string{"first"}}, false, other, v1)
	st, err := s.CollectionStats(ctx, coll1)
	if err != nil || st.Objects != 2 || st.Versions != 3 || !st.LastDateAdded.Equal(entries[2].DateAdded) {
		t.Errorf("CollectionStats = %+v, %v; want 2 objects, 3 versions, last %v", st, err, entries[2].DateAdded)
	}
	// The clock is past every copied date_added, even one far in the future.
	future := time.Now().Add(24 * time.Hour).Truncate(time.Microsecond)
	mustCopy(t, c, coll2, 1, store.Entry{Object: other, DateAdded: future})
	res := mustAdd(t, s, coll1, indicator(t, 3, "2024-01-01T00:00:00.000Z"))
	if !res[0].DateAdded.After(future) {
		t.Errorf("AddObjects after a copy dated %v: date_added %v, want later", future, res[0].DateAdded)
	}
}

func testCopyResume(t *testing.T, s store.Store, c store.Copier) {
	setup(t, s)
	var entries []store.Entry
	for i := 0; i < 6; i++ {
		entries = append(entries, at(indicator(t, i, "2024-01-01T00:00:00.000Z"), 10*(i+1)))
	}
	mustCopy(t, c, coll1, 4, entries[:4]...)
	// A resumed copy sends the last batch again, and more.
	mustCopy(t, c, coll1, 2, entries[2:]...)
	mustCopy(t, c, coll1, 0, entries...)
	p, err := s.Objects(ctx, coll1, store.Filter{Versions: []string{"all"}})
	if err != nil {
		t.Fatalf("Objects: %v", err)
	}
	if got, want := entryTimes(p.Entries), entryTimes(entries); !reflect.DeepEqual(got, want) {
		t.Errorf("entries after a resumed copy:\n got %v\nwant %v", got, want)
	}
	// The same version in a batch twice is copied once.
	e := at(indicator(t, 9, "2024-01-01T00:00:00.000Z"), 100)
	mustCopy(t, c, coll2, 1, e, e)
}

func testCopyNoFanout(t *testing.T, s store.Store, c store.Copier) {
	setup(t, s)
	const all = "5d2e8f14-9a7b-4c3d-8e6f-1a2b3c4d5e6f"
	if err := s.CreateCollection(ctx, store.Collection{ID: all, APIRoot: "api", Title: "All",
		Kind: store.KindFilter, Filter: `{}`}); err != nil {
		t.Fatalf("create filter collection: %v", err)
	}
	a := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	b := indicator(t, 2, "2024-01-01T00:00:00.000Z")
	mustCopy(t, c, coll1, 2, at(a, 1), at(b, 2))
	check(t, s, all, store.Filter{}, false)
	// The filter collection's own entries, as the source holds them.
	mustCopy(t, c, all, 1, at(b, 3))
	check(t, s, all, store.Filter{}, false, b)
}

func testCopyIOCIndex(t *testing.T, s store.Store, c store.Copier) {
	setup(t, s)
	old := ind(t, 1, "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", `,"created_by_ref":"`+acmeID+`"`)
	cur := ind(t, 1, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'example.com']", `,"created_by_ref":"`+acmeID+`"`)
	two := ind(t, 2, "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '203.0.113.0/24']", "")
	// The current version before the old one: the index keeps the current.
	mustCopy(t, c, coll1, 4, at(acme(t, "2024-01-01T00:00:00.000Z", "ACME"), 1), at(cur, 2), at(two, 3), at(old, 4))
	p := listIOCs(t, s, coll1, store.IOCFilter{})
	if got, want := iocKeys(p.IOCs), []string{key("domain", "example.com", 1), key("cidr", "203.0.113.0/24", 2)}; !reflect.DeepEqual(got, want) {
		t.Errorf("IOCs after copy: got %v, want %v", got, want)
	}
	if len(p.IOCs) > 0 {
		if got := p.IOCs[0]; got.Source != "ACME" || !got.DateAdded.Equal(copyBase.Add(2*time.Microsecond)) {
			t.Errorf("IOC of the current version: source %q, date_added %v; want ACME, %v", got.Source, got.DateAdded,
				copyBase.Add(2*time.Microsecond))
		}
	}
	m, err := s.LookupIOCs(ctx, coll1, []store.IOCValue{{Type: "ipv4", Value: "203.0.113.7"}, {Type: "ipv4", Value: "198.51.100.1"}}, store.IOCFilter{})
	if err != nil {
		t.Fatalf("LookupIOCs: %v", err)
	}
	if len(m) != 1 || m[0].IOC.Value != "203.0.113.0/24" {
		t.Errorf("LookupIOCs after copy: %+v, want the 203.0.113.0/24 block only", m)
	}
}

func testCopyErrors(t *testing.T, s store.Store, c store.Copier) {
	setup(t, s)
	a := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	_, err := c.CopyEntries(ctx, "0b0f5a5e-5b8e-4c1e-9a43-6a8b2a1f0c00", []store.Entry{at(a, 1)})
	wantCode(t, "CopyEntries to a missing collection", err, hail.ENOTFOUND)
	_, err = c.CopyEntries(ctx, coll1, []store.Entry{{Object: a}})
	wantCode(t, "CopyEntries without date_added", err, hail.EINVALID)
	headers := at(a, 1)
	headers.Object.Raw = nil
	_, err = c.CopyEntries(ctx, coll1, []store.Entry{headers})
	wantCode(t, "CopyEntries without the body", err, hail.EINVALID)
	mustCopy(t, c, coll1, 1, at(a, 1))
	b := indicator(t, 2, "2024-01-01T00:00:00.000Z")
	d := indicator(t, 3, "2024-01-01T00:00:00.000Z")
	_, err = c.CopyEntries(ctx, coll1, []store.Entry{at(d, 5), at(b, 1)})
	wantCode(t, "CopyEntries of a date_added the collection holds", err, hail.ECONFLICT)
	check(t, s, coll1, store.Filter{}, false, a)
}

func testStatusesAfter(t *testing.T, s store.Store, c store.Copier) {
	setup(t, s)
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Name: "other", Title: "Other"}); err != nil {
		t.Fatal(err)
	}
	var want []store.Status
	for i := 0; i < 3; i++ {
		st := store.Status{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", 3-i), APIRoot: []string{"api", "other"}[i%2],
			CollectionID: []string{coll1, ""}[i%2], RequestTimestamp: created.Add(time.Duration(i) * time.Second), Status: "complete", Total: 1,
			Successes: []store.StatusDetail{{ID: id("indicator", i), Version: "2024-01-01T00:00:00.000Z"}}}
		if err := s.CreateStatus(ctx, st); err != nil {
			t.Fatalf("CreateStatus: %v", err)
		}
		want = append([]store.Status{st}, want...)
	}
	p1, err := c.StatusesAfter(ctx, "", 2)
	if err != nil {
		t.Fatalf("StatusesAfter: %v", err)
	}
	if len(p1) != 2 {
		t.Fatalf("StatusesAfter(\"\", 2): %d statuses, want 2", len(p1))
	}
	p2, err := c.StatusesAfter(ctx, p1[1].ID, 2)
	if err != nil {
		t.Fatalf("StatusesAfter: %v", err)
	}
	got := append(p1, p2...)
	if len(got) != len(want) {
		t.Fatalf("StatusesAfter pages: %d statuses, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.RequestTimestamp.Equal(w.RequestTimestamp) {
			t.Errorf("status %d: request_timestamp %v, want %v", i, g.RequestTimestamp, w.RequestTimestamp)
		}
		g.RequestTimestamp, w.RequestTimestamp = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("status %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}
