package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"hail"
	"hail/internal/pkitest"
	"hail/store"
)

// testFeeds registers the feed tests.
func testFeeds(t *testing.T, open func(t *testing.T) store.Store) {
	sub := func(name string, f func(*testing.T, store.Store)) {
		t.Run(name, func(t *testing.T) { f(t, open(t)) })
	}
	sub("CreateAndGet", testFeedCreateAndGet)
	sub("Invalid", testFeedInvalid)
	sub("Claim", testFeedClaim)
	sub("ClaimRace", testFeedClaimRace)
	sub("Runs", testFeedRuns)
	sub("Delete", testFeedDelete)
	sub("Update", testFeedUpdate)
	sub("ResetDuringRun", testFeedResetDuringRun)
	sub("RunNow", testFeedRunNow)
}

// feedFixture is a valid feed into coll1.
func feedFixture(name string) store.Feed {
	return store.Feed{
		Name: name, Kind: store.FeedText, URL: "https://lists.example/" + name + ".txt",
		CollectionID: coll1, User: "u", Password: "secret p@ss", Every: time.Hour,
		List:    store.FeedList{Source: "Example", TLP: "green", Confidence: 70, TTL: 48 * time.Hour, Labels: []string{"a", "b"}, Snapshot: true},
		Created: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
		// A copied feed keeps its whole mark (storecopy).
		Mark: store.FeedMark{ETag: `"e"`, State: `{"kept":1}`},
	}
}

func testFeedCreateAndGet(t *testing.T, s store.Store) {
	setup(t, s)
	f := feedFixture("list")
	if err := s.CreateFeed(ctx, f); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	clientCert, clientKey := pkitest.NewCA(t).Client(t, "feed")
	taxii := store.Feed{Name: "abc", Kind: store.FeedTAXII21, URL: "https://taxii.example/api/", CollectionID: coll2,
		TAXIICollection: "remote", Token: "tok", Every: 90 * time.Minute, CA: pkitest.NewCA(t).PEM(), AllVersions: true,
		ClientCert: clientCert, ClientKey: clientKey,
		Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.CreateFeed(ctx, taxii); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	got, err := s.Feed(ctx, "list")
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Errorf("Feed(list):\n got %+v\nwant %+v", got, f)
	}
	all, err := s.Feeds(ctx)
	if err != nil {
		t.Fatalf("Feeds: %v", err)
	}
	if want := []store.Feed{taxii, f}; !reflect.DeepEqual(all, want) {
		t.Errorf("Feeds:\n got %+v\nwant %+v", all, want)
	}
	err = s.CreateFeed(ctx, f)
	wantCode(t, "CreateFeed twice", err, hail.ECONFLICT)
	_, err = s.Feed(ctx, "missing")
	wantCode(t, "Feed(missing)", err, hail.ENOTFOUND)
}

func testFeedInvalid(t *testing.T, s store.Store) {
	setup(t, s)
	f := feedFixture("x")
	f.CollectionID = "5e0a4ab6-6b8e-4a47-8e43-1d9f6a8a1a11"
	wantCode(t, "CreateFeed into missing collection", s.CreateFeed(ctx, f), hail.ENOTFOUND)
	for _, bad := range []func(*store.Feed){
		func(f *store.Feed) { f.Name = "" },
		func(f *store.Feed) { f.Kind = "rss" },
		func(f *store.Feed) { f.Every = time.Second },
		func(f *store.Feed) { f.Token = "t" },
		func(f *store.Feed) { f.Kind = store.FeedTAXII21 },
		func(f *store.Feed) { f.List.Source = "" },
		func(f *store.Feed) { f.CA = "not a certificate" },
		func(f *store.Feed) { f.ClientCert, _ = pkitest.NewCA(t).Client(t, "feed") },
		func(f *store.Feed) {
			cert, _ := pkitest.NewCA(t).Client(t, "feed")
			_, f.ClientKey = pkitest.NewCA(t).Client(t, "feed")
			f.ClientCert = cert
		},
		func(f *store.Feed) { f.AllVersions = true },
	} {
		f := feedFixture("x")
		bad(&f)
		wantCode(t, "CreateFeed "+f.Name+" "+f.Kind, s.CreateFeed(ctx, f), hail.EINVALID)
	}
	if fs, err := s.Feeds(ctx); err != nil || len(fs) != 0 {
		t.Errorf("Feeds after refusals = %+v, %v; want none", fs, err)
	}
}

func testFeedClaim(t *testing.T, s store.Store) {
	setup(t, s)
	if err := s.CreateFeed(ctx, feedFixture("f")); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f, err := s.ClaimFeed(ctx, "f", now, now.Add(time.Minute), true)
	if err != nil || f.Name != "f" || f.Password != "secret p@ss" {
		t.Errorf("ClaimFeed = %+v, %v; want the feed", f, err)
	}
	_, err = s.ClaimFeed(ctx, "f", now.Add(30*time.Second), now.Add(2*time.Minute), false)
	wantCode(t, "ClaimFeed while held", err, hail.ECONFLICT)
	// An expired lease (a runner that died) can be taken over.
	if _, err := s.ClaimFeed(ctx, "f", now.Add(time.Minute), now.Add(3*time.Minute), true); err != nil {
		t.Errorf("ClaimFeed after expiry: %v", err)
	}
	mark := store.FeedMark{ETag: `"v2"`, LastModified: "Mon, 02 Jun 2025 10:00:00 GMT"}
	if err := s.FinishFeedRun(ctx, "f", store.FeedRun{Started: now, Ended: now.Add(time.Second)}, mark, now.Add(time.Hour)); err != nil {
		t.Fatalf("FinishFeedRun: %v", err)
	}
	// Finishing releases the lease; the feed is not due again for an hour,
	// so only a claim that ignores the schedule succeeds.
	_, err = s.ClaimFeed(ctx, "f", now.Add(2*time.Minute), now.Add(4*time.Minute), true)
	wantCode(t, "ClaimFeed(due) before the next run", err, hail.ECONFLICT)
	f, err = s.ClaimFeed(ctx, "f", now.Add(2*time.Minute), now.Add(4*time.Minute), false)
	if err != nil {
		t.Errorf("ClaimFeed after finish: %v", err)
	}
	if f.Mark != mark || !f.NextRun.Equal(now.Add(time.Hour)) {
		t.Errorf("claimed feed mark %+v next %v; want %+v, %v", f.Mark, f.NextRun, mark, now.Add(time.Hour))
	}
	_, err = s.ClaimFeed(ctx, "missing", now, now.Add(time.Minute), false)
	wantCode(t, "ClaimFeed(missing)", err, hail.ENOTFOUND)
}

func testFeedRuns(t *testing.T, s store.Store) {
	setup(t, s)
	if err := s.CreateFeed(ctx, feedFixture("f")); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var many []store.FeedRejection
	for i := range store.MaxRunRejections + 2 {
		many = append(many, store.FeedRejection{Where: fmt.Sprintf("line %d", i+1), Reason: "Not an IOC: \"x\"."})
	}
	runs := []store.FeedRun{
		{Started: t0, Ended: t0.Add(time.Second), Read: 10, Added: 9, NewVersions: 4, Duplicates: 1, Rejected: 2, Revoked: 3,
			Rejections: []store.FeedRejection{{Where: "object 3", ID: "indicator--bad", Reason: "No pattern."},
				{Where: "object 7", Reason: "Not a JSON object."}}},
		{Started: t0.Add(time.Hour), Ended: t0.Add(time.Hour + time.Second), NotChanged: true},
		{Started: t0.Add(2 * time.Hour), Ended: t0.Add(2*time.Hour + time.Second), Read: 40, Added: 6, NewVersions: 5, Rejected: 12, Rejections: many,
			Error: "source answered 500"},
	}
	after := time.Date(2025, 5, 30, 1, 2, 3, 456789000, time.UTC)
	for i, r := range runs {
		if err := s.FinishFeedRun(ctx, "f", r, store.FeedMark{AddedAfter: after}, r.Ended.Add(time.Hour)); err != nil {
			t.Fatalf("FinishFeedRun %d: %v", i, err)
		}
	}
	// A run keeps its first MaxRunRejections rejections, and counts them all.
	runs[2].Rejections = many[:store.MaxRunRejections]
	got, err := s.FeedRuns(ctx, "f", 2)
	if want := []store.FeedRun{runs[2], runs[1]}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("FeedRuns(2) = %+v, %v\nwant %+v", got, err, want)
	}
	if got, err := s.FeedRuns(ctx, "f", 0); err != nil || len(got) != 3 || !reflect.DeepEqual(got[2], runs[0]) {
		t.Errorf("FeedRuns(0) = %+v, %v; want 3 runs, the oldest %+v", got, err, runs[0])
	}
	f, err := s.Feed(ctx, "f")
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	if !reflect.DeepEqual(f.LastRun, runs[2]) || !f.Mark.AddedAfter.Equal(after) {
		t.Errorf("Feed: last run %+v mark %+v; want %+v and added_after %v", f.LastRun, f.Mark, runs[2], after)
	}
	// Only the latest MaxFeedRuns runs are kept.
	for i := range store.MaxFeedRuns {
		r := store.FeedRun{Started: t0.Add(time.Duration(3+i) * time.Hour), Ended: t0.Add(time.Duration(3+i) * time.Hour), Read: i}
		if err := s.FinishFeedRun(ctx, "f", r, store.FeedMark{}, r.Ended); err != nil {
			t.Fatalf("FinishFeedRun %d: %v", i, err)
		}
	}
	all, err := s.FeedRuns(ctx, "f", 0)
	if err != nil || len(all) != store.MaxFeedRuns || all[0].Read != store.MaxFeedRuns-1 || all[len(all)-1].Read != 0 {
		t.Errorf("FeedRuns after %d more runs: %d runs (%v), want the latest %d", store.MaxFeedRuns, len(all), err, store.MaxFeedRuns)
	}
	_, err = s.FeedRuns(ctx, "missing", 0)
	wantCode(t, "FeedRuns(missing)", err, hail.ENOTFOUND)
	err = s.FinishFeedRun(ctx, "missing", runs[0], store.FeedMark{}, t0)
	wantCode(t, "FinishFeedRun(missing)", err, hail.ENOTFOUND)
}

func testFeedDelete(t *testing.T, s store.Store) {
	setup(t, s)
	for _, n := range []string{"a", "b"} {
		if err := s.CreateFeed(ctx, feedFixture(n)); err != nil {
			t.Fatalf("CreateFeed: %v", err)
		}
	}
	if err := s.FinishFeedRun(ctx, "a", store.FeedRun{Started: time.Unix(1, 0).UTC(), Ended: time.Unix(2, 0).UTC()}, store.FeedMark{}, time.Time{}); err != nil {
		t.Fatalf("FinishFeedRun: %v", err)
	}
	if err := s.DeleteFeed(ctx, "a"); err != nil {
		t.Errorf("DeleteFeed: %v", err)
	}
	wantCode(t, "DeleteFeed twice", s.DeleteFeed(ctx, "a"), hail.ENOTFOUND)
	// The name is free again, without the old runs.
	if err := s.CreateFeed(ctx, feedFixture("a")); err != nil {
		t.Fatalf("CreateFeed again: %v", err)
	}
	if runs, err := s.FeedRuns(ctx, "a", 0); err != nil || len(runs) != 0 {
		t.Errorf("FeedRuns of a new feed = %+v, %v; want none", runs, err)
	}
	// Deleting the collection deletes its feeds.
	if err := s.DeleteCollection(ctx, coll1); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	if fs, err := s.Feeds(ctx); err != nil || len(fs) != 0 {
		t.Errorf("Feeds after deleting their collection = %+v, %v; want none", fs, err)
	}
}

// testFeedClaimRace claims one feed from many goroutines at the same
// instant, as replicas whose schedulers tick together do: exactly one wins.
func testFeedClaimRace(t *testing.T, s store.Store) {
	setup(t, s)
	if err := s.CreateFeed(ctx, feedFixture("f")); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ClaimFeed(ctx, "f", now, now.Add(time.Minute), true)
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch hail.ErrorCode(err) {
		case "":
			won++
		case hail.ECONFLICT:
		default:
			t.Errorf("claim %d: %v, want success or ECONFLICT", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d simultaneous claims won, want 1", won, n)
	}
	// A replica that read the feed as due before another ran it must not
	// run it again once the lease is released.
	if err := s.FinishFeedRun(ctx, "f", store.FeedRun{Started: now, Ended: now}, store.FeedMark{}, now.Add(time.Hour)); err != nil {
		t.Fatalf("FinishFeedRun: %v", err)
	}
	_, err := s.ClaimFeed(ctx, "f", now.Add(time.Second), now.Add(time.Minute), true)
	wantCode(t, "ClaimFeed(due) just after another run", err, hail.ECONFLICT)
}
