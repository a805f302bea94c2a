package feed_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"hail/feed"
	"hail/store"
	"hail/store/postgres"
	"hail/store/postgres/pgtest"
)

// TestReplicasRunAFeedOnce runs the schedulers of two replicas sharing a
// PostgreSQL database at the same instant: the source is fetched once and
// one run is recorded.
func TestReplicasRunAFeedOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	if err := a.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API"}); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateCollection(ctx, store.Collection{ID: localColl, APIRoot: "api", Alias: "local", Title: "local"}); err != nil {
		t.Fatal(err)
	}
	ls := &listServer{}
	ls.set("203.0.113.1\n203.0.113.2\n", `"v1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	mustCreate(t, a, store.Feed{Name: "list", Kind: store.FeedText, URL: srv.URL})

	var wg sync.WaitGroup
	ran := make([][]string, 2)
	for i, st := range []store.Store{a, b} {
		s, _ := scheduler(st)
		wg.Add(1)
		go func(s *feed.Scheduler) {
			defer wg.Done()
			var err error
			if ran[i], err = s.RunDue(ctx); err != nil {
				t.Errorf("replica %d: RunDue: %v", i, err)
			}
		}(s)
	}
	wg.Wait()
	if n := len(ran[0]) + len(ran[1]); n != 1 {
		t.Errorf("replicas ran %q and %q; want one run in all", ran[0], ran[1])
	}
	ls.mu.Lock()
	requests := ls.requests
	ls.mu.Unlock()
	if requests != 1 {
		t.Errorf("the source saw %d requests, want 1", requests)
	}
	runs, err := b.FeedRuns(ctx, "list", 0)
	if err != nil || len(runs) != 1 || runs[0].Added != 2 {
		t.Errorf("FeedRuns = %+v, %v; want one run that added 2", runs, err)
	}
}
