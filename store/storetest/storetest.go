// Package storetest is the conformance suite for store.Store: the contract,
// executable. Every backend runs it from its own tests:
//
//	storetest.Run(t, func(t *testing.T) store.Store { ... }, storetest.Options{Concurrent: true})
//
// Behaviour the suite does not check is not guaranteed.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
)

// Options lists what a backend can do beyond the core contract; the suite
// skips what a backend cannot do rather than forking.
type Options struct {
	// Concurrent runs ConcurrentWriters: writers and a poller at once.
	Concurrent bool
	// PruneScanned, when set, gives store s a hook to call (nil for none)
	// between a refilter's scan for the context objects nothing names and
	// the transaction that deletes them, so that the suite can add a
	// version naming one there.
	PruneScanned func(s store.Store, hook func())
}

// Run runs the conformance suite. open must return a new, empty, migrated
// store and register its Close with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store, opt Options) {
	sub := func(t *testing.T, name string, f func(*testing.T, store.Store)) {
		t.Run(name, func(t *testing.T) { f(t, open(t)) })
	}
	t.Run("Objects", func(t *testing.T) {
		sub(t, "AddAndGet", testAddAndGet)
		sub(t, "AddNothing", testAddNothing)
		sub(t, "DuplicateVersionIgnored", testDuplicateVersionIgnored)
		sub(t, "DuplicateWithinCall", testDuplicateWithinCall)
		sub(t, "DuplicateSameInstant", testDuplicateSameInstant)
		sub(t, "NewVersionIsNewEntry", testNewVersionIsNewEntry)
		sub(t, "SameVersionInTwoCollections", testSameVersionInTwoCollections)
		sub(t, "AddToMissingCollection", testAddToMissingCollection)
		sub(t, "ObjectsOfMissingCollection", testObjectsOfMissingCollection)
		sub(t, "HeadersOnly", testHeadersOnly)
		sub(t, "DeleteObject", testDeleteObject)
	})
	t.Run("Filters", func(t *testing.T) {
		sub(t, "IDs", testFilterIDs)
		sub(t, "Types", testFilterTypes)
		sub(t, "Combined", testFilterCombined)
		sub(t, "AddedAfter", testFilterAddedAfter)
		sub(t, "InvalidVersion", testFilterInvalidVersion)
	})
	t.Run("Versions", func(t *testing.T) {
		sub(t, "Select", testVersionsSelect)
		sub(t, "Unversioned", testVersionsUnversioned)
		sub(t, "AfterDeletes", testVersionsAfterDeletes)
		sub(t, "SpecVersions", testSpecVersions)
		sub(t, "SpecVersionsAfterDelete", testSpecVersionsAfterDelete)
	})
	t.Run("Pagination", func(t *testing.T) {
		sub(t, "Walk", testPaginationWalk)
		sub(t, "WalkFiltered", testPaginationWalkFiltered)
		sub(t, "ExactLimit", testPaginationExactLimit)
		sub(t, "MaxLimit", testPaginationMaxLimit)
		sub(t, "DateAddedIncreasing", testDateAddedIncreasing)
	})
	t.Run("RawPage", func(t *testing.T) {
		sub(t, "Filters", testRawPageFilters)
		sub(t, "Walk", testRawPageWalk)
		sub(t, "Errors", testRawPageErrors)
	})
	t.Run("Collections", func(t *testing.T) {
		sub(t, "APIRoots", testAPIRoots)
		sub(t, "CreateAndGet", testCollectionCreateAndGet)
		sub(t, "Conflicts", testCollectionConflicts)
		sub(t, "List", testCollectionList)
		sub(t, "Delete", testCollectionDelete)
		sub(t, "Stats", testCollectionStats)
		sub(t, "Update", testCollectionUpdate)
	})
	t.Run("Statuses", func(t *testing.T) {
		sub(t, "CreateAndGet", testStatusCreateAndGet)
		sub(t, "DeleteBefore", testStatusDeleteBefore)
		sub(t, "WithObjects", testStatusWithObjects)
	})
	t.Run("Keys", func(t *testing.T) {
		sub(t, "CreateAndFind", testKeyCreateAndFind)
		sub(t, "Conflicts", testKeyConflicts)
		sub(t, "Revoke", testKeyRevoke)
	})
	t.Run("IOC", func(t *testing.T) {
		sub(t, "Extract", testIOCExtract)
		sub(t, "Vulnerability", testIOCVulnerability)
		sub(t, "Supersede", testIOCSupersede)
		sub(t, "RevokedExpired", testIOCRevokedExpired)
		sub(t, "Paging", testIOCPaging)
		sub(t, "Lookup", testIOCLookup)
		sub(t, "SharedVersions", testIOCSharedVersions)
		sub(t, "SpecVersions", testIOCSpecVersions)
	})
	t.Run("FilterCollections", func(t *testing.T) {
		sub(t, "Create", testFilterCollectionCreate)
		sub(t, "Arrival", testFilterCollectionArrival)
		sub(t, "AllOnce", testFilterCollectionAllOnce)
		sub(t, "MixedBatch", testFilterCollectionMixedBatch)
		sub(t, "Refilter", testFilterCollectionRefilter)
		sub(t, "Prune", testFilterCollectionPrune)
		sub(t, "PruneDue", testPruneDue)
		sub(t, "Backfill", testFilterCollectionBackfill)
		sub(t, "MaxAge", testFilterCollectionMaxAge)
		sub(t, "Delete", testFilterCollectionDelete)
		sub(t, "DeleteCollection", testFilterCollectionDeleteCollection)
	})
	t.Run("Copy", func(t *testing.T) { runCopy(t, open) })
	t.Run("Feeds", func(t *testing.T) { testFeeds(t, open) })
	t.Run("Webhooks", func(t *testing.T) { runWebhooks(t, open) })
	t.Run("Plans", func(t *testing.T) { runPlans(t, open) })
	if opt.Concurrent {
		sub(t, "ConcurrentWriters", testConcurrentWriters)
		sub(t, "FilterCollectionBackfillConcurrent", testFilterCollectionBackfillConcurrent)
		sub(t, "FilterCollectionRefilterConcurrent", testFilterCollectionRefilterConcurrent)
	}
	if opt.PruneScanned != nil {
		sub(t, "FilterCollectionRefilterArrival", func(t *testing.T, s store.Store) {
			testFilterCollectionRefilterArrival(t, s, opt.PruneScanned)
		})
	}
}

// MustObject parses one STIX object with stix.Parse and fails the test if
// it does not parse.
func MustObject(tb testing.TB, json string) stix.Object {
	tb.Helper()
	o, err := stix.Parse([]byte(json))
	if err != nil {
		tb.Fatalf("parse %s: %v", json, err)
	}
	return o
}

var ctx = context.Background()

// Fixture collections. Each test opens its own empty store.
const (
	coll1 = "64993447-4d7e-4f70-b94d-d7f33742ee63"
	coll2 = "2c9bf2d4-4c5f-4b1a-9c2e-3f0a1f6e7a10"
)

// setup creates API root "api" holding coll1 and coll2.
func setup(tb testing.TB, s store.Store) {
	tb.Helper()
	if err := s.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API", MaxContentLength: 1 << 20}); err != nil {
		tb.Fatalf("create API root: %v", err)
	}
	for _, id := range []string{coll1, coll2} {
		if err := s.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "api", Title: "Collection " + id[:4]}); err != nil {
			tb.Fatalf("create collection %s: %v", id, err)
		}
	}
}

// mustAdd adds objs to coll and fails the test on error.
func mustAdd(tb testing.TB, s store.Store, coll string, objs ...stix.Object) []store.AddResult {
	tb.Helper()
	res, err := s.AddObjects(ctx, coll, objs)
	if err != nil {
		tb.Fatalf("add %d objects to %s: %v", len(objs), coll, err)
	}
	if len(res) != len(objs) {
		tb.Fatalf("add %d objects: %d results", len(objs), len(res))
	}
	return res
}

// id returns a STIX id of type typ with a v4 UUID numbered n.
func id(typ string, n int) string {
	return fmt.Sprintf("%s--%08x-1111-4222-8333-444455556666", typ, n)
}

// indicator returns an indicator version: modified is also created unless
// created is given.
func indicator(tb testing.TB, n int, modified string, created ...string) stix.Object {
	tb.Helper()
	c := modified
	if len(created) > 0 {
		c = created[0]
	}
	return MustObject(tb, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":%q,"modified":%q,`+
		`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":%q}`,
		id("indicator", n), c, modified, n%256, c))
}

// sdo returns a version of an object of type typ with the given spec_version.
func sdo(tb testing.TB, typ string, n int, specVersion, modified string) stix.Object {
	tb.Helper()
	return MustObject(tb, fmt.Sprintf(`{"type":%q,"spec_version":%q,"id":%q,"created":"2020-01-01T00:00:00.000Z","modified":%q,"name":"n%d"}`,
		typ, specVersion, id(typ, n), modified, n))
}

// label names an entry for comparisons: "id@version" (version "-" when the
// object is unversioned).
func label(o stix.Object) string {
	v := o.VersionString()
	if v == "" {
		v = "-"
	}
	return o.ID + "@" + v
}

// labels names the entries of a page.
func labels(p store.Page) []string {
	out := []string{}
	for _, e := range p.Entries {
		out = append(out, label(e.Object))
	}
	return out
}

// labelsOf names objects.
func labelsOf(objs ...stix.Object) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, label(o))
	}
	return out
}

// check runs Objects and compares the labels of the page with want, and
// More with wantMore. It reports the filter on mismatch.
func check(t *testing.T, s store.Store, coll string, f store.Filter, wantMore bool, want ...stix.Object) store.Page {
	t.Helper()
	p, err := s.Objects(ctx, coll, f)
	if err != nil {
		t.Errorf("Objects(%s, %+v): %v", coll, f, err)
		return p
	}
	if got, w := labels(p), labelsOf(want...); !reflect.DeepEqual(got, w) {
		t.Errorf("Objects(%+v):\n got %s\nwant %s", f, strings.Join(got, "\n     "), strings.Join(w, "\n     "))
	}
	if p.More != wantMore {
		t.Errorf("Objects(%+v): More = %v, want %v", f, p.More, wantMore)
	}
	return p
}

// wantCode reports an error unless err has the hail error code want.
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := hail.ErrorCode(err); got != want {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, want)
	}
}

// ts parses a STIX timestamp for expectations.
func ts(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := stix.ParseTimestamp(s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}
