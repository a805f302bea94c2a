package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

// groupCollections makes two collections and an "all" filter collection
// in API root api, and returns the ids of the two.
func groupCollections(t *testing.T, db *DB) (a, b, all string) {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api"}); err != nil {
		t.Fatal(err)
	}
	a, b, all = "1b3ee0c4-7f0e-4f47-9c86-5e8c2a1d9f01", "1b3ee0c4-7f0e-4f47-9c86-5e8c2a1d9f02", "1b3ee0c4-7f0e-4f47-9c86-5e8c2a1d9f03"
	for _, c := range []store.Collection{{ID: a, APIRoot: "api", Title: "A"}, {ID: b, APIRoot: "api", Title: "B"},
		{ID: all, APIRoot: "api", Title: "All", Kind: store.KindFilter, Filter: "{}"}} {
		if err := db.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, all
}

// groupedCall is one AddObjects call of a test and what it returned.
type groupedCall struct {
	ctx     context.Context
	coll    string
	objs    []stix.Object
	results []store.AddResult
	err     error
}

// runQueued starts one AddObjects call per element of calls, in order,
// while the writer's turn is held, waits until all are queued, calls
// whileQueued,
// then releases the turn and waits for the calls to return.
func runQueued(t *testing.T, db *DB, calls []*groupedCall, whileQueued func()) {
	t.Helper()
	db.groups.turn <- struct{}{}
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.results, c.err = db.AddObjects(c.ctx, c.coll, c.objs)
		}()
		// One at a time, so that the queue holds them in the order given.
		for queued := 0; queued < i+1; time.Sleep(time.Millisecond) {
			db.groups.mu.Lock()
			queued = len(db.groups.queue)
			db.groups.mu.Unlock()
		}
	}
	if whileQueued != nil {
		whileQueued()
	}
	<-db.groups.turn
	wg.Wait()
}

// countGroups records the size of each group the store runs.
func countGroups(db *DB) *[]int {
	var sizes []int
	run := db.groups.run
	db.groups.run = func(calls []*addCall) {
		sizes = append(sizes, len(calls))
		run(calls)
	}
	return &sizes
}

// batch returns n of storetest's indicators, from the from-th.
func batch(t *testing.T, from, n int) []stix.Object {
	objs := make([]stix.Object, n)
	for i := range objs {
		objs[i] = storetest.BenchIndicator(t, from+i)
	}
	return objs
}

// checkStored checks that collection coll holds exactly the versions of
// the calls that succeeded for it, at the date_added their results gave.
func checkStored(t *testing.T, db *DB, coll string, calls []*groupedCall) {
	t.Helper()
	want := map[string]time.Time{}
	for _, c := range calls {
		if c.coll != coll || c.err != nil {
			continue
		}
		for _, r := range c.results {
			want[r.ID] = r.DateAdded
		}
	}
	page, err := db.Objects(context.Background(), coll, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != len(want) {
		t.Errorf("collection %s holds %d objects, want %d", coll, len(page.Entries), len(want))
	}
	for _, e := range page.Entries {
		if da, ok := want[e.Object.ID]; !ok || !da.Equal(e.DateAdded) {
			t.Errorf("collection %s holds %s added %v; the call's result says %v (listed: %v)", coll, e.Object.ID, e.DateAdded, da, ok)
		}
	}
}

// TestAddObjectsGrouped checks that calls queued together run in one
// transaction, each with its own results, in queue order, and that a
// call for a missing collection or with a cancelled context fails alone.
func TestAddObjectsGrouped(t *testing.T) {
	db := openTest(t)
	a, b, all := groupCollections(t, db)
	sizes := countGroups(db)
	bg := context.Background()
	calls := []*groupedCall{
		{ctx: bg, coll: a, objs: batch(t, 0, 50)},
		{ctx: bg, coll: b, objs: batch(t, 50, 30)},
		{ctx: bg, coll: "1b3ee0c4-7f0e-4f47-9c86-5e8c2a1d9fff", objs: batch(t, 80, 5)},
		{ctx: &failingCtx{Context: bg}, coll: a, objs: batch(t, 85, 5)},       // cancelled once taken
		{ctx: bg, coll: a, objs: append(batch(t, 90, 10), batch(t, 0, 2)...)}, // two held by the first call
	}
	runQueued(t, db, calls, nil)
	if len(*sizes) != 1 || (*sizes)[0] != len(calls) {
		t.Errorf("groups run: %v, want one of %d", *sizes, len(calls))
	}
	if hail.ErrorCode(calls[2].err) != hail.ENOTFOUND {
		t.Errorf("call for a missing collection: %v, want %s", calls[2].err, hail.ENOTFOUND)
	}
	if !errors.Is(calls[3].err, context.Canceled) {
		t.Errorf("cancelled call: %v, want context.Canceled", calls[3].err)
	}
	var last time.Time
	for i, c := range calls {
		if i == 2 || i == 3 {
			continue
		}
		if c.err != nil || len(c.results) != len(c.objs) {
			t.Fatalf("call %d: %d results, %v", i, len(c.results), c.err)
		}
		for j, r := range c.results {
			dup := i == 4 && j >= 10
			if r.ID != c.objs[j].ID || r.Duplicate != dup {
				t.Errorf("call %d result %d: %s duplicate %v, want %s duplicate %v", i, j, r.ID, r.Duplicate, c.objs[j].ID, dup)
			}
			if !dup {
				if !r.DateAdded.After(last) {
					t.Errorf("call %d result %d added %v, not after %v: calls must run in queue order", i, j, r.DateAdded, last)
				}
				last = r.DateAdded
			}
		}
	}
	calls[4].results = calls[4].results[:10]
	checkStored(t, db, a, calls)
	checkStored(t, db, b, calls)
	page, err := db.Objects(bg, all, store.Filter{})
	if err != nil || len(page.Entries) != 50+30+10 {
		t.Errorf("filter collection holds %d objects, %v; want 90", len(page.Entries), err)
	}
}

// TestAddObjectsCanceledWhileQueued checks that a call whose context ends
// while it waits for the writer leaves the queue at once, stores nothing,
// and that the calls around it run as one group without it.
func TestAddObjectsCanceledWhileQueued(t *testing.T) {
	db := openTest(t)
	a, b, _ := groupCollections(t, db)
	sizes := countGroups(db)
	bg := context.Background()
	ctx, cancel := context.WithCancel(bg)
	calls := []*groupedCall{
		{ctx: bg, coll: a, objs: batch(t, 0, 20)},
		{ctx: ctx, coll: b, objs: batch(t, 20, 20)},
		{ctx: bg, coll: a, objs: batch(t, 40, 20)},
	}
	runQueued(t, db, calls, func() {
		cancel()
		// The turn is still held, so the call can only leave the queue
		// on its own. The deadline only turns a hang into a failure.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			db.groups.mu.Lock()
			queued := len(db.groups.queue)
			db.groups.mu.Unlock()
			if queued == 2 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("the cancelled call is still queued: %d calls wait", queued)
				return
			}
		}
	})
	if !errors.Is(calls[1].err, context.Canceled) || calls[1].results != nil {
		t.Errorf("cancelled call: %d results, %v; want none and context.Canceled", len(calls[1].results), calls[1].err)
	}
	if fmt.Sprint(*sizes) != "[2]" {
		t.Errorf("groups run: %v, want [2]", *sizes)
	}
	for _, i := range []int{0, 2} {
		if c := calls[i]; c.err != nil || len(c.results) != len(c.objs) {
			t.Errorf("call %d: %d results, %v", i, len(c.results), c.err)
		}
	}
	checkStored(t, db, a, calls)
	checkStored(t, db, b, calls)
}

// failingCtx is a context whose first Err reports nothing and every later
// one a cancellation, and whose Done never fires: its call is queued, then
// fails once its group has taken it.
type failingCtx struct {
	context.Context
	calls atomic.Int32
}

func (c *failingCtx) Err() error {
	if c.calls.Add(1) == 1 {
		return nil
	}
	return context.Canceled
}

// TestAddObjectsGroupFailure checks that a call failing part way through
// a grouped transaction undoes it, and that the other calls then run on
// their own and are stored, once.
func TestAddObjectsGroupFailure(t *testing.T) {
	db := openTest(t)
	a, b, _ := groupCollections(t, db)
	sizes := countGroups(db)
	bg := context.Background()
	calls := []*groupedCall{
		{ctx: bg, coll: a, objs: batch(t, 0, 40)},
		{ctx: &failingCtx{Context: bg}, coll: b, objs: batch(t, 40, 40)},
		{ctx: bg, coll: b, objs: batch(t, 80, 40)},
	}
	runQueued(t, db, calls, nil)
	if len(*sizes) != 1 || (*sizes)[0] != len(calls) {
		t.Errorf("groups run: %v, want one of %d", *sizes, len(calls))
	}
	if !errors.Is(calls[1].err, context.Canceled) {
		t.Errorf("failing call: %v, want context.Canceled", calls[1].err)
	}
	for _, i := range []int{0, 2} {
		c := calls[i]
		if c.err != nil || len(c.results) != len(c.objs) {
			t.Fatalf("call %d: %d results, %v", i, len(c.results), c.err)
		}
		for j, r := range c.results {
			if r.Duplicate {
				t.Errorf("call %d result %d is a duplicate: the undone transaction left it stored", i, j)
			}
		}
	}
	checkStored(t, db, a, calls)
	checkStored(t, db, b, calls)
}

// TestAddObjectsGroupLimit checks that a group takes calls only while
// they stay within maxGroupObjects, and that the rest run next.
func TestAddObjectsGroupLimit(t *testing.T) {
	db := openTest(t)
	a, _, _ := groupCollections(t, db)
	sizes := countGroups(db)
	half := maxGroupObjects / 2
	calls := []*groupedCall{
		{ctx: context.Background(), coll: a, objs: batch(t, 0, 10)},
		{ctx: context.Background(), coll: a, objs: batch(t, 10, half)},
		{ctx: context.Background(), coll: a, objs: batch(t, 10+half, half)},
		{ctx: context.Background(), coll: a, objs: batch(t, 10+2*half, 1)},
	}
	runQueued(t, db, calls, nil)
	if fmt.Sprint(*sizes) != "[3 1]" {
		t.Errorf("groups run: %v, want [3 1]", *sizes)
	}
	for i, c := range calls {
		if c.err != nil || len(c.results) != len(c.objs) {
			t.Errorf("call %d: %d results, %v", i, len(c.results), c.err)
		}
	}
}
