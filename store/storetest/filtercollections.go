package storetest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
)

// Fixture filter collections, in API root "api" beside coll1 and coll2.
const (
	collAll  = "0b5f4a2e-9c1d-4e8f-a7b6-c5d4e3f2a1b0"
	collIPs  = "1c6a5b3f-0d2e-4f9a-b8c7-d6e5f4a3b2c1"
	collCVEs = "2d7b6c4a-1e3f-4a0b-89d8-e7f6a5b4c3d2"
	collHigh = "3e8c7d5b-2f4a-4b1c-9ae9-f8a7b6c5d4e3"
	collNone = "4f9d8e6c-3a5b-4c2d-8bfa-a9b8c7d6e5f4" // in API root "other"
)

// filterColls are the fixture filter collections of API root "api".
var filterColls = []store.Collection{
	{ID: collAll, APIRoot: "api", Alias: "all", Title: "All", Kind: store.KindFilter, Filter: "{}"},
	{ID: collIPs, APIRoot: "api", Alias: "ips", Title: "IPs", Kind: store.KindFilter, Filter: `{"observables":["ipv4","ipv6","cidr"]}`},
	{ID: collCVEs, APIRoot: "api", Alias: "cves", Title: "CVEs", Kind: store.KindFilter, Filter: "types=vulnerability"},
	{ID: collHigh, APIRoot: "api", Alias: "high", Title: "High", Kind: store.KindFilter,
		Filter: `{"min_confidence":50,"max_tlp":"green","labels":["c2","phishing"]}`},
}

// setupFilters runs setup, then creates the fixture filter collections, and
// API root "other" with a filter collection of its own.
func setupFilters(tb testing.TB, s store.Store) {
	tb.Helper()
	setup(tb, s)
	for _, c := range filterColls {
		if err := s.CreateCollection(ctx, c); err != nil {
			tb.Fatalf("create collection %s: %v", c.Alias, err)
		}
	}
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Name: "other", Title: "Other", MaxContentLength: 1 << 20}); err != nil {
		tb.Fatalf("create API root: %v", err)
	}
	if err := s.CreateCollection(ctx, store.Collection{ID: collNone, APIRoot: "other", Title: "None", Kind: store.KindFilter}); err != nil {
		tb.Fatalf("create collection: %v", err)
	}
}

// contents lists every version a collection holds, oldest date_added first.
func contents(t *testing.T, s store.Store, coll string) []string {
	t.Helper()
	return entryLabels(walk(t, s, coll, store.Filter{Versions: []string{"all"}, SpecVersions: []string{"2.0", "2.1"}}))
}

// checkContents compares a collection's versions with want.
func checkContents(t *testing.T, s store.Store, coll, what string, want ...stix.Object) {
	t.Helper()
	if got, w := contents(t, s, coll), labelsOf(want...); !reflect.DeepEqual(got, w) {
		t.Errorf("%s holds:\n got %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(w, "\n     "))
	}
}

func testFilterCollectionCreate(t *testing.T, s store.Store) {
	setup(t, s)
	for _, c := range filterColls {
		if err := s.CreateCollection(ctx, c); err != nil {
			t.Fatalf("create collection %s: %v", c.Alias, err)
		}
	}
	got, err := s.Collection(ctx, "api", "ips")
	if err != nil {
		t.Fatalf("Collection(ips): %v", err)
	}
	f, err := store.ParseCollectionFilter(got.Filter)
	if err != nil || got.Kind != store.KindFilter || !reflect.DeepEqual(f.Observables, []string{"ipv4", "ipv6", "cidr"}) {
		t.Errorf("stored filter collection: %+v (filter %+v, %v)", got, f, err)
	}
	if got.Writable() {
		t.Errorf("a filter collection is Writable")
	}
	if c, _ := s.Collection(ctx, "api", "cves"); c.Filter != `{"types":["vulnerability"]}` {
		t.Errorf("short-form filter stored as %q, want canonical JSON", c.Filter)
	}
	if c, _ := s.Collection(ctx, "api", coll1); !c.Writable() || c.Kind != store.KindExplicit {
		t.Errorf("explicit collection: Kind %q, Writable %v", c.Kind, c.Writable())
	}
	bad := []store.Collection{
		{ID: "5a0e9f7d-4b6c-4d3e-9c0b-b0c9d8e7f6a5", APIRoot: "api", Title: "x", Kind: store.KindFilter, Filter: `{"observables":["ip"]}`},
		{ID: "5a0e9f7d-4b6c-4d3e-9c0b-b0c9d8e7f6a5", APIRoot: "api", Title: "x", Kind: store.KindFilter, Filter: `{"nope":1}`},
		{ID: "5a0e9f7d-4b6c-4d3e-9c0b-b0c9d8e7f6a5", APIRoot: "api", Title: "x", Kind: store.KindFilter, Filter: `{"max_tlp":"purple"}`},
		{ID: "5a0e9f7d-4b6c-4d3e-9c0b-b0c9d8e7f6a5", APIRoot: "api", Title: "x", Kind: store.KindExplicit, Filter: `{}`},
		{ID: "5a0e9f7d-4b6c-4d3e-9c0b-b0c9d8e7f6a5", APIRoot: "api", Title: "x", Kind: "view"},
	}
	for _, c := range bad {
		err := s.CreateCollection(ctx, c)
		wantCode(t, fmt.Sprintf("CreateCollection(kind %q, filter %q)", c.Kind, c.Filter), err, hail.EINVALID)
	}
	if _, err := s.Collection(ctx, "api", "5a0e9f7d-4b6c-4d3e-9c0b-b0c9d8e7f6a5"); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("a refused collection was stored: %v", err)
	}
}

func testFilterCollectionArrival(t *testing.T, s store.Store) {
	setupFilters(t, s)
	green := `,"object_marking_refs":["` + tlpGreen + `"]`
	by := `,"created_by_ref":"` + acmeID + `"`
	org := acme(t, "2020-01-01T00:00:00.000Z", "ACME")
	amber := amberMarking(t)
	note := sdo(t, "note", 1, "2.1", "2024-01-01T00:00:00.000Z")
	mustAdd(t, s, coll2, org, amber, note)
	ip := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']",
		by+`,"object_marking_refs":["`+tlpAmber2+`"],"confidence":90,"labels":["c2"]`)
	dom := ind(t, 2, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'evil.example']", by+green+`,"confidence":60,"labels":["phishing"]`)
	cve := vuln(t, 3, "CVE-2024-3094")
	// An identity that only this batch brings, after the indicator that
	// refers to it.
	other := MustObject(t, `{"type":"identity","spec_version":"2.1","id":"identity--0f0e0d0c-0b0a-4909-8807-060504030201",`+
		`"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"Other"}`)
	v6 := ind(t, 4, "2024-02-01T00:00:00.000Z", "[ipv6-addr:value = '2001:db8::/32']", `,"created_by_ref":"`+other.ID+`"`)
	res := mustAdd(t, s, coll1, ip, dom, cve, v6, other)
	checkContents(t, s, coll1, "coll1", ip, dom, cve, v6, other)
	checkContents(t, s, collAll, "all", org, amber, note, ip, dom, cve, v6, other)
	checkContents(t, s, collIPs, "ips", ip, v6, org, amber, other)
	checkContents(t, s, collCVEs, "cves", cve, org)
	checkContents(t, s, collHigh, "high", dom, org)
	checkContents(t, s, collNone, "the other API root's collection")

	// date_added is unique store-wide and increases with every entry
	// written, whatever the collection.
	seen := map[time.Time]string{}
	var last time.Time
	for _, c := range []string{coll1, coll2, collAll, collIPs, collCVEs, collHigh} {
		for _, e := range walk(t, s, c, store.Filter{Versions: []string{"all"}}) {
			if other, ok := seen[e.DateAdded]; ok {
				t.Errorf("date_added %v given twice: %s and %s in %s", e.DateAdded, other, e.Object.ID, c)
			}
			seen[e.DateAdded] = e.Object.ID
			last = maxTime(last, e.DateAdded)
		}
	}
	if !last.After(res[len(res)-1].DateAdded) {
		t.Errorf("filter collection entries (last %v) not after the batch's own (%v)", last, res[len(res)-1].DateAdded)
	}
	next := mustAdd(t, s, coll2, sdo(t, "note", 9, "2.1", "2024-01-01T00:00:00.000Z"))
	if !next[0].DateAdded.After(last) {
		t.Errorf("next add got date_added %v, not after %v", next[0].DateAdded, last)
	}

	// Duplicates, from the same or another collection, are not added
	// again; a new version of a held identity follows it into ips, and
	// a new version of an indicator replaces it in ips' IOC index.
	before := contents(t, s, collIPs)
	mustAdd(t, s, coll1, ip, dom)
	mustAdd(t, s, coll2, ip, v6)
	if got := contents(t, s, collIPs); !reflect.DeepEqual(got, before) {
		t.Errorf("duplicates changed ips:\n got %v\nwant %v", got, before)
	}
	org2 := acme(t, "2021-01-01T00:00:00.000Z", "ACME Corp")
	ip2 := ind(t, 1, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2']", by)
	mustAdd(t, s, coll2, org2, ip2)
	checkContents(t, s, collIPs, "ips after new versions", ip, v6, org, amber, other, ip2, org2)
	checkContents(t, s, collCVEs, "cves after new versions", cve, org, org2)
	checkContents(t, s, collHigh, "high after new versions", dom, org, org2)
	p := checkIOCs(t, s, collIPs, store.IOCFilter{}, key("cidr", "2001:db8::/32", 4), key("ipv4", "198.51.100.2", 1))
	if len(p.IOCs) == 2 && p.IOCs[1].Source != "ACME Corp" {
		t.Errorf("ips row Source %q, want %q", p.IOCs[1].Source, "ACME Corp")
	}
	checkIOCs(t, s, collAll, store.IOCFilter{}, key("domain", "evil.example", 2), key("cve", "CVE-2024-3094", 3),
		key("cidr", "2001:db8::/32", 4), key("ipv4", "198.51.100.2", 1))
	checkIOCs(t, s, collCVEs, store.IOCFilter{}, key("cve", "CVE-2024-3094", 3))
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func testFilterCollectionAllOnce(t *testing.T, s store.Store) {
	setupFilters(t, s)
	a := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", "")
	b := ind(t, 2, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2']", "")
	mustAdd(t, s, coll1, a, b)
	mustAdd(t, s, coll2, b, a)
	// Added straight to a filter collection, an object still reaches the
	// others.
	c := ind(t, 3, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.3']", "")
	mustAdd(t, s, collIPs, c)
	checkContents(t, s, collAll, "all", a, b, c)
	checkContents(t, s, collIPs, "ips", a, b, c)
	st, err := s.CollectionStats(ctx, collAll)
	if err != nil || st.Objects != 3 || st.Versions != 3 {
		t.Errorf("CollectionStats(all) = %+v, %v; want 3 objects, 3 versions", st, err)
	}
}

func testFilterCollectionBackfill(t *testing.T, s store.Store) {
	setup(t, s)
	by := `,"created_by_ref":"` + acmeID + `"`
	org := acme(t, "2020-01-01T00:00:00.000Z", "ACME")
	var objs []stix.Object
	for n := 1; n <= 1200; n++ {
		p := fmt.Sprintf("[domain-name:value = 'd%d.example']", n)
		if n%4 == 0 {
			p = fmt.Sprintf("[ipv4-addr:value = '10.0.%d.%d']", n/256, n%256)
		}
		objs = append(objs, ind(t, n, "2024-02-01T00:00:00.000Z", p, by))
	}
	v1 := ind(t, 2000, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.1']", "")
	v2 := ind(t, 2000, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.2']", "")
	mustAdd(t, s, coll1, objs[:700]...)
	mustAdd(t, s, coll2, objs[600:]...) // 100 in both
	mustAdd(t, s, coll2, org, v2)
	mustAdd(t, s, coll1, v1)
	for _, c := range filterColls {
		if err := s.CreateCollection(ctx, c); err != nil {
			t.Fatalf("create collection %s: %v", c.Alias, err)
		}
	}
	var wantIPs, wantAll []stix.Object
	var wantIOCs []string
	for n, o := range objs {
		wantAll = append(wantAll, o)
		if (n+1)%4 == 0 {
			wantIPs = append(wantIPs, o)
			wantIOCs = append(wantIOCs, key("ipv4", fmt.Sprintf("10.0.%d.%d", (n+1)/256, (n+1)%256), n+1))
		}
	}
	// The backfill walks entries in date_added order, in batches: the
	// identity comes with the batch of the first indicator that refers to
	// it, which depends on the batch size, so order is checked apart.
	checkSameVersions(t, s, collIPs, "backfilled ips", append(wantIPs, org, v2, v1))
	checkSameVersions(t, s, collAll, "backfilled all", append(wantAll, org, v2, v1))
	for _, c := range []string{collIPs, collAll} {
		if got := contents(t, s, c); len(got) < 2 || got[len(got)-2] != label(v2) || got[len(got)-1] != label(v1) {
			t.Errorf("%s does not end with v2, v1 (date_added order of the sources): ends %v", c, got[max(0, len(got)-2):])
		}
	}
	checkIOCs(t, s, collIPs, store.IOCFilter{Limit: 10000}, append(wantIOCs, key("ipv4", "192.0.2.2", 2000))...)
	// Arrivals after the backfill go through AddObjects as usual.
	late := ind(t, 3000, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '203.0.113.1']", "")
	mustAdd(t, s, coll1, late)
	got := contents(t, s, collIPs)
	if len(got) == 0 || got[len(got)-1] != label(late) {
		t.Errorf("ips after a later add ends with %v, want %s", got[max(0, len(got)-1):], label(late))
	}
}

func testFilterCollectionMaxAge(t *testing.T, s store.Store) {
	setup(t, s)
	recent := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04:05.000Z")
	c := store.Collection{ID: collAll, APIRoot: "api", Title: "Fresh", Kind: store.KindFilter, Filter: "max_age=30d"}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatalf("create collection: %v", err)
	}
	old := MustObject(t, `{"type":"indicator","spec_version":"2.1","id":"`+id("indicator", 1)+`","created":"2020-01-01T00:00:00.000Z",`+
		`"modified":"2020-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}`)
	fresh := ind(t, 2, recent, "[ipv4-addr:value = '198.51.100.2']", "")
	sco := MustObject(t, `{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)
	mustAdd(t, s, coll1, old, fresh, sco)
	checkContents(t, s, collAll, "max_age=30d", fresh, sco)
}

// checkSameVersions compares the versions a collection holds with want,
// in any order, each once.
func checkSameVersions(t *testing.T, s store.Store, coll, what string, want []stix.Object) {
	t.Helper()
	got, w := contents(t, s, coll), labelsOf(want...)
	sort.Strings(got)
	sort.Strings(w)
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s: %d versions, want %d:\n got %.400v\nwant %.400v", what, len(got), len(w), got, w)
	}
}

// testFilterCollectionBackfillConcurrent creates a filter collection while
// writers add to the collection it is filled from: whether a version came
// before the collection existed (the backfill copies it), during the
// backfill, or after (AddObjects copies it), the filter collection holds it
// once, with its IOC rows.
func testFilterCollectionBackfillConcurrent(t *testing.T, s store.Store) {
	setup(t, s)
	const before, writers, batches, perBatch = 1200, 3, 10, 20
	ip := func(n int) stix.Object {
		return ind(t, n, "2024-02-01T00:00:00.000Z", fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.%d']", n>>16&255, n>>8&255, n&255), "")
	}
	var objs []stix.Object
	for n := 0; n < before; n++ {
		objs = append(objs, ip(n))
	}
	mustAdd(t, s, coll1, objs...)
	whileWriting(t, s, writers, batches, perBatch, func(n int) stix.Object { return ip(before + n) }, func() error {
		return s.CreateCollection(ctx, filterColls[1])
	})
	total := before + writers*batches*perBatch
	got := contents(t, s, collIPs)
	count := map[string]int{}
	for _, l := range got {
		count[l]++
	}
	for n := 0; n < total; n++ {
		if l := label(ip(n)); count[l] != 1 {
			t.Errorf("ips holds %s %d times, want once", l, count[l])
		}
	}
	if len(got) != total {
		t.Errorf("ips holds %d versions, want %d", len(got), total)
	}
	p := listIOCs(t, s, collIPs, store.IOCFilter{})
	if len(p.IOCs) != total {
		t.Errorf("ips has %d IOC rows, want %d", len(p.IOCs), total)
	}
}

// testFilterCollectionMixedBatch adds, in one call, new objects, a second
// version of one of them, a duplicate within the call and a new version of
// an object stored before, and checks the collection and the all filter
// collection: every version in the call's order, each object's latest
// version in the default view, its first in match[version]=first.
func testFilterCollectionMixedBatch(t *testing.T, s store.Store) {
	setupFilters(t, s)
	old1 := indicator(t, 5, "2024-01-01T00:00:00.000Z")
	mustAdd(t, s, coll1, old1)
	a1 := indicator(t, 1, "2024-01-01T00:00:00.000Z")
	b1 := indicator(t, 2, "2024-01-01T00:00:00.000Z")
	a2 := indicator(t, 1, "2024-03-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	c1 := indicator(t, 3, "2024-01-01T00:00:00.000Z")
	old2 := indicator(t, 5, "2024-02-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z")
	d1 := indicator(t, 4, "2024-01-01T00:00:00.000Z")
	res := mustAdd(t, s, coll1, a1, b1, a2, c1, b1, old2, d1)
	if !res[4].Duplicate || !res[4].DateAdded.Equal(res[1].DateAdded) {
		t.Errorf("repeated version in the call: %+v, want a duplicate with the first one's date_added %v", res[4], res[1].DateAdded)
	}
	var last time.Time
	for i, r := range res {
		if i == 4 {
			continue
		}
		if r.Duplicate || !r.DateAdded.After(last) {
			t.Errorf("result %d: %+v, want a new entry after %v", i, r, last)
		}
		last = r.DateAdded
	}
	for _, c := range []struct{ id, what string }{{coll1, "coll1"}, {collAll, "all"}} {
		checkContents(t, s, c.id, c.what, append(map[string][]stix.Object{coll1: {old1}, collAll: {old1}}[c.id],
			a1, b1, a2, c1, old2, d1)...)
		check(t, s, c.id, store.Filter{}, false, b1, a2, c1, old2, d1)
		check(t, s, c.id, store.Filter{Versions: []string{"first"}}, false, old1, a1, b1, c1, d1)
	}
}

// whileWriting runs during while writers goroutines each add batches
// batches of perBatch objects to coll1, object(n) for n from 0 up, and
// fails the test if any of them fails.
func whileWriting(t *testing.T, s store.Store, writers, batches, perBatch int, object func(int) stix.Object, during func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				batch := make([]stix.Object, perBatch)
				for i := range batch {
					batch[i] = object((w*batches+b)*perBatch + i)
				}
				if _, err := s.AddObjects(ctx, coll1, batch); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := during(); err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent writer: %v", err)
	}
}
